"""A running lab: bring a topology up in namespaces, inspect it, tear it down.

    lab = Lab.load("pair", prefix="raflab-")
    lab.up()                      # tears down again if anything fails
    lab.wait_nexthops("R", lab.topo.vips[0], 2)
    lab.down()

or `with Lab.load("pair") as lab: ...`. Another process finds a running lab
with Lab.attach(prefix) through the state file <rundir>/state.json, which
records every namespace, FRR directory and process (PID and start time) as
soon as it exists, so a lab that died half-way up is still torn down
completely by `lab down`. Teardown also looks for leftovers the state file
may have missed: namespaces named <prefix>*, processes tagged
RAF_LAB=<prefix>, /var/run/frr/<prefix>*.

Namespaces are named <prefix><node> ("raflab-M1"); the FRR pathspace is the
namespace name.
"""

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import time

from . import frr, netns, paths, procs, render, services, topology, wait

PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,9}-$")
STATE_VERSION = 1
SIM_DEV = "fo-sim"

# The Redis node's server (topology.py: a topology with a Redis node shares
# session state). Nothing is persisted: the store lives as long as the lab.
REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"
REDIS_PORT = 6379
REDIS_KEY_PREFIX = "raf"	# rtprelay's default key-prefix, rendered


HASH_SEED_SYSCTL = "/proc/sys/net/ipv4/fib_multipath_hash_seed"


def hash_seed(topo, node):
    """A distinct, fixed ECMP hash seed per BGP speaker (kernel 6.11+):
    fixed so that one flow takes the same path in every run."""
    names = [n.name for n in topo.nodes.values() if n.speaks_bgp]
    return 0x5eed0000 + 7919 * (names.index(node) + 1)


class LabError(Exception):
    pass


class LabExists(LabError):
    pass


def check_prefix(prefix):
    if not PREFIX_RE.match(prefix):
        raise LabError(f"prefix {prefix!r}: a lower-case letter, up to 9 "
                       "more letters or digits, and a final '-' "
                       "(e.g. rafl-)")
    return prefix


def leftovers(prefix):
    """What of a lab with this prefix exists on the machine, as text lines
    ([] when nothing)."""
    out = []
    rundir = paths.rundir_for(prefix)
    if os.path.exists(rundir):
        out.append(f"run directory {rundir}")
    ns = netns.with_prefix(prefix)
    if ns:
        out.append("namespaces " + " ".join(ns))
    pids = procs.find_tagged(prefix)
    if pids:
        out.append(f"processes tagged {paths.TAG_ENV}={prefix}: "
                   + " ".join(map(str, pids)))
    dirs = _frr_dirs(prefix)
    if dirs:
        out.append("FRR directories " + " ".join(dirs))
    return out


def _frr_dirs(prefix):
    try:
        return sorted(os.path.join(paths.FRR_RUN, d)
                      for d in os.listdir(paths.FRR_RUN)
                      if d.startswith(prefix))
    except OSError:
        return []


def can_run():
    """None when this process can build a lab, else the reason."""
    if os.geteuid() != 0:
        return "not root (network namespaces need root)"
    why = frr.installed()
    if why:
        return why
    if not shutil.which("ip"):
        return "ip(8) missing"
    return None


