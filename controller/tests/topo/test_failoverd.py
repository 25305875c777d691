"""failoverd and failoverctl against real FRR in the namespace lab.

The `pair` topology (topology-tests/topologies/pair.yaml): router R in front
of relay hosts M1 and M2, each running zebra, bgpd and bfdd, rtprelay and
failoverd (topology-tests/services/*.yaml). What R's kernel does with the
VIP is the verdict: its next hops are polled with a deadline, never a fixed
sleep. The tests run in order on one lab and leave it as they found it
(both hosts announcing).

Timing: only the fail-closed bound (withdrawn within 1 s after failoverd is
SIGKILLed) is asserted, because it is the requirement itself; the figures
for docs/performance.md come from controller/tests/topo/measure.py.

Needs root and FRR; skipped otherwise.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                    ".."))
sys.path.insert(0, os.path.join(ROOT, "topology-tests"))

from labnet import frr, lab as labmod, procs, wait  # noqa: E402

PREFIX = os.environ.get("RAF_CTL_TEST_PREFIX", "rafcd-")
BIN = os.path.join(ROOT, "build", "bin")
FAILOVERCTL = os.path.join(BIN, "failoverctl")
VIP = "203.0.113.10"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="needs root: network namespaces and FRR"),
    pytest.mark.skipif(labmod.can_run() is not None,
                       reason=f"lab cannot run: {labmod.can_run()}"),
    pytest.mark.skipif(not os.access(os.path.join(BIN, "failoverd"),
                                     os.X_OK), reason="failoverd not built"),
]


@pytest.fixture(scope="module")
def lab():
    lab = labmod.Lab.load("pair", prefix=PREFIX)
    try:
        lab.up()
        lab.wait_converged()
        lab.wait_nexthops("R", VIP, 2, timeout=20)
        yield lab
    finally:
        # Keep the logs for a look after a failure (the run dir goes).
        keep = os.environ.get("RAF_CTL_TEST_LOGS")
        if keep:
            subprocess.run(["cp", "-r", os.path.join(lab.rundir, "log"),
                            keep], check=False)
        lab.down()
    assert labmod.leftovers(PREFIX) == [], "the lab left something behind"


def etc(lab, node, name):
    return os.path.join(lab.etc_dir(node), name)


def ctl(lab, node, *args, status=False):
    sock = etc(lab, node, "failoverd.status.sock" if status else
               "failoverd.sock")
    return subprocess.run([FAILOVERCTL, "-s", sock, *args],
                          capture_output=True, text=True, timeout=20)


def status(lab, node):
    r = ctl(lab, node, "-j", "status", status=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def service(lab, node):
    return status(lab, node)["services"][0]


def proc(lab, node, name):
    """The live process `name` the lab started on node (last one)."""
    for p in reversed(lab.procs):
        if p.node == node and p.name == name and procs.alive(p.pid):
            return p
    raise AssertionError(f"no live {name} on {node}")


def restart(lab, node, name, argv):
    p = lab.spawn(node, name, argv)
    return p


def router_path(lab, host_addr):
    """R's BGP path for the VIP from the host with link address host_addr."""
    j = lab.vtysh("R").bgp_route(f"{VIP}/32")
    for p in j.get("paths", []):
        if p.get("peer", {}).get("peerId") == host_addr or \
                p.get("nexthops", [{}])[0].get("ip") == host_addr:
            return p
    return None


def host_addr(lab, node):
    return str(lab.topo.nodes[node].ifaces[0].addr.ip)


def relay_rate(lab, node):
    """rtprelay_packet_rate from the relay's metrics page on node."""
    url = f"http://{host_addr(lab, node)}:9224/metrics"
    r = subprocess.run(
        ["ip", "netns", "exec", lab.ns(node), sys.executable, "-c",
         f"import urllib.request; print(urllib.request.urlopen({url!r}, "
         "timeout=2).read().decode())"],
        capture_output=True, text=True, timeout=10)
    for line in r.stdout.splitlines():
        if line.startswith("rtprelay_packet_rate "):
            return int(float(line.split()[1]))
    return 0


