"""The FRR driver (controller/frr.c) against real FRR 8.4 bgpd in namespaces.

Lab: namespace rafhf-h (relay host, AS 65101) and rafhf-r (router, AS 65001)
joined by one veth pair, 198.51.100.0/30; zebra and bgpd in each, started as
root with a pathspace per namespace (-N), so their sockets live in
/var/run/frr/<namespace>/. The VIP 198.51.100.100/32 sits on the host's lo,
which puts a connected route in zebra's RIB and satisfies bgpd's import
check. The host's bgpd.conf also holds a `network 198.51.100.100/32` of its
own: a stale announcement, as an earlier failoverd run could leave behind.

build/bin/frrdrv (controller/tests/frrdrv.c) runs the driver inside the host
namespace and takes commands on stdin. The router's view
(`show ip bgp PREFIX json`) is polled with a deadline, never a fixed sleep.

Needs root and FRR (/usr/lib/frr/{zebra,bgpd}, vtysh); skipped otherwise.
"""
import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# FRRDRV=path runs another build (for example one with ASan) instead.
FRRDRV = os.environ.get("FRRDRV") or os.path.join(ROOT, "build", "bin", "frrdrv")
FRR_SBIN = "/usr/lib/frr"
VTYSH = shutil.which("vtysh") or "/usr/bin/vtysh"
FRR_RUN = "/var/run/frr"

NS_H, NS_R = "rafhf-h", "rafhf-r"
IF_H, IF_R = "rafhf-hv", "rafhf-rv"
ADDR_H, ADDR_R = "198.51.100.1", "198.51.100.2"
AS_H, AS_R = 65101, 65001
VIP = "198.51.100.100/32"
VIP2 = "198.51.100.101/32"	# registered, never in bgpd: withdraw of nothing
LAB_TAG = "RAFHF_FRR_LAB"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="needs root: network namespaces and FRR daemons"),
    pytest.mark.skipif(not all(os.access(os.path.join(FRR_SBIN, d), os.X_OK)
                               for d in ("zebra", "bgpd"))
                       or not os.access(VTYSH, os.X_OK),
                       reason="FRR (zebra, bgpd, vtysh) is not installed"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 missing"),
]

ZEBRA_CONF = """hostname {name}-zebra
"""

BGPD_H = f"""hostname h
router bgp {AS_H}
 bgp router-id {ADDR_H}
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor {ADDR_R} remote-as {AS_R}
 neighbor {ADDR_R} timers connect 1
 address-family ipv4 unicast
  neighbor {ADDR_R} activate
  network {VIP}
 exit-address-family
"""

BGPD_R = f"""hostname r
router bgp {AS_R}
 bgp router-id {ADDR_R}
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor {ADDR_H} remote-as {AS_H}
 neighbor {ADDR_H} timers connect 1
 address-family ipv4 unicast
  neighbor {ADDR_H} activate
 exit-address-family
"""


def run(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True,
                          text=True, timeout=30, **kw)


def wait_until(cond, deadline_s, what):
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        last = cond()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {deadline_s}s waiting for {what}"
                         f" (last: {last!r})")


def vtysh_json(ns, cmd):
    r = run(VTYSH, "-N", ns, "-c", cmd, check=False)
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def router_route():
    """The router's best path for the VIP, or None."""
    j = vtysh_json(NS_R, f"show ip bgp {VIP} json")
    if not j or not j.get("paths"):
        return None
    for p in j["paths"]:
        if p.get("bestpath", {}).get("overall"):
            return p
    return None


def bw_bytes(mbps):
    # FRR shows link bandwidth as bytes per second: Mbit/s * 10^6 / 8.
    return mbps * 1000 * 1000 // 8


def route_has(mbps=None, gshut=None):
    def cond():
        p = router_route()
        if p is None:
            return False
        ext = p.get("extendedCommunity", {}).get("string", "")
        comm = p.get("community", {}).get("list", [])
        if mbps is not None and f"LB:{AS_H}:{bw_bytes(mbps)} " not in ext + " ":
            return False
        if gshut is not None and ("gracefulShutdown" in comm) != gshut:
            return False
        return p
    return cond


def route_gone():
    return router_route() is None


