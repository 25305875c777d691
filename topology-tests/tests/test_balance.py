"""The balance scenario's arithmetic (scenlib/balance.py) on the draft's
figure and on hand-made meter reports: the fabric's next hops, FRR's
kernel weights, the expected shares, counting streams by TTL and packets
by link, the verdict, the table; no root, no lab. And the scenario itself
on a real `pair` lab (root and FRR, about 25 s; skipped otherwise)."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from labnet import topology  # noqa: E402
from scenlib import balance as bal  # noqa: E402

TOPO_DIR = os.path.join(os.path.dirname(__file__), "..", "topologies")
RELAYS = ["M1", "M2", "M3", "M4", "M5"]


@pytest.fixture
def fig():
    return topology.load(os.path.join(TOPO_DIR, "draft-fig.yaml"))


def test_dag_and_cumulative(fig):
    dag = bal.fabric_dag(fig, RELAYS)
    assert sorted(dag["A"]) == ["B", "C"]
    assert sorted(dag["B"]) == ["M1", "M2"]
    assert sorted(dag["C"]) == ["M3", "M4", "M5"]
    cum = bal.cumulative(dag, {r: 100 for r in RELAYS})
    assert (cum["A"], cum["B"], cum["C"]) == (500, 200, 300)
    # M1 withdrawn: B's only next hop is M2.
    dag = bal.fabric_dag(fig, ["M2", "M3", "M4", "M5"])
    assert dag["B"] == ["M2"]


def test_predicted_kernel_is_frrs_arithmetic(fig):
    dag = bal.fabric_dag(fig, RELAYS)
    w = {r: 100 for r in RELAYS}
    # What the lab measured on draft-fig (frr-conf/README.md).
    assert bal.predicted_kernel(dag, w, True) == {
        "A": {"B": 40, "C": 60}, "B": {"M1": 50, "M2": 50},
        "C": {"M3": 33, "M4": 33, "M5": 33}}
    assert bal.predicted_kernel(dag, w, False)["A"] == {"B": 1, "C": 1}
    # failoverctl weight M1 200 (seen in the lab: A 50/50, B 66/33).
    w["M1"] = 200
    k = bal.predicted_kernel(dag, w, True)
    assert k["A"] == {"B": 50, "C": 50}
    assert k["B"] == {"M1": 66, "M2": 33}


def test_expected_shares(fig):
    dag = bal.fabric_dag(fig, RELAYS)
    w = {r: 100 for r in RELAYS}
    ecmp = bal.expected_shares(fig, "A", bal.predicted_kernel(dag, w,
                                                               False))
    assert ecmp["M1"] == pytest.approx(0.25)
    assert ecmp["M5"] == pytest.approx(1 / 6)
    weighted = bal.expected_shares(fig, "A",
                                   bal.predicted_kernel(dag, w, True))
    for r in RELAYS:
        assert weighted[r] == pytest.approx(0.2)
    assert sum(weighted.values()) == pytest.approx(1.0)
    with pytest.raises(bal.BalanceError, match="B has no route"):
        bal.expected_shares(fig, "A", {"A": {"B": 1}, "B": {}})


def test_kernel_weights_from_nexthops(fig):
    nhs = [{"gateway": "198.51.100.1", "dev": "eth-B", "weight": 40},
           {"gateway": "198.51.100.3", "dev": "eth-C", "weight": 60}]
    assert bal.kernel_weights(fig, "A", nhs) == {"B": 40, "C": 60}
    with pytest.raises(bal.BalanceError, match="unknown device eth-X"):
        bal.kernel_weights(fig, "A", [{"dev": "eth-X", "weight": 1}])


def meter(ttls):
    """An rtpmeter report whose directions have (before, last) TTLs."""
    return {"streams": [{"ttl_before_fault": b, "ttl_last": a}
                        for b, a in ttls]}


def test_stream_counts_by_ttl():
    ttl_map = {245: "M1", 237: "M2"}
    reps = [meter([(245, 245), (245, 237), (237, 237)]),
            meter([(237, None), (None, None), (99, 245)])]
    counts, lost = bal.stream_counts(reps, ttl_map, "ttl_before_fault")
    assert counts == {"M1": 2, "M2": 2} and lost == 2
    counts, lost = bal.stream_counts(reps, ttl_map, "ttl_last")
    assert counts == {"M1": 2, "M2": 2} and lost == 2
    s = bal.shares(counts, ["M1", "M2", "M3"])
    assert s == {"M1": 0.5, "M2": 0.5, "M3": 0.0}
    with pytest.raises(bal.BalanceError, match="nothing measured"):
        bal.shares({}, ["M1"])


def test_packet_counts_less_idle():
    before = {"M1": 1000, "M2": 5000}
    after = {"M1": 3100, "M2": 5150}
    assert bal.packet_counts(before, after) == {"M1": 2100, "M2": 150}
    # 20 packets/s of BFD over 5 s come off; never below 0.
    assert bal.packet_counts(before, after, {"M1": 20.0, "M2": 40.0},
                             5.0) == {"M1": 2000, "M2": 0}


def test_judge():
    exp = {r: 0.2 for r in RELAYS}
    ok, worst, dev = bal.judge({"M1": 0.21, "M2": 0.19, "M3": 0.2,
                                "M4": 0.2, "M5": 0.2}, exp)
    assert ok and worst == pytest.approx(1.0) and dev["M2"] == -1.0
    ok, worst, _ = bal.judge({"M1": 0.25, "M2": 0.25, "M3": 1 / 6,
                              "M4": 1 / 6, "M5": 1 / 6}, exp)
    assert not ok and worst == pytest.approx(5.0)


def test_table_and_markdown():
    ph = {"shares": {"M1": 0.25, "M2": 0.75},
          "expected": {"M1": 0.25, "M2": 0.75},
          "counts": {"M1": 10, "M2": 30}, "worst_points": 0.0}
    rep = {"relays": ["M1", "M2"], "method": "ttl", "tolerance_points": 2.0,
           "verdict": "pass", "phases": {"ecmp": ph, "weighted": ph}}
    text = bal.table(rep)
    assert text.splitlines()[0].split() == [
        "relay", "ecmp", "expected", "weighted", "expected", "streams",
        "ecmp", "streams", "weighted"]
    assert text.splitlines()[1].split() == [
        "M1", "25.0%", "25.0%", "25.0%", "25.0%", "10", "10"]
    assert "measured by ttl" in text and text.endswith("pass\n")
    assert "| M2 | 75.0% | 75.0% | 75.0% | 75.0% |" in bal.markdown(rep)


# --- the scenario on a real lab ------------------------------------------

def _lab_ready():
    if os.geteuid() != 0:
        return "needs root: network namespaces and FRR"
    from labnet import lab as labmod
    from scenlib import runner
    if labmod.can_run() is not None:
        return f"lab cannot run: {labmod.can_run()}"
    if any(not os.access(os.path.join(runner.BIN, b), os.X_OK)
           for b in ("rtprelay", "failoverd", "rtpmeter", "failoverctl")):
        return "build/bin incomplete: run make first"
    return None


@pytest.mark.skipif(_lab_ready() is not None, reason=str(_lab_ready()))
def test_balance_on_pair(tmp_path):
    """`pair` with M1 at weight 300: plain ECMP gives 50:50, weights
    75:25, both measured (about 25 s). The report is consistent, the
    shares are near the kernels' (within 5 points: 2,000 directions), and
    the router gets its configured weighted ECMP back."""
    import importlib
    from labnet import lab as labmod
    from scenlib import runner
    prefix = os.environ.get("RAF_LAB_TEST_PREFIX", "raflt-")
    lab = labmod.Lab.load("pair", prefix=prefix)
    try:
        lab.up()
        ctx = runner.Context(lab)
        ctx.failoverctl("M1", "weight", "media", "300")
        lab.wait_nexthops("R", "203.0.113.10", 2, weights=[25, 75])
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
        cls = importlib.import_module("scenarios.balance").SCENARIO
        reports, rc = runner.run_all(lab, [cls], calls=500,
                                     out_dir=str(tmp_path))
        rep = reports[0]
        assert "error" not in rep, rep.get("error")
        assert rep["schema"] == bal.SCHEMA and rep["calls"] == 1000
        assert set(rep["shares"]) == {"ecmp", "weighted"}
        assert rep["expected"]["ecmp"] == {"M1": 0.5, "M2": 0.5}
        assert rep["expected"]["weighted"] == {"M1": 0.75, "M2": 0.25}
        for phase in ("ecmp", "weighted"):
            got, want = rep["shares"][phase], rep["expected"][phase]
            assert sum(got.values()) == pytest.approx(1.0)
            for r in ("M1", "M2"):
                assert abs(got[r] - want[r]) < 0.05, (phase, got)
        assert rep["verdict"] == ("pass" if rep["phases"]["weighted"][
            "worst_points"] <= 2.0 else "fail")
        assert rc == (0 if rep["verdict"] == "pass" else 1)
        assert rep["runs"][0]["relay_weights"] == {"M1": 300, "M2": 100}
        with open(tmp_path / "balance.json") as f:
            assert json.load(f)["shares"] == rep["shares"]
        # Weighted ECMP is back as configured.
        assert "bandwidth ignore" not in lab.vtysh("R").run(
            "show running-config")
        lab.wait_nexthops("R", "203.0.113.10", 2, weights=[25, 75])
        ctx.failoverctl("M1", "weight", "media", "auto")
        lab.wait_nexthops("R", "203.0.113.10", 2, weights=[50, 50])
    finally:
        lab.down()
    assert labmod.leftovers(prefix) == []
