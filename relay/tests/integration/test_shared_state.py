"""Shared session state (issue #4): two rtprelays behind one router, no FRR.

The test builds its own namespaces (prefix rafss-<pid>-):

    CL 198.51.100.5/31 --- .4 R .0 --- .1/31 M1   VIP 203.0.113.10 local
                              R .2 --- .3/31 M2   VIP 203.0.113.10 local
    redis-server on R, 198.51.100.20 (on R's lo)

Both relays run build/bin/rtprelay with the same service address and ports
and a redis: section; the router sends the VIP to one of them with a plain
kernel route that the tests move with `ip route replace` (what a BGP
withdraw does to the fabric, without FRR). Each relay host has its own
default TTL (M1 60, M2 50), so rtpmeter's TTL fields name the relay that
forwarded each packet (59 and 49 after the router).

The tests: a route switch in the middle of the streams loses nothing;
a relay that joins answers ping "not ready" until it has the whole table,
and without a store never pongs; a store outage (SIGSTOP, and a restart
that empties the store) loses no media, new calls still work and reach
the other relay once the store is back, deletes made meanwhile hold; a
delete on either relay ends the call everywhere; latches follow a call to
the other relay; no two calls of the cluster share a port, also across a
relay restart; a burst of offers is not refused while port blocks are
free. Root only; every process is started tagged and ended by its PID;
the namespaces go on every exit path. Logs of every process are in the
test's tmp directory (pytest --basetemp to choose it) and their tails are
printed when a test fails. RAFSS_LOG_LEVEL=debug makes the relays verbose.
"""
import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "topology-tests"))

from labnet import netns, procs  # noqa: E402
from labnet.dgram import recv_n  # noqa: E402
from labnet.meterlines import MeterLines  # noqa: E402
from labnet.ngclient import NgClient  # noqa: E402
from labnet.wait import until  # noqa: E402

RELAY = os.path.join(ROOT, "build", "bin", "rtprelay")
METER = os.path.join(ROOT, "build", "bin", "rtpmeter")
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"

TAG = f"rafss-{os.getpid()}"
VIP = "203.0.113.10"
REDIS_ADDR = "198.51.100.20"
REDIS_PORT = 6379
KEY_PREFIX = "rafss"
CL_ADDR = "198.51.100.5"
NG_PORT = 2223
METRICS_PORT = 9224
PORT_MIN, PORT_MAX = 30000, 33999
# node -> link address, router's end of the link, default TTL
RELAYS = {"m1": ("198.51.100.1", "198.51.100.0", 60),
          "m2": ("198.51.100.3", "198.51.100.2", 50)}
PORT_BLOCK = 64			# pairs; the default
LOG_LEVEL = os.environ.get("RAFSS_LOG_LEVEL", "info")

RELAY_CONF = """\
service-address: {vip}
control: {addr}:{ng}
ports: {pmin}-{pmax}
media-timeout: 60s
metrics:
  listen: {addr}:{metrics}
log-level: {level}
redis:
  server: {redis}:{rport}
  node: {node}
  key-prefix: {prefix}
  port-block: {block}
  lease: 30s
  timeout: 500ms
"""

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip")
    or not os.access(RELAY, os.X_OK) or not os.access(METER, os.X_OK)
    or not os.access(REDIS, os.X_OK),
    reason="needs root, iproute2, redis-server and build/bin/rtprelay, "
    "build/bin/rtpmeter (make)")


# --- namespaces --------------------------------------------------------------

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def ns_name(node):
    return f"{TAG}-{node}"


