"""A real SIP proxy drives rtprelay: Kamailio 5.6 with its rtpengine module
and the shipped relay/examples/kamailio-rtprelay.cfg, SIPp endpoints.

Everything runs in one network namespace (rafk-<pid>), lo only:

    caller    SIPp UAC  127.0.0.2, SIP 5060, RTP 6000
    callee    SIPp UAS  127.0.0.3, SIP 5060, RTP 6000
    Kamailio            127.0.0.1:5060, ctl socket in the test's tmp dir
    rtprelay            VIP 127.0.0.1, ng 127.0.0.1:2223, ports 30000-30999

The endpoints have addresses of their own so that an SDP still naming
them (o=, c=) is told apart from one rewritten to the relay's.

Each test makes one call with a caller/callee pair of scenarios from
relay/tests/sip/ while dumpcap (the capture engine of tshark) records udp
on lo. The scenarios check every SDP they receive (relay address in c=
and o=, a relay port in m=, no endpoint address, no ICE candidate, the
direction) and SIPp exits non-zero if any check failed. The capture, read
with tshark, shows what media reached each endpoint: from the relay's
address and port, byte-identical to what the other endpoint sent, early
media before the 200, silence while held. After each call the relay must
hold no call (ng `list` through a socket inside the namespace).

The contract is rtpengine's behaviour with this module, so the tests
expect it: replace-origin rewrites o=; the query reply (read by $rtpstat)
has totals RTP and RTCP each with bytes, packets and errors; a delete of
an unknown call answers ok with a warning; SIP-source-address uses the
module's received-from.

Root only (network namespace). Every process is started tagged and ended
by its PID; the namespace goes on every exit path. Logs and captures are
in the test's tmp directory (pytest --basetemp to choose it).
"""
import os
import shutil
import socket
import subprocess
import sys
from collections import namedtuple

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "topology-tests"))

from labnet import netns, procs  # noqa: E402
from labnet.bencode import bdecode  # noqa: E402
from labnet.ngclient import NgClient  # noqa: E402
from labnet.wait import until  # noqa: E402

RELAY = os.path.join(ROOT, "build", "bin", "rtprelay")
KAMAILIO_CFG = os.path.join(ROOT, "relay", "examples", "kamailio-rtprelay.cfg")
SIP_DIR = os.path.join(ROOT, "relay", "tests", "sip")
TOOLS = {t: shutil.which(t) for t in
         ("ip", "kamailio", "kamcmd", "sipp", "dumpcap", "tshark")}

NS = f"rafk-{os.getpid()}"
TAG = NS
RELAY_IP = "127.0.0.1"
NG_PORT = 2223
PORT_MIN, PORT_MAX = 30000, 30999
PROXY_IP, SIP_PORT = "127.0.0.1", 5060
CALLER_IP, CALLEE_IP = "127.0.0.2", "127.0.0.3"
MEDIA_PORT = 6000		# both endpoints', each on its own address
NAT_SDP_IP = "203.0.113.99"	# where the NAT'd caller claims to be: no route
RELAY_URL = f"udp:{RELAY_IP}:{NG_PORT}"
PTIME_BYTES = 160		# PCMU, 20 ms
MIN_PACKETS = 25		# half a second of media

RELAY_CONF = f"""\
service-address: {RELAY_IP}
control: {RELAY_IP}:{NG_PORT}
ports: {PORT_MIN}-{PORT_MAX}
media-timeout: 60s
probe:
  listen: {RELAY_IP}:2224
  allow: [127.0.0.0/8]
  rate: 1000
log-level: info
"""

MISSING = ([] if os.geteuid() == 0 else ["root (a network namespace)"]) \
    + [f"{t} (tools/deps.sh)" for t, path in TOOLS.items() if not path] \
    + ([] if os.access(RELAY, os.X_OK) else [f"{RELAY} (make)"])
pytestmark = pytest.mark.skipif(bool(MISSING),
                                reason="needs " + ", ".join(MISSING))


def udp_bound(pid, ip, port):
    """True once a UDP socket of pid's namespace is bound to ip:port."""
    want = "%08X:%04X" % (int.from_bytes(socket.inet_aton(ip), "little"), port)
    try:
        with open(f"/proc/{pid}/net/udp") as f:
            return any(line.split()[1] == want for line in list(f)[1:])
    except OSError:
        return False