class Daemon:
    """One FRR daemon in a namespace, in the foreground; killed by PID."""

    def __init__(self, lab, ns, name, conf):
        self.lab, self.ns, self.name, self.conf = lab, ns, name, conf
        self.proc = None

    def start(self):
        d = self.lab.dir
        tag = f"{self.ns}-{self.name}"
        out = open(os.path.join(d, f"{tag}.out"), "ab")
        # Debian's FRR drops to user frr (group frrvty may use the vty
        # sockets): the pathspace directory and the files must be its.
        # -P 0: no TCP vty. `ip netns exec' execs, so proc.pid is the
        # daemon's own PID.
        argv = ["ip", "netns", "exec", self.ns,
                os.path.join(FRR_SBIN, self.name), "-N", self.ns,
                "-f", self.conf, "-i", os.path.join(d, f"{tag}.pid"),
                "-P", "0", "--log", f"file:{os.path.join(d, tag + '.log')}"]
        self.lab.cmdlines.append(" ".join(argv))
        env = dict(os.environ, **{LAB_TAG: "1"})
        self.proc = subprocess.Popen(argv, stdout=out, stderr=out, env=env,
                                     stdin=subprocess.DEVNULL)
        out.close()
        sock = os.path.join(FRR_RUN, self.ns, f"{self.name}.vty")
        wait_until(lambda: self.proc.poll() is None and os.path.exists(sock)
                   and self._vty_up(), 15, f"{tag} vty socket")

    def _vty_up(self):
        r = run(VTYSH, "-N", self.ns, "-d", self.name, "-c", "show version",
                check=False)
        return r.returncode == 0

    def kill(self, sig=signal.SIGKILL):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def stop(self):
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGCONT)
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None