@contextlib.contextmanager
def in_ns(node):
    """Run the block with this thread in node's network namespace; sockets
    made inside stay there after the block."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    fd = os.open(os.path.join(netns.NETNS_DIR, ns_name(node)), os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns {ns_name(node)}: {os.strerror(e)}")
        yield
    finally:
        if _libc.setns(own, CLONE_NEWNET) != 0:
            # Staying in a lab namespace would mislead every later test.
            os._exit(99)
        os.close(fd)
        os.close(own)


def ns_socket(node, kind=socket.SOCK_DGRAM):
    with in_ns(node):
        return socket.socket(socket.AF_INET, kind)


def build_topology():
    nodes = ["r", "m1", "m2", "cl"]
    for n in nodes:
        if netns.exists(ns_name(n)):
            raise RuntimeError(f"namespace {ns_name(n)} exists already")
    for n in nodes:
        netns.add(ns_name(n))
    base = [("net.ipv4.conf.all.rp_filter", 0),
            ("net.ipv4.conf.default.rp_filter", 0)]
    for n in nodes:
        extra = [("net.ipv4.ip_forward", 1)] if n == "r" else []
        if n in RELAYS:
            extra.append(("net.ipv4.ip_default_ttl", RELAYS[n][2]))
        netns.sysctl(ns_name(n), base + extra)
    netns.batch(ns_name("r"), [
        f"link add eth-m1 type veth peer name eth-r netns {ns_name('m1')}",
        f"link add eth-m2 type veth peer name eth-r netns {ns_name('m2')}",
        f"link add eth-cl type veth peer name eth-r netns {ns_name('cl')}",
        "link set lo up",
        f"addr add {REDIS_ADDR}/32 dev lo",
        "addr add 198.51.100.0/31 dev eth-m1", "link set eth-m1 up",
        "addr add 198.51.100.2/31 dev eth-m2", "link set eth-m2 up",
        "addr add 198.51.100.4/31 dev eth-cl", "link set eth-cl up",
        f"route add {VIP}/32 via {RELAYS['m1'][0]}"])
    for n, (addr, gw, _) in RELAYS.items():
        netns.batch(ns_name(n), [
            "link set lo up", f"addr add {addr}/31 dev eth-r",
            "link set eth-r up", f"route add default via {gw}",
            # The VIP is a local route, never an interface address.
            f"route add local {VIP}/32 dev lo table local"])
    netns.batch(ns_name("cl"), [
        "link set lo up", f"addr add {CL_ADDR}/31 dev eth-r",
        "link set eth-r up", "route add default via 198.51.100.4"])


def teardown_topology():
    left = procs.find_tagged(TAG)
    if left:
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGCONT)
        procs.terminate([procs.Proc(p, procs.starttime(p), "?", "?", [])
                         for p in left], TAG)
    errors = []
    for n in ("r", "m1", "m2", "cl"):
        try:
            netns.delete(ns_name(n))
        except netns.NetnsError as e:
            errors.append(str(e))
    return errors


@pytest.fixture(scope="module")
def topo():
    try:
        build_topology()
        yield
    finally:
        errors = teardown_topology()
        assert not errors, errors
        assert not netns.with_prefix(TAG + "-")


# --- ng ----------------------------------------------------------------------

class Ng(NgClient):
    """An ng client in the client namespace, talking to one relay."""

    def __init__(self, node):
        super().__init__(ns_socket("cl"), (RELAYS[node][0], NG_PORT), node)
        self.node = node

    def ports(self, call_id):
        """The VIP ports of a call (RTP and RTCP of both legs) as this
        relay's ng query shows them, or None if it does not know the call."""
        r = self("query", call_id=call_id)
        if r["result"] != "ok":
            assert "Unknown call-id" in r.get("error-reason", ""), r
            return None
        out = []
        for tag in r["tags"].values():
            for m in tag["medias"]:
                s = m["streams"][0]     # RTP; the RTCP one follows
                out += [s["local port"], s["local RTCP port"]]
        return sorted(out)


def sdp(port, sess):
    return (f"v=0\r\no=- {sess} 1 IN IP4 {CL_ADDR}\r\ns=-\r\n"
            f"c=IN IP4 {CL_ADDR}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n"
            "a=sendrecv\r\n")


def sdp_port(text):
    m = re.search(r"^m=audio (\d+) ", text, re.M)
    c = re.search(r"^c=IN IP4 (\S+)", text, re.M)
    assert m and c, text
    assert c.group(1) == VIP, text
    return int(m.group(1))


def create_call(ng, call_id, port_a, port_b, retried=None):
    """offer (from A) and answer (from B) as a SIP proxy does. Returns
    (to_a, to_b): the VIP ports A and B send to. With a list `retried`,
    an offer refused for want of a leased port block is retried (and
    recorded there): test_offer_burst_never_refused covers that refusal,
    tests about other things should not fail on it."""
    for _ in range(100):
        r = ng("offer", call_id=call_id, from_tag="a", sdp=sdp(port_a, 1))
        if retried is None or r["result"] == "ok" or \
                "Ran out of ports" not in r.get("error-reason", ""):
            break
        retried.append(call_id)
        time.sleep(0.005)
    assert r["result"] == "ok", (ng.node, call_id, r)
    to_b = sdp_port(r["sdp"])
    r = ng("answer", call_id=call_id, from_tag="a", to_tag="b",
           sdp=sdp(port_b, 2))
    assert r["result"] == "ok", (ng.node, call_id, r)
    return sdp_port(r["sdp"]), to_b


# --- media from Python endpoints (with the TTL that names the relay) ---------

IP_RECVTTL = 12
IP_TTL = 2


def rtp(seq, ssrc):
    return struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, seq * 160, ssrc) \
        + bytes(160)


def read_with_ttl(sock):
    data, anc, _, src = sock.recvmsg(4096, socket.CMSG_SPACE(4))
    ttl = None
    for level, typ, val in anc:
        if level == socket.IPPROTO_IP and typ == IP_TTL:
            ttl = struct.unpack("i", val[:4])[0]
    return data, src, ttl


class Endpoint:
    def __init__(self, ssrc):
        self.sock = ns_socket("cl")
        self.sock.bind((CL_ADDR, 0))
        self.sock.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
        self.port = self.sock.getsockname()[1]
        self.ssrc = ssrc
        self.seq = 0

    def send(self, n, port):
        sent = []
        for _ in range(n):
            self.seq += 1
            sent.append(rtp(self.seq, self.ssrc))
            self.sock.sendto(sent[-1], (VIP, port))
        return sent

    def recv(self, n, timeout=1.0):
        """Up to n datagrams: [(data, source, ttl)]."""
        return recv_n(self.sock, n, timeout, read_with_ttl)

    def close(self):
        self.sock.close()


