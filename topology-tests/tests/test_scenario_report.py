"""The scenario report (scenlib/report.py) from hand-made rtpmeter
reports: which streams count, the numbers, the verdict against the
budget, pooling over repeats, the table. No root, no lab."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from scenlib import report  # noqa: E402

FAULT = 1_700_000_000_000_000_000
MS = 1_000_000
TTL = {246: "M1", 238: "M2"}


def stream(call, direction="a->b", gap=20.0, open_=False, broken=False,
           unserved=False, ttl_before=246, ttl_last=246, lost=0,
           received=150, first=-400.0):
    """One direction as rtpmeter reports it (the fields report.py reads)."""
    flowed = not unserved
    return {
        "id": 2 * call + (direction == "b->a"), "call": call,
        "call_id": f"c-{call}", "direction": direction, "ssrc": 1000 + call,
        "sent": received + lost, "received": received if flowed else 0,
        "lost": lost if flowed else received + lost, "duplicates": 0,
        "first_arrival_ns": FAULT + int(first * MS) if flowed else None,
        "last_arrival_ns": FAULT + 3000 * MS if flowed else None,
        "max_gap_ms": gap if flowed else None,
        "post_fault_gap_ms": gap if flowed else None,
        "post_fault_gap_start_ms": 10.0 if flowed else None,
        "post_fault_gap_open": open_, "long_gaps": int(gap >= 100),
        "broken": broken or unserved, "unserved": unserved,
        "ttl_before_fault": ttl_before if flowed else None,
        "ttl_last": ttl_last if flowed else None,
    }


def meter(streams, fault=True):
    return {"run": {"fault_ns": FAULT if fault else None,
                    "stop_after_fault_ms": 3000.0, "warnings": []},
            "streams": streams}


def rows(meters, touched=("M1",)):
    return report.stream_rows(meters, TTL, touched)


def test_unserved_streams_are_counted_apart():
    m1 = meter([stream(0), stream(0, "b->a", unserved=True),
                stream(1, gap=25.0)])
    s = report.summarize(rows([("M1", m1)], touched=()))
    assert (s["served"], s["unserved"], s["streams_total"]) == (2, 1, 3)
    # The unserved direction lost all its packets and is "broken" for
    # rtpmeter, yet it judges nothing: no loss, no broken session.
    assert s["lost_packets"] == 0
    assert s["streams_broken"] == 0 and s["sessions_broken"] == 0
    assert s["worst_gap_ms"] == 25.0
    assert s["verdict"] == "pass"


def test_unserved_streams_are_failures_with_shared_state():
    """With shared state every relay knows every call: a direction that
    never flowed is a broken session, and its packets are lost, on a
    relay the fault did not touch."""
    m1 = meter([stream(0), stream(0, "b->a", unserved=True),
                stream(1, gap=25.0), stream(2, first=+150.0, lost=8)])
    s = report.summarize(rows([("M1", m1)], touched=()), shared_state=True)
    assert (s["served"], s["unserved"]) == (2, 2)
    assert s["lost_packets"] == 158 and s["untouched_lost"] == 158
    # The one that first flowed after the mark counts as broken too: the
    # call was not working when the fault came.
    assert s["streams_broken"] == 2 and s["sessions_broken"] == 2
    assert s["untouched_broken"] == 2
    assert s["worst_gap_ms"] == 25.0		# no gap of its own
    assert s["verdict"] == "must-fail"
    rep = report.scenario_report("baseline", "pair", [
        {"rows": rows([("M1", m1)], touched=())}], shared_state=True)
    assert rep["shared_state"] is True and rep["sessions_broken"] == 2


def test_untouched_streams_moving_between_healthy_relays():
    """A rehash moves M2's stream to M1 (both healthy): still untouched,
    counted in untouched_moved, and its loss in untouched_lost."""
    m1 = meter([stream(0, gap=300.0, ttl_last=238)])		# M1 -> M2
    m2 = meter([stream(0, ttl_before=238, ttl_last=246, gap=45.0, lost=2),
                stream(1, ttl_before=238, ttl_last=238)])
    s = report.summarize(rows([("M1", m1), ("M2", m2)]), shared_state=True)
    assert s["moved"] == 2 and s["untouched_moved"] == 1
    # One that moved and came back by the end (rehash): the TTL changed.
    m2["streams"][1]["ttl_changes"] = 2
    s = report.summarize(rows([("M1", m1), ("M2", m2)]), shared_state=True)
    assert s["moved"] == 2 and s["untouched_moved"] == 2
    assert s["untouched_lost"] == 2 and s["touched"] == 1
    assert s["sessions_broken"] == 0 and s["verdict"] == "pass"


def test_only_losses_after_the_mark_are_the_faults():
    """rtpmeter splits losses at the mark: what was lost before (call
    set-up) is reported apart and judges nothing."""
    a = dict(stream(0, lost=5), lost_after_fault=2)
    b = dict(stream(1, ttl_before=238, ttl_last=238, lost=1),
             lost_after_fault=0)
    r = rows([("M1", meter([a, b]))])
    assert [(x["lost"], x["lost_before_fault"]) for x in r] == \
        [(2, 3), (0, 1)]
    s = report.summarize(r)
    assert s["lost_packets"] == 2 and s["lost_before_fault"] == 4
    assert s["untouched_lost"] == 0		# M2's was before the mark
    rep = report.scenario_report("drain", "pair", [{"rows": r}])
    assert rep["lost_packets"] == 2 and rep["lost_before_fault"] == 4


def test_a_stream_first_flowing_after_the_mark_is_unserved():
    m1 = meter([stream(0), stream(1, first=+50.0)])
    r = rows([("M1", m1)])
    assert [x["served"] for x in r] == [True, False]


def test_relay_crash_without_shared_state():
    """M1's streams never resume, M2's carry on: must-fail, and the
    untouched streams show nothing lost."""
    m1 = meter([stream(0, gap=3000.0, open_=True, broken=True, lost=150,
                       ttl_last=None),
                stream(0, "b->a", gap=3000.0, open_=True, broken=True,
                       lost=150),
                stream(1, gap=3000.0, open_=True, broken=True, lost=150)])
    m2 = meter([stream(0, ttl_before=238, ttl_last=238, gap=21.0),
                stream(1, ttl_before=238, ttl_last=238, gap=22.0)])
    s = report.summarize(rows([("M1", m1), ("M2", m2)]))
    assert s["streams_broken"] == 3
    assert s["sessions_broken"] == 2		# calls c-0 and c-1 on M1
    assert s["touched"] == 3
    assert s["worst_gap_ms"] == 3000.0 and s["worst_gap_open"]
    assert s["median_gap_ms"] == 3000.0 and s["median_of"] == "touched"
    assert s["worst_resumed_gap_ms"] == 22.0
    assert s["untouched_lost"] == 0 and s["untouched_broken"] == 0
    assert s["lost_packets"] == 450
    assert s["verdict"] == "must-fail"


def test_same_call_id_on_two_relays_is_two_sessions():
    m1 = meter([stream(0, broken=True, gap=2000.0, open_=True)])
    m2 = meter([stream(0, broken=True, gap=2000.0, open_=True,
                       ttl_before=238)])
    assert report.summarize(rows([("M1", m1), ("M2", m2)]))[
        "sessions_broken"] == 2


def test_resumed_stream_counts_as_moved():
    m1 = meter([stream(0, gap=180.0, ttl_last=238)])
    s = report.summarize(rows([("M1", m1)]))
    assert s["moved"] == 1 and s["streams_broken"] == 0
    assert s["verdict"] == "pass"


def test_unknown_ttl_is_not_a_relay():
    m1 = meter([stream(0, ttl_before=99)])
    r = rows([("M1", m1)])[0]
    assert r["relay_before"] == "?" and not r["touched"]


@pytest.mark.parametrize("gap,broken,want", [
    (20.0, False, "pass"),
    (500.0, False, "pass"),		# the budget itself passes
    (500.001, False, "should-fail"),
    (2000.0, False, "should-fail"),
    (2000.001, False, "must-fail"),
    (30.0, True, "must-fail"),	# never resumed, whatever the gap
])
def test_verdict_follows_the_numbers(gap, broken, want):
    m1 = meter([stream(0, gap=gap, broken=broken, open_=broken)])
    assert report.summarize(rows([("M1", m1)]))["verdict"] == want
    assert report.verdict(gap, int(broken)) == want


def test_nothing_served_is_an_error():
    m1 = meter([stream(0, unserved=True), stream(1, unserved=True)])
    with pytest.raises(report.ReportError, match="none of 2"):
        report.summarize(rows([("M1", m1)]))


def test_repeats_pool_and_keep_each_run():
    run0 = {"rows": rows([("M1", meter([stream(0, gap=120.0),
                                        stream(1, gap=140.0)]))]),
            "route_events": [{"router": "R", "ms": 101.5, "route": "x"},
                             {"router": "R", "ms": -5.0, "route": "y"}]}
    run1 = {"rows": rows([("M1", meter([stream(0, gap=700.0),
                                        stream(1, gap=100.0)]))]),
            "route_events": []}
    rep = report.scenario_report("relay-crash", "pair", [run0, run1],
                                 target="M1")
    assert rep["schema"] == "lab-scenario/1"
    for key in ("scenario", "topology", "repeat", "worst_gap_ms",
                "median_gap_ms", "lost_packets", "sessions_broken",
                "untouched_lost", "streams", "budget_ms", "verdict"):
        assert key in rep, key
    assert rep["repeat"] == 2
    assert rep["budget_ms"] == {"must": 2000, "should": 500}
    assert [r["worst_gap_ms"] for r in rep["runs"]] == [140.0, 700.0]
    assert [r["verdict"] for r in rep["runs"]] == ["pass", "should-fail"]
    assert rep["worst_gap_ms"] == 700.0 and rep["verdict"] == "should-fail"
    assert rep["median_gap_ms"] == 130.0	# of 100, 120, 140, 700
    assert rep["runs"][0]["first_route_change_ms"] == 101.5
    assert rep["runs"][1]["first_route_change_ms"] is None
    assert rep["first_route_change_ms"] == 101.5
    assert {s["run"] for s in rep["streams"]} == {0, 1}


def test_table():
    rep = report.scenario_report("baseline", "pair", [
        {"rows": rows([("M1", meter([stream(0, gap=21.4)]))], ())}])
    err = {"scenario": "flap", "repeat": 0, "verdict": "error",
           "error": "x"}
    text = report.table([rep, err])
    lines = text.splitlines()
    assert lines[0].split()[0] == "scenario"
    assert lines[1].split() == ["baseline", "1", "1/0", "21", "21", "0",
                                "0", "(0)", "0", "-", "pass"]
    assert lines[2].split()[-1] == "error"
    md = report.table([rep], markdown=True)
    assert md.startswith("| scenario | runs |")
    assert "| baseline | 1 | 1/0 | 21 | 21 | 0 | 0 (0) | 0 | - | pass |" \
        in md
    broken = report.scenario_report("relay-crash", "pair", [
        {"rows": rows([("M1", meter([stream(0, gap=3000.0, open_=True,
                                            broken=True)]))])}])
    assert " >3000 " in report.table([broken])


TSHARK = """\
========================= RTP Streams ========================
   Start time      End time     Src IP addr  Port    Dest IP addr  Port       SSRC          Payload  Pkts         Lost   Min Delta(ms)  Mean Delta(ms)   Max Delta(ms)  Min Jitter(ms) Mean Jitter(ms)  Max Jitter(ms) Problems?
     0.014226      1.054230    203.0.113.10 30090    198.51.100.5 60851 0x000003E8            g711U    53     0 (0.0%)          19.757          20.000          20.219           0.000           0.015           0.041 
     0.007567      4.047553    203.0.113.10 30086    198.51.100.5 59074 0x000003E9   ITU-T G.711 PCMU   140    -2 (-1.4%)          0.003          25.900        1238.851           0.001           0.012           9.046 X