class Lab:
    """The namespace with rtprelay and Kamailio running in it."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.rundir = tmp / "kamailio"
        self.ctl = f"unix:{self.rundir}/kamailio_ctl"
        self.procs = []
        self.ng = None

    def up(self):
        if netns.exists(NS):
            raise RuntimeError(f"namespace {NS} exists already")
        netns.add(NS)
        netns.batch(NS, ["link set lo up"])
        conf = self.tmp / "rtprelay.yaml"
        conf.write_text(RELAY_CONF)
        relay = self.spawn("rtprelay", [RELAY, "-d", "-f", str(conf)])
        self.ng = NgClient(netns.socket_in(NS, socket.AF_INET,
                                           socket.SOCK_DGRAM),
                           (RELAY_IP, NG_PORT), "rtprelay")

        def pong():
            if not procs.alive(relay.pid):
                raise AssertionError("rtprelay exited:\n" +
                                     self.log("rtprelay"))
            r = self.ng.ping()
            return r is not None and r.get("result") == "pong", r
        until(pong, 5, "rtprelay to answer ng ping")
        # The module pings the relay when its workers start, so the relay
        # comes first.
        self.rundir.mkdir()
        kam = self.spawn("kamailio", [
            TOOLS["kamailio"], "-DD", "-E", "-f", KAMAILIO_CFG,
            "-Y", str(self.rundir), "-P", str(self.rundir / "kamailio.pid"),
            "-m", "32", "-M", "8",
            "-A", f"LISTEN=udp:{PROXY_IP}:{SIP_PORT}",
            "-A", f'RTPRELAY_NG="{RELAY_URL}"',
            "-A", f'CALLEE_URI="sip:{CALLEE_IP}:{SIP_PORT}"',
            "-A", f'CTL_SOCK="{self.ctl}"'])

        def kam_up():
            if not procs.alive(kam.pid):
                raise AssertionError("kamailio exited:\n" +
                                     self.log("kamailio"))
            r = self.kamcmd("rtpengine.show", "all", check=False)
            return r.returncode == 0 and "disabled: 0" in r.stdout, \
                r.stdout + r.stderr
        until(kam_up, 10, "kamailio to answer kamcmd with the relay enabled",
              0.1)

    def spawn(self, name, argv, log=None, cwd="/"):
        p = procs.spawn(argv, TAG, NS, name, ns=NS, cwd=cwd,
                        log=str(log or self.tmp / f"{name}.log"))
        self.procs.append(p)
        return p

    def stop(self, p):
        left = procs.terminate([p], TAG)
        assert not left, f"{p} did not end"

    def down(self):
        errors = []
        left = procs.terminate(self.procs, TAG)
        # Kamailio's workers, if the main process went first.
        extra = [procs.Proc(pid, procs.starttime(pid), NS, "?", [])
                 for pid in procs.find_tagged(TAG)]
        left += procs.terminate(extra, TAG)
        if left:
            errors.append(f"still running: {left}")
        if self.ng is not None:
            self.ng.close()
        try:
            netns.delete(NS)
        except netns.NetnsError as e:
            errors.append(str(e))
        return errors

    def kamcmd(self, *args, check=True):
        r = subprocess.run([TOOLS["kamcmd"], "-s", self.ctl, *args],
                           capture_output=True, text=True, timeout=10)
        if check:
            assert r.returncode == 0, f"kamcmd {args}: {r.stdout}{r.stderr}"
        return r

    def log(self, name, lines=60):
        return procs.tail(self.tmp / f"{name}.log", lines)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kamailio")
    lab = Lab(tmp)
    try:
        lab.up()
        yield lab
    finally:
        errors = lab.down()
        assert not errors, errors
        assert not netns.exists(NS)


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    """PCMU files the endpoints stream (1 s each, looped): patterns that
    tell a caller's payload from a callee's."""
    tmp = tmp_path_factory.mktemp("audio")
    out = {}
    for who, mul, add in (("caller", 7, 1), ("callee", 13, 200)):
        data = bytes((mul * i + add) & 0xFF for i in range(8000))
        (tmp / f"{who}.pcmu").write_bytes(data)
        out[who] = (str(tmp / f"{who}.pcmu"), data)
    return out


# --- a call: SIPp pair, capture, analysis ------------------------------------

Pkt = namedtuple("Pkt", "t src sport dst dport data")
Sip = namedtuple("Sip", "t src dst method status cseq cseq_method attrs rr")


class Call:
    """One call: the callee's and caller's SIPp, and dumpcap on lo."""

    def __init__(self, lab, tmp, audio):
        self.lab = lab
        self.tmp = tmp
        self.audio = audio
        self.pcap = tmp / "lo.pcapng"
        self.cap = None
        self.sipps = []

    def sipp(self, role, scenario, ip, keys, target=()):
        argv = [TOOLS["sipp"], *target]
        # Keys go first: SIPp substitutes them while it loads the scenario.
        for k, v in keys.items():
            argv += ["-key", k, v]
        argv += ["-sf", os.path.join(SIP_DIR, scenario),
                 "-i", ip, "-p", str(SIP_PORT), "-mi", ip,
                 "-mp", str(MEDIA_PORT), "-m", "1", "-nostdin",
                 "-timeout", "20s", "-timeout_error",
                 "-trace_err", "-error_file", str(self.tmp / f"{role}.err"),
                 "-trace_msg", "-message_file", str(self.tmp / f"{role}.msg")]
        p = self.lab.spawn(role, argv, log=self.tmp / f"{role}.log",
                           cwd=str(self.tmp))
        self.sipps.append(p)
        return p

    def run(self, uac, uas, api="manage", nat="no", sdp_ip=CALLER_IP):
        """Runs the pair (the caller alone if uas is None); asserts every
        SIPp passed every check."""
        self.cap = self.lab.spawn("dumpcap", [
            TOOLS["dumpcap"], "-i", "lo", "-f", "udp", "-w", str(self.pcap)],
            log=self.tmp / "dumpcap.log")
        self.mark(b"rafk-capture-start")
        run = {}
        if uas is not None:
            run["callee"] = self.sipp(
                "callee", uas, CALLEE_IP,
                {"audio": self.audio["callee"][0] + ",-1,0"})
            until(lambda: (udp_bound(run["callee"].pid, CALLEE_IP, SIP_PORT),
                           "not yet"), 5, "the callee's SIPp to listen")
        run["caller"] = self.sipp(
            "caller", uac, CALLER_IP,
            {"audio": self.audio["caller"][0] + ",-1,0",
             "api": api, "nat": nat, "sdp_ip": sdp_ip},
            target=[f"{PROXY_IP}:{SIP_PORT}"])
        rc = {}
        for name in ("caller", "callee"):
            try:
                rc[name] = run[name].popen.wait(30) if name in run else 0
            except subprocess.TimeoutExpired:
                rc[name] = "timeout"
        self.mark(b"rafk-capture-end")
        self.lab.stop(self.cap)
        for name in run:
            assert rc[name] == 0, (
                f"{name} SIPp ({uac if name == 'caller' else uas}) exit "
                f"{rc[name]}:\n{procs.tail(self.tmp / f'{name}.err', 40)}\n"
                f"--- its screen:\n"
                f"{procs.tail(self.tmp / f'{name}.log', 25)}\n"
                f"--- kamailio:\n{self.lab.log('kamailio', 20)}\n"
                f"--- rtprelay:\n{self.lab.log('rtprelay', 20)}")

    def mark(self, marker):
        """Sends marker datagrams (to the discard port, on lo) until one is
        in the capture file. dumpcap says "Capturing on" before its filter
        takes packets, writes the file about once a second, and drops what
        it has not read yet when it is stopped: so a capture has begun
        when the start marker is in the file, and holds the whole call when
        the end marker is."""
        sock = netns.socket_in(NS, socket.AF_INET, socket.SOCK_DGRAM)

        def seen():
            if not procs.alive(self.cap.pid):
                raise AssertionError("dumpcap exited:\n" +
                                     procs.tail(self.tmp / "dumpcap.log"))
            sock.sendto(marker, (RELAY_IP, 9))
            try:
                return marker in self.pcap.read_bytes(), "not yet"
            except FileNotFoundError:
                return False, "no file yet"
        try:
            until(seen, 5, f"{marker.decode()} in the capture", 0.05)
        finally:
            sock.close()

    def close(self):
        for p in self.sipps + ([self.cap] if self.cap else []):
            if procs.alive(p.pid):
                self.lab.stop(p)
        # A failed call may leave its call on the relay: the next test
        # must start from an empty relay.
        for cid in self.lab.ng.calls():
            self.lab.ng("delete", call_id=cid, from_tag="cleanup")

    def tshark(self, display_filter, fields):
        r = subprocess.run([TOOLS["tshark"], "-r", str(self.pcap),
                            "-Y", display_filter, "-T", "fields",
                            "-E", "separator=\t", "-E", "occurrence=a",
                            *sum([["-e", f] for f in fields], [])],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return [line.split("\t") for line in r.stdout.splitlines()]

    def media(self):
        """Every datagram to or from an endpoint's media port."""
        out = []
        for f in self.tshark("udp", ["frame.time_epoch", "ip.src",
                                     "udp.srcport", "ip.dst", "udp.dstport",
                                     "udp.payload"]):
            p = Pkt(float(f[0]), f[1], int(f[2]), f[3], int(f[4]),
                    bytes.fromhex(f[5]))
            if MEDIA_PORT in (p.sport, p.dport):
                out.append(p)
        return out

    def sip(self):
        out = []
        for f in self.tshark("sip", ["frame.time_epoch", "ip.src", "ip.dst",
                                     "sip.Method", "sip.Status-Code",
                                     "sip.CSeq.seq", "sip.CSeq.method",
                                     "sdp.media_attr", "sip.Record-Route"]):
            out.append(Sip(float(f[0]), f[1], f[2], f[3],
                           int(f[4]) if f[4] else None, int(f[5]), f[6],
                           f[7].split(",") if f[7] else [], f[8]))
        return out

    def sip_at(self, src, dst, cseq, method=None, status=None):
        """Time of the first message src -> dst with this CSeq number and
        request method or reply status."""
        for m in self.sip():
            if (m.src, m.dst, m.cseq) == (src, dst, cseq) and \
                    (method is None or m.method == method) and \
                    (status is None or m.status == status):
                return m.t
        raise AssertionError(f"no SIP {method or status} CSeq {cseq} "
                             f"{src} -> {dst} in the capture")

    def ng(self):
        """The ng requests Kamailio sent, decoded, in order."""
        out = []
        for f in self.tshark(f"udp.dstport == {NG_PORT}", ["udp.payload"]):
            body = bytes.fromhex(f[0]).partition(b" ")[2]
            out.append(bdecode(body, text=True)[0])
        return out


