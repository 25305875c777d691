"""What real endpoints send crosses rtprelay (RFC 7983 demultiplexing).

The test builds one network namespace of its own (rafd-<pid>-m) with every
address on its loopback:

    VIP 203.0.113.10 (rtprelay: ng :2223, metrics :9224, media 30000-30099)
    A 198.51.100.5, B 198.51.100.6, a spoofer 198.51.100.66

The SDP of each endpoint names an address where it is not (198.51.100.50,
.60: "behind NAT"), so a leg can only reach its endpoint once it latched
on what that endpoint sent first: a DTLS ClientHello or ServerHello, a
ZRTP Hello, a T.38 datagram. The tests show, both ways and byte for byte:
DTLS handshake and application data records, SRTP and SRTCP, on one port
and (without rtcp-mux) on the RTCP port too; ZRTP Hello then SRTP; T.38
UDPTL on an m=image leg; openssl's own DTLS 1.2 handshake with the SRTP
extension and a line each way (s_client behind "NAT", s_server); that
the rewritten SDP keeps a=fingerprint, a=setup and a=zrtp-hash; that a
spoofer's DTLS or ZRTP is not forwarded once a leg has latched, nor DTLS
on a plain RTP/AVP leg. Counters are read back from ng query, statistics
and the metrics page.

Root only (it skips otherwise); the relay and openssl are started tagged
and ended by their PID; the namespace goes on every exit path. The logs
are in the test's tmp directory; the relay's is printed at the end.
"""
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "topology-tests"))

from labnet import netns, procs  # noqa: E402
from labnet.dgram import recv_n  # noqa: E402
from labnet.ngclient import NgClient  # noqa: E402
from labnet.services import parse_metrics  # noqa: E402
from labnet.wait import until  # noqa: E402

RELAY = os.path.join(ROOT, "build", "bin", "rtprelay")
OPENSSL = shutil.which("openssl")

TAG = f"rafd-{os.getpid()}"
NS = f"{TAG}-m"
VIP = "203.0.113.10"
NG_PORT = 2223
METRICS_PORT = 9224
A, B, SPOOFER = "198.51.100.5", "198.51.100.6", "198.51.100.66"
A_SDP, B_SDP = "198.51.100.50", "198.51.100.60"	# where they are not

RELAY_CONF = f"""\
service-address: {VIP}
control: {VIP}:{NG_PORT}
ports: 30000-30099
media-timeout: 60s
metrics:
  listen: {VIP}:{METRICS_PORT}
log-level: info
"""

FINGERPRINT = ("a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:"
               "3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF")
ZRTP_HASH = ("a=zrtp-hash:1.10 fe30efd02423cb054e50efd0248742ac7a52c8f91b"
             "c2df881ae642c371ba46df")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip")
    or not os.access(RELAY, os.X_OK),
    reason="needs root (it builds its own network namespace), iproute2 "
    "and build/bin/rtprelay (make)")


# --- the namespace and the relay ----------------------------------------------

@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demux")
    conf = tmp / "relay.yaml"
    conf.write_text(RELAY_CONF)
    log = tmp / "relay.log"
    started = []
    if netns.exists(NS):
        raise RuntimeError(f"namespace {NS} exists already")
    try:
        netns.add(NS)
        netns.batch(NS, ["link set lo up"] + [
            f"addr add {a}/32 dev lo" for a in (VIP, A, B, SPOOFER)])
        p = procs.spawn([RELAY, "-d", "-f", str(conf)], TAG, "m",
                        "rtprelay", ns=NS, log=str(log))
        started.append(p)
        ng = NgClient(sock(), (VIP, NG_PORT), "rtprelay")

        def pong():
            if not procs.alive(p.pid):
                raise AssertionError("rtprelay exited:\n" + log.read_text())
            r = ng.ping()
            return r is not None and r.get("result") == "pong", r
        until(pong, 5, "rtprelay to answer ng ping")
        yield Relay(ng, log, tmp)
        ng.close()
    finally:
        left = procs.terminate(started, TAG)
        netns.delete(NS)
        if log.exists():
            print("--- rtprelay log ---\n" + log.read_text(errors="replace"))
        assert not left, f"still running: {left}"
        assert not netns.exists(NS)


