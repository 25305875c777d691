"""FRR per namespace: daemons, their paths, vtysh.

Each FRR node runs zebra, bfdd and bgpd in its network namespace with the
FRR pathspace (-N) equal to the namespace name, so vty sockets and pid
files live in /var/run/frr/<ns>/. The daemons run in the foreground (no -d),
so the PID the lab records is the daemon itself, and they drop privileges to
the frr user as packaged FRR does: starting them as root with "-u root"
fails ("user(root) is not part of vty group frrvty"), so /var/run/frr/<ns>/
is created owned by frr.

The configuration is one integrated frr.conf per node, applied with
"vtysh -f" once the daemons listen, exactly as an operator's
"vtysh -b" would; vtysh gets --config_dir <rundir>/etc so it reads an
(empty) <rundir>/etc/<ns>/vtysh.conf instead of warning about a missing
/etc/frr/<ns>/vtysh.conf.
"""

import json
import os
import pwd
import shutil
import subprocess

from . import paths

DAEMONS = ("zebra", "bfdd", "bgpd")


class FrrError(Exception):
    pass


def run_dir(ns):
    return os.path.join(paths.FRR_RUN, ns)


def vty_path(ns, daemon):
    return os.path.join(run_dir(ns), daemon + ".vty")


def zserv_path(ns):
    return os.path.join(run_dir(ns), "zserv.api")


def make_run_dir(ns):
    d = run_dir(ns)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d, mode=0o755)
    pw = pwd.getpwnam(paths.FRR_USER)
    os.chown(d, pw.pw_uid, pw.pw_gid)


def remove_run_dir(ns):
    shutil.rmtree(run_dir(ns), ignore_errors=True)


def daemon_argv(daemon, ns, log_file, log_level="informational"):
    """argv of one daemon. -P 0: no vty TCP port, vtysh uses the Unix
    socket. -F datacenter: the same profile as the config's
    "frr defaults datacenter", in force from the first line."""
    return [os.path.join(paths.FRR_LIBEXEC, daemon), "-F", "datacenter",
            "-N", ns, "-P", "0", "--log", "file:" + log_file,
            "--log-level", log_level]


def installed():
    """None when FRR can run here, else why not."""
    for d in DAEMONS:
        p = os.path.join(paths.FRR_LIBEXEC, d)
        if not os.access(p, os.X_OK):
            return f"{p} missing (apt-get install frr)"
    if not os.access(paths.VTYSH, os.X_OK):
        return f"{paths.VTYSH} missing"
    try:
        pwd.getpwnam(paths.FRR_USER)
    except KeyError:
        return f"no user {paths.FRR_USER}"
    return None


class Vtysh:
    """vtysh for one namespace. Costs a process start per call (about
    30-40 ms): fine for bring-up and checks, not for a measurement."""

    def __init__(self, ns, confdir):
        self.ns = ns
        self.confdir = confdir

    def argv(self):
        return [paths.VTYSH, "-N", self.ns, "--config_dir", self.confdir]

    def run(self, *cmds, check=True, timeout=10):
        argv = self.argv()
        for c in cmds:
            argv += ["-c", c]
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise FrrError(f"{self.ns}: vtysh {' / '.join(cmds)}: exit "
                           f"{p.returncode}: {(p.stdout + p.stderr).strip()}")
        return p.stdout

    def config(self, *lines):
        """Apply configuration lines (from "configure terminal")."""
        return self.run("configure terminal", *lines)

    def json(self, cmd, timeout=10):
        out = self.run(cmd, timeout=timeout)
        try:
            return json.loads(out) if out.strip() else {}
        except ValueError:
            raise FrrError(f"{self.ns}: {cmd}: not JSON: {out[:200]!r}") \
                from None

    def apply_file(self, path, timeout=20):
        """vtysh -f path: push an integrated config to the daemons. vtysh
        exits non-zero when a line fails; its output names the line."""
        p = subprocess.run(self.argv() + ["-f", path], capture_output=True,
                           text=True, timeout=timeout)
        if p.returncode != 0:
            raise FrrError(f"{self.ns}: applying {path} failed (exit "
                           f"{p.returncode}):\n{(p.stdout + p.stderr).strip()}")
        return p.stdout

    def json_multi(self, *cmds, timeout=10):
        """Several JSON commands in one vtysh run: a list of results."""
        out = self.run(*cmds, timeout=timeout)
        dec = json.JSONDecoder()
        res, i = [], 0
        while len(res) < len(cmds):
            while i < len(out) and out[i].isspace():
                i += 1
            if i >= len(out):
                res.append({})
                continue
            try:
                obj, i = dec.raw_decode(out, i)
            except ValueError:
                raise FrrError(f"{self.ns}: {' / '.join(cmds)}: not JSON at "
                               f"{i}: {out[i:i + 200]!r}") from None
            res.append(obj)
        return res

    def sessions(self):
        """(BGP IPv4 peers {address: summary}, BFD sessions [dict]) from one
        vtysh run. A BFD session has peer, local, interface, status."""
        bgp, bfd = self.json_multi("show bgp ipv4 unicast summary json",
                                   "show bfd peers json")
        peers = bgp.get("peers", {}) if isinstance(bgp, dict) else {}
        return peers, bfd if isinstance(bfd, list) else []

    def bgp_peers(self):
        """{peer address: summary dict} over IPv4 unicast."""
        s = self.json("show bgp ipv4 unicast summary json")
        return s.get("peers", {}) if isinstance(s, dict) else {}

    def bfd_peers(self):
        """{peer address: status} ("up", "down", "init", ...)."""
        out = self.json("show bfd peers json")
        if not isinstance(out, list):
            return {}
        return {p.get("peer"): p.get("status") for p in out}

    def bgp_route(self, prefix):
        """show bgp ipv4 unicast PREFIX json ({} when absent)."""
        return self.json(f"show bgp ipv4 unicast {prefix} json")