@pytest.fixture
def call(lab, audio, tmp_path):
    c = Call(lab, tmp_path, audio)
    try:
        yield c
    finally:
        c.close()


def sent(pkts, ip):
    """RTP an endpoint sent to the relay."""
    return [p for p in pkts if (p.src, p.sport) == (ip, MEDIA_PORT)
            and p.dst == RELAY_IP]


def received(pkts, ip):
    return [p for p in pkts if (p.dst, p.dport) == (ip, MEDIA_PORT)]


def assert_relayed(pkts, src_ip, dst_ip, audio, minimum=MIN_PACKETS):
    """RTP from the endpoint at src_ip reached the one at dst_ip through
    the relay: at least `minimum` packets, all from the relay's address and
    one relay port (the one dst_ip sends to: symmetric RTP), another than
    the port src_ip sends to; each byte-identical to a packet src_ip sent,
    in the order sent, with src_ip's audio as payload. Returns them."""
    out, got = sent(pkts, src_ip), received(pkts, dst_ip)
    assert len(got) >= minimum, \
        f"{dst_ip}:{MEDIA_PORT} got {len(got)} packets, want >= {minimum} " \
        f"({len(out)} sent by {src_ip})"
    sources = {(p.src, p.sport) for p in got}
    assert len(sources) == 1, f"{dst_ip} got media from {sources}"
    (ip, port), = sources
    assert ip == RELAY_IP and PORT_MIN <= port <= PORT_MAX, \
        f"{dst_ip} got media from {ip}:{port}, not a relay port"
    back = {p.dport for p in sent(pkts, dst_ip)}
    assert back <= {port}, f"{dst_ip} sends to {back}, gets from {port}"
    to = {p.dport for p in out}
    assert len(to) == 1 and port not in to, \
        f"{src_ip} sends to {to}, {dst_ip} gets from {port}"
    stream = iter(p.data for p in out)
    assert all(p.data in stream for p in got), \
        f"what {dst_ip} got is not, byte for byte and in order, what " \
        f"{src_ip} sent"
    ring = audio + audio[:PTIME_BYTES]
    assert all(len(p.data) == 12 + PTIME_BYTES and p.data[12:] in ring
               for p in got), f"{dst_ip} got a payload {src_ip} never sent"
    return got