class Relay:
    def __init__(self, ng, log, tmp):
        self.ng = ng
        self.log = log
        self.tmp = tmp

    def metrics(self):
        return parse_metrics(netns.http_get(NS, VIP, METRICS_PORT,
                                            "/metrics"))

    def statistics(self):
        r = self.ng("statistics")
        assert r["result"] == "ok", r
        return r["statistics"]["totalstatistics"]

    def streams(self, call_id, which=0):
        """{tag: the RTP (which=0) or RTCP (1) stream dictionary of media
        1} from ng query."""
        r = self.ng("query", call_id=call_id)
        assert r["result"] == "ok", r
        return {t: v["medias"][0]["streams"][which]
                for t, v in r["tags"].items()}


def sock(addr=None, port=0):
    """A UDP socket in the namespace, bound to addr if given."""
    s = netns.socket_in(NS, socket.AF_INET, socket.SOCK_DGRAM)
    if addr is not None:
        s.bind((addr, port))
    s.settimeout(1.0)
    return s


def quiet(s, timeout=0.3):
    """Nothing arrives on s for timeout seconds (what was sent to it was
    dropped, not merely late)."""
    got = recv_n(s, 1, timeout)
    assert got == [], f"unexpected datagram {got[0][0][:16].hex()}... " \
        f"from {got[0][1]}"


def cross(src, dst, to_port, from_port, packets):
    """Send packets from src to VIP:to_port; dst must get every one, byte
    for byte and in order, from VIP:from_port."""
    for p in packets:
        src.sendto(p, (VIP, to_port))
    got = recv_n(dst, len(packets), 1.0)
    assert [g[0] for g in got] == packets, \
        f"{len(packets)} sent to {VIP}:{to_port}, {len(got)} arrived"
    assert {g[1] for g in got} == {(VIP, from_port)}


# --- SDP -------------------------------------------------------------------------

def sdp(addr, port, proto, fmt, *attrs):
    lines = ["v=0", f"o=- 1 1 IN IP4 {addr}", "s=-", f"c=IN IP4 {addr}",
             "t=0 0", f"m={'image' if proto == 'udptl' else 'audio'} "
             f"{port} {proto} {fmt}", *attrs]
    return "\r\n".join(lines) + "\r\n"


def media_port(text, kind="audio"):
    m = re.search(rf"^m={kind} (\d+) ", text, re.M)
    c = re.search(r"^c=IN IP4 (\S+)", text, re.M)
    assert m and c and c.group(1) == VIP, text
    return int(m.group(1))


def call(relay, call_id, offer, answer, kind="audio"):
    """offer from A, answer from B as a SIP proxy does. Returns
    (to_a, to_b, offer as rewritten, answer as rewritten): the VIP ports A
    and B send to, and the SDP each received."""
    r = relay.ng("offer", call_id=call_id, from_tag="a", sdp=offer)
    assert r["result"] == "ok", r
    to_b, offer_out = media_port(r["sdp"], kind), r["sdp"]
    r = relay.ng("answer", call_id=call_id, from_tag="a", to_tag="b",
                 sdp=answer)
    assert r["result"] == "ok", r
    return media_port(r["sdp"], kind), to_b, offer_out, r["sdp"]


def wait_latched(relay, call_id, tag):
    """Until the leg of `tag` has latched: what the other side sends next
    must find it (the relay may read the two legs' sockets in any
    order)."""
    until(lambda: (relay.streams(call_id)[tag]["latch"] == "latched",
                   relay.streams(call_id)[tag]), 2,
          f"{call_id}: leg {tag} to latch")


def kept(text, *lines):
    for line in lines:
        assert line + "\r\n" in text, f"{line!r} not in\n{text}"


# --- packets ---------------------------------------------------------------------

