"""rtprelay on loopback, driven by Debian's unmodified rtpengine-ng-client.

Starts build/bin/rtprelay with relay/examples/loopback.yaml, creates a call
with `rtpengine-ng-client offer`/`answer`, sends RTP both ways and checks
every packet arrives byte-identical from the VIP, then shows a spoofed
source cannot take over a latched leg. Needs no privileges.
"""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
RELAY = os.path.join(ROOT, "build", "bin", "rtprelay")
EXAMPLE = os.path.join(ROOT, "relay", "examples", "loopback.yaml")
NG = ("127.0.0.1", 2223)
PROBE = ("127.0.0.1", 2224)
CLIENT = shutil.which("rtpengine-ng-client")


def ng_raw(payload: bytes, timeout=1.0) -> bytes:
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


@pytest.fixture(scope="module")
def relay():
    assert os.access(RELAY, os.X_OK), "build rtprelay first (make)"
    proc = subprocess.Popen([RELAY, "-d", "-f", EXAMPLE],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def pong():
        try:
            return ng_raw(b"p1 d7:command4:pinge", 0.2) == b"p1 d6:result4:ponge"
        except OSError:
            return False

    try:
        wait_until(pong, 5, "rtprelay to answer ng ping")
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        out = proc.stdout.read().decode(errors="replace")
        print(out)


def client(*args):
    assert CLIENT, "rtpengine-ng-client missing (package rtpengine-utils)"
    r = subprocess.run([CLIENT, "--proxy-address=127.0.0.1", "--proxy-port=2223",
                        *args], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def sdp_for(port, sess):
    return (f"v=0\r\no=- {sess} 1 IN IP4 127.0.0.1\r\ns=-\r\n"
            f"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\n"
            "a=sendrecv\r\n")


def new_sdp_port(out):
    new = out.split("New SDP:", 1)[1]
    m = re.search(r"^m=audio (\d+) ", new, re.M)
    c = re.search(r"^c=IN IP4 (\S+)", new, re.M)
    assert m and c, out
    assert c.group(1) == "127.0.0.1"
    return int(m.group(1))


def rtp(seq, ssrc, payload=b"\x55" * 160, pt=0):
    return struct.pack("!BBHII", 0x80, pt, seq & 0xFFFF, seq * 160, ssrc) + payload


def udp(port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.5)
    return s


def recv_all(sock, n):
    got = []
    for _ in range(n):
        try:
            got.append(sock.recvfrom(4096))
        except socket.timeout:
            break
    return got


def drain(sock):
    sock.setblocking(False)
    try:
        while True:
            sock.recv(4096)
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(0.5)


def make_call(call_id):
    a, b = udp(), udp()
    pa, pb = a.getsockname()[1], b.getsockname()[1]
    out = client("offer", f"--call-id={call_id}", "--from-tag=alice",
                 f"--sdp={sdp_for(pa, 1)}")
    to_b = new_sdp_port(out)          # where B sends
    out = client("answer", f"--call-id={call_id}", "--from-tag=alice",
                 "--to-tag=bob", f"--sdp={sdp_for(pb, 2)}")
    to_a = new_sdp_port(out)          # where A sends
    return a, b, to_a, to_b


def test_config_check_ok():
    r = subprocess.run([RELAY, "-n", "-f", EXAMPLE], capture_output=True, text=True)
    assert r.returncode == 0
    assert r.stdout == "configuration OK\n"


def test_call_both_ways_byte_identical(relay):
    a, b, to_a, to_b = make_call("it-call-1")
    try:
        sent_ab = [rtp(i, 0x1111) for i in range(1, 51)]
        sent_ba = [rtp(i, 0x2222, payload=bytes(range(160))) for i in range(1, 51)]
        for p in sent_ab:
            a.sendto(p, ("127.0.0.1", to_a))
        got = recv_all(b, 50)
        assert [g[0] for g in got] == sent_ab
        assert all(g[1] == ("127.0.0.1", to_b) for g in got), "B must see the relay's B-side port"
        for p in sent_ba:
            b.sendto(p, ("127.0.0.1", to_b))
        got = recv_all(a, 50)
        assert [g[0] for g in got] == sent_ba
        assert all(g[1] == ("127.0.0.1", to_a) for g in got)
    finally:
        client("delete", "--call-id=it-call-1", "--from-tag=alice")
        a.close()
        b.close()


def test_spoofed_source_cannot_take_over(relay):
    a, b, to_a, to_b = make_call("it-call-2")
    spoofer = udp()
    try:
        for i in range(1, 11):                 # A latches with SSRC 0xA
            a.sendto(rtp(i, 0xA), ("127.0.0.1", to_a))
        assert len(recv_all(b, 10)) == 10
        # Attacker with another SSRC, then with the right SSRC but a
        # sequence number far from the stream's.
        for i in range(20):
            spoofer.sendto(rtp(500 + i, 0xBAD), ("127.0.0.1", to_a))
            spoofer.sendto(rtp(30000 + i, 0xA), ("127.0.0.1", to_a))
        assert recv_all(b, 40) == [], "spoofed packets were forwarded"
        # B's media still goes to A, not to the spoofer.
        b.sendto(rtp(1, 0xB), ("127.0.0.1", to_b))
        got = recv_all(a, 1)
        assert len(got) == 1 and got[0][0] == rtp(1, 0xB)
        spoofer.settimeout(0.3)
        with pytest.raises(socket.timeout):
            spoofer.recv(4096)
        # A legitimate NAT rebinding (same SSRC, next sequence numbers, new
        # port) does move the latch.
        moved = udp()
        try:
            moved.sendto(rtp(11, 0xA), ("127.0.0.1", to_a))
            assert len(recv_all(b, 1)) == 1
            b.sendto(rtp(2, 0xB), ("127.0.0.1", to_b))
            got = moved.recvfrom(4096)
            assert got[0] == rtp(2, 0xB)
        finally:
            moved.close()
    finally:
        client("delete", "--call-id=it-call-2", "--from-tag=alice")
        for s in (a, b, spoofer):
            s.close()


def test_bad_control_input_gets_error_and_relay_survives(relay):
    cases = [
        (b"x1 d7:command4:pin", b"malformed bencode"),
        (b"x2 l4:pinge", b"request is not a dictionary"),
        (b"x3 d7:command3:fooe", b"unknown command 'foo'"),
        (b"x4 d7:command5:query7:call-id7:missinge", b"Unknown call-id 'missing'"),
        (b"x6 d7:command6:delete7:call-id7:missing5:flagsl5:fatalee",
         b"Call-ID not found or tags didn't match"),
        (b"x5 d7:command5:offer7:call-id1:x8:from-tag1:y3:sdp5:v=1\r\ne",
         b"bad SDP: line 1"),
    ]
    for req, reason in cases:
        rep = ng_raw(req)
        cookie = req.split(b" ", 1)[0]
        assert rep.startswith(cookie + b" d6:result5:error12:error-reason"), rep
        assert reason in rep, rep
    assert ng_raw(b"p2 d7:command4:pinge") == b"p2 d6:result4:ponge"
    assert relay.poll() is None


def test_keepalives_and_garbage_do_not_latch(relay):
    a, b, to_a, to_b = make_call("it-call-3")
    other = udp()
    try:
        other.sendto(b"", ("127.0.0.1", to_a))                     # empty UDP
        other.sendto(b"\x00" * 12, ("127.0.0.1", to_a))            # RTP v0
        other.sendto(rtp(1, 0xC, payload=b""), ("127.0.0.1", to_a))  # empty payload
        other.sendto(b"\xff" * 30, ("127.0.0.1", to_a))            # garbage
        assert recv_all(b, 4) == []
        # The real endpoint still latches first.
        a.sendto(rtp(1, 0xA), ("127.0.0.1", to_a))
        assert len(recv_all(b, 1)) == 1
        b.sendto(rtp(1, 0xB), ("127.0.0.1", to_b))
        assert recv_all(a, 1)[0][0] == rtp(1, 0xB)
    finally:
        client("delete", "--call-id=it-call-3", "--from-tag=alice")
        for s in (a, b, other):
            s.close()


def test_probe_mirror_and_metrics(relay):
    s = udp()
    try:
        s.sendto(b"probe-123", PROBE)
        data, src = s.recvfrom(4096)
        assert data == b"probe-123" and src == PROBE
    finally:
        s.close()
    body = urllib.request.urlopen("http://127.0.0.1:9224/metrics", timeout=2).read().decode()
    assert re.search(r"^rtprelay_packets_total \d+", body, re.M), body
    assert "rtprelay_probe_total{outcome=\"replied\"}" in body


def test_query_and_list_through_client(relay):
    a, b, to_a, to_b = make_call("it-call-4")
    try:
        out = client("list")
        assert "it-call-4" in out
        out = client("query", "--call-id=it-call-4")
        assert "alice" in out and "bob" in out
    finally:
        client("delete", "--call-id=it-call-4", "--from-tag=alice")
        a.close()
        b.close()
    with pytest.raises(AssertionError, match="Unknown call-id"):
        client("query", "--call-id=it-call-4")


def test_sigterm_stops_cleanly_and_hup_keeps_calls(tmp_path):
    # Its own ports, so it does not collide with the module's relay.
    conf = tmp_path / "relay.yaml"
    conf.write_text("service-address: 127.0.0.1\ncontrol: 127.0.0.1:2323\n"
                    "ports: 31000-31099\nmedia-timeout: 60s\n")
    proc = subprocess.Popen([RELAY, "-d", "-f", str(conf)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def ng(msg):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.3)
        try:
            s.sendto(msg, ("127.0.0.1", 2323))
            return s.recv(65536)
        finally:
            s.close()

    try:
        def up():
            try:
                return ng(b"q d7:command4:pinge").endswith(b"ponge")
            except OSError:
                return False
        wait_until(up, 5, "rtprelay to start")
        sdp = sdp_for(4000, 1).encode()
        rep = ng(b"o1 d7:command5:offer7:call-id2:h18:from-tag1:f3:sdp%d:%se"
                 % (len(sdp), sdp))
        assert b"result2:ok" in rep
        # A broken file on reload keeps the running configuration...
        conf.write_text("ports: nope\n")
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.2)
        assert b"h1" in ng(b"l1 d7:command4:liste")
        # ...and a good one is applied without dropping calls.
        conf.write_text("service-address: 127.0.0.1\ncontrol: 127.0.0.1:2323\n"
                        "ports: 31000-31099\nmedia-timeout: 30s\n")
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.2)
        assert b"h1" in ng(b"l2 d7:command4:liste")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
        log = proc.stdout.read().decode()
        assert "reload failed: keeping the running configuration" in log
        assert "ports: 'nope' is not a range" in log
        assert "reload done: 1 calls kept" in log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