def assert_both_ways(call, pkts=None):
    pkts = call.media() if pkts is None else pkts
    assert_relayed(pkts, CALLER_IP, CALLEE_IP, call.audio["caller"][1])
    assert_relayed(pkts, CALLEE_IP, CALLER_IP, call.audio["callee"][1])
    return pkts


def assert_relay_idle(lab):
    until(lambda: (not lab.ng.calls(), lab.ng.calls()), 2,
          "the relay to hold no call")


# --- tests -------------------------------------------------------------------

def test_kamcmd_shows_and_pings_the_relay(lab):
    show = lab.kamcmd("rtpengine.show", "all").stdout
    assert f"url: {RELAY_URL}" in show and "disabled: 0" in show, show
    ping = lab.kamcmd("rtpengine.ping", "all").stdout
    assert "status: success" in ping, ping


def test_disabled_relay_refuses_calls_instead_of_bypassing(lab, call):
    """With the relay disabled (kamcmd rtpengine.enable ... 0), the offer
    fails; the configuration answers 503 rather than let the callee answer
    an SDP that bypasses the relays. Enabling pings the relay first."""
    try:
        r = lab.kamcmd("rtpengine.enable", RELAY_URL, "0").stdout
        assert "status: disable" in r, r
        show = lab.kamcmd("rtpengine.show", "all").stdout
        assert "disabled: 1(permanent)" in show, show
        call.run("uac_reject.xml", None)
    finally:
        r = lab.kamcmd("rtpengine.enable", RELAY_URL, "1").stdout
    assert "status: enable" in r, r
    assert "disabled: 0" in lab.kamcmd("rtpengine.show", "all").stdout
    msgs = call.sip()
    assert {m.status for m in msgs if m.dst == CALLER_IP} == {100, 503}, msgs
    assert not [m for m in msgs if m.dst == CALLEE_IP], msgs
    assert not call.ng(), "the module sent a disabled relay a request"
    assert_relay_idle(lab)


