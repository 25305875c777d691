"""balance: each relay's share of the streams with plain ECMP and with
link-bandwidth weights (docs/weights.md).

The draft's figure (draft-fig) is the point: Router A sees two next hops,
B with two relays behind it and C with three. Plain ECMP splits 1:1 at A,
so M1 and M2 carry 25% each and M3-M5 16.7%; with weights B announces the
sum of its relays' bandwidths (200) and C 300, A splits 40:60 and every
relay carries 20%.

One run:
 1. every router gets `bgp bestpath bandwidth ignore` (plain ECMP) and
    the scenario waits until the kernels show equal next-hop weights;
 2. rtpmeter creates 1,000 calls per relay (unless --calls is given:
    5,000 on draft-fig), through the target relay with shared state,
    else through each relay its share; every endpoint on
    its own source port, with a=rtcp-mux so that shared-state relays,
    which hold every call, need two sockets a call (the open-files limit
    is 20,000), and one packet a second per direction (10,000 streams,
    10 kpps: the shares, not the load, are measured);
 3. once every meter is ready: the routers' per-link packet counters are
    read over a window; then the meters' fault mark, the routers go back
    to weighted ECMP (`no bgp bestpath bandwidth ignore`), the scenario
    waits until the kernels hold the weights FRR computes from the
    relays' announced weights, and the counters are read over a second
    window; the meters stop;
 4. the routers get their configured setting back.

Shares: with shared session state (a Redis node in the topology) each
direction's TTL names the relay that forwarded it (the last packet before
the mark for the ECMP phase, the last of the run for the weighted one).
Without it most directions reach a relay that does not know their call and
are never forwarded, so the shares are the routers' packet counters
(every stream sends one packet a second). Both are in the report. Verdict: pass when, with weights, every relay is
within 2 points of the share its routers' kernel weights give (20% each on
draft-fig with equal relay weights).
"""
import json
import os
import signal
import time

from labnet import netns, wait
from scenlib import balance as bal
from scenlib.runner import Meter, ScenarioError, log
from scenlib.scenario import Scenario

CALLS_PER_RELAY = 1000
WINDOW_S = 5.0		# counter window per phase
IDLE_S = 2.0		# counters without media, to subtract BFD and BGP
PTIME_MS = 1000
METER_ARGS = ["--ptime", str(PTIME_MS), "--rtcp-mux", "--call-rate", "500",
              "--settle", "3s", "--ready-timeout", "30s",
              "--duration", "600s", "--broken-after", "3s",
              "--drain", "1500ms", "--ng-timeout", "1000", "--ng-tries", "3",
              "--ping-wait", "5s"]