class Lab:
    def __init__(self, topo, prefix=None, log_level="informational",
                 frr_conf_dir=None, frr_debug=()):
        """frr_conf_dir: templates other than frr-conf/ (for trying
        changes); frr_debug: FRR "debug ..." commands to add to every
        node's configuration (with log_level "debugging")."""
        self.topo = topo
        self.frr_conf_dir = frr_conf_dir
        self.frr_debug = list(frr_debug)
        self.prefix = check_prefix(prefix or paths.prefix_from_env())
        self.rundir = paths.rundir_for(self.prefix)
        self.log_level = log_level
        self.procs = []
        self.namespaces = []
        self.frr_dirs = []
        self.status = "new"
        self.timings = {}
        self.notes = []		# what up() skipped, for the user

    # --- construction ----------------------------------------------------

    @classmethod
    def load(cls, name_or_path, prefix=None, **kw):
        path = topology.resolve(name_or_path, paths.TOPO_DIR)
        if not os.path.exists(path):
            avail = ", ".join(topology.available(paths.TOPO_DIR))
            raise LabError(f"no topology {name_or_path!r} ({path}); "
                           f"available: {avail}")
        return cls(topology.load(path), prefix, **kw)

    @classmethod
    def attach(cls, prefix=None):
        """The lab another process brought up, from its state file."""
        prefix = check_prefix(prefix or paths.prefix_from_env())
        state = os.path.join(paths.rundir_for(prefix), "state.json")
        try:
            with open(state) as f:
                st = json.load(f)
        except FileNotFoundError:
            raise LabError(f"no lab with prefix {prefix} (no {state})") \
                from None
        except ValueError as e:
            raise LabError(f"{state}: {e}") from None
        topo = topology.load(os.path.join(paths.rundir_for(prefix),
                                          "topology.yaml"),
                             name=st.get("topology"))
        lab = cls(topo, prefix)
        lab.status = st.get("status", "?")
        lab.namespaces = st.get("namespaces", [])
        lab.frr_dirs = st.get("frr_dirs", [])
        lab.procs = [procs.Proc.from_record(r) for r in st.get("procs", [])]
        lab.timings = st.get("timings", {})
        lab.notes = st.get("notes", [])
        return lab

    def __enter__(self):
        self.up()
        return self

    def __exit__(self, *exc):
        self.down()
        return False

    # --- names and paths -------------------------------------------------

    def ns(self, node):
        return self.prefix + node

    def etc_dir(self, node):
        """<rundir>/etc/<ns>: frr.conf, vtysh.conf, service configs."""
        return os.path.join(self.rundir, "etc", self.ns(node))

    def log_path(self, node, what):
        return os.path.join(self.rundir, "log", f"{node}.{what}.log")

    def vtysh(self, node):
        return frr.Vtysh(self.ns(node), os.path.join(self.rundir, "etc"))

    @property
    def tag(self):
        return self.prefix

    @property
    def state_path(self):
        return os.path.join(self.rundir, "state.json")

    def _save(self):
        st = {
            "version": STATE_VERSION,
            "prefix": self.prefix,
            "topology": self.topo.name,
            "topology_source": os.path.abspath(self.topo.path),
            "status": self.status,
            "pid": os.getpid(),
            "updated": datetime.datetime.now().isoformat(timespec="seconds"),
            "namespaces": self.namespaces,
            "frr_dirs": self.frr_dirs,
            "procs": [p.record() for p in self.procs],
            "timings": self.timings,
            "notes": self.notes,
        }
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st, f, indent=1)
        os.replace(tmp, self.state_path)

    # --- up --------------------------------------------------------------

    def up(self, timeout=30.0, start_services=True):
        """Build the whole lab and wait until every BGP session is
        Established and every BFD session up. start_services: True for
        every service that can run (services.py), False for none, or a
        list of service names; unless False, redis-server too when the
        topology has a Redis node. On any failure, exception or signal,
        everything built so far is torn down before re-raising."""
        why = can_run()
        if why:
            raise LabError(f"cannot build a lab: {why}")
        left = leftovers(self.prefix)
        if left:
            raise LabExists(f"a lab with prefix {self.prefix} exists ("
                            + "; ".join(left) + "): run `lab down --prefix "
                            f"{self.prefix}` first")
        os.makedirs(os.path.dirname(self.rundir), exist_ok=True)
        try:
            os.mkdir(self.rundir, 0o755)	# atomic claim of the prefix
        except FileExistsError:
            raise LabExists(f"{self.rundir} appeared meanwhile: another "
                            "lab up with the same prefix?") from None
        t0 = time.monotonic()
        try:
            self.status = "starting"
            os.mkdir(os.path.join(self.rundir, "etc"))
            os.mkdir(os.path.join(self.rundir, "log"))
            with open(os.path.join(self.rundir, "topology.yaml"), "w") as f:
                f.write(self.topo.text)
            self._save()
            self._phase("network", self._build_network)
            self._phase("frr", self._start_frr)
            self._phase("config", self._configure_frr)
            if start_services and self.topo.shared_state:
                # Before the relays: a relay with a redis section is ready
                # (and failoverd announces it) only once it has loaded the
                # table, so a store that is up first saves their retries.
                self._phase("redis", self._start_redis)
            if start_services:
                self._phase("services", lambda: self._start_services(
                    None if start_services is True else start_services))
            self._phase("converge", lambda: self.wait_converged(timeout))
            self.timings["up"] = round(time.monotonic() - t0, 3)
            self.status = "up"
            self._save()
        except BaseException as e:
            try:
                self.down()
            except LabError as de:
                e.add_note(f"and then: {de}")
            raise

    def _phase(self, name, fn):
        t = time.monotonic()
        fn()
        self.timings[name] = round(time.monotonic() - t, 3)

    def _build_network(self):
        topo = self.topo
        for name in topo.nodes:
            ns = self.ns(name)
            netns.add(ns)
            self.namespaces.append(ns)
        self._save()
        by_ns = {}
        for a, b in topo.links:
            ia = topo.nodes[a].iface_to(b)
            ib = topo.nodes[b].iface_to(a)
            by_ns.setdefault(self.ns(a), []).append(
                f"link add {ia.name} type veth peer name {ib.name} "
                f"netns {self.ns(b)}")
        for ns, lines in by_ns.items():
            netns.batch(ns, lines)
        later = []
        for node in topo.nodes.values():
            ns = self.ns(node.name)
            lines = ["link set lo up"]
            for i in node.ifaces:
                lines += [f"addr add {i.addr} dev {i.name}",
                          f"link set {i.name} up"]
            if node.loopback is not None:
                lines.append(f"addr add {node.loopback}/32 dev lo")
            if node.role == "relay-host":
                # The VIP is local through the local table only: zebra does
                # not read that table, so the VIP reaches zebra's RIB (and
                # bgpd's import check) only through failoverd's own route.
                for vip in topo.vips:
                    lines.append(f"route add local {vip}/32 dev lo "
                                 "table local")
            netns.batch(ns, lines)
            if node.role in ("client", "redis"):
                later.append((ns, [f"route add default via "
                                   f"{topo.gateway(node.name)}"]))
            settings = [("net.ipv4.ip_forward", 1),
                        ("net.ipv4.conf.all.rp_filter", 0),
                        ("net.ipv4.conf.default.rp_filter", 0),
                        ("net.ipv4.conf.lo.rp_filter", 0)]
            settings += [(f"net.ipv4.conf.{i.name}.rp_filter", 0)
                         for i in node.ifaces]
            if node.role == "relay-host":
                # Media leaves each relay with a TTL of its own, so the
                # meter can tell which relay carried a stream.
                settings.append(("net.ipv4.ip_default_ttl",
                                 topo.relay_ttl(node.name)))
                # No ephemeral port from the relay's media range: with
                # shared state every relay binds every call's ports, and a
                # port some other socket took (failoverd's probe socket
                # on the VIP got 34382 once) is one the relay cannot bind,
                # so that call's flows hashed to this host are lost.
                settings.append(("net.ipv4.ip_local_reserved_ports",
                                 "%d-%d" % topo.media_ports(node.name)))
            if node.speaks_bgp:
                # Hash flows on addresses and ports (L4), so each RTP flow
                # of a call may go to a different relay, and one flow
                # always to the same one.
                settings.append(("net.ipv4.fib_multipath_hash_policy", 1))
                if os.path.exists(HASH_SEED_SYSCTL):
                    # Every namespace hashes with the same boot-time key
                    # unless given a seed: then a router below another
                    # sees only flows of one slice of the hash space and
                    # sends them all to the same next hops (ECMP
                    # polarization; on draft-fig M2 and M3 got nothing).
                    settings.append(("net.ipv4.fib_multipath_hash_seed",
                                     hash_seed(topo, node.name)))
            netns.sysctl(ns, settings)
        for ns, lines in later:
            netns.batch(ns, lines)

    def _frr_nodes(self):
        return [n for n in self.topo.nodes.values() if n.speaks_bgp]

    def spawn(self, node, name, argv, log=None, env=None, pipe=False):
        """Start argv in node's namespace, tagged and recorded, so teardown
        stops it. pipe: read its stdout from p.popen.stdout."""
        p = procs.spawn(argv, self.tag, node, name, ns=self.ns(node),
                        hostname=node, log=log or self.log_path(node, name),
                        env=env, pipe=pipe)
        self.procs.append(p)
        self._save()
        return p

    def forget(self, p):
        """Drop the record of a process that has ended (a finished helper,
        a daemon that was killed and started again), so `lab status` does
        not report it dead. A live process is kept: teardown must stop it."""
        if p.popen is not None:
            p.popen.poll()
        if procs.is_ours(p.pid, self.tag, p.start):
            return False
        self.procs = [q for q in self.procs
                      if (q.pid, q.start) != (p.pid, p.start)]
        self._save()
        return True

    def _check_alive(self, which):
        for p in which:
            if not procs.alive(p.pid):
                logs = [self.log_path(p.node, p.name),
                        self.log_path(p.node, p.name + ".out")]
                raise LabError(f"{p.node}: {p.name} exited at start-up:\n"
                               + "\n".join(f"{lp}:\n{procs.tail(lp)}"
                                           for lp in logs
                                           if os.path.exists(lp)))

    def _start_frr(self):
        nodes = self._frr_nodes()
        for node in nodes:
            ns = self.ns(node.name)
            frr.make_run_dir(ns)
            self.frr_dirs.append(frr.run_dir(ns))
            etc = self.etc_dir(node.name)
            os.makedirs(etc)
            open(os.path.join(etc, "vtysh.conf"), "w").close()
            text = render.render(self.topo, node, self.frr_conf_dir)
            if self.frr_debug:
                text += "".join(d + "\n" for d in self.frr_debug)
            with open(os.path.join(etc, "frr.conf"), "w") as f:
                f.write(text)
        self._save()

        def argv(node, d):
            return frr.daemon_argv(d, self.ns(node.name),
                                   self.log_path(node.name, d),
                                   self.log_level)

        zebras = [self.spawn(n.name, "zebra", argv(n, "zebra"),
                              log=self.log_path(n.name, "zebra.out"))
                  for n in nodes]

        def zebra_ready():
            self._check_alive(zebras)
            missing = [n.name for n in nodes
                       if not os.path.exists(frr.zserv_path(self.ns(n.name)))]
            return not missing, "no zserv socket yet on " + " ".join(missing)

        wait.until(zebra_ready, 10, "zebra to listen", interval=0.005)
        others = []
        for n in nodes:
            for d in ("bfdd", "bgpd"):
                others.append(self.spawn(n.name, d, argv(n, d),
                                          log=self.log_path(n.name,
                                                            d + ".out")))

        def vty_ready():
            self._check_alive(zebras + others)
            missing = [f"{n.name}/{d}" for n in nodes for d in frr.DAEMONS
                       if not os.path.exists(frr.vty_path(self.ns(n.name),
                                                          d))]
            return not missing, "no vty socket yet: " + " ".join(missing)

        wait.until(vty_ready, 10, "FRR daemons to listen", interval=0.005)

    def _configure_frr(self):
        running = []
        for node in self._frr_nodes():
            v = self.vtysh(node.name)
            conf = os.path.join(self.etc_dir(node.name), "frr.conf")
            running.append((node.name, conf, subprocess.Popen(
                v.argv() + ["-f", conf], stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True)))
        errors = []
        for name, conf, p in running:
            out, _ = p.communicate(timeout=30)
            if p.returncode != 0:
                errors.append(f"{name}: vtysh -f {conf}: exit "
                              f"{p.returncode}\n{out.strip()}")
        if errors:
            raise LabError("FRR rejected the configuration:\n"
                           + "\n".join(errors))

    def redis_argv(self, node):
        """redis-server for Redis node `node`: foreground, on its link
        address only, nothing written to disk (its directory is the node's
        etc directory, so even a stray save stays in the run directory).
        No process title: Redis writes it over its argv and environment,
        which would erase the lab's tag, and teardown would no longer
        recognise the process as the lab's."""
        addr = str(self.topo.nodes[node].ifaces[0].addr.ip)
        return [REDIS_SERVER, "--port", str(REDIS_PORT), "--bind", addr,
                "--save", "", "--appendonly", "no", "--protected-mode", "no",
                "--daemonize", "no", "--dir", self.etc_dir(node),
                "--logfile", "", "--set-proc-title", "no"]

    def redis_cli(self, node, *args, timeout=2.0):
        """redis-cli against Redis node `node`, from inside its namespace;
        (exit status, output stripped). A short-lived helper: it is not
        recorded, the timeout bounds it."""
        addr = str(self.topo.nodes[node].ifaces[0].addr.ip)
        try:
            p = subprocess.run(["ip", "netns", "exec", self.ns(node),
                                REDIS_CLI, "-h", addr, "-p",
                                str(REDIS_PORT), "--raw", *args],
                               capture_output=True, text=True,
                               timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return -1, f"redis-cli {' '.join(args)}: no answer in " \
                f"{timeout:g} s"
        return p.returncode, (p.stdout or p.stderr).strip()

    def redis_ok(self, node):
        """(redis-server on node answers PING, detail)."""
        rc, out = self.redis_cli(node, "ping")
        return rc == 0 and out == "PONG", f"{node}: {out or rc}"

    def _start_redis(self):
        if not os.access(REDIS_SERVER, os.X_OK):
            raise LabError(f"{self.topo.name} has a Redis node but "
                           f"{REDIS_SERVER} is missing (make deps installs "
                           "redis-server)")
        started = []
        for node in self.topo.redis_nodes:
            os.makedirs(self.etc_dir(node.name), exist_ok=True)
            started.append(self.spawn(node.name, "redis-server",
                                      self.redis_argv(node.name)))

        def ready():
            self._check_alive(started)
            bad = [d for ok, d in (self.redis_ok(p.node) for p in started)
                   if not ok]
            return not bad, "; ".join(bad)

        wait.until(ready, 10, "redis-server to answer PING", interval=0.02)

    def relay_metrics(self, node):
        """rtprelay's metrics on relay host `node`, read from inside its
        namespace (no process start): {"name" or "name{labels}": float}.
        Raises netns.NetnsError when the page cannot be had."""
        addr = str(self.topo.nodes[node].ifaces[0].addr.ip)
        return services.parse_metrics(netns.http_get(
            self.ns(node), addr, services.RTPRELAY_METRICS_PORT,
            "/metrics"))

    def shared_state_ok(self, node):
        """(rtprelay on `node` holds the shared table: connected to Redis
        and ready, detail). A relay that lost Redis keeps forwarding and
        stays ready, but does not learn the calls created meanwhile, so
        a steady lab needs every relay connected."""
        try:
            m = self.relay_metrics(node)
        except netns.NetnsError as e:
            return False, f"{node}: {e}"
        ready = m.get("rtprelay_shared_state_ready")
        conn = m.get("rtprelay_redis_connected")
        calls = m.get("rtprelay_calls")
        detail = (f"{node}: ready {ready:g}, Redis connected {conn:g}, "
                  f"{calls:g} calls" if None not in (ready, conn, calls)
                  else f"{node}: no shared-state metrics")
        return ready == 1 and conn == 1, detail

    def shared_calls(self):
        """Calls in the shared table (SCARD of rtprelay's set of live
        calls on the Redis node), or None when it cannot be read."""
        if not self.topo.shared_state:
            return None
        rc, out = self.redis_cli(self.topo.redis_nodes[0].name, "scard",
                                 f"{REDIS_KEY_PREFIX}:calls")
        return int(out) if rc == 0 and out.isdigit() else None

    def _start_services(self, only=None):
        started = []
        for svc in services.SERVICES:
            if only is not None and svc.name not in only:
                continue
            why = svc.missing()
            if why:
                self.notes.append(f"service {svc.name} skipped: {why}")
                continue
            for node in self.topo.nodes.values():
                if node.role not in svc.roles:
                    continue
                conf = os.path.join(self.etc_dir(node.name),
                                    svc.name + ".yaml")
                os.makedirs(os.path.dirname(conf), exist_ok=True)
                with open(conf, "w") as f:
                    f.write(services.render(self, svc, node))
                p = self.spawn(node.name, svc.name, svc.argv(conf))
                started.append((svc, node, p))
        self._save()

        def ready():
            self._check_alive([p for _, _, p in started])
            waiting = []
            for svc, node, p in started:
                if svc.ready_udp is None:
                    continue
                addr, port = svc.ready_udp(services.template_vars(self, node))
                if not services.udp_bound(p.pid, addr, port):
                    waiting.append(f"{node.name}/{svc.name} ({addr}:{port})")
            return not waiting, "not listening yet: " + " ".join(waiting)

        if started:
            wait.until(ready, 10, "services to listen")

    # --- conditions ------------------------------------------------------

    def expected_peers(self, node):
        return {str(i.peer_addr): peer.name
                for i, peer in self.topo.bgp_neighbors(node)}

    def sessions_ok(self, node):
        """(every BGP session of node Established with BFD up, detail).

        The BFD session must be the one keyed with our local address: FRR
        8.4 bgpd first registers a BFD session without a local address and
        interface and re-registers it with both when the BGP session comes
        up; if the first one was up by then, bgpd resets the BGP session
        once ("Cease/BFD Down"; fixed upstream in 2024 by commit
        247a75d5c6). Requiring the final session up means that reset is
        behind us."""
        want = {str(i.peer_addr): (peer.name, str(i.addr.ip))
                for i, peer in self.topo.bgp_neighbors(node)}
        peers, bfd = self.vtysh(node).sessions()
        bad = []
        for a, (name, local) in want.items():
            st = peers.get(a, {}).get("state", "absent")
            if st != "Established":
                bad.append(f"{name}({a}) BGP {st}")
                continue
            b = [s for s in bfd if s.get("peer") == a
                 and s.get("local") == local]
            if not b or b[0].get("status") != "up":
                bad.append(f"{name}({a}) BFD "
                           + (b[0].get("status", "?") if b else "absent"))
        if bad:
            return False, f"{node}: " + ", ".join(bad)
        return True, f"{node}: ok"

    def all_sessions_ok(self):
        bad = []
        for node in self._frr_nodes():
            ok, detail = self.sessions_ok(node.name)
            if not ok:
                bad.append(detail)
        if not bad:
            # Relay hosts learn their default route from their routers:
            # until it is in the kernel, a relay reaches neither clients
            # nor Redis.
            for node in self.topo.relay_hosts:
                if not self.nexthops(node.name, "0.0.0.0/0"):
                    bad.append(f"{node.name}: no default route yet")
        return not bad, "; ".join(bad) or "all ok"

    def wait_converged(self, timeout=30.0):
        """Every BGP session Established with its BFD session up, on every
        node in one pass (a pass that finds everything up right after the
        one-time reset above is not fooled by a node checked earlier)."""
        wait.until(self.all_sessions_ok, timeout,
                   "every BGP session Established with BFD up",
                   interval=0.05)

    def nexthops(self, node, prefix):
        """Kernel next hops of node's route to exactly prefix (a /32 if no
        length is given)."""
        prefix = str(prefix)
        if "/" not in prefix:
            prefix += "/32"
        return netns.route_nexthops(self.ns(node), prefix)

    def wait_nexthops(self, node, prefix, count, timeout=10.0,
                      weights=None, devs=None):
        """Wait until node's kernel route to prefix has `count` next hops
        (0: no route); weights, if given, is the list of weights expected
        (any order), devs the set of interfaces. Returns the next hops."""
        seen = []

        def cond():
            seen[:] = self.nexthops(node, prefix)
            ok = len(seen) == count
            if ok and weights is not None:
                ok = sorted(n["weight"] for n in seen) == sorted(weights)
            if ok and devs is not None:
                ok = {n["dev"] for n in seen} == set(devs)
            return ok, f"{node}: {_fmt_nh(seen)}"

        wait.until(cond, timeout, f"{count} next hop(s) for {prefix} at "
                   f"{node}", interval=0.01)
        return list(seen)

    # --- simulated announcements (until failoverd exists) --------------

    def sim_announce(self, host, vip=None, bw=None, gshut=False):
        """Announce vip from relay host `host` the way failoverd will: a
        kernel route for the VIP over a device of its own (here a dummy
        interface) puts the VIP in zebra's RIB, and a `network` statement
        with an optional route-map (link bandwidth bw in Mbit/s, the
        graceful-shutdown community) announces it."""
        node = self.topo.nodes[host]
        vip = str(vip or self.topo.vips[0])
        ns = self.ns(host)
        if not _dev_exists(ns, SIM_DEV):
            # A veth pair with both ends here: a device with carrier, like
            # failoverd's TUN while failoverd holds it. (This kernel has no
            # dummy driver; a TUN nobody holds has no carrier, and zebra
            # ignores routes over a device without carrier.)
            netns.batch(ns, [f"link add {SIM_DEV} type veth peer name "
                             f"{SIM_DEV}-peer",
                             f"link set {SIM_DEV}-peer up",
                             f"link set {SIM_DEV} up"])
        netns.batch(ns, [f"route replace {vip}/32 dev {SIM_DEV}"])
        cmds = []
        rmap = None
        if bw is not None or gshut:
            rmap = f"SIM-BW{bw or 0}{'-GSHUT' if gshut else ''}"
            cmds += [f"route-map {rmap} permit 10"]
            if bw is not None:
                cmds.append(f"set extcommunity bandwidth {bw}")
            if gshut:
                cmds.append("set community graceful-shutdown additive")
            cmds.append("exit")
        cmds += [f"router bgp {node.asn}", "address-family ipv4 unicast",
                 f"network {vip}/32" + (f" route-map {rmap}" if rmap else ""),
                 "exit-address-family", "exit"]
        self.vtysh(host).config(*cmds)

    def sim_withdraw(self, host, vip=None, how="route"):
        """how="route": delete the kernel route (what failoverd's death
        does; bgpd's import check withdraws); how="network": `no network`."""
        node = self.topo.nodes[host]
        vip = str(vip or self.topo.vips[0])
        if how == "route":
            netns.run(["ip", "-n", self.ns(host), "route", "del",
                       f"{vip}/32", "dev", SIM_DEV])
        elif how == "network":
            self.vtysh(host).config(f"router bgp {node.asn}",
                                    "address-family ipv4 unicast",
                                    f"no network {vip}/32")
        else:
            raise ValueError(f"how={how!r}")

    # --- status ----------------------------------------------------------

    def status_report(self):
        """A dict for `lab status` (and -j)."""
        rep = {"prefix": self.prefix, "topology": self.topo.name,
               "status": self.status, "rundir": self.rundir,
               "timings": self.timings, "notes": self.notes, "nodes": []}
        for node in self.topo.nodes.values():
            ns = self.ns(node.name)
            n = {"name": node.name, "role": node.role, "ns": ns,
                 "ns_exists": netns.exists(ns), "asn": node.asn,
                 "loopback": str(node.loopback) if node.loopback else None,
                 "addresses": [f"{i.name} {i.addr}" for i in node.ifaces],
                 "procs": [{"name": p.name, "pid": p.pid,
                            "alive": procs.is_ours(p.pid, self.tag, p.start)}
                           for p in self.procs if p.node == node.name]}
            if node.speaks_bgp and n["ns_exists"]:
                try:
                    peers, bfd = self.vtysh(node.name).sessions()
                    bfdst = {b.get("peer"): b.get("status") for b in bfd
                             if b.get("local")}
                    n["bgp"] = [{"peer": a, "name": name,
                                 "state": peers.get(a, {}).get("state",
                                                               "absent"),
                                 "pfx_rcvd": peers.get(a, {}).get("pfxRcd"),
                                 "bfd": bfdst.get(a, "absent")}
                                for a, name in
                                self.expected_peers(node.name).items()]
                except (frr.FrrError, subprocess.TimeoutExpired) as e:
                    n["bgp_error"] = str(e)
            if node.role == "redis" and n["ns_exists"]:
                ok, detail = self.redis_ok(node.name)
                n["redis"] = {"addr": f"{node.ifaces[0].addr.ip}:"
                              f"{REDIS_PORT}", "ping": ok,
                              "detail": detail}
                if ok:
                    # The shared session table (rtprelay's keys).
                    rc, out = self.redis_cli(node.name, "scard",
                                             f"{REDIS_KEY_PREFIX}:calls")
                    n["redis"]["calls"] = int(out) if rc == 0 and \
                        out.isdigit() else None
            if node.role == "router" and n["ns_exists"]:
                n["vip_nexthops"] = {
                    str(vip): [_nh_name(self.topo, node, nh)
                               for nh in self.nexthops(node.name, vip)]
                    for vip in self.topo.vips}
            rep["nodes"].append(n)
        return rep

    # --- down ------------------------------------------------------------

    def down(self, timeout=5.0):
        """Stop every process, delete every namespace and directory of this
        prefix. Safe to call twice and on a half-built lab. Raises LabError
        if something could not be removed."""
        t0 = time.monotonic()
        self.status = "stopping"
        if os.path.isdir(self.rundir):
            try:
                self._save()
            except OSError:
                pass
        # A second Ctrl-C must not cut the teardown short: hold the signals
        # until it is done (they are delivered right after).
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, Signals.SIGS)
        try:
            teardown(self.prefix, self.procs, self.namespaces, self.frr_dirs,
                     timeout)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            self.procs = []
            self.namespaces = []
            self.frr_dirs = []
            self.status = "down"
            self.timings["down"] = round(time.monotonic() - t0, 3)