class Lab:
    def __init__(self):
        self.dir = None
        self.made_ns = []
        self.made_run = []
        self.daemons = {}
        self.cmdlines = []
        self.drivers = []

    def setup(self):
        for ns in (NS_H, NS_R):
            if os.path.exists(f"/var/run/netns/{ns}") or \
                    os.path.exists(os.path.join(FRR_RUN, ns)):
                pytest.fail(f"a lab is already there ({ns}); refusing to "
                            f"start over it. Clean up with: ip netns del {ns};"
                            f" rm -rf {FRR_RUN}/{ns}")
        self.dir = tempfile.mkdtemp(prefix="rafhf-frr-")
        os.chmod(self.dir, 0o755)
        shutil.chown(self.dir, "frr", "frr")
        for ns in (NS_H, NS_R):
            run("ip", "netns", "add", ns)
            self.made_ns.append(ns)
            rd = os.path.join(FRR_RUN, ns)
            os.makedirs(rd)
            self.made_run.append(rd)
            shutil.chown(rd, "frr", "frr")
            run("ip", "-n", ns, "link", "set", "lo", "up")
            for k in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                      "net.ipv4.conf.default.rp_filter=0"):
                run("ip", "netns", "exec", ns, "sysctl", "-qw", k)
        # Both ends made inside their namespaces: nothing in the root one.
        run("ip", "link", "add", IF_H, "netns", NS_H, "type", "veth",
            "peer", "name", IF_R, "netns", NS_R)
        run("ip", "-n", NS_H, "addr", "add", f"{ADDR_H}/30", "dev", IF_H)
        run("ip", "-n", NS_R, "addr", "add", f"{ADDR_R}/30", "dev", IF_R)
        run("ip", "-n", NS_H, "link", "set", IF_H, "up")
        run("ip", "-n", NS_R, "link", "set", IF_R, "up")
        run("ip", "-n", NS_H, "addr", "add", VIP, "dev", "lo")
        for ns, name, text in ((NS_H, "h", BGPD_H), (NS_R, "r", BGPD_R)):
            for daemon, conf in (("zebra", ZEBRA_CONF.format(name=name)),
                                 ("bgpd", text)):
                path = os.path.join(self.dir, f"{ns}-{daemon}.conf")
                with open(path, "w") as f:
                    f.write(conf)
                shutil.chown(path, "frr", "frr")
                self.daemons[(ns, daemon)] = Daemon(self, ns, daemon, path)
        for key in ((NS_H, "zebra"), (NS_R, "zebra"), (NS_H, "bgpd"),
                    (NS_R, "bgpd")):
            self.daemons[key].start()
        self.wait_established()

    def wait_established(self):
        def est():
            j = vtysh_json(NS_R, f"show bgp neighbors {ADDR_H} json")
            return j and j.get(ADDR_H, {}).get("bgpState") == "Established"
        wait_until(est, 30, "the BGP session to be Established")

    def bgpd_h(self):
        return self.daemons[(NS_H, "bgpd")]

    def teardown(self):
        # Every step runs whatever the one before it did.
        def attempt(what, fn, *a):
            try:
                fn(*a)
            except Exception as e:
                print(f"teardown: {what}: {e!r}")

        if self.cmdlines:
            # Shown with -s: how FRR was started here, for reuse.
            print("\nFRR daemons started with:")
            for c in dict.fromkeys(self.cmdlines):
                print("  " + c)
        for d in self.drivers:
            attempt("frrdrv", d.close)
        for d in self.daemons.values():
            attempt(f"{d.ns} {d.name}", d.stop)
        for ns in self.made_ns:
            attempt(f"processes left in {ns}", kill_ns_pids, ns)
            attempt(f"ip netns del {ns}", run, "ip", "netns", "del", ns)
        for rd in self.made_run:
            shutil.rmtree(rd, ignore_errors=True)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def kill_ns_pids(ns):
    """Anything still in a namespace this lab made is the lab's: kill it by
    PID and wait for it, so the namespace really goes."""
    pids = [int(p) for p in
            run("ip", "netns", "pids", ns, check=False).stdout.split()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    end = time.monotonic() + 10
    while pids and time.monotonic() < end:
        pids = [p for p in pids if os.path.exists(f"/proc/{p}")]
        time.sleep(0.05)


@pytest.fixture(scope="module")
def lab():
    assert os.access(FRRDRV, os.X_OK), "build frrdrv first (make)"
    lab = Lab()
    try:
        lab.setup()
        yield lab
    finally:
        lab.teardown()


@pytest.fixture(autouse=True)
def host_bgpd_running(lab):
    """Each test starts with the host's bgpd up (one that failed halfway
    through a restart must not fail the tests after it)."""
    bgpd = lab.bgpd_h()
    if bgpd.proc is not None and bgpd.proc.poll() is None:
        bgpd.kill(signal.SIGCONT)
    else:
        bgpd.start()
        lab.wait_established()
    yield


class Driver:
    """build/bin/frrdrv in the host namespace, one command a line."""

    def __init__(self, lab, *args, vips=(VIP, VIP2)):
        self.lab = lab
        self.errpath = os.path.join(lab.dir, f"frrdrv-{len(lab.drivers)}.err")
        self.err = open(self.errpath, "wb")
        argv = ["ip", "netns", "exec", NS_H, FRRDRV, "-a", str(AS_H), "-v",
                "-N", NS_H, *args, *vips]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.err,
                                     env=dict(os.environ, **{LAB_TAG: "1"}))
        self.buf = b""
        self.lines = []
        self.seen = 0
        lab.drivers.append(self)

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def _read(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        if not chunk:
            raise AssertionError("frrdrv exited:\n" + self.log())
        self.buf += chunk
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            self.lines.append(line.decode())

    def expect(self, pattern, deadline_s=10):
        """The first line from now on matching pattern (a regex)."""
        rx = re.compile(pattern)
        end = time.monotonic() + deadline_s
        while True:
            while self.seen < len(self.lines):
                line = self.lines[self.seen]
                self.seen += 1
                m = rx.search(line)
                if m:
                    return m
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no line matching {pattern!r} within {deadline_s}s; "
                    f"got {self.lines[-20:]}\n--- log:\n{self.log()[-4000:]}")
            self._read(min(left, 0.2))

    def call(self, line, reply, deadline_s=10):
        self.send(line)
        return self.expect(reply, deadline_s)

    def set(self, prefix, ann, weight=0):
        self.call(f"set {prefix} {ann} {weight}", r"^set ok$")

    def wait_synced(self, deadline_s=10):
        """Synced as the driver says it, asked after the change was made."""
        def synced():
            return self.call("status", r"^status ", 5).string
        return wait_until(lambda: " synced=1 " in synced(), deadline_s,
                          "the driver to report synced")

    def status(self):
        line = self.call("status", r"^status ").string
        return dict(kv.split("=", 1) for kv in line.split()[1:])

    def lat(self):
        return self.call("lat", r"^lat ").string

    def log(self):
        if not self.err.closed:
            self.err.flush()
        with open(self.errpath, errors="replace") as f:
            return f.read()

    def close(self):
        if self.err.closed:
            return
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        rc = self.proc.returncode
        log = self.log()
        self.err.close()
        # A sanitizer build reports errors and leaks in the exit status.
        assert rc == 0, f"frrdrv exit status {rc}:\n{log[-4000:]}"


