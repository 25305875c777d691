"""A scenario's report, computed from rtpmeter's JSON reports: no I/O, no
clock, no root, so the tests drive it with hand-made meter reports.

One run of a scenario has one rtpmeter per relay that takes calls (each
creates its calls through that relay's ng port: the call's "home"). Every
stream direction of every meter becomes one row. The rows are then
classified:

- served: the direction flowed before the fault mark (rtpmeter's
  `unserved` is false). A direction that never flowed is *unserved*: ECMP
  hashed its flow to a relay that does not know the call. Without shared
  session state that is how relays work, so unserved directions are
  counted apart and never enter gaps, losses or verdicts: they say nothing
  about the fault. With shared state (a Redis node: `shared_state`) every
  relay knows every call, so an unserved direction is a failure of the
  product: it counts in lost_packets, the untouched numbers, and as
  broken (its session was not working when the fault came, even if it
  flowed later); only the gap numbers leave it out (it has no gap before
  the fault to compare).
- relay_before / relay_after: the relay that forwarded the direction just
  before the mark and at the end, from the TTL it arrived with (each relay
  host has its own default TTL; `ttl_map` maps received TTL to relay).
- touched: served by a relay the scenario touched (killed, stopped,
  drained...). The others are untouched: a fault should not disturb them
  at all, and `untouched_lost` says whether it did. With shared state an
  untouched direction may still move to another healthy relay (ECMP is
  hash-threshold: a next hop that leaves or returns rehashes flows of
  others); it stays untouched, since it must lose nothing, and
  `untouched_moved` counts the untouched directions that changed relay
  at least once (the TTL they arrived with changed, rtpmeter's
  ttl_changes), also those that came back to their relay by the end.
- broken: rtpmeter's broken (silent for --broken-after when sending
  stopped): the direction never resumed.

Numbers of a run (served directions only):
- worst_gap_ms: the largest post-fault gap of any direction, a gap that
  never closed (a broken direction) included at its measured length, so
  it is then a lower bound (worst_gap_open).
- median_gap_ms: the median post-fault gap of the touched directions (all
  served directions when the scenario touched none, or none were served
  by a touched relay).
- lost_packets, streams_broken, sessions_broken (calls with a broken
  served direction), untouched_lost, untouched_broken, untouched_moved
  (with shared state, unserved directions included as above). Losses are
  packets sent after the fault mark and never received (rtpmeter's
  lost_after_fault): what the fault cost. Packets lost before the mark
  are call set-up, not the fault (with shared state the first packet of
  a call can reach a relay a few ms before the call's replica does), and
  are reported apart as lost_before_fault.
- first_route_change_ms: from the mark to the first change of the VIP's
  route at any router (ip monitor); over repeats the median run's.

Verdict against the budget (DESIGN.md: 2 s MUST, 500 ms SHOULD):
must-fail when a served direction never resumed or the worst gap exceeds
the MUST budget; should-fail when it exceeds the SHOULD budget; else
pass. Over repeats the numbers are pooled: worst of the worst gaps,
median of all touched gaps, sums of the counts.
"""

import statistics

SCHEMA = "lab-scenario/1"
BUDGET_MS = {"must": 2000, "should": 500}
VERDICTS = ("pass", "should-fail", "must-fail")


class ReportError(Exception):
    pass


def _rel_ms(ns, fault_ns):
    if ns is None or fault_ns is None:
        return None
    return round((ns - fault_ns) / 1e6, 3)