def dtls(ctype, epoch, seq, body, version=0xFEFD):
    """One DTLS 1.0/1.2 record (RFC 6347 s4.1)."""
    return struct.pack("!BHHHIH", ctype, version, epoch, seq >> 32,
                       seq & 0xFFFFFFFF, len(body)) + body


def handshake(msg_type, body):
    """A DTLS handshake message in one fragment (RFC 6347 s4.2.2): type,
    length, message_seq, fragment_offset, fragment_length, body."""
    n = len(body).to_bytes(3, "big")
    return bytes([msg_type]) + n + b"\x00\x00" + b"\x00" * 3 + n + body


def client_hello():
    return dtls(22, 0, 0, handshake(1, b"\xfe\xfd" + os.urandom(32) +
                                    b"\x00\x00\x00\x02\xc0\x2b\x01\x00"),
                version=0xFEFF)


def server_flight():
    """ServerHello, Certificate-shaped, ServerHelloDone: one datagram."""
    return (dtls(22, 0, 0, handshake(2, b"\xfe\xfd" + os.urandom(38))) +
            dtls(22, 0, 1, handshake(11, os.urandom(300))) +
            dtls(22, 0, 2, handshake(14, b"")))


def app_data(seq, n=120):
    return dtls(23, 1, seq, os.urandom(n))


def srtp(seq, ssrc, pt=111):
    """RTP header, encrypted-looking payload, 10-byte auth tag."""
    return struct.pack("!BBHII", 0x80, pt, seq, seq * 960, ssrc) + \
        os.urandom(80) + os.urandom(10)