class Balance(Scenario):
    name = "balance"
    description = ("share of the streams per relay, plain ECMP vs "
                   "link-bandwidth weights")

    def touched(self, ctx):
        return []

    def inject(self, ctx):
        raise ScenarioError("balance runs itself (run_report)")

    # --- the routers ---------------------------------------------------

    def set_weighted(self, ctx, weighted):
        """Weighted ECMP on or off on every router (weighted=None: as the
        topology configures each)."""
        for r in ctx.topo.routers:
            on = r.weighted_ecmp if weighted is None else weighted
            ctx.lab.vtysh(r.name).config(
                f"router bgp {r.asn}",
                ("no " if on else "") + "bgp bestpath bandwidth ignore")

    def kernel(self, ctx):
        return {r.name: bal.kernel_weights(ctx.topo, r.name,
                                           ctx.lab.nexthops(r.name, ctx.vip))
                for r in ctx.topo.routers}

    def wait_kernel(self, ctx, want, what, timeout=30):
        """Wait until every router's kernel next hops carry the weights
        want = {router: {peer: weight}}; returns them."""
        seen = {}

        def cond():
            seen.clear()
            seen.update(self.kernel(ctx))
            bad = [r for r, hops in want.items() if seen.get(r) != hops]
            if not bad:
                return True, "all as predicted"
            return False, (f"{bad[0]} has {seen.get(bad[0])}, predicted "
                           f"{want[bad[0]]}")
        wait.until(cond, timeout, what, interval=0.05)
        return dict(seen)

    def relay_weights(self, ctx):
        out = {}
        for r in ctx.relays:
            st = ctx.failoverctl(r, "-j", "status", status=True)
            out[r] = json.loads(st.stdout)["services"][0]["weight"]
        return out

    # --- the links ---------------------------------------------------------

    def link_counters(self, ctx):
        """{relay: packets its routers have sent it}: tx on the routers'
        interfaces toward each relay host."""
        want = {}
        for r in ctx.relays:
            for i in ctx.topo.nodes[r].ifaces:
                peer_if = ctx.topo.nodes[i.peer].iface_to(r).name
                want.setdefault(i.peer, {})[peer_if] = r
        out = {r: 0 for r in ctx.relays}
        for router, ifs in want.items():
            for link in netns.ip_json(ctx.lab.ns(router),
                                      ["-s", "link", "show"]):
                relay = ifs.get(link.get("ifname"))
                if relay is not None:
                    out[relay] += link["stats64"]["tx"]["packets"]
        return out

    # --- one run -------------------------------------------------------------

    def run_once(self, ctx, index, calls):
        topo = ctx.topo
        start = topo.nodes[ctx.client].ifaces[0].peer
        weights = self.relay_weights(ctx)
        dag = bal.fabric_dag(topo, ctx.relays)
        raw = os.path.join(ctx.out_dir, "raw")
        os.makedirs(raw, exist_ok=True)
        meters, reports = [], []
        run = {"calls": calls * len(ctx.relays), "relay_weights": weights,
               "warnings": []}
        try:
            self.set_weighted(ctx, False)
            k_ecmp = self.wait_kernel(
                ctx, bal.predicted_kernel(dag, weights, False),
                "equal next-hop weights (plain ECMP)")
            # What the links carry without media (BFD, BGP), to subtract.
            ca, ta = self.link_counters(ctx), time.monotonic()
            time.sleep(IDLE_S)
            cb, tb = self.link_counters(ctx), time.monotonic()
            idle = {r: (cb[r] - ca[r]) / (tb - ta) for r in ctx.relays}
            run["idle_pps"] = {r: round(v, 1) for r, v in idle.items()}
            # With shared state one meter makes every call through the
            # target relay: five relays allocating at once ran out of
            # leased port blocks (relay/repl.c leases one block at a
            # time). Without it each relay can hold only its own slice of
            # ports, so each gets its share of the calls.
            homes = [ctx.target] if shared(ctx) else list(ctx.relays)
            for home in homes:
                path = os.path.join(raw, f"balance-r{index}-{home}.json")
                meters.append(Meter(
                    ctx, home, path,
                    f"balance-{os.getpid()}-{home}-r{index}", 0,
                    args=["--calls", str(calls * len(ctx.relays) //
                                         len(homes))] + METER_ARGS))
            for m in meters:
                m.expect("ready", 120)
            c0, t0 = self.link_counters(ctx), time.monotonic()
            time.sleep(WINDOW_S)
            c1, t1 = self.link_counters(ctx), time.monotonic()
            for m in meters:
                m.mark()
            self.set_weighted(ctx, True)
            k_w = self.wait_kernel(
                ctx, bal.predicted_kernel(dag, weights, True),
                "the weighted next hops FRR computes from the relays' "
                "weights")
            for m in meters:
                m.expect("fault", 5)
            c2, t2 = self.link_counters(ctx), time.monotonic()
            time.sleep(WINDOW_S)
            c3, t3 = self.link_counters(ctx), time.monotonic()
            for m in meters:
                os.kill(m.proc.pid, signal.SIGTERM)
            for m in meters:
                reports.append(m.finish(30))
        finally:
            for m in meters:
                m.kill(ctx.lab)
            self.set_weighted(ctx, None)
        run["kernel"] = {"ecmp": k_ecmp, "weighted": k_w}
        run["expected"] = {
            "ecmp": bal.expected_shares(topo, start, k_ecmp),
            "weighted": bal.expected_shares(topo, start, k_w)}
        run["by_ttl"] = {}
        run["unattributed"] = {}
        for phase, key in (("ecmp", "ttl_before_fault"),
                           ("weighted", "ttl_last")):
            counts, lost = bal.stream_counts(reports, ctx.ttl_map, key)
            run["by_ttl"][phase] = counts
            run["unattributed"][phase] = lost
        run["by_packets"] = {
            "ecmp": bal.packet_counts(c0, c1, idle, t1 - t0),
            "weighted": bal.packet_counts(c2, c3, idle, t3 - t2)}
        run["streams"] = sum(len(r["streams"]) for r in reports)
        run["meters"] = [os.path.relpath(m.path, ctx.out_dir)
                         for m in meters]
        for home, rep in zip(homes, reports):
            run["warnings"] += [f"meter {home}: {w}"
                                for w in rep["run"]["warnings"]]
        return run

    def run_report(self, ctx, repeat):
        calls = ctx.calls if getattr(ctx, "calls_given", False) \
            else CALLS_PER_RELAY
        runs = []
        for i in range(repeat):
            log(f"balance: run {i + 1} of {repeat}: {calls} calls on each "
                f"of {len(ctx.relays)} relays")
            ctx.wait_steady()
            runs.append(self.run_once(ctx, i, calls))
            ctx.wait_steady()
        return report(ctx, runs)