def exchange(a, b, to_a, to_b, n=25):
    """n RTP packets each way; asserts all arrive byte-identical from the
    VIP ports of the call. Returns the set of TTLs seen."""
    ttls = set()
    for src, dst, to, back in ((a, b, to_a, to_b), (b, a, to_b, to_a)):
        sent = src.send(n, to)
        got = dst.recv(n)
        assert [g[0] for g in got] == sent, \
            f"sent {n} to {VIP}:{to}, {len(got)} arrived"
        assert {g[1] for g in got} == {(VIP, back)}, got[:1]
        ttls |= {g[2] for g in got}
    return ttls


# --- the cluster: redis, relays, meters ---------------------------------------

def vip_ports(pid):
    """UDP ports bound on the VIP in pid's namespace (a list: a port bound
    twice shows twice)."""
    want = "%08X" % int.from_bytes(socket.inet_aton(VIP), "little")
    out = []
    with open(f"/proc/{pid}/net/udp") as f:
        next(f)
        for line in f:
            ip, port = line.split()[1].split(":")
            if ip == want:
                out.append(int(port, 16))
    return out


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def resp_read(f):
    line = f.readline()
    if not line:
        raise ConnectionError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind in (b"+", b"-"):
        return rest.decode()
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [resp_read(f) for _ in range(n)]
    raise ValueError(f"bad RESP line {line!r}")


class Meter:
    """rtpmeter in the client namespace: event lines on stdout, a JSON file.
    It leaves its calls on the relays (--no-delete), so the test can
    query them afterwards."""

    def __init__(self, cluster, node, *args):
        n = len(cluster.meters)
        self.out = cluster.tmp / f"meter{n}.json"
        self.errpath = cluster.tmp / f"meter{n}.err"
        argv = [METER, "--ng", f"{RELAYS[node][0]}:{NG_PORT}",
                "--local", CL_ADDR, "--out", str(self.out), "--no-delete",
                *args]
        self.p = procs.spawn(argv, TAG, "cl", "rtpmeter", ns=ns_name("cl"),
                             log=str(self.errpath), pipe=True)
        self.ev = MeterLines(self.p.popen.stdout, self.stderr)
        self.events = self.ev.events

    def stderr(self):
        return self.errpath.read_text(errors="replace")

    def expect(self, word, timeout=10):
        return self.ev.expect(word, timeout)

    def mark_fault(self):
        os.kill(self.p.pid, signal.SIGUSR1)
        return self.expect("fault")

    def finish(self, timeout=30):
        self.expect("done", timeout)
        rc = self.p.popen.wait(5)
        assert rc == 0, f"rtpmeter exit {rc}: {self.stderr()}"
        with open(self.out) as f:
            return json.load(f)