def srtcp(index, ssrc):
    """A receiver report header, encrypted rest, E bit + index, auth tag."""
    return struct.pack("!BBHI", 0x81, 201, 7, ssrc) + os.urandom(24) + \
        struct.pack("!I", 0x80000000 | index) + os.urandom(10)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def zrtp(seq, ssrc, msg_type, body):
    """A ZRTP packet (RFC 6189 s5), CRC-32C least significant byte first."""
    msg = struct.pack("!HH", 0x505A, (12 + len(body)) // 4) + msg_type + body
    pkt = struct.pack("!HHII", 0x1000, seq, 0x5A525450, ssrc) + msg
    return pkt + struct.pack("<I", crc32c(pkt))


def zrtp_hello(seq, ssrc):
    """A Hello with one algorithm of each list (RFC 6189 s5.2)."""
    algs = b"S256AES1HS32DH3kB32 "
    body = (b"1.10" + b"rafd test       " + os.urandom(32) + os.urandom(12) +
            struct.pack("!I", 0x11111) + algs + os.urandom(8))
    return zrtp(seq, ssrc, b"Hello   ", body)


# --- the tests -------------------------------------------------------------------

def test_dtls_srtp_mux_both_ways(relay):
    """WebRTC style: UDP/TLS/RTP/SAVPF with rtcp-mux, both ends behind
    NAT. Each leg latches on its endpoint's first flight."""
    offer = sdp(A_SDP, 4000, "UDP/TLS/RTP/SAVPF", "111", FINGERPRINT,
                "a=setup:actpass", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2")
    answer = sdp(B_SDP, 5000, "UDP/TLS/RTP/SAVPF", "111", FINGERPRINT,
                 "a=setup:active", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2")
    to_a, to_b, offer_out, answer_out = call(relay, "dtls-mux", offer,
                                             answer)
    kept(offer_out, FINGERPRINT, "a=setup:actpass")
    kept(answer_out, FINGERPRINT, "a=setup:active")
    a, b, spoofer = sock(A), sock(B), sock(SPOOFER)
    try:
        # B's ClientHello latches B's leg; it went on to A's SDP address,
        # which is wrong: the relay did not know better yet.
        b.sendto(client_hello(), (VIP, to_b))
        wait_latched(relay, "dtls-mux", "b")
        quiet(a)
        # A's first flight latches A's leg (in life A would have needed
        # the ClientHello first: a DTLS server behind NAT must speak
        # first, with anything, for its leg to latch).
        cross(a, b, to_a, to_b, [server_flight()])
        cross(b, a, to_b, to_a, [client_hello()])	# a retransmission
        # The rest of the handshake, then application data.
        fin_b = [dtls(20, 0, 3, b"\x01"), dtls(22, 1, 0, os.urandom(48))]
        cross(b, a, to_b, to_a, [b"".join(fin_b)])
        cross(a, b, to_a, to_b, [b"".join(fin_b)])
        cross(a, b, to_a, to_b, [app_data(i) for i in range(1, 6)])
        cross(b, a, to_b, to_a, [app_data(i) for i in range(1, 6)])
        # SRTP and SRTCP on the one port.
        cross(a, b, to_a, to_b, [srtp(i, 0xA1A1A1A1) for i in range(1, 21)])
        cross(b, a, to_b, to_a, [srtp(i, 0xB2B2B2B2) for i in range(1, 21)])
        cross(a, b, to_a, to_b, [srtcp(i, 0xA1A1A1A1) for i in range(1, 4)])
        cross(b, a, to_b, to_a, [srtcp(i, 0xB2B2B2B2) for i in range(1, 4)])

        # A spoofer's DTLS on a latched leg goes nowhere, and A keeps
        # receiving.
        before = relay.metrics()
        spoofer.sendto(client_hello(), (VIP, to_a))
        spoofer.sendto(app_data(9), (VIP, to_a))
        spoofer.sendto(client_hello(), (VIP, to_b))
        quiet(b)
        quiet(a)
        cross(b, a, to_b, to_a, [srtp(21, 0xB2B2B2B2)])
        quiet(spoofer)
        after = relay.metrics()
        assert after['rtprelay_drops_total{reason="drop-dtls"}'] - \
            before['rtprelay_drops_total{reason="drop-dtls"}'] == 3

        st = relay.streams("dtls-mux")
        # A: its flight, the finish, 5 application data. B the same and
        # its first ClientHello, sent on towards A's SDP address.
        assert st["a"]["DTLS packets"] == 7, st["a"]
        assert st["b"]["DTLS packets"] == 8, st["b"]
        assert relay.streams("dtls-mux", 1)["a"]["stats"]["packets"] == 3
        assert st["a"]["drops"]["drop-dtls"] == 2
        assert st["b"]["drops"]["drop-dtls"] == 1
        assert st["a"]["latch"] == "latched"
        assert st["a"]["endpoint"]["address"] == A
        assert st["b"]["endpoint"]["address"] == B
        assert st["a"]["advertised endpoint"]["address"] == A_SDP
        # The first SRTP from the latched source set the SSRC.
        assert st["a"]["SSRC"] == 0xA1A1A1A1
        assert st["b"]["SSRC"] == 0xB2B2B2B2
    finally:
        relay.ng("delete", call_id="dtls-mux")
        for s in (a, b, spoofer):
            s.close()


def test_dtls_on_the_rtcp_port(relay):
    """DTLS-SRTP without rtcp-mux: a second DTLS session on the RTCP
    component (RFC 5764) crosses between the two RTCP ports."""
    offer = sdp(A_SDP, 4000, "UDP/TLS/RTP/SAVP", "0", FINGERPRINT,
                "a=setup:actpass")
    answer = sdp(B_SDP, 5000, "UDP/TLS/RTP/SAVP", "0", FINGERPRINT,
                 "a=setup:passive")
    to_a, to_b, offer_out, _ = call(relay, "dtls-rtcp", offer, answer)
    kept(offer_out, f"a=rtcp:{to_b + 1}")
    a, b = sock(A), sock(B)
    a_rtcp, b_rtcp = sock(A), sock(B)
    try:
        a.sendto(client_hello(), (VIP, to_a))		# latches A
        wait_latched(relay, "dtls-rtcp", "a")
        b.sendto(server_flight(), (VIP, to_b))		# latches B
        assert len(recv_n(a, 1, 1.0)) == 1
        # Each RTCP component's first record sets where that leg's RTCP
        # goes (RTCP's rule: the latched IP), then both ways.
        a_rtcp.sendto(client_hello(), (VIP, to_a + 1))
        port = a_rtcp.getsockname()[1]
        until(lambda: (relay.streams("dtls-rtcp")["a"]["RTCP endpoint"]
                       .get("port") == port, port), 2,
              "leg a's RTCP destination to follow its DTLS")
        b_rtcp.sendto(server_flight(), (VIP, to_b + 1))
        assert len(recv_n(a_rtcp, 1, 1.0)) == 1
        cross(a_rtcp, b_rtcp, to_a + 1, to_b + 1, [client_hello()])
        cross(b_rtcp, a_rtcp, to_b + 1, to_a + 1, [server_flight()])
        cross(a_rtcp, b_rtcp, to_a + 1, to_b + 1,
              [app_data(i) for i in range(1, 4)])
        cross(b_rtcp, a_rtcp, to_b + 1, to_a + 1,
              [app_data(i) for i in range(1, 4)])
        cross(a_rtcp, b_rtcp, to_a + 1, to_b + 1,
              [srtcp(i, 0xA1A1A1A1) for i in range(1, 4)])
        cross(b, a, to_b, to_a, [srtp(i, 0xB2B2B2B2) for i in range(1, 6)])
        # The RTP port's DTLS stays on the RTP ports.
        cross(a, b, to_a, to_b, [app_data(7)])
        quiet(b_rtcp)
        st = relay.streams("dtls-rtcp")
        assert st["a"]["RTCP endpoint"]["port"] == port
        assert st["b"]["RTCP endpoint"]["port"] == b_rtcp.getsockname()[1]
        assert st["a"]["DTLS packets"] == 2 + 1 + 3 + 1
    finally:
        relay.ng("delete", call_id="dtls-rtcp")
        for s in (a, b, a_rtcp, b_rtcp):
            s.close()


def test_dtls_on_a_plain_rtp_leg_is_dropped(relay):
    """No a=fingerprint, no UDP/TLS proto: DTLS cannot latch the leg, nor
    pass from the source RTP latched."""
    to_a, to_b, _, _ = call(relay, "plain", sdp(A_SDP, 4000, "RTP/AVP", "0"),
                            sdp(B, 5000, "RTP/AVP", "0"))
    a, b = sock(A), sock(B, 5000)
    try:
        a.sendto(client_hello(), (VIP, to_a))
        quiet(b)
        cross(a, b, to_a, to_b, [srtp(1, 0xA, pt=0)])	# RTP latches
        a.sendto(app_data(1), (VIP, to_a))
        quiet(b)
        st = relay.streams("plain")
        assert st["a"]["drops"]["drop-dtls-sdp"] == 2
        assert st["a"]["DTLS packets"] == 0
    finally:
        relay.ng("delete", call_id="plain")
        a.close()
        b.close()


def test_zrtp_both_ways(relay):
    """ZRTP on RTP/AVP: each leg latches on its endpoint's Hello and takes
    its source identifier as the SSRC; then SRTP with that SSRC."""
    offer = sdp(A_SDP, 4000, "RTP/AVP", "0 8", ZRTP_HASH)
    answer = sdp(B_SDP, 5000, "RTP/AVP", "0", ZRTP_HASH)
    to_a, to_b, offer_out, answer_out = call(relay, "zrtp", offer, answer)
    kept(offer_out, ZRTP_HASH)
    kept(answer_out, ZRTP_HASH)
    a, b, spoofer = sock(A), sock(B), sock(SPOOFER)
    za, zb = 0x0A0A0A0A, 0x0B0B0B0B
    try:
        a.sendto(zrtp_hello(1, za), (VIP, to_a))	# latches A, lost
        wait_latched(relay, "zrtp", "a")
        b.sendto(zrtp_hello(1, zb), (VIP, to_b))	# latches B
        assert len(recv_n(a, 1, 1.0)) == 1
        cross(a, b, to_a, to_b, [zrtp_hello(2, za)])
        cross(b, a, to_b, to_a, [zrtp(2, zb, b"HelloACK", b"")])
        cross(a, b, to_a, to_b, [zrtp(3, za, b"HelloACK", b""),
                                 zrtp(4, za, b"Commit  ", os.urandom(100))])
        cross(b, a, to_b, to_a, [zrtp(3, zb, b"DHPart1 ", os.urandom(400))])
        cross(a, b, to_a, to_b, [zrtp(5, za, b"DHPart2 ", os.urandom(400))])
        cross(b, a, to_b, to_a, [zrtp(4, zb, b"Confirm1", os.urandom(60))])
        cross(a, b, to_a, to_b, [zrtp(6, za, b"Confirm2", os.urandom(60))])
        cross(b, a, to_b, to_a, [zrtp(5, zb, b"Conf2ACK", b"")])
        cross(a, b, to_a, to_b, [srtp(i, za, pt=0) for i in range(1, 21)])
        cross(b, a, to_b, to_a, [srtp(i, zb, pt=0) for i in range(1, 21)])
        # A spoofer's ZRTP, and a broken CRC from the real source.
        spoofer.sendto(zrtp_hello(9, za), (VIP, to_a))
        bad = bytearray(zrtp(7, za, b"Ping    ", os.urandom(12)))
        bad[-1] ^= 0xFF
        a.sendto(bytes(bad), (VIP, to_a))
        quiet(b)
        st = relay.streams("zrtp")
        assert st["a"]["SSRC"] == za and st["b"]["SSRC"] == zb
        assert st["a"]["ZRTP packets"] == 6
        assert st["b"]["ZRTP packets"] == 5
        assert st["a"]["drops"]["drop-zrtp"] == 1
        assert st["a"]["drops"]["drop-invalid"] == 1
        tot = relay.statistics()
        assert tot["zrtppackets"] >= 11
    finally:
        relay.ng("delete", call_id="zrtp")
        for s in (a, b, spoofer):
            s.close()


def test_t38_udptl(relay):
    """m=image udptl t38: datagrams are forwarded as they are; the first
    one latches and nothing moves the latch after."""
    offer = sdp(A_SDP, 4000, "udptl", "t38", "a=T38FaxVersion:0",
                "a=T38FaxRateManagement:transferredTCF")
    answer = sdp(B_SDP, 5000, "udptl", "t38", "a=T38FaxVersion:0")
    to_a, to_b, offer_out, _ = call(relay, "t38", offer, answer, "image")
    assert "a=rtcp" not in offer_out, offer_out
    kept(offer_out, "a=T38FaxRateManagement:transferredTCF")
    a, b, spoofer = sock(A), sock(B), sock(SPOOFER)

    def udptl(seq, n=40):
        # seq, primary IFP (length-prefixed), then redundancy: a T.38
        # packet begins with whatever its sequence number says.
        return struct.pack("!HB", seq, n) + os.urandom(n) + b"\x00"

    try:
        a.sendto(udptl(0), (VIP, to_a))		# latches A, lost
        wait_latched(relay, "t38", "a")
        b.sendto(udptl(0), (VIP, to_b))		# latches B
        assert len(recv_n(a, 1, 1.0)) == 1
        # Sequence numbers whose first byte is DTLS's, TURN's, STUN's.
        seqs = [1, 0x1400, 0x4000, 0x0001, 0x8000, 0xFFFF]
        cross(a, b, to_a, to_b, [udptl(s) for s in seqs])
        cross(b, a, to_b, to_a, [udptl(s) for s in seqs])
        spoofer.sendto(udptl(7), (VIP, to_a))
        quiet(b)
        st = relay.streams("t38")
        assert st["a"]["drops"]["drop-opaque"] == 1
        assert st["a"]["stats"]["packets"] == 1 + len(seqs)
    finally:
        relay.ng("delete", call_id="t38")
        for s in (a, b, spoofer):
            s.close()


def test_counters_agree(relay):
    """statistics and the metrics page count the same DTLS and ZRTP."""
    m = relay.metrics()
    tot = relay.statistics()
    assert m["rtprelay_dtls_packets_total"] == tot["dtlspackets"] > 0
    assert m["rtprelay_zrtp_packets_total"] == tot["zrtppackets"] > 0
    for reason in ("drop-dtls", "drop-dtls-sdp", "drop-zrtp", "drop-opaque",
                   "drop-turn"):
        assert m[f'rtprelay_drops_total{{reason="{reason}"}}'] == \
            tot["drops"][reason], reason


# --- openssl's DTLS through the relay -----------------------------------------

def openssl_key(tmp):
    key, cert = tmp / "key.pem", tmp / "cert.pem"
    if not cert.exists():
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", str(key), "-out", str(cert), "-days", "1",
                        "-subj", "/CN=rafd"], check=True, capture_output=True)
    return key, cert


def read_until(p, want, out, deadline):
    """What process p (procs.Proc) printed, read until want appears in it
    (or fail at the deadline, showing what it printed)."""
    fd = p.popen.stdout.fileno()
    while want not in out:
        left = deadline - time.monotonic()
        assert left > 0, out.decode(errors="replace")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            assert chunk, f"{p} exited: " + out.decode(errors="replace")
            out += chunk
    return out


def openssl(relay, name, *args):
    """openssl in the namespace, tagged, its stdin and stdout on pipes
    (text), its stderr in the test's tmp directory."""
    return procs.spawn([OPENSSL, *args], TAG, "m", name, ns=NS,
                       log=str(relay.tmp / f"{name}.log"), pipe=True,
                       stdin_pipe=True)


def say(p, line):
    p.popen.stdin.write(line + "\n")
    p.popen.stdin.flush()


@pytest.mark.skipif(OPENSSL is None, reason="needs openssl")
def test_openssl_dtls_srtp_handshake(relay):
    """openssl s_client (behind "NAT": its SDP names another address) and
    s_server complete a DTLS 1.2 handshake with use_srtp through the relay
    and exchange a line each way."""
    key, cert = openssl_key(relay.tmp)
    offer = sdp(A_SDP, 4000, "UDP/TLS/RTP/SAVP", "0", FINGERPRINT,
                "a=setup:active", "a=rtcp-mux")
    answer = sdp(B, 5002, "UDP/TLS/RTP/SAVP", "0", FINGERPRINT,
                 "a=setup:passive", "a=rtcp-mux")
    to_a, to_b, _, _ = call(relay, "openssl", offer, answer)
    profile = "SRTP_AES128_CM_SHA1_80"
    started = []
    try:
        # An MTU below the relay's 2048-byte datagrams (lo's is 64 kB).
        server = openssl(relay, "s_server", "s_server", "-dtls1_2", "-accept",
                         f"{B}:5002", "-cert", str(cert), "-key", str(key),
                         "-use_srtp", profile, "-naccept", "1", "-mtu",
                         "1200")
        started.append(server)
        deadline = time.monotonic() + 10
        srv = read_until(server, b"ACCEPT", b"", deadline)
        client = openssl(relay, "s_client", "s_client", "-dtls1_2", "-bind",
                         f"{A}:0", "-connect", f"{VIP}:{to_a}", "-use_srtp",
                         profile, "-mtu", "1200")
        started.append(client)
        done = f"SRTP Extension negotiated, profile={profile}".encode()
        cli = read_until(client, done, b"", deadline)
        srv = read_until(server, done, srv, deadline)
        say(client, "relayed from A")
        srv = read_until(server, b"relayed from A", srv, deadline)
        say(server, "relayed from B")
        cli = read_until(client, b"relayed from B", cli, deadline)
        st = relay.streams("openssl")
        assert st["a"]["endpoint"]["address"] == A
        assert st["b"]["endpoint"]["port"] == 5002
        assert st["a"]["DTLS packets"] >= 3, st["a"]
        assert st["b"]["DTLS packets"] >= 3, st["b"]
        assert sum(st[t]["drops"][r] for t in "ab"
                   for r in st[t]["drops"]) == 0, st
    finally:
        assert not procs.terminate(started, TAG)
        relay.ng("delete", call_id="openssl")