def shared(ctx):
    """The relays share session state (a Redis node in the topology)."""
    return bool(getattr(ctx.topo, "shared_state", False))


def report(ctx, runs):
    """The balance report from the runs: counts pooled over the runs."""
    relays = list(ctx.relays)
    # TTLs name the relay of every direction only when every relay serves
    # every call; the link counters then also carry the relays' Redis
    # traffic, so each method is used where it is exact.
    ttl_ok = shared(ctx)
    method = "ttl" if ttl_ok else "packets"
    phases = {}
    for phase in ("ecmp", "weighted"):
        src = "by_ttl" if ttl_ok else "by_packets"
        counts = {}
        for r in runs:
            for relay, n in r[src][phase].items():
                counts[relay] = counts.get(relay, 0) + n
        expected = runs[-1]["expected"][phase]
        shares = bal.shares(counts, relays)
        ok, worst, dev = bal.judge(shares, expected)
        pk = {}
        for r in runs:
            for relay, n in r["by_packets"][phase].items():
                pk[relay] = pk.get(relay, 0) + n
        phases[phase] = {"shares": shares, "expected": expected,
                         "counts": counts, "deviation_points": dev,
                         "worst_points": worst, "within_tolerance": ok,
                         "packet_shares": bal.shares(pk, relays)}
    rep = {
        "schema": bal.SCHEMA,
        "scenario": "balance",
        "description": Balance.description,
        "topology": ctx.topo.name,
        "repeat": len(runs),
        "relays": relays,
        "calls": sum(r["calls"] for r in runs),
        "streams": sum(r["streams"] for r in runs),
        "method": method,
        "tolerance_points": bal.TOLERANCE_POINTS,
        "shares": {p: phases[p]["shares"] for p in phases},
        "expected": {p: phases[p]["expected"] for p in phases},
        "phases": phases,
        "verdict": "pass" if phases["weighted"]["within_tolerance"]
        else "fail",
        "unattributed": {p: sum(r["unattributed"][p] for r in runs)
                         for p in phases},
        "notes": [
            "ecmp: every router with `bgp bestpath bandwidth ignore`; "
            "weighted: FRR's link-bandwidth weighted ECMP with the relays' "
            "announced weights (relay_weights)",
            "method ttl (shared session state): streams counted by the "
            "relay their TTL names; packets (no shared state, so most "
            "directions reach a relay without their call): the routers' "
            "packets toward each relay over a "
            f"{WINDOW_S:g} s window, less the idle rate"],
        "runs": runs,
    }
    rep["table"] = bal.table(rep)
    rep["markdown"] = bal.markdown(rep)
    return rep


SCENARIO = Balance