def stream_rows(meters, ttl_map, touched):
    """Rows for one run. meters: [(home relay, rtpmeter report dict)];
    ttl_map: {received TTL: relay}; touched: relays the fault touched."""
    rows = []
    touched = set(touched)
    for home, rep in meters:
        run = rep["run"]
        fault = run.get("fault_ns")
        stop_ms = run.get("stop_after_fault_ms")
        for s in rep["streams"]:
            served = not s.get("unserved", False) and s["received"] > 0 \
                and s.get("first_arrival_ns") is not None \
                and (fault is None or s["first_arrival_ns"] <= fault)
            before = ttl_map.get(s["ttl_before_fault"]) \
                if s.get("ttl_before_fault") is not None else None
            if before is None and s.get("ttl_before_fault") is not None:
                before = "?"
            after = ttl_map.get(s["ttl_last"], "?") \
                if s.get("ttl_last") is not None else None
            gap = s.get("post_fault_gap_ms")
            # A meter without the split (or a run without a mark): all of
            # it counts as the fault's.
            lost_after = s.get("lost_after_fault")
            if lost_after is None:
                lost_after = s["lost"]
            rows.append({
                "home": home,
                "call_id": s["call_id"],
                "direction": s["direction"],
                "ssrc": s["ssrc"],
                "served": served,
                "relay_before": before if served else None,
                "relay_after": after,
                "touched": served and before in touched,
                "broken": bool(s["broken"]),
                "post_fault_gap_ms": gap,
                "gap_open": bool(s.get("post_fault_gap_open")),
                "gap_start_ms": s.get("post_fault_gap_start_ms"),
                "max_gap_ms": s.get("max_gap_ms"),
                "long_gaps": s["long_gaps"],
                "sent": s["sent"],
                "received": s["received"],
                "lost": lost_after,
                "lost_before_fault": s["lost"] - lost_after,
                "duplicates": s["duplicates"],
                "first_arrival_ms": _rel_ms(s.get("first_arrival_ns"),
                                            fault),
                "last_arrival_ms": _rel_ms(s.get("last_arrival_ns"), fault),
                "stop_ms": stop_ms,
                "ttl_before_fault": s.get("ttl_before_fault"),
                "ttl_last": s.get("ttl_last"),
                "relay_changes": s.get("ttl_changes", 0),
            })
    return rows


def _median(xs):
    return round(statistics.median(xs), 3) if xs else None


def verdict(worst_gap_ms, sessions_broken, budget=BUDGET_MS):
    """pass, should-fail or must-fail from the measured numbers alone."""
    if sessions_broken > 0:
        return "must-fail"
    if worst_gap_ms is None:
        raise ReportError("no served stream: nothing to judge")
    if worst_gap_ms > budget["must"]:
        return "must-fail"
    if worst_gap_ms > budget["should"]:
        return "should-fail"
    return "pass"


def summarize(rows, budget=BUDGET_MS, shared_state=False):
    """The numbers of a set of rows (one run, or the runs pooled).
    shared_state: relays share sessions, so unserved directions are
    failures, not a fact of life (module comment)."""
    served = [r for r in rows if r["served"]]
    if not served:
        raise ReportError(f"none of {len(rows)} stream directions flowed "
                          "before the fault: nothing was measured")
    judged = rows if shared_state else served
    gaps = [r for r in served if r["post_fault_gap_ms"] is not None]
    worst = max(gaps, key=lambda r: r["post_fault_gap_ms"], default=None)
    touched = [r["post_fault_gap_ms"] for r in gaps if r["touched"]]
    median_of = touched or [r["post_fault_gap_ms"] for r in gaps]
    broken = [r for r in judged if r["broken"] or not r["served"]]
    sessions = {(r.get("run"), r["home"], r["call_id"]) for r in broken}
    unserved = [r for r in rows if not r["served"]]
    moved = [r for r in served if not r["broken"] and
             r["relay_after"] != r["relay_before"]]
    out = {
        "streams_total": len(rows),
        "served": len(served),
        "unserved": len(unserved),
        "unserved_flowing_at_end": sum(1 for r in unserved
                                       if r["received"] > 0 and
                                       not r["broken"]),
        "touched": sum(1 for r in served if r["touched"]),
        "worst_gap_ms": worst["post_fault_gap_ms"] if worst else None,
        "worst_gap_open": bool(worst and worst["gap_open"]),
        "median_gap_ms": _median(median_of),
        "median_of": "touched" if touched else "served",
        "worst_resumed_gap_ms": max((r["post_fault_gap_ms"] for r in gaps
                                     if not r["broken"]), default=None),
        "lost_packets": sum(r["lost"] for r in judged),
        "lost_before_fault": sum(r.get("lost_before_fault", 0)
                                 for r in judged),
        "streams_broken": len(broken),
        "sessions_broken": len(sessions),
        "untouched_lost": sum(r["lost"] for r in judged
                              if not r["touched"]),
        "untouched_broken": sum(1 for r in broken if not r["touched"]),
        "moved": len(moved),
        "untouched_moved": sum(1 for r in served if not r["touched"]
                               and not r["broken"] and
                               (r.get("relay_changes", 0) > 0 or
                                r["relay_after"] != r["relay_before"])),
    }
    out["verdict"] = verdict(out["worst_gap_ms"], out["sessions_broken"],
                             budget)
    return out


