"""rtpmeter against a real rtprelay on loopback.

Starts build/bin/rtprelay on 127.0.0.1 (ng 42223, media 42300-42999) with a
config written for the test, runs build/bin/rtpmeter (local ports
42000-42199) and checks its JSON report: a clean run (no loss, small gaps,
calls deleted), a relay stopped (SIGSTOP) for 300 ms after the fault mark
(the gap is seen and every stream resumes), a relay killed (SIGKILL) after
the mark (every stream and session broken), streams that never flow
(not-ready), and the command-line and open-files errors. Needs no
privileges; every process is ended by its PID.
"""
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "topology-tests"))

from labnet.bencode import bdecode, bencode  # noqa: E402
from labnet.meterlines import MeterLines  # noqa: E402
RELAY = os.path.join(ROOT, "build", "bin", "rtprelay")
METER = os.path.join(ROOT, "build", "bin", "rtpmeter")
NG = ("127.0.0.1", 42223)
MEDIA = range(42300, 43000)
LOCAL_PORTS = "42000-42199"

RELAY_CONF = """\
service-address: 127.0.0.1
control: 127.0.0.1:42223
ports: 42300-42999
media-timeout: 60s
probe:
  listen: 127.0.0.1:42224
  allow: [127.0.0.0/8]
metrics:
  listen: 127.0.0.1:42225
log-level: info
"""

# The schema documented in topology-tests/rtpmeter/README.md.
RUN_KEYS = [
    "ng", "calls", "calls_created", "calls_deleted", "streams", "ptime_ms",
    "size", "payload_type", "rtcp_mux", "duration_ms", "after_fault_ms",
    "broken_after_ms", "long_gap_ms", "drain_ms", "settle_ms", "ready",
    "interrupted",
    "start_ns", "ready_ns", "fault_ns", "fault_mono_ns", "fault_marks",
    "stop_ns", "end_ns", "stop_after_fault_ms", "clock_step_ms",
    "max_send_lag_ms", "warnings"]
SUMMARY_KEYS = [
    "streams", "sent", "received", "lost", "duplicates", "reordered",
    "streams_broken", "sessions_broken", "streams_moved", "streams_unserved",
    "max_gap_ms",
    "post_fault_streams", "post_fault_gap_max_ms", "post_fault_gap_median_ms",
    "post_fault_gap_p95_ms"]
STREAM_KEYS = [
    "id", "call", "call_id", "direction", "src", "relay_in", "relay_out",
    "dst", "ssrc", "sent", "send_errors", "received", "lost",
    "lost_after_fault", "duplicates",
    "reordered", "too_old", "foreign", "rx_overflow", "src_mismatch",
    "first_arrival_ns", "last_arrival_ns", "max_gap_ms", "max_gap_start_ms",
    "max_gap_start_ns", "post_fault_gap_ms", "post_fault_gap_start_ms",
    "post_fault_gap_open", "trailing_silence_ms", "long_gaps", "broken",
    "unserved", "max_send_gap_ms", "ttl_first", "ttl_before_fault", "ttl_last",
    "ttl_changes"]

pytestmark = pytest.mark.skipif(
    not (os.access(RELAY, os.X_OK) and os.access(METER, os.X_OK)),
    reason="build/bin/rtprelay or build/bin/rtpmeter missing: run make first")


def ng_raw(payload: bytes, timeout=0.5) -> bytes:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(payload, NG)
        return s.recv(65536)
    finally:
        s.close()


def wait_until(cond, deadline_s, what):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {deadline_s}s waiting for {what}")


@pytest.fixture
def relay(tmp_path):
    """A fresh rtprelay per test: some tests stop or kill it."""
    conf = tmp_path / "relay.yaml"
    conf.write_text(RELAY_CONF)
    log = open(tmp_path / "relay.log", "w+b")
    proc = subprocess.Popen([RELAY, "-d", "-f", str(conf)], stdout=log,
                            stderr=subprocess.STDOUT)

    def pong():
        if proc.poll() is not None:
            raise AssertionError("rtprelay exited: "
                                 + (tmp_path / "relay.log").read_text())
        try:
            return ng_raw(b"p1 d7:command4:pinge", 0.2) == b"p1 d6:result4:ponge"
        except OSError:
            return False

    try:
        wait_until(pong, 5, "rtprelay to answer ng ping")
        yield proc
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        log.seek(0)
        print(log.read().decode(errors="replace"))
        log.close()


