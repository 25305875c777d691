"""An independent check of rtpmeter: a packet capture on the client's link
read by tshark (`-z rtp,streams`), compared stream by stream with the
meter's own numbers.

tshark's "Max Delta" is the largest interval between two consecutive
packets of a stream in capture order, from the capture's timestamps; the
meter's gap is the largest interval between two consecutive arrivals
(kernel receive timestamps), plus the trailing silence when a stream
died. So the comparison covers the directions that were served and
resumed (a broken one's largest "gap" is its silence up to the end, which
no capture can show), and it compares packets: tshark's count against the
meter's received plus duplicates.
"""

import re
import subprocess

# One stream line of `tshark -q -z rtp,streams` (Wireshark 4.0).
LINE = re.compile(
    r"^\s*(?P<start>[\d.]+)\s+(?P<end>[\d.]+)\s+"
    r"(?P<src>\S+)\s+(?P<sport>\d+)\s+(?P<dst>\S+)\s+(?P<dport>\d+)\s+"
    r"(?P<ssrc>0x[0-9A-Fa-f]+)\s+(?P<payload>.+?)\s+(?P<pkts>\d+)\s+"
    r"(?P<lost>-?\d+)\s+\((?P<lost_pct>[-\d.]+)%\)\s+"
    r"(?P<min_delta>[\d.]+)\s+(?P<mean_delta>[\d.]+)\s+"
    r"(?P<max_delta>[\d.]+)\s+(?P<min_jitter>[\d.]+)\s+"
    r"(?P<mean_jitter>[\d.]+)\s+(?P<max_jitter>[\d.]+)"
    r"(?:\s+(?P<problem>X))?\s*$")


def capture_argv(iface, vip, path):
    """dumpcap in the client's namespace: only what the relays send."""
    return ["dumpcap", "-i", iface, "-f", f"udp and src host {vip}",
            "-w", path, "-q"]


def tshark_streams(pcap):
    """The text of `tshark -r pcap -q -z rtp,streams` with RTP found by
    its heuristic (no SDP in the capture: the meter's ng is elsewhere)."""
    p = subprocess.run(["tshark", "-r", pcap, "-q", "-o",
                        "rtp.heuristic_rtp:TRUE", "-z", "rtp,streams"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"tshark -r {pcap}: exit {p.returncode}: "
                           f"{p.stderr.strip()[-300:]}")
    return p.stdout


def parse(text):
    """{(dst "ip:port", ssrc int): stream dict} from tshark's output."""
    out = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        d = m.groupdict()
        key = (f"{d['dst']}:{d['dport']}", int(d["ssrc"], 16))
        out[key] = {"src": f"{d['src']}:{d['sport']}",
                    "pkts": int(d["pkts"]), "lost": int(d["lost"]),
                    "max_delta_ms": float(d["max_delta"]),
                    "problem": d["problem"] is not None}
    return out


def compare(meter_reports, streams):
    """Compare the served, resumed directions of the meters' reports
    (rtpmeter JSON dicts) with tshark's streams. Returns a dict with one
    row per direction and the largest differences."""
    rows = []
    missing = 0
    for rep in meter_reports:
        fault = rep["run"].get("fault_ns")
        for s in rep["streams"]:
            if s.get("unserved") or s["received"] == 0 or s["broken"]:
                continue
            if fault is not None and s["first_arrival_ns"] > fault:
                continue
            t = streams.get((s["dst"], s["ssrc"]))
            if t is None:
                missing += 1
                continue
            rows.append({"call_id": s["call_id"],
                         "direction": s["direction"],
                         "meter_max_gap_ms": s["max_gap_ms"],
                         "tshark_max_delta_ms": t["max_delta_ms"],
                         "diff_ms": round(t["max_delta_ms"] -
                                          s["max_gap_ms"], 3),
                         "meter_packets": s["received"] + s["duplicates"],
                         "tshark_packets": t["pkts"],
                         "meter_lost": s["lost"], "tshark_lost": t["lost"]})
    return {
        "compared": len(rows),
        "missing_in_capture": missing,
        "max_abs_diff_ms": max((abs(r["diff_ms"]) for r in rows),
                               default=None),
        "packet_mismatches": sum(1 for r in rows
                                 if r["meter_packets"] != r["tshark_packets"]),
        "rows": sorted(rows, key=lambda r: -r["meter_max_gap_ms"]),
    }
