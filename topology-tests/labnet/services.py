"""The services step: programs the lab starts on nodes after FRR is up.

A service runs on every node of its role when two things exist: its binary
(build/bin/<name>, from `make`) and its configuration template
(topology-tests/services/<name>.yaml). Either missing: the service is
skipped and `lab up` says so; that is how the lab runs before failoverd
exists. The template is filled with string.Template placeholders
(`template_vars`), written to <rundir>/etc/<namespace>/<name>.yaml, and the
program is started in the node's namespace, tagged and recorded like the
FRR daemons, so teardown stops it.

To add one: an entry in SERVICES and a template in services/.
"""

import os
import string

from . import frr, paths


class Service:
    def __init__(self, name, roles, argv, ready_udp=None):
        self.name = name
        self.roles = roles
        self._argv = argv	# (binary, conf) -> argv
        self.ready_udp = ready_udp	# (vars) -> (addr, port) bound when up

    @property
    def binary(self):
        return os.path.join(paths.BUILD_BIN, self.name)

    @property
    def template(self):
        return os.path.join(paths.SERVICE_DIR, self.name + ".yaml")

    def missing(self):
        """None when the service can run, else what is missing."""
        if not os.access(self.binary, os.X_OK):
            return f"{self.binary} not built"
        if not os.path.isfile(self.template):
            return f"no template {self.template}"
        return None

    def argv(self, conf):
        return self._argv(self.binary, conf)


# rtprelay's Prometheus page, on the host's link address (the template's
# metrics.listen): the lab reads it for shared-state readiness.
RTPRELAY_METRICS_PORT = 9224

SERVICES = [
    # The relay: foreground (-d), logs to stderr, which the lab keeps in
    # <rundir>/log/<node>.rtprelay.log. Up once its ng port is bound.
    # Its pid file sits next to its configuration: failoverd's
    # relay-process check opens a pidfd on it.
    Service("rtprelay", ("relay-host",),
            lambda b, c: [b, "-d", "-f", c, "-p",
                          os.path.join(os.path.dirname(c), "rtprelay.pid")],
            ready_udp=lambda v: (v["addr"], 2223)),
    # The controller, after the relay (SERVICES order): it announces the
    # VIP once its checks have risen.
    Service("failoverd", ("relay-host",),
            lambda b, c: [b, "-d", "-f", c]),
]


def redis_section(lab, node):
    """rtprelay's redis: section for relay host `node` (YAML text), or a
    comment when the topology has no Redis node and relays run
    standalone."""
    topo = lab.topo
    if not topo.shared_state:
        return ("# (no redis section: the topology has no Redis node, so "
                "each relay\n# knows only the calls created on it)")
    from .lab import REDIS_KEY_PREFIX, REDIS_PORT
    return (f"redis:\n"
            f"  server: {topo.redis_addr()}:{REDIS_PORT}"
            f"   # redis-server on {topo.redis_nodes[0].name}\n"
            f"  node: {node.name}\n"
            f"  key-prefix: {REDIS_KEY_PREFIX}")


def template_vars(lab, node):
    topo = lab.topo
    ns = lab.ns(node.name)
    first = node.ifaces[0] if node.ifaces else None
    relay = node.role == "relay-host"
    return {
        "node": node.name,
        "ns": ns,
        "pathspace": ns,
        "bgpd_vty": frr.vty_path(ns, "bgpd"),
        "asn": str(node.asn) if node.asn is not None else "",
        "vip": str(topo.vips[0]),
        "vips": ", ".join(str(v) for v in topo.vips),
        "addr": str(first.addr.ip) if first else "",
        "loopback": str(node.loopback) if node.loopback else "",
        "infra_range": str(topo.infra_range),
        "service_range": str(topo.service_range),
        "rundir": lab.rundir,
        "etc": lab.etc_dir(node.name),
        "media_ports": ("%d-%d" % topo.media_ports(node.name)
                        if relay else ""),
        "redis": redis_section(lab, node) if relay else "",
        "relay_metrics_port": str(RTPRELAY_METRICS_PORT),
    }


def render(lab, svc, node):
    with open(svc.template, encoding="utf-8") as f:
        tmpl = string.Template(f.read())
    try:
        return tmpl.substitute(template_vars(lab, node))
    except (KeyError, ValueError) as e:
        raise ValueError(f"{svc.template}: bad placeholder {e}") from None


def udp_bound(pid, addr, port):
    """True when a UDP socket in pid's network namespace is bound to
    addr:port (read from /proc/PID/net/udp, which shows that namespace)."""
    want = "%08X:%04X" % (int.from_bytes(bytes(map(int, addr.split("."))),
                                         "little"), port)
    try:
        with open(f"/proc/{pid}/net/udp") as f:
            next(f)
            return any(line.split()[1] == want for line in f)
    except OSError:
        return False


def parse_metrics(text):
    """Prometheus text format -> {"name" or "name{labels}": float}.
    Comments and lines that do not parse are skipped. Pure."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        try:
            out[key] = float(value)
        except ValueError:
            continue
    return out