class Meter:
    """rtpmeter as the lab drives it: event lines on stdout, a JSON file."""

    def __init__(self, tmp_path, *args):
        self.out = tmp_path / "report.json"
        self.errf = open(tmp_path / "meter.err", "w+b")
        self.proc = subprocess.Popen(
            [METER, "--ng", "%s:%d" % NG, "--ports", LOCAL_PORTS,
             "--ng-timeout", "200", "--out", str(self.out), *args],
            stdout=subprocess.PIPE, stderr=self.errf, text=True)
        self.ev = MeterLines(self.proc.stdout, self.stderr)
        self.events = self.ev.events

    def expect(self, word, timeout=10):
        return self.ev.expect(word, timeout)

    def mark_fault(self):
        os.kill(self.proc.pid, signal.SIGUSR1)
        return self.expect("fault")

    def finish(self, timeout=20):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise AssertionError("rtpmeter did not finish: " + self.stderr())
        self.ev.drain()
        return rc

    def report(self):
        with open(self.out) as f:
            return json.load(f)

    def stderr(self):
        self.errf.seek(0)
        return self.errf.read().decode(errors="replace")

    def close(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.errf.close()


@pytest.fixture
def meters():
    """Start rtpmeters; whatever still runs at the end is killed by PID."""
    started = []

    def start(tmp_path, *args):
        started.append(Meter(tmp_path, *args))
        return started[-1]

    yield start
    for m in started:
        m.close()


def own_warnings(run):
    """Warnings about the run, less the generator's own lag, which a busy
    shared machine may cause and which the report states."""
    return [w for w in run["warnings"] if not w.startswith("the generator")]


def port(hostport):
    host, p = hostport.rsplit(":", 1)
    assert host == "127.0.0.1"
    return int(p)


def check_schema(rep, calls):
    assert rep["schema"] == "rtpmeter/1"
    assert list(rep["run"].keys()) == RUN_KEYS
    assert list(rep["summary"].keys()) == SUMMARY_KEYS
    assert len(rep["streams"]) == 2 * calls
    for i, s in enumerate(rep["streams"]):
        assert list(s.keys()) == STREAM_KEYS
        assert s["id"] == i
        assert s["call"] == i // 2
        assert s["direction"] == ("a->b" if i % 2 == 0 else "b->a")
        # The legs as signalled: a->b goes in on the port the answer gave
        # A and comes out of the port the offer gave B, and back.
        assert port(s["relay_in"]) in MEDIA and port(s["relay_out"]) in MEDIA
        assert s["relay_in"] != s["relay_out"]
        assert 42000 <= port(s["src"]) <= 42199
        other = rep["streams"][i ^ 1]
        assert s["src"] == other["dst"] and s["dst"] == other["src"]
        assert s["relay_in"] == other["relay_out"]
        assert s["ssrc"] != other["ssrc"]


def our_calls(prefix):
    reply = ng_raw(b"l1 d7:command4:list5:limiti1000ee")
    return reply.count(prefix.encode())


def test_clean_run(relay, meters, tmp_path):
    m = meters(tmp_path, "--calls", "10", "--duration", "2s",
               "--call-prefix", "it-clean")
    assert m.expect("calls") == "calls 10"
    ready = m.expect("ready")
    assert m.finish() == 0, m.stderr()
    assert [e.split()[0] for e in m.events] == ["calls", "ready", "stop",
                                                "done"]
    rep = m.report()
    check_schema(rep, 10)
    run, tot = rep["run"], rep["summary"]
    assert run["ready"] and not run["interrupted"]
    assert run["ready_ns"] == int(ready.split()[1])
    assert run["fault_ns"] is None and run["fault_marks"] == 0
    assert run["calls_created"] == 10 and run["calls_deleted"] == 10
    assert own_warnings(run) == []
    # Two seconds after ready: stop 2 s after ready, to the millisecond.
    assert abs((run["stop_ns"] - run["ready_ns"]) / 1e6 - 2000) < 50
    assert tot["lost"] == 0 and tot["duplicates"] == 0
    assert tot["streams_broken"] == 0 and tot["sessions_broken"] == 0
    assert tot["post_fault_gap_max_ms"] is None
    for s in rep["streams"]:
        # 50 packets a second for 2 s, plus what went before "ready".
        assert 95 <= s["sent"] <= 110, s
        assert s["received"] == s["sent"] and s["lost"] == 0, s
        assert s["lost_after_fault"] is None, s		# no mark
        assert s["duplicates"] == 0 and s["too_old"] == 0, s
        assert s["foreign"] == 0 and s["src_mismatch"] == 0, s
        assert s["rx_overflow"] == 0 and s["send_errors"] == 0, s
        # Sanity, not timing: loopback never pauses a stream this long.
        assert 15 < s["max_gap_ms"] < 200, s
        assert s["post_fault_gap_ms"] is None and not s["broken"], s
        assert s["max_gap_start_ms"] is None, s
        assert s["trailing_silence_ms"] < 20, s
        assert s["ttl_first"] == s["ttl_last"] and s["ttl_first"] > 0, s
        assert s["ttl_before_fault"] is None and s["ttl_changes"] == 0, s
        assert s["first_arrival_ns"] <= s["last_arrival_ns"]
    # The relay saw what we sent, and the calls are gone from it.
    assert our_calls("it-clean-") == 0
    assert "10 calls, 20 streams" in m.stderr()


def relay_sockets(proc):
    n = 0
    for fd in os.listdir(f"/proc/{proc.pid}/fd"):
        try:
            if os.readlink(f"/proc/{proc.pid}/fd/{fd}").startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def test_rtcp_mux_halves_relay_sockets(relay, meters, tmp_path):
    """--rtcp-mux: a=rtcp-mux in both SDPs, the relay answers with it and
    holds 2 sockets per call instead of 4 (why the lab's balance scenario
    fits 5,000 calls on every relay)."""
    idle = relay_sockets(relay)
    counts = {}
    for mux in (False, True):
        d = tmp_path / ("mux" if mux else "plain")
        d.mkdir()
        m = meters(d, "--calls", "20", "--duration", "1s", "--no-delete",
                   "--call-prefix", f"it-mux{int(mux)}",
                   *(["--rtcp-mux"] if mux else []))
        assert m.finish() == 0, m.stderr()
        rep = m.report()
        check_schema(rep, 20)
        assert rep["run"]["rtcp_mux"] is mux
        assert rep["summary"]["lost"] == 0
        counts[mux] = relay_sockets(relay) - idle - sum(counts.values())
        cid = f"it-mux{int(mux)}-0"
        # A fresh cookie each time: the relay answers a repeated one
        # from its cache.
        q = ng_raw(f"q{int(mux)} d7:command5:query7:call-id{len(cid)}:"
                   f"{cid}e".encode())
        assert (b"8:rtcp-muxi1e" in q) is mux, q
    assert counts == {False: 80, True: 40}


def test_relay_stopped_300ms(relay, meters, tmp_path):
    m = meters(tmp_path, "--calls", "10", "--duration", "3s")
    m.expect("ready")
    time.sleep(0.5)
    fault = int(m.mark_fault().split()[1])
    os.kill(relay.pid, signal.SIGSTOP)
    time.sleep(0.3)
    os.kill(relay.pid, signal.SIGCONT)
    assert m.finish() == 0, m.stderr()
    rep = m.report()
    check_schema(rep, 10)
    run, tot = rep["run"], rep["summary"]
    assert run["fault_ns"] == fault and run["fault_marks"] == 1
    assert own_warnings(run) == []
    assert tot["sessions_broken"] == 0 and tot["streams_broken"] == 0
    assert tot["post_fault_streams"] == 20
    assert tot["post_fault_gap_max_ms"] >= tot["post_fault_gap_median_ms"]
    # The stopped relay queued in its sockets and then sent it all.
    assert tot["lost"] == 0
    for s in rep["streams"]:
        assert s["lost_after_fault"] == 0, s
        assert s["post_fault_gap_ms"] >= 250, s
        assert s["post_fault_gap_ms"] < 2000, s
        assert not s["post_fault_gap_open"] and not s["broken"], s
        # It began around the stop, after the mark or one packet before.
        assert -100 < s["post_fault_gap_start_ms"] < 1000, s
        assert s["max_gap_ms"] == s["post_fault_gap_ms"], s
        assert s["long_gaps"] >= 1, s
        assert s["ttl_before_fault"] == s["ttl_last"], s
    assert m.stderr().count("after the fault (20 streams)") == 1


def test_relay_killed(relay, meters, tmp_path):
    m = meters(tmp_path, "--calls", "10", "--duration", "20s",
               "--after-fault", "2s", "--ng-tries", "1")
    m.expect("ready")
    time.sleep(0.5)
    m.mark_fault()
    os.kill(relay.pid, signal.SIGKILL)
    relay.wait()
    assert m.finish() == 0, m.stderr()
    rep = m.report()
    check_schema(rep, 10)
    run, tot = rep["run"], rep["summary"]
    # --after-fault ended the run, not --duration.
    assert 1900 < run["stop_after_fault_ms"] < 3000
    assert tot["streams_broken"] == 20 and tot["sessions_broken"] == 10
    assert tot["lost"] > 0
    assert run["calls_deleted"] == 0
    assert any(w.startswith("calls not deleted") for w in run["warnings"])
    for s in rep["streams"]:
        assert s["broken"] and s["post_fault_gap_open"], s
        assert s["post_fault_gap_ms"] >= 1500, s
        assert s["trailing_silence_ms"] == s["post_fault_gap_ms"], s
        assert s["lost"] == s["sent"] - s["received"] > 0, s
        # Everything sent after the kill was lost, and only that: the
        # streams flowed until then.
        assert 0 < s["lost_after_fault"] <= s["lost"], s
        assert s["lost"] - s["lost_after_fault"] <= 2, s
    assert "broken: 20 of 20 streams, 10 of 10 sessions" in m.stderr()


def test_not_ready(relay, meters, tmp_path):
    """Streams that never flow: the relay is stopped before it forwards."""
    m = meters(tmp_path, "--calls", "50", "--ptime", "200",
               "--broken-after", "1s", "--ready-timeout", "500ms",
               "--ng-tries", "1")
    m.expect("calls")
    os.kill(relay.pid, signal.SIGSTOP)
    try:
        line = m.expect("not-ready")
        flowing, total = map(int, line.split()[1:])
        assert total == 100 and flowing < total
        assert m.finish() == 1
    finally:
        os.kill(relay.pid, signal.SIGCONT)
    rep = m.report()
    assert rep["run"]["ready"] is False and rep["run"]["ready_ns"] is None
    assert sum(1 for s in rep["streams"] if s["received"] == 0) == \
        total - flowing
    assert all(s["broken"] for s in rep["streams"] if s["received"] == 0)
    assert "NEVER READY" in m.stderr()


class FakeNg:
    """An ng server without media: offer and answer return SDP pointing
    straight at the other endpoint, except that the offer of every odd
    call points at a socket nobody reads, so B's stream of those calls can
    never arrive (what ECMP does to a flow sent to a relay without the
    call)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(NG)
        self.sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sink.bind(("127.0.0.1", 0))
        self.ports = {}		# call-id -> A's port
        self.stop = False
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        self.sock.settimeout(0.1)
        while not self.stop:
            try:
                data, peer = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            cookie, body = data.split(b" ", 1)
            req, _ = bdecode(body)
            self.sock.sendto(cookie + b" " + bencode(self._reply(req)), peer)

    def _reply(self, req):
        cmd = req[b"command"]
        if cmd == b"ping":
            return {"result": "pong"}
        if cmd in (b"offer", b"answer"):
            call = req[b"call-id"].decode()
            mport = int(re.search(rb"m=audio (\d+)", req[b"sdp"]).group(1))
            if cmd == b"offer":
                self.ports[call] = mport
                odd = int(call.rsplit("-", 1)[1]) % 2 == 1
                port = self.sink.getsockname()[1] if odd else mport
            else:
                port = mport
            sdp = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                   "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                   f"m=audio {port} RTP/AVP 0\r\n")
            return {"result": "ok", "sdp": sdp}
        return {"result": "ok"}

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()
        self.sink.close()


def test_settle_marks_unserved(meters, tmp_path):
    """--settle: the run goes on with the streams that flow and names the
    ones that never did, instead of giving up as not-ready."""
    ng = FakeNg()
    try:
        m = meters(tmp_path, "--calls", "4", "--duration", "1s",
                   "--settle", "200ms", "--ready-timeout", "3s")
        m.expect("ready")
        assert m.finish() == 0, m.stderr()
    finally:
        ng.close()
    rep = m.report()
    run, tot = rep["run"], rep["summary"]
    assert run["ready"] and run["settle_ms"] == 200.0
    assert tot["streams_unserved"] == 2
    # The offers of calls 1 and 3 sent B's stream (b->a) into the sink.
    assert [s["id"] for s in rep["streams"] if s["unserved"]] == [3, 7]
    for s in rep["streams"]:
        if s["unserved"]:
            assert s["received"] == 0 and s["broken"], s
        else:
            assert s["received"] > 0 and not s["broken"], s
    assert "unserved (silent when ready came, --settle): 2 of 8" in \
        m.stderr()


def test_usage_errors(tmp_path):
    r = subprocess.run([METER, "--calls", "3"], capture_output=True,
                       text=True)
    assert r.returncode == 2
    assert r.stderr == ("rtpmeter: --ng HOST:PORT is required "
                        "(see --help)\n")
    r = subprocess.run([METER, "--ng", "127.0.0.1:42223", "--after-fault",
                        "500ms"], capture_output=True, text=True)
    assert r.returncode == 2 and "shorter than --broken-after" in r.stderr
    r = subprocess.run([METER, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("usage: rtpmeter")


def can_raise_nofile():
    code = ("import resource as r\n"
            "r.setrlimit(r.RLIMIT_NOFILE, (64, 64))\n"
            "r.setrlimit(r.RLIMIT_NOFILE, (128, 128))\n")
    return subprocess.run([sys.executable, "-c", code],
                          capture_output=True).returncode == 0


def test_open_files_limit(tmp_path):
    if can_raise_nofile():
        pytest.skip("this process may raise its hard open-files limit, so "
                    "rtpmeter would too")

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (100, 100))

    # 100 calls need 232 descriptors; 34 calls fit in 100.
    r = subprocess.run([METER, "--ng", "127.0.0.1:9", "--calls", "100"],
                       capture_output=True, text=True, preexec_fn=low_limit,
                       timeout=10)
    assert r.returncode == 1
    assert ("--calls 100 needs 232 open files, the hard limit is 100"
            in r.stderr), r.stderr
    assert "at most --calls 34 here" in r.stderr


@pytest.fixture
def netns():
    """A private network namespace with only lo: needs root."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and iproute2 for a network namespace")
    name = f"rtpm-ttl-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    procs = []
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"],
                       check=True)
        yield name, procs
    finally:
        for p in procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGCONT)
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
        subprocess.run(["ip", "netns", "del", name], check=True)