class Cluster:
    def __init__(self, tmp):
        self.tmp = tmp
        self.redis = None
        self.relays = {}
        self.meters = []
        self.others = []
        self.ngs = {}
        netns.batch(ns_name("r"), [f"route replace {VIP}/32 via "
                                   f"{RELAYS['m1'][0]}"])

    # redis
    def start_redis(self):
        self.redis = procs.spawn(
            [REDIS, "--port", str(REDIS_PORT), "--bind", REDIS_ADDR,
             "--save", "", "--appendonly", "no", "--protected-mode", "no",
             "--daemonize", "no", "--dir", str(self.tmp),
             # Its proc title would overwrite the environment, and with it
             # the tag that lets teardown find and end it.
             "--set-proc-title", "no"],
            TAG, "r", "redis-server", ns=ns_name("r"),
            log=str(self.tmp / "redis.log"))
        self.others.append(self.redis)

        def up():
            if not procs.alive(self.redis.pid):
                raise AssertionError("redis-server exited: " + self.log("redis"))
            try:
                return self.redis_cmd("PING") == "PONG", "no PONG"
            except OSError as e:
                return False, str(e)
        until(up, 5, "redis-server to answer PING")

    def redis_cmd(self, *args):
        s = ns_socket("r", socket.SOCK_STREAM)
        try:
            s.settimeout(1)
            s.connect((REDIS_ADDR, REDIS_PORT))
            s.sendall(resp(*args))
            with s.makefile("rb") as f:
                return resp_read(f)
        finally:
            s.close()

    def store_calls(self):
        """The set of live call-ids in the store (<prefix>:calls)."""
        return set(self.redis_cmd("SMEMBERS", f"{KEY_PREFIX}:calls") or [])

    def redis_signal(self, sig):
        assert self.redis.popen.poll() is None, "redis-server is gone"
        self.redis.popen.send_signal(sig)

    def kill_redis(self):
        self.redis_signal(signal.SIGKILL)
        self.redis.popen.wait(3)

    # relays
    def start_relay(self, node, ready=True, block=PORT_BLOCK):
        addr = RELAYS[node][0]
        conf = self.tmp / f"{node}.yaml"
        conf.write_text(RELAY_CONF.format(
            vip=VIP, addr=addr, ng=NG_PORT, pmin=PORT_MIN, pmax=PORT_MAX,
            metrics=METRICS_PORT, level=LOG_LEVEL, redis=REDIS_ADDR,
            rport=REDIS_PORT, node=f"rafss-{node}", prefix=KEY_PREFIX,
            block=block))
        p = procs.spawn([RELAY, "-d", "-f", str(conf), "-p",
                         str(self.tmp / f"{node}.pid")],
                        TAG, node, "rtprelay", ns=ns_name(node),
                        log=str(self.tmp / f"{node}.log"))
        self.relays[node] = p
        if node in self.ngs:		# a restart
            self.ngs[node].close()
        self.ngs[node] = Ng(node)
        if ready:
            self.wait_pong(node, 5)
        return p

    def check_alive(self, node):
        if not procs.alive(self.relays[node].pid):
            raise AssertionError(f"rtprelay {node} exited:\n" + self.log(node))

    def ng(self, node):
        self.check_alive(node)
        return self.ngs[node]

    def wait_pong(self, node, timeout):
        """Waits for pong; returns every other reply seen on the way."""
        seen = []

        def pong():
            self.check_alive(node)
            r = self.ngs[node].ping()
            if r is not None and r.get("result") == "pong":
                return True, r
            if r is not None:
                seen.append(r)
            return False, r
        until(pong, timeout, f"{node} to answer ping with pong", 0.05)
        return seen

    def metrics(self, node):
        """Prometheus text from the relay's metrics listener, as
        {"name{labels}": value}."""
        self.check_alive(node)
        s = ns_socket("cl", socket.SOCK_STREAM)
        try:
            s.settimeout(2)
            s.connect((RELAYS[node][0], METRICS_PORT))
            s.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        body = data.decode(errors="replace").split("\r\n\r\n", 1)[1]
        out = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def wait_metric(self, node, name, value, timeout):
        def cond():
            v = self.metrics(node).get(name)
            return v == value, f"{name} = {v}"
        until(cond, timeout, f"{node}: {name} == {value}", 0.05)

    def wait_calls(self, node, ids, timeout, present=True):
        ids = set(ids)

        def cond():
            have = self.ng(node).calls()
            ok = ids <= have if present else not (ids & have)
            miss = ids - have if present else ids & have
            return ok, f"{len(miss)} of {len(ids)} not yet, e.g. " \
                f"{sorted(miss)[:3]}"
        return until(cond, timeout, f"{node} to {'have' if present else 'drop'}"
                     f" {len(ids)} calls", 0.02)

    def wait_ports(self, node, cid, ports, timeout=2):
        """Until node's query shows these ports for the call: the answer
        travels as its own event, after the offer's."""
        until(lambda: (self.ng(node).ports(cid) == ports,
                       self.ng(node).ports(cid)), timeout,
              f"{node} to show the ports {ports} of {cid}")

    def route_to(self, node):
        netns.batch(ns_name("r"), [f"route replace {VIP}/32 via "
                                   f"{RELAYS[node][0]}"])

    def meter(self, node, *args):
        self.meters.append(Meter(self, node, *args))
        return self.meters[-1]

    def log(self, name, lines=80):
        path = self.tmp / f"{name}.log"
        if not path.exists():
            return f"({path} missing)"
        text = path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def close(self):
        # Every process here is a child we have not reaped, so its PID is
        # still ours: signal it through its Popen, never by name.
        everything = [m.p for m in self.meters] + list(self.relays.values()) \
            + self.others
        running = [p.popen for p in everything if p.popen.poll() is None]
        for sig in (signal.SIGCONT, signal.SIGTERM):
            for po in running:
                with contextlib.suppress(ProcessLookupError):
                    po.send_signal(sig)
        left = []
        end = time.monotonic() + 3
        for po in running:
            try:
                po.wait(max(0.01, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                left.append(po.args[0])
                po.kill()
                po.wait()
        for ng in self.ngs.values():
            ng.close()
        print(f"logs in {self.tmp}")
        for node in self.relays:
            print(f"--- {node}.log (tail) ---\n{self.log(node)}")
        for m in self.meters:
            print(f"--- {m.errpath.name} ---\n{m.stderr()[-3000:]}")
        assert not left, f"did not stop on SIGTERM within 3 s: {left}"


@pytest.fixture
def cluster(topo, tmp_path):
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.close()


def stream_problems(rep):
    keys = ("lost", "duplicates", "too_old", "foreign", "rx_overflow",
            "src_mismatch", "send_errors")
    return [{k: s[k] for k in ("call_id", "direction", "sent", "received")
             + keys + ("broken", "post_fault_gap_ms")}
            for s in rep["streams"]
            if s["broken"] or any(s[k] for k in keys)
            or s["received"] != s["sent"]]


# --- tests ----------------------------------------------------------------------

def test_route_switch_every_packet_delivered(cluster):
    """The issue's test: 20 calls created on relay 1 stream both ways; the
    router's VIP route moves to relay 2 mid-stream. Every packet sent is
    received exactly once (the ones in flight at the switch are still
    forwarded by relay 1, which lives on), every stream ends on relay 2
    (TTL), and relay 2's own counters show it forwarded each call."""
    cluster.start_redis()
    cluster.start_relay("m1")
    cluster.start_relay("m2")
    calls = 20
    m = cluster.meter("m1", "--calls", str(calls), "--duration", "20s",
                      "--after-fault", "1500ms", "--call-prefix", "rafss-sw")
    assert m.expect("calls") == f"calls {calls}"
    m.expect("ready")
    ids = {f"rafss-sw-{i}" for i in range(calls)}
    # Half a second of media through relay 1 (a stretch of the scenario,
    # not a wait for a condition), then relay 2 must know every call.
    time.sleep(0.5)
    missing = ids - cluster.ng("m2").calls()
    assert not missing, f"relay 2 lacks {sorted(missing)} before the switch"
    m.mark_fault()
    cluster.route_to("m2")
    rep = m.finish()
    run, summ = rep["run"], rep["summary"]
    print(json.dumps(summ, indent=1))
    assert run["calls_created"] == calls and run["ready"]
    assert not run["interrupted"] and run["fault_marks"] == 1
    assert stream_problems(rep) == []
    assert summ["lost"] == 0 and summ["streams_broken"] == 0
    r1, r2 = RELAYS["m1"][2] - 1, RELAYS["m2"][2] - 1
    moved = [(s["call_id"], s["direction"], s["ttl_before_fault"],
              s["ttl_last"], s["ttl_changes"]) for s in rep["streams"]
             if (s["ttl_before_fault"], s["ttl_last"], s["ttl_changes"])
             != (r1, r2, 1)]
    assert moved == [], "streams not carried by relay 1, then relay 2 only"
    assert summ["streams_moved"] == 2 * calls
    # Relay 2's view: it forwarded part of every call, without drops, and
    # the two relays together forwarded every packet exactly once.
    sent = {}
    for s in rep["streams"]:
        sent[s["call_id"]] = sent.get(s["call_id"], 0) + s["sent"]
    for cid in sorted(ids):
        q1 = cluster.ng("m1")("query", call_id=cid)
        q2 = cluster.ng("m2")("query", call_id=cid)
        assert q1["result"] == "ok" and q2["result"] == "ok", (q1, q2)
        p1 = q1["totals"]["RTP"]["packets"]
        p2 = q2["totals"]["RTP"]["packets"]
        assert p2 > 0 and q2["totals"]["RTP"]["errors"] == 0, (cid, q2)
        assert p1 + p2 == sent[cid], (cid, p1, p2, sent[cid])
    met = cluster.metrics("m2")
    assert met["rtprelay_packets_total"] > 0
    # Relay 2 learnt every call through replication and timed it.
    assert met.get("rtprelay_replication_lag_seconds_count", 0) >= calls, met


def test_joining_relay_ready_only_with_whole_table(cluster):
    """A relay that starts while the store does not answer (SIGSTOP) says
    "not ready" on ng ping, for as long as that lasts; once the store
    answers it pongs, and at its first pong it already has every call,
    with the ports relay 1 gave them."""
    cluster.start_redis()
    cluster.start_relay("m1")
    ng1 = cluster.ng("m1")
    ids = [f"rafss-join-{i}" for i in range(30)]
    for i, cid in enumerate(ids):
        create_call(ng1, cid, 40000 + 4 * i, 40002 + 4 * i)
    ports = {cid: ng1.ports(cid) for cid in ids}
    cluster.redis_signal(signal.SIGSTOP)
    cluster.start_relay("m2", ready=False)
    ng2 = cluster.ngs["m2"]
    until(lambda: (ng2.ping() is not None, "silent"), 3,
          "relay 2 to answer ng at all while the store is stopped")
    replies = []
    end = time.monotonic() + 1.5	# three store timeouts
    while time.monotonic() < end:
        r = ng2.ping()
        assert r is not None, "relay 2 stopped answering ng"
        replies.append(r)
        time.sleep(0.05)
    bad = [r for r in replies if r.get("result") != "error"
           or not r.get("error-reason", "").startswith("not ready")]
    assert bad == [], "ping must say 'not ready' while the table is unknown"
    met = cluster.metrics("m2")
    assert met.get("rtprelay_shared_state_ready") == 0, met
    cluster.redis_signal(signal.SIGCONT)
    seen = cluster.wait_pong("m2", 10)
    assert all(r.get("result") == "error" and
               r.get("error-reason", "").startswith("not ready")
               for r in seen), seen
    have = ng2.calls()
    assert have == set(ids), f"at its first pong relay 2 lacks " \
        f"{sorted(set(ids) - have)}, has extra {sorted(have - set(ids))}"
    wrong = {cid: (ports[cid], ng2.ports(cid)) for cid in ids
             if ng2.ports(cid) != ports[cid]}
    assert wrong == {}, "relay 2's ports differ from relay 1's"
    met = cluster.metrics("m2")
    assert met.get("rtprelay_shared_state_ready") == 1, met
    assert met.get("rtprelay_redis_connected") == 1, met
    assert met.get("rtprelay_calls") == len(ids), met


def test_no_store_never_ready(cluster):
    """Without a store at all (connection refused) a relay never pongs and
    refuses offers (it holds no port block, so any port it gave could be
    another relay's); when the store comes up it becomes ready by itself."""
    cluster.start_relay("m1", ready=False)
    ng1 = cluster.ngs["m1"]
    until(lambda: (ng1.ping() is not None, "silent"), 3,
          "relay 1 to answer ng without a store")
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        r = ng1.ping()
        assert r is not None and r.get("result") == "error" and \
            r.get("error-reason", "").startswith("not ready"), r
        time.sleep(0.05)
    met = cluster.metrics("m1")
    assert met.get("rtprelay_redis_connected") == 0, met
    assert met.get("rtprelay_shared_state_ready") == 0, met
    r = ng1("offer", call_id="rafss-nostore", from_tag="a", sdp=sdp(40000, 1))
    assert r["result"] == "error", f"offer accepted without a port block: {r}"
    cluster.start_redis()
    cluster.wait_pong("m1", 10)
    met = cluster.metrics("m1")
    assert met.get("rtprelay_redis_connected") == 1, met
    assert met.get("rtprelay_port_blocks", 0) >= 1, met
    create_call(ng1, "rafss-nostore", 40000, 40002)


@pytest.mark.parametrize("outage", ["sigstop", "restart"])
def test_store_outage(cluster, outage):
    """With media flowing through relay 1, the store stops answering
    (sigstop) or dies and comes back empty (restart). Media keeps flowing
    without loss, a new call on relay 1 carries media, both relays say
    rtprelay_redis_connected 0 and then 1; once the store is back relay 2
    has the new call and serves it and the meter's calls after a switch,
    and neither relay has any of the calls deleted on relay 1 during the
    outage; calls made after the outage still never share a port."""
    cluster.start_redis()
    cluster.start_relay("m1")
    cluster.start_relay("m2")
    calls = 10
    m = cluster.meter("m1", "--calls", str(calls), "--duration", "40s",
                      "--after-fault", "1500ms", "--call-prefix", "rafss-out")
    m.expect("ready")
    ids = {f"rafss-out-{i}" for i in range(calls)}
    gone = {f"rafss-out-del-{i}" for i in range(10)}
    for i, cid in enumerate(sorted(gone)):
        create_call(cluster.ng("m1"), cid, 40000 + 4 * i, 40002 + 4 * i)
    cluster.wait_calls("m2", ids | gone, 2)
    for node in ("m1", "m2"):
        assert cluster.metrics(node).get("rtprelay_redis_connected") == 1
    if outage == "sigstop":
        cluster.redis_signal(signal.SIGSTOP)
    else:
        cluster.kill_redis()
    a, b = Endpoint(0xA1), Endpoint(0xB1)
    try:
        # At once, before the relay may have noticed: its write to the
        # store cannot complete, and must not hold up the call.
        ng1 = cluster.ng("m1")
        to_a, to_b = create_call(ng1, "rafss-out-new", a.port, b.port)
        assert exchange(a, b, to_a, to_b) == {RELAYS["m1"][2] - 1}
        # Ten store timeouts: the idle relay 2 too must notice.
        for node in ("m1", "m2"):
            cluster.wait_metric(node, "rtprelay_redis_connected", 0, 5)
        assert exchange(a, b, to_a, to_b) == {RELAYS["m1"][2] - 1}
        for cid in gone:
            r = ng1("delete", call_id=cid, from_tag="a")
            assert r["result"] == "ok", r
        if outage == "sigstop":
            cluster.redis_signal(signal.SIGCONT)
        else:
            cluster.start_redis()
        for node in ("m1", "m2"):
            cluster.wait_metric(node, "rtprelay_redis_connected", 1, 10)
        cluster.wait_calls("m2", ids | {"rafss-out-new"}, 5)
        for node in ("m1", "m2"):
            cluster.wait_calls(node, gone, 5, present=False)
        # The store itself has every call again (after a restart it came
        # back empty), or a relay joining later would miss some.
        want = ids | {"rafss-out-new"}

        def stored():
            have = cluster.store_calls()
            return have == want, f"missing {sorted(want - have)[:3]}, " \
                f"extra {sorted(have - want)[:3]}"
        until(stored, 5, "the store to hold every call again")
        cluster.wait_ports("m2", "rafss-out-new", ng1.ports("rafss-out-new"))
        m.mark_fault()
        cluster.route_to("m2")
        assert exchange(a, b, to_a, to_b) == {RELAYS["m2"][2] - 1}
    finally:
        a.close()
        b.close()
    rep = m.finish()
    print(json.dumps(rep["summary"], indent=1))
    assert stream_problems(rep) == []
    assert [s["call_id"] for s in rep["streams"]
            if s["ttl_last"] != RELAYS["m2"][2] - 1] == []
    # Block leases survive the outage: new calls on both relays get ports
    # no other call of the cluster has.
    all_ids = ids | {"rafss-out-new"}
    for i in range(20):
        for node in ("m1", "m2"):
            cid = f"rafss-out-{node}-{i}"
            create_call(cluster.ng(node), cid, 40000 + 4 * i, 40002 + 4 * i)
            all_ids.add(cid)
    owner = {}
    for node in ("m1", "m2"):
        cluster.wait_calls(node, all_ids, 5)
        assert cluster.ng(node).calls() == all_ids
    for cid in sorted(all_ids):
        ports = cluster.ng("m1").ports(cid)
        cluster.wait_ports("m2", cid, ports)
        for p in ports:
            assert p not in owner, f"port {p} in {owner.get(p)} and {cid}"
            owner[p] = cid
    assert_no_bad_events(cluster)


def assert_no_bad_events(cluster):
    """No replicated record was refused as a port conflict or as invalid."""
    for node in cluster.relays:
        met = cluster.metrics(node)
        bad = {k: v for k, v in met.items()
               if k.startswith("rtprelay_replication_events_total")
               and ("conflict" in k or "invalid" in k) and v}
        assert bad == {}, (node, bad)


def latches(ng, cid):
    """{tag: (latch state, endpoint address, port)} from ng query."""
    r = ng("query", call_id=cid)
    assert r["result"] == "ok", r
    out = {}
    for tag, t in r["tags"].items():
        s = t["medias"][0]["streams"][0]
        out[tag] = (s["latch"], s["endpoint"].get("address"),
                    s["endpoint"].get("port"))
    return out


def test_latch_follows_the_call(cluster):
    """Endpoints behind NAT: each sends from another port than its SDP
    says, so relay 1 latches both legs onto the real sources. Relay 2
    learns the latches, and after the switch it forwards the first packet
    of either direction to the latched address, before it has heard from
    that endpoint itself (B speaks first)."""
    cluster.start_redis()
    cluster.start_relay("m1")
    cluster.start_relay("m2")
    a, b = Endpoint(0xA2), Endpoint(0xB2)
    try:
        cid = "rafss-nat"
        # Nobody listens on the SDP ports: only a latch reaches A and B.
        to_a, to_b = create_call(cluster.ng("m1"), cid, 40000, 40002)
        a.send(3, to_a)			# latches A; B still unknown
        until(lambda: (latches(cluster.ng("m1"), cid)["a"][0] == "latched",
                       latches(cluster.ng("m1"), cid)), 2,
              "relay 1 to latch A")
        b.send(3, to_b)			# latches B, reaches A
        assert len(a.recv(3)) == 3
        assert exchange(a, b, to_a, to_b) == {RELAYS["m1"][2] - 1}
        want = {"a": ("latched", CL_ADDR, a.port),
                "b": ("latched", CL_ADDR, b.port)}
        assert latches(cluster.ng("m1"), cid) == want
        until(lambda: (latches(cluster.ng("m2"), cid) == want,
                       latches(cluster.ng("m2"), cid)), 2,
              "relay 2 to learn both latches")
        cluster.route_to("m2")
        sent = b.send(25, to_b)		# B first: relay 2 must know A
        got = a.recv(25)
        assert [g[0] for g in got] == sent, f"{len(got)} of 25 arrived"
        assert {g[2] for g in got} == {RELAYS["m2"][2] - 1}
        assert exchange(a, b, to_a, to_b) == {RELAYS["m2"][2] - 1}
    finally:
        a.close()
        b.close()


def test_delete_replicates_both_ways(cluster):
    """A call deleted on the other relay than the one that created it ends
    on both, and both close its ports; the store forgets it."""
    cluster.start_redis()
    cluster.start_relay("m1")
    cluster.start_relay("m2")
    pids = {n: cluster.relays[n].pid for n in RELAYS}
    for n, (creator, deleter) in enumerate((("m1", "m2"), ("m2", "m1"))):
        cid = f"rafss-del-{creator}"
        create_call(cluster.ng(creator), cid, 40000 + 4 * n, 40002 + 4 * n)
        ports = cluster.ng(creator).ports(cid)
        assert len(ports) == 4
        cluster.wait_calls(deleter, {cid}, 2)
        cluster.wait_ports(deleter, cid, ports)
        for node in RELAYS:
            until(lambda: (set(ports) <= set(vip_ports(pids[node])),
                           vip_ports(pids[node])), 2,
                  f"{node} to bind the ports of {cid}")
        assert cluster.redis_cmd("SISMEMBER", f"{KEY_PREFIX}:calls", cid) == 1
        r = cluster.ng(deleter)("delete", call_id=cid, from_tag="a")
        assert r["result"] == "ok", r
        cluster.wait_calls(creator, {cid}, 2, present=False)
        assert cluster.ng(creator).ports(cid) is None
        for node in RELAYS:
            until(lambda: (not set(ports) & set(vip_ports(pids[node])),
                           vip_ports(pids[node])), 2,
                  f"{node} to close the ports of {cid}")
        assert cluster.redis_cmd("SISMEMBER", f"{KEY_PREFIX}:calls", cid) == 0
        # The record stays as a tombstone for a while (so a relay back
        # from an outage cannot revive the call), then goes.
        ttl = cluster.redis_cmd("TTL", f"{KEY_PREFIX}:call:{cid}")
        assert 0 < ttl <= 600, ttl


def test_ports_unique_across_cluster(cluster):
    """200 calls created on each relay at the same time: no two of the 400
    calls share a port, every relay ends up with all 400 calls with the
    same ports, and binds exactly those 1,600 ports on the VIP."""
    cluster.start_redis()
    cluster.start_relay("m1")
    cluster.start_relay("m2")
    per = 200
    made = {n: {} for n in RELAYS}
    retried = []
    errors = []
    start = threading.Barrier(len(RELAYS))

    def work(node):
        ng = cluster.ng(node)
        try:
            start.wait()
            for i in range(per):
                cid = f"rafss-port-{node}-{i}"
                made[node][cid] = create_call(ng, cid, 40000 + 4 * i,
                                              40002 + 4 * i, retried)
        except BaseException as e:	# reported by the main thread
            errors.append(f"{node}: {e!r}")
    threads = [threading.Thread(target=work, args=(n,)) for n in RELAYS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    print(f"{len(retried)} offers retried for want of a port block")
    owner = {}
    for node in RELAYS:
        for cid, (to_a, to_b) in made[node].items():
            for p in (to_a, to_a + 1, to_b, to_b + 1):
                assert PORT_MIN <= p <= PORT_MAX
                assert p not in owner, f"port {p} given to {owner[p]} " \
                    f"and {cid}"
                owner[p] = cid
    assert len(owner) == 4 * per * len(RELAYS)
    ids = set(made["m1"]) | set(made["m2"])
    for node in RELAYS:
        cluster.wait_calls(node, ids, 5)
        pid = cluster.relays[node].pid
        until(lambda: (sorted(vip_ports(pid)) == sorted(owner),
                       f"{len(vip_ports(pid))} bound"), 5,
              f"{node} to bind exactly the cluster's {len(owner)} ports")
    other = {"m1": "m2", "m2": "m1"}
    for node in RELAYS:
        ng = cluster.ng(other[node])
        for cid, (to_a, to_b) in made[node].items():
            assert ng.ports(cid) == sorted([to_a, to_a + 1, to_b, to_b + 1])
    assert cluster.redis_cmd("SCARD", f"{KEY_PREFIX}:calls") == len(ids)
    assert_no_bad_events(cluster)


def test_relay_restart_rejoins(cluster):
    """A relay killed (SIGKILL) and started again under the same node name
    loads every call of the cluster before it pongs, binds their ports
    again, and the calls made afterwards on both relays still never share
    a port with the ones from before."""
    cluster.start_redis()
    cluster.start_relay("m1")
    cluster.start_relay("m2")
    ids = set()
    for i in range(20):
        for node in RELAYS:
            cid = f"rafss-rs-{node}-{i}"
            create_call(cluster.ng(node), cid, 40000 + 4 * i, 40002 + 4 * i)
            ids.add(cid)
    cluster.wait_calls("m2", ids, 5)
    before = {cid: cluster.ng("m2").ports(cid) for cid in sorted(ids)}
    old = cluster.relays["m1"]
    old.popen.kill()
    old.popen.wait()
    cluster.start_relay("m1", ready=False)
    seen = cluster.wait_pong("m1", 10)
    assert all(r.get("result") == "error" for r in seen), seen
    assert cluster.ng("m1").calls() == ids
    pid = cluster.relays["m1"].pid
    bound = {p for ports in before.values() for p in ports}
    until(lambda: (set(vip_ports(pid)) == bound, len(vip_ports(pid))), 5,
          "the restarted relay to bind every call's ports")
    for i in range(20, 40):
        for node in RELAYS:
            cid = f"rafss-rs-{node}-{i}"
            create_call(cluster.ng(node), cid, 40000 + 4 * i, 40002 + 4 * i)
            ids.add(cid)
    owner = {}
    for node in RELAYS:
        cluster.wait_calls(node, ids, 5)
    for cid in sorted(ids):
        ports = cluster.ng("m1").ports(cid)
        cluster.wait_ports("m2", cid, ports)
        if cid in before:
            assert ports == before[cid], cid
        for p in ports:
            assert p not in owner, f"port {p} in {owner.get(p)} and {cid}"
            owner[p] = cid
    assert_no_bad_events(cluster)


def test_offer_burst_never_refused(cluster):
    """Calls created back to back, as fast as one client can (rtpmeter
    creates the lab's calls like this, about 10,000 a second): no offer may
    be refused while the port range still has blocks nobody leased. Small
    blocks (16 pairs: 8 calls) leave the relay little headroom for the
    lease of the next block, which is what this exercises."""
    cluster.start_redis()
    cluster.start_relay("m1", block=16)
    ng = cluster.ng("m1")
    refused = []
    for i in range(200):
        cid = f"rafss-burst-{i}"
        r = ng("offer", call_id=cid, from_tag="a", sdp=sdp(40000, 1))
        if r["result"] != "ok":
            refused.append((cid, r.get("error-reason")))
    blocks = cluster.metrics("m1").get("rtprelay_port_blocks")
    total = (PORT_MAX - PORT_MIN + 1) // 2 // 16
    assert refused == [], f"{len(refused)} of 200 offers refused (first " \
        f"{refused[:2]}) with {blocks:.0f} of {total} port blocks leased"