def test_basic_call(lab, call):
    call.run("uac_call.xml", "uas_call.xml")
    assert_both_ways(call)
    cmds = [r["command"] for r in call.ng()]
    assert cmds[:2] == ["offer", "answer"] and cmds[-1] == "delete", cmds
    assert_relay_idle(lab)


def test_early_media_reaches_the_caller_before_the_200(lab, call):
    call.run("uac_call.xml", "uas_early.xml")
    pkts = assert_both_ways(call)
    t200 = call.sip_at(PROXY_IP, CALLER_IP, 1, status=200)
    early = [p for p in received(pkts, CALLER_IP) if p.t < t200]
    assert len(early) >= MIN_PACKETS, \
        f"{len(early)} packets of early media reached the caller"
    first = min(p.t for p in sent(pkts, CALLER_IP))
    assert first > t200, "the caller spoke before the 200"
    assert_relay_idle(lab)


def test_hold_and_unhold_both_ways(lab, call):
    call.run("uac_hold.xml", "uas_hold.xml")
    pkts = assert_both_ways(call)

    def count(ip, start, end):
        return len([p for p in received(pkts, ip) if start < p.t < end])
    # The caller holds the callee (CSeq 2) and resumes (CSeq 3); then the
    # callee holds the caller (CSeq 101) and resumes (CSeq 102). The held
    # side's SIPp stops its stream from the hold INVITE to the resume ACK.
    # 20 ms after the ACK, nothing it sent can still be in flight.
    for holder, held, hold, resume in ((CALLER_IP, CALLEE_IP, 2, 3),
                                       (CALLEE_IP, CALLER_IP, 101, 102)):
        start = call.sip_at(holder, PROXY_IP, hold, method="ACK") + 0.02
        end = call.sip_at(holder, PROXY_IP, resume, method="INVITE")
        assert end - start > 0.5
        assert count(holder, start, end) == 0, \
            f"{holder} got media while it held {held}, whose SIPp had " \
            f"stopped its stream"
        assert count(held, start, end) >= MIN_PACKETS, \
            f"{held} got no media from {holder} (sendonly) while held"
    # Both directions flow again after each resume.
    after = call.sip_at(CALLER_IP, PROXY_IP, 3, method="ACK")
    before = call.sip_at(CALLEE_IP, PROXY_IP, 101, method="INVITE")
    assert count(CALLER_IP, after, before) >= 10
    after = call.sip_at(CALLEE_IP, PROXY_IP, 102, method="ACK")
    assert len([p for p in received(pkts, CALLEE_IP) if p.t > after]) >= 10
    assert_relay_idle(lab)