==============================================================
"""


def test_tshark_streams_parsed_and_compared():
    from scenlib import crosscheck
    got = crosscheck.parse(TSHARK)
    assert set(got) == {("198.51.100.5:60851", 1000),
                        ("198.51.100.5:59074", 1001)}
    a = got[("198.51.100.5:60851", 1000)]
    assert (a["pkts"], a["lost"], a["max_delta_ms"], a["problem"]) == \
        (53, 0, 20.219, False)
    b = got[("198.51.100.5:59074", 1001)]
    assert (b["pkts"], b["lost"], b["max_delta_ms"], b["problem"]) == \
        (140, -2, 1238.851, True)
    s0 = dict(stream(0, gap=20.219, received=53), dst="198.51.100.5:60851")
    s1 = dict(stream(1, gap=1238.0, received=140), dst="198.51.100.5:59074")
    s2 = dict(stream(2, broken=True), dst="198.51.100.5:1")	# not compared
    s3 = dict(stream(3), dst="198.51.100.5:2")			# not captured
    cc = crosscheck.compare([meter([s0, s1, s2, s3])], got)
    assert cc["compared"] == 2 and cc["missing_in_capture"] == 1
    assert cc["max_abs_diff_ms"] == 0.851
    assert cc["packet_mismatches"] == 0
    assert cc["rows"][0]["tshark_max_delta_ms"] == 1238.851


def test_timeline_svg():
    import xml.etree.ElementTree as ET
    from scenlib import timeline
    m1 = meter([stream(0, gap=3000.0, open_=True, broken=True),
                stream(1, gap=700.0), stream(2, gap=21.0),
                stream(3, unserved=True)])
    rep = report.scenario_report("relay-crash", "pair", [
        {"rows": rows([("M1", m1)]),
         "route_events": [{"router": "R", "ms": 101.5, "route": "x"}],
         "actions": ["SIGKILL rtprelay"]}], target="M1")
    svg = timeline.render(rep)
    root = ET.fromstring(svg)		# well-formed
    ns = "{http://www.w3.org/2000/svg}"
    fills = [r.get("fill") for r in root.iter(ns + "rect")]
    assert fills.count("url(#open)") == 1		# the broken one
    assert fills.count("#e67e22") == 1		# 700 ms: over SHOULD
    text = " ".join(t.text or "" for t in root.iter(ns + "text"))
    assert "must-fail" in text and "R route +102 ms" in text
    assert "1 unserved directions" in text
    assert "carried by M1 before the fault (3)" in text