def wait_state(lab, node, state, timeout=15):
    """Also waits for a restarted daemon to open its socket."""
    def cond():
        r = ctl(lab, node, "-j", "status", status=True)
        if r.returncode != 0:
            return False, r.stderr.strip()
        got = json.loads(r.stdout)["services"][0]["state"]
        return got == state, got
    wait.until(cond, timeout, f"{node} service state {state}")


def test_announced_by_both_hosts(lab):
    for node in ("M1", "M2"):
        s = service(lab, node)
        assert s["state"] == "up"
        assert s["announce"] == "normal"
        assert s["vips"] == [f"{VIP}/32"]
        assert {c["name"]: c["state"] for c in s["checks"]} == \
            {"relay": "up", "probe": "up", "ng": "up"}
    st = status(lab, "M1")
    assert st["frr"]["connected"] and st["frr"]["synced"]
    assert st["anchor"] == "fo-anchor"
    # The VIP reaches zebra's RIB only through the anchor device.
    routes = lab.vtysh("M1").json(f"show ip route {VIP}/32 json")
    nhs = routes[f"{VIP}/32"][0]["nexthops"]
    assert [n.get("interfaceName") for n in nhs] == ["fo-anchor"]
    # The table for people.
    r = ctl(lab, "M1", "status", status=True)
    assert r.returncode == 0
    assert "media" in r.stdout and "up" in r.stdout


def test_bad_control_input_gets_an_error_and_changes_nothing(lab):
    r = ctl(lab, "M1", "weight", "media", "12x")
    assert r.returncode == 2
    assert "'12x' is not a number from 1 to 25600" in r.stderr
    r = ctl(lab, "M1", "drain", "nosuch")
    assert r.returncode == 1
    assert "unknown service 'nosuch'" in r.stderr
    r = ctl(lab, "M1", "drain", "media", status=True)
    assert r.returncode == 1
    assert "read-only" in r.stderr
    # Raw bytes no client would send: one reply each, in order.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(etc(lab, "M1", "failoverd.sock"))
        s.sendall(b"drian media\n\x01\x02garbage\n" + b"x" * 600 +
                  b"\nstatus\n")
        buf = b""
        while buf.count(b"\n0000 ") < 1:
            chunk = s.recv(65536)
            assert chunk, f"connection closed early: {buf!r}"
            buf += chunk
    finals = [ln[:4] for ln in buf.decode().splitlines() if ln[4:5] == " "]
    assert finals == ["8001", "8001", "8005", "0000"]
    assert service(lab, "M1")["state"] == "up"
    assert proc(lab, "M1", "failoverd")
    lab.wait_nexthops("R", VIP, 2, timeout=5)


def test_weight_changes_without_withdraw(lab):
    r = ctl(lab, "M1", "weight", "media", "300")
    assert r.returncode == 0, r.stderr
    lab.wait_nexthops("R", VIP, 2, weights=[25, 75], timeout=10)
    assert service(lab, "M1")["weight"] == 300
    r = ctl(lab, "M1", "weight", "media", "100")
    assert r.returncode == 0, r.stderr
    lab.wait_nexthops("R", VIP, 2, weights=[50, 50], timeout=10)
    assert service(lab, "M1")["transitions"] == 1	# never withdrawn