def host_running_config():
    return run(VTYSH, "-N", NS_H, "-d", "bgpd", "-c",
               "show running-config").stdout


def print_latency(d, what):
    st = d.status()
    lat = d.lat()
    m = dict(kv.split("=", 1) for kv in lat.split()[1:])
    n, s = int(m["count"]), int(m["sum_us"])
    print(f"\n{what}: {n} vty commands, mean {s / max(n, 1):.0f} us; {lat}; "
          f"{st}")
    # Debug log lines "bgpd -> ... in N us": the per-command figures.
    us = sorted(int(x) for x in re.findall(r"bgpd -> \S+ \(\d+\) in (\d+) us",
                                           d.log()))
    if us:
        print(f"{what}: per command min {us[0]} us, median "
              f"{us[len(us) // 2]} us, p90 {us[int(len(us) * 0.9)]} us, "
              f"max {us[-1]} us")


def test_announce_weight_gshut_withdraw(lab):
    # The stale `network' from bgpd.conf is what the router sees first.
    wait_until(route_has(gshut=False), 20, "the stale announcement")
    d = Driver(lab)
    d.expect(r"^event connected=1 synced=1$")
    # The first sync withdraws every VIP not wanted.
    wait_until(route_gone, 10, "the stale announcement to be withdrawn")
    assert "bgpd synced: 2 VIP(s), 0 announced" in d.log()

    d.set(VIP, "normal", 100)
    d.wait_synced()
    p = wait_until(route_has(mbps=100, gshut=False), 10, "VIP weight 100")
    assert p["aspath"]["string"] == str(AS_H)

    d.set(VIP, "normal", 200)		# a route-map switch, no withdraw
    wait_until(route_has(mbps=200, gshut=False), 10, "VIP weight 200")

    d.set(VIP, "gshut", 200)		# drain
    wait_until(route_has(mbps=200, gshut=True), 10, "graceful-shutdown")

    d.set(VIP, "normal", 200)		# undrain: the community goes again
    wait_until(route_has(mbps=200, gshut=False), 10, "no graceful-shutdown")

    d.set(VIP, "withdrawn")
    d.wait_synced()
    wait_until(route_gone, 10, "the VIP to be withdrawn")

    # Coalescing: a burst of changes in one write (one read for frrdrv).
    # The first starts a sequence at once; the ones that come while it is
    # in flight are never sent; the last one wins.
    d.send("\n".join(f"set {VIP} normal {w}" for w in (300, 400, 500, 600))
           + f"\nset {VIP} gshut 700")
    d.wait_synced()
    wait_until(route_has(mbps=700, gshut=True), 10, "the last of a burst")
    log = d.log()
    assert "bgpd <- route-map FO-BW300 permit 10" in log
    for w in (400, 500, 600):
        assert f"FO-BW{w}" not in log, w
    assert "bgpd <- network 198.51.100.100/32 route-map FO-BW700-GSHUT" in log

    st = d.status()
    assert st["errors"] == "0" and st["connects"] == "1", st
    assert st["disconnects"] == "0", st
    assert "failed" not in d.log()
    print_latency(d, "announce/weight/gshut/withdraw")
    d.set(VIP, "withdrawn")
    wait_until(route_gone, 10, "the VIP to be withdrawn")
    d.close()