def teardown(prefix, known_procs=(), namespaces=(), frr_dirs=(),
             timeout=5.0):
    """Remove everything of the lab with this prefix: the recorded
    processes and any other process tagged with the prefix (each checked
    for the tag before it is signalled), then namespaces named <prefix>*,
    /var/run/frr/<prefix>*, the run directory. Works without a state file.
    Returns a list of what was removed; raises LabError if anything is
    left."""
    check_prefix(prefix)
    done = []
    known = {p.pid for p in known_procs}
    extra = [procs.Proc(pid, procs.starttime(pid), "?", "?", [])
             for pid in procs.find_tagged(prefix) if pid not in known]
    allp = list(known_procs) + extra
    live = [p for p in allp if procs.is_ours(p.pid, prefix, p.start)]
    # Processes first: a namespace lives while a process is in it.
    left = procs.terminate(allp, prefix, timeout)
    if live:
        done.append(f"{len(live)} processes")
    problems = []
    if left:
        problems.append("processes still alive: " + " ".join(map(str, left)))
    nss = sorted(set(namespaces) | set(netns.with_prefix(prefix)))
    for ns in nss:
        try:
            netns.delete(ns)
        except netns.NetnsError as e:
            problems.append(str(e))
    if nss:
        done.append(f"{len(nss)} namespaces")
    dirs = sorted(set(frr_dirs) | set(_frr_dirs(prefix)))
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)
    rundir = paths.rundir_for(prefix)
    if os.path.exists(rundir):
        shutil.rmtree(rundir, ignore_errors=True)
        done.append(rundir)
        try:
            os.rmdir(os.path.dirname(rundir))	# only if empty
        except OSError:
            pass
    left = leftovers(prefix)
    if left:
        problems.append("left over: " + "; ".join(left))
    if problems:
        raise LabError("teardown incomplete: " + "; ".join(problems))
    return done


def _dev_exists(ns, dev):
    p = netns.run(["ip", "-n", ns, "link", "show", "dev", dev], check=False)
    return p.returncode == 0


def _fmt_nh(nhs):
    if not nhs:
        return "no route"
    return ", ".join(f"{n['gateway']}@{n['dev']} w{n['weight']}" for n in nhs)


def _nh_name(topo, node, nh):
    peer = None
    for i in node.ifaces:
        if nh.get("gateway") == str(i.peer_addr):
            peer = i.peer
    return {"via": nh.get("gateway"), "dev": nh.get("dev"),
            "weight": nh.get("weight"), "peer": peer}


class Signals:
    """Turn SIGTERM and SIGHUP into KeyboardInterrupt for the duration, so
    the same except/finally paths that handle Ctrl-C tear the lab down."""

    SIGS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

    def __enter__(self):
        self.old = {s: signal.signal(s, self._raise) for s in self.SIGS}
        return self

    def __exit__(self, *exc):
        for s, h in self.old.items():
            signal.signal(s, h)
        return False

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")