def test_weight_auto_from_capacity_and_back(lab):
    """weight: auto by reload: capacity 30,000 calls is weight 300, so R
    splits 75:25; an operator's weight overrides it until `weight media
    auto`; the original file back gives 50:50. Never withdrawn."""
    conf = etc(lab, "M1", "failoverd.yaml")
    with open(conf) as f:
        orig = f.read()
    before = service(lab, "M1")["transitions"]
    assert "    weight: 100\n" in orig
    try:
        with open(conf, "w") as f:
            f.write(orig.replace("    weight: 100\n",
                                 "    weight: auto\n"
                                 "    capacity: {calls: 30000}\n"))
        r = ctl(lab, "M1", "reload")
        assert r.returncode == 0, r.stderr
        lab.wait_nexthops("R", VIP, 2, weights=[25, 75], timeout=10)
        svc = service(lab, "M1")
        assert svc["weight"] == 300
        assert svc["weight_detail"]["source"] == "capacity"
        assert svc["weight_detail"]["nominal"] == 300
        assert "auto from capacity (30000 calls)" in \
            svc["weight_detail"]["explain"]
        r = ctl(lab, "M1", "weight", "media", "100")
        assert r.returncode == 0, r.stderr
        assert "set by failoverctl (configured: auto" in r.stdout
        lab.wait_nexthops("R", VIP, 2, weights=[50, 50], timeout=10)
        assert service(lab, "M1")["weight_detail"]["source"] == "operator"
        r = ctl(lab, "M1", "weight", "media", "auto")
        assert r.returncode == 0, r.stderr
        lab.wait_nexthops("R", VIP, 2, weights=[25, 75], timeout=10)
        r = ctl(lab, "M1", "status", status=True)
        assert "  weight 300: auto from capacity (30000 calls)" in r.stdout
    finally:
        with open(conf, "w") as f:
            f.write(orig)
        ctl(lab, "M1", "reload")
    lab.wait_nexthops("R", VIP, 2, weights=[50, 50], timeout=10)
    svc = service(lab, "M1")
    assert svc["weight"] == 100 and svc["weight_detail"]["source"] == \
        "config"
    assert svc["transitions"] == before		# never withdrawn


def test_idle_drain_withdraws_and_survives_restart(lab):
    # No traffic: the relay's rate is 0, below the threshold, so the
    # withdraw follows the first statistics reply.
    r = ctl(lab, "M1", "drain", "media", "--timeout", "3s")
    assert r.returncode == 0, r.stderr
    lab.wait_nexthops("R", VIP, 1, timeout=10)
    s = service(lab, "M1")
    assert s["state"] == "drained"
    assert s["announce"] == "withdrawn"
    log = open(lab.log_path("M1", "failoverd")).read()
    assert "state change up -> draining, reason: admin drain" in log
    assert "state change draining -> drained, reason: traffic drained" \
        in log
    # The drained state survives a restart: a clean stop withdraws at
    # once, and the new daemon keeps the VIP withdrawn.
    p = proc(lab, "M1", "failoverd")
    os.kill(p.pid, signal.SIGTERM)
    wait.until(lambda: (not procs.alive(p.pid), "still running"), 10,
               "failoverd to stop")
    restart(lab, "M1", "failoverd", p.argv)
    wait_state(lab, "M1", "drained")
    assert len(lab.nexthops("R", VIP)) == 1
    r = ctl(lab, "M1", "undrain", "media")
    assert r.returncode == 0, r.stderr
    lab.wait_nexthops("R", VIP, 2, timeout=10)
    wait_state(lab, "M1", "up")


def test_drain_with_traffic_is_make_before_break(lab):
    """With media on M1, a drain announces the graceful-shutdown community
    first (R takes M1 out of ECMP but keeps the path), waits for M1's
    packet rate to fall, then withdraws."""
    # Calls on M1 through its ng port; R hashes each RTP flow to M1 or M2
    # (without shared state, flows on M2 are dropped: irrelevant here, the
    # test looks at M1's own rate). rtpmeter keeps sending while it waits
    # for every stream, which is all this test needs of it.
    meter = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns("CL"), os.path.join(BIN, "rtpmeter"),
         "--ng", host_addr(lab, "M1") + ":2223",
         "--local", host_addr(lab, "CL"), "--calls", "10",
         "--ready-timeout", "30s", "--duration", "30s"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait.until(lambda: (relay_rate(lab, "M1") > 100, "rate"), 15,
                   "media through M1")
        r = ctl(lab, "M1", "drain", "media", "--timeout", "20s")
        assert r.returncode == 0, r.stderr
        addr = host_addr(lab, "M1")

        def gshut():
            p = router_path(lab, addr)
            comm = (p or {}).get("community", {}).get("list", [])
            return "gracefulShutdown" in comm, p
        # Media was flowing, so the drain cannot finish before R has seen
        # the community and moved the flows.
        wait.until(gshut, 10, "graceful-shutdown community on M1's path")
        lab.wait_nexthops("R", VIP, 1, timeout=10)
        wait_state(lab, "M1", "drained", timeout=15)
        wait.until(lambda: (router_path(lab, addr) is None, "present"),
                   5, "M1's path withdrawn at R")
        log = open(lab.log_path("M1", "failoverd")).read()
        assert "draining -> drained, reason: traffic drained" in log
    finally:
        meter.kill()
        meter.wait()
    r = ctl(lab, "M1", "undrain", "media")
    assert r.returncode == 0, r.stderr
    wait_state(lab, "M1", "up", timeout=20)
    lab.wait_nexthops("R", VIP, 2, timeout=10)