def test_query_mid_call_and_rtpstat_on_bye(lab, call):
    # The SIPp scenarios check the INFO's reply (X-RTP-Query: ok, and
    # $rtpstat) and the BYE's X-RTP-Stat.
    call.run("uac_query.xml", "uas_query.xml")
    assert_both_ways(call)
    cmds = [r["command"] for r in call.ng()]
    assert cmds.count("query") >= 3, cmds   # INFO: 2, BYE: 1
    assert_relay_idle(lab)


def test_nat_caller_gets_early_media_at_its_sip_source(lab, call):
    call.run("uac_call.xml", "uas_early.xml", nat="yes", sdp_ip=NAT_SDP_IP)
    pkts = assert_both_ways(call)
    offer = call.ng()[0]
    assert offer["command"] == "offer" and \
        "SIP-source-address" in offer.get("flags", []) and \
        offer["received-from"] == ["IP4", CALLER_IP], offer
    # Before the caller spoke, the relay could only know its address from
    # the SIP source: media arriving then went there, not to the SDP's.
    first = min(p.t for p in sent(pkts, CALLER_IP))
    early = [p for p in received(pkts, CALLER_IP) if p.t < first]
    assert len(early) >= MIN_PACKETS, \
        f"{len(early)} packets reached the NAT'd caller before it spoke"
    assert_relay_idle(lab)


def test_nat_caller_without_the_flag_gets_media_once_it_spoke(lab, call):
    call.run("uac_call.xml", "uas_early.xml", nat="no", sdp_ip=NAT_SDP_IP)
    pkts = assert_both_ways(call)
    offer = call.ng()[0]
    assert "SIP-source-address" not in offer.get("flags", []), offer
    # The early media went to the SDP's address, which has no route here;
    # the caller gets media once its own RTP latched the relay to it.
    first = min(p.t for p in sent(pkts, CALLER_IP))
    early = [p for p in received(pkts, CALLER_IP) if p.t < first]
    assert not early, f"{len(early)} packets reached the caller before " \
        "it spoke, without SIP-source-address"
    assert_relay_idle(lab)


def test_explicit_api_basic_call(lab, call):
    call.run("uac_call.xml", "uas_call.xml", api="explicit")
    assert_both_ways(call)
    invite = [m for m in call.sip() if m.method == "INVITE"
              and m.dst == CALLEE_IP]
    assert invite and "rtpapi=explicit" in invite[0].rr, invite
    cmds = [r["command"] for r in call.ng()]
    assert cmds[:2] == ["offer", "answer"] and cmds[-1] == "delete", cmds
    assert_relay_idle(lab)


@pytest.mark.parametrize("api", ["manage", "explicit"])
def test_rejected_call_leaves_nothing_on_the_relay(lab, call, api):
    call.run("uac_reject.xml", "uas_reject.xml", api=api)
    final = {m.status for m in call.sip() if m.dst == CALLER_IP
             and m.status >= 300}
    assert final == {486}, final
    reqs = call.ng()
    assert [r["command"] for r in reqs] == ["offer", "delete"], reqs
    assert not call.media()
    assert_relay_idle(lab)
    cid = reqs[0]["call-id"]
    r = lab.ng("query", call_id=cid)
    assert r["result"] == "error", r
    # A second delete (a CANCEL crossing a failure, a retransmitted BYE)
    # is not an error for rtpengine: ok, with a warning.
    r = lab.ng("delete", call_id=cid, from_tag=reqs[0]["from-tag"])
    assert r["result"] == "ok" and "warning" in r, r