def scenario_report(scenario, topology, runs, budget=BUDGET_MS,
                    description="", target=None, notes=(),
                    shared_state=False):
    """The document written to out/<scenario>.json. runs: one dict per
    repeat with keys rows (stream_rows), and optionally route_events,
    actions, warnings, meters (raw report paths), restored.
    shared_state: see summarize()."""
    rows = []
    per_run = []
    for i, run in enumerate(runs):
        for r in run["rows"]:
            rows.append(dict(r, run=i))
        summary = summarize([dict(r, run=i) for r in run["rows"]], budget,
                            shared_state)
        per_run.append(dict(summary, run=i,
                            route_events=run.get("route_events", []),
                            first_route_change_ms=first_change(
                                run.get("route_events", [])),
                            actions=run.get("actions", []),
                            warnings=run.get("warnings", []),
                            meters=run.get("meters", []),
                            restored=run.get("restored"),
                            **({"crosscheck": run["crosscheck"]}
                               if "crosscheck" in run else {})))
    total = summarize(rows, budget, shared_state)
    changes = [r["first_route_change_ms"] for r in per_run
               if r["first_route_change_ms"] is not None]
    rep = {
        "schema": SCHEMA,
        "scenario": scenario,
        "description": description,
        "topology": topology,
        "target": target,
        "shared_state": bool(shared_state),
        "repeat": len(runs),
        "budget_ms": dict(budget),
        "verdict": total["verdict"],
        "worst_gap_ms": total["worst_gap_ms"],
        "worst_gap_open": total["worst_gap_open"],
        "median_gap_ms": total["median_gap_ms"],
        "median_of": total["median_of"],
        "worst_resumed_gap_ms": total["worst_resumed_gap_ms"],
        "lost_packets": total["lost_packets"],
        "lost_before_fault": total["lost_before_fault"],
        "streams_broken": total["streams_broken"],
        "sessions_broken": total["sessions_broken"],
        "untouched_lost": total["untouched_lost"],
        "untouched_broken": total["untouched_broken"],
        "moved": total["moved"],
        "untouched_moved": total["untouched_moved"],
        "served": total["served"],
        "unserved": total["unserved"],
        "unserved_flowing_at_end": total["unserved_flowing_at_end"],
        "touched": total["touched"],
        # The median run's, and the range over the runs.
        "first_route_change_ms": _median(changes),
        "route_change_range_ms": [min(changes), max(changes)]
        if changes else None,
        "notes": list(notes),
        "runs": per_run,
        "streams": rows,
    }
    return rep


def first_change(events):
    """ms from the fault mark to the first VIP route change at any router
    (None when no router changed its route after the mark)."""
    after = [e["ms"] for e in events if e["ms"] >= 0]
    return min(after) if after else None


def _fmt_ms(v, open_=False):
    if v is None:
        return "-"
    return (">" if open_ else "") + f"{v:.0f}"


COLUMNS = ("scenario", "runs", "served/unserved", "worst gap ms",
           "median gap ms", "lost", "broken (sessions)", "untouched lost",
           "route change ms", "verdict")


def table_rows(reports):
    out = []
    for r in reports:
        if "error" in r:
            out.append((r["scenario"], str(r.get("repeat", "-")), "-", "-",
                        "-", "-", "-", "-", "-", "error"))
            continue
        out.append((
            r["scenario"], str(r["repeat"]),
            f"{r['served']}/{r['unserved']}",
            _fmt_ms(r["worst_gap_ms"], r["worst_gap_open"]),
            _fmt_ms(r["median_gap_ms"]),
            str(r["lost_packets"]),
            f"{r['streams_broken']} ({r['sessions_broken']})",
            str(r["untouched_lost"]),
            _fmt_ms(r["first_route_change_ms"]),
            r["verdict"]))
    return out


def table(reports, markdown=False):
    """The results as a text table (or a Markdown one)."""
    rows = table_rows(reports)
    if markdown:
        lines = ["| " + " | ".join(COLUMNS) + " |",
                 "|" + "|".join("---" for _ in COLUMNS) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines) + "\n"
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c)
              for i, c in enumerate(COLUMNS)]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}"
                    for i, w in enumerate(widths))
    lines = [fmt.format(*COLUMNS)]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join(lines) + "\n"