def test_relay_sigkill_withdraws_and_restart_announces(lab):
    relay = proc(lab, "M1", "rtprelay")
    why = ("state change up -> down, reason: check failed definitely "
           "(relay)")
    before = open(lab.log_path("M1", "failoverd")).read().count(why)
    os.kill(relay.pid, signal.SIGKILL)
    lab.wait_nexthops("R", VIP, 1, timeout=5)
    assert service(lab, "M1")["state"] == "down"
    # Seen through the pidfd, not through a probe that went unanswered.
    log = open(lab.log_path("M1", "failoverd")).read()
    assert log.count(why) == before + 1
    assert f"check relay up -> down: pid {relay.pid} exited" in log
    # The lab sets frr.reset-sessions-on-failure: nothing else was
    # announced, so the sessions were ended for a faster withdraw.
    wait.until(lambda: ("frr: BGP sessions reset" in open(lab.log_path(
        "M1", "failoverd")).read(), "no reset logged"), 5, "session reset")
    restart(lab, "M1", "rtprelay", relay.argv)
    # rise (2 x 1 s) plus hold-down (1 s): back within a few seconds.
    lab.wait_nexthops("R", VIP, 2, timeout=15)
    wait_state(lab, "M1", "up")


def test_bgpd_restart_gets_desired_state_back(lab):
    bgpd = proc(lab, "M1", "bgpd")
    connects = status(lab, "M1")["frr"]["connects"]
    os.kill(bgpd.pid, signal.SIGKILL)
    wait.until(lambda: (not procs.alive(bgpd.pid), "alive"), 5, "bgpd gone")
    lab.wait_nexthops("R", VIP, 1, timeout=10)
    restart(lab, "M1", "bgpd", bgpd.argv)
    # A bgpd without its configuration: failoverd must not create the
    # instance (no neighbours, a router-id that could be the VIP).
    refusal = "has no 'router bgp 65101'"
    wait.until(lambda: (refusal in open(lab.log_path(
        "M1", "failoverd")).read(), "not yet"), 10,
        "failoverd to refuse the unconfigured bgpd")
    assert "router bgp" not in lab.vtysh("M1").run("show running-config")
    # FRR loads its configuration (as the init scripts do): the
    # announcement is failoverd's to put back, frr.conf has none.
    lab.vtysh("M1").apply_file(os.path.join(lab.etc_dir("M1"), "frr.conf"))
    lab.wait_nexthops("R", VIP, 2, timeout=40)
    st = status(lab, "M1")
    assert st["frr"]["connects"] > connects
    assert st["frr"]["synced"]


def test_failoverd_sigkill_withdraws_within_1s(lab):
    p = proc(lab, "M1", "failoverd")
    t0 = time.monotonic()
    os.kill(p.pid, signal.SIGKILL)
    lab.wait_nexthops("R", VIP, 1, timeout=5)
    took = time.monotonic() - t0
    assert took < 1.0, f"withdrawn only after {took * 1000:.0f} ms"
    # The restarted daemon cleans up, waits for its checks, announces.
    restart(lab, "M1", "failoverd", p.argv)
    lab.wait_nexthops("R", VIP, 2, timeout=15)
    wait_state(lab, "M1", "up")