def test_bgpd_restart_resync(lab):
    d = Driver(lab, "-r", "1s")
    d.expect(r"^event connected=1 synced=1$")
    d.set(VIP, "normal", 100)
    wait_until(route_has(mbps=100), 10, "VIP weight 100")

    bgpd = lab.bgpd_h()
    bgpd.kill(signal.SIGKILL)
    bgpd.proc.wait(10)
    d.expect(r"^event connected=0 synced=0$")
    wait_until(route_gone, 15, "the router to lose the VIP with the session")
    # Let the driver find the socket dead before bgpd comes back.
    wait_until(lambda: "cannot connect" in d.log(), 5, "a failed reconnect")
    # The new bgpd reads bgpd.conf: a bare `network VIP', no weight. The
    # driver must find it and put its route-map back by itself.
    bgpd.start()
    d.expect(r"^event connected=1 synced=1$", 20)
    lab.wait_established()
    wait_until(route_has(mbps=100, gshut=False), 20,
               "the VIP re-announced with its weight")
    assert f"network {VIP} route-map FO-BW100\n" in host_running_config()
    st = d.status()
    assert st["connects"] == "2" and st["disconnects"] == "1", st
    log = d.log()
    assert log.count("connection lost") == 1, log
    assert log.count("connected after") == 1, log
    assert log.count("cannot connect") == 1, log	# logged once, then debug
    print_latency(d, "after a bgpd restart")

    # Withdrawn while bgpd is away: after the restart the bare `network'
    # from bgpd.conf is stale, and the resync must remove it.
    d.set(VIP, "withdrawn")
    wait_until(route_gone, 10, "the VIP to be withdrawn")
    bgpd.kill(signal.SIGKILL)
    bgpd.proc.wait(10)
    d.expect(r"^event connected=0 synced=0$")
    bgpd.start()
    lab.wait_established()
    d.expect(r"^event connected=1 synced=1$", 20)
    wait_until(route_gone, 10, "the stale network removed by the resync")
    # bgpd itself has no `network' left, so nothing can come back (the
    # config file was read before the driver's withdraw, not after).
    assert d.status()["synced"] == "1"
    assert f"network {VIP}" not in host_running_config()
    d.close()


def test_reply_timeout_drops_and_recovers(lab):
    d = Driver(lab, "-t", "300ms", "-r", "500ms")
    d.expect(r"^event connected=1 synced=1$")
    bgpd = lab.bgpd_h()
    bgpd.kill(signal.SIGSTOP)		# alive, connected, silent
    try:
        d.set(VIP, "normal", 42)
        d.expect(r"^event connected=0 synced=0$", 5)
        assert re.search(r"no reply to '[^']+' within 300ms", d.log())
    finally:
        bgpd.kill(signal.SIGCONT)
    d.expect(r"^event connected=1 synced=1$", 10)
    wait_until(route_has(mbps=42), 10, "VIP weight 42 after the stall")
    st = d.status()
    assert int(st["disconnects"]) >= 1, st
    d.set(VIP, "withdrawn")
    wait_until(route_gone, 10, "the VIP to be withdrawn")
    d.close()


def test_vtysh_fallback(lab):
    # A socket path failoverd cannot use (a component is a regular file:
    # ENOTDIR) while vtysh -N reaches bgpd: every sequence goes through
    # vtysh. (A missing socket or a refused connection means bgpd is not
    # there, and then the fallback stays off: test_failoverd.py.)
    notdir = os.path.join(lab.dir, "not-a-dir")
    open(notdir, "w").close()
    dead = os.path.join(notdir, "bgpd.vty")
    d = Driver(lab, "-s", dead, "-V", VTYSH)
    # The first sync withdraws both VIPs; VIP2 was never in bgpd, so vtysh
    # exits 1 with "Can't find static route specified": taken as done.
    d.expect(r"^event connected=0 synced=1$", 20)
    d.set(VIP, "gshut", 300)
    d.wait_synced(20)
    wait_until(route_has(mbps=300, gshut=True), 10, "VIP announced by vtysh")
    d.set(VIP, "withdrawn")
    d.wait_synced(20)
    wait_until(route_gone, 10, "VIP withdrawn by vtysh")
    st = d.status()
    assert st["connected"] == "0" and st["connects"] == "0", st
    # Withdraw x2, map, announce, withdraw.
    assert int(st["fallback"]) == 5, st
    assert st["errors"] == "0", st
    d.close()


def test_withdraw_all_sync(lab):
    d = Driver(lab)
    d.expect(r"^event connected=1 synced=1$")
    d.set(VIP, "normal", 100)
    wait_until(route_has(mbps=100), 10, "VIP weight 100")
    assert d.call("withdraw-all 2000", r"^withdraw-all rc=(-?\d+)$").group(1) == "0"
    wait_until(route_gone, 10, "the VIP withdrawn by withdraw-all")
    assert d.status()["synced"] == "1"
    d.close()

    # Not connected, no vtysh: it says so rather than pretending.
    d = Driver(lab, "-s", os.path.join(lab.dir, "no-such-bgpd.vty"))
    wait_until(lambda: "cannot connect" in d.log(), 5, "a failed connect")
    assert d.call("withdraw-all 500", r"^withdraw-all rc=(-?\d+)$").group(1) == "-1"
    d.close()