def test_ttl_names_the_relay(netns, tmp_path):
    """The relay host's default TTL, changed after the fault mark, shows as
    a move in every direction: the mechanism the lab uses to tell which
    relay carried a stream before and after a fault."""
    name, procs = netns
    conf = tmp_path / "relay.yaml"
    conf.write_text(RELAY_CONF)

    def sysctl_ttl(v):
        subprocess.run(["ip", "netns", "exec", name, "sysctl", "-qw",
                        f"net.ipv4.ip_default_ttl={v}"], check=True)

    sysctl_ttl(61)
    relay = subprocess.Popen(["ip", "netns", "exec", name, RELAY, "-d", "-f",
                              str(conf)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    procs.append(relay)
    out = tmp_path / "report.json"
    meter = subprocess.Popen(
        ["ip", "netns", "exec", name, METER, "--ng", "%s:%d" % NG,
         "--calls", "4", "--duration", "2s", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    procs.append(meter)
    lines = iter(meter.stdout.readline, "")
    assert next(l for l in lines if l.startswith("ready"))
    os.kill(meter.pid, signal.SIGUSR1)
    assert next(l for l in lines if l.startswith("fault"))
    sysctl_ttl(50)
    assert meter.wait(20) == 0
    rep = json.loads(out.read_text())
    assert rep["summary"]["streams_moved"] == 8
    for s in rep["streams"]:
        assert (s["ttl_first"], s["ttl_before_fault"], s["ttl_last"],
                s["ttl_changes"]) == (61, 61, 50, 1), s
