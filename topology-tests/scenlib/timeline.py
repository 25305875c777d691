"""A gap timeline of one run of a scenario, as SVG, from its report
(out/<scenario>.json): Python standard library only.

One row per served stream direction, grouped by the relay that carried it
before the fault; time runs left to right, 0 is the fault mark. A green
bar is media flowing; the coloured bar is the direction's largest gap
after the fault (the report knows only the largest), yellow above 100 ms,
orange above the SHOULD budget, red above the MUST budget; a gap that
never closed (the direction is broken) is hatched to the end of the run.
Vertical lines: the fault mark, the budgets after it, and each change of
the VIP's route at a router.
"""

import html

WIDTH = 960
LEFT = 150		# labels
RIGHT = 24
TOP = 70
ROW = 9
BAR = 6
NOISE_MS = 100.0	# gaps below this are drawn as flowing media


def _esc(s):
    return html.escape(str(s), quote=True)


def _gap_colour(gap, budget):
    if gap > budget["must"]:
        return "#c0392b"
    if gap > budget["should"]:
        return "#e67e22"
    return "#f1c40f"


def render(rep, run=0):
    """The SVG document (a string) for run `run` of report rep."""
    rows = [s for s in rep["streams"] if s.get("run", 0) == run
            and s["served"]]
    unserved = sum(1 for s in rep["streams"] if s.get("run", 0) == run
                   and not s["served"])
    rinfo = rep["runs"][run]
    budget = rep["budget_ms"]
    rows.sort(key=lambda s: (str(s["relay_before"]), not s["touched"],
                             -(s["post_fault_gap_ms"] or 0), s["call_id"],
                             s["direction"]))
    t0 = min([-200.0] + [s["first_arrival_ms"] for s in rows
                         if s["first_arrival_ms"] is not None])
    t1 = max([1000.0] + [s["stop_ms"] or 0 for s in rows] +
             [s["last_arrival_ms"] or 0 for s in rows])
    t0 = max(t0, -1000.0)
    span = t1 - t0
    plot_w = WIDTH - LEFT - RIGHT
    groups = []
    for s in rows:
        if not groups or groups[-1][0] != s["relay_before"]:
            groups.append((s["relay_before"], []))
        groups[-1][1].append(s)
    height = TOP + len(rows) * ROW + len(groups) * 14 + 90

    def x(t):
        return LEFT + (min(max(t, t0), t1) - t0) / span * plot_w

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
           f'height="{height}" viewBox="0 0 {WIDTH} {height}" '
           'font-family="sans-serif" font-size="10">',
           '<defs><pattern id="open" width="6" height="6" '
           'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
           '<rect width="6" height="6" fill="#c0392b" opacity="0.35"/>'
           '<line x1="0" y1="0" x2="0" y2="6" stroke="#c0392b" '
           'stroke-width="3"/></pattern></defs>',
           f'<rect width="{WIDTH}" height="{height}" fill="white"/>']
    worst = rep["runs"][run]["worst_gap_ms"]
    title = (f"{rep['scenario']} on {rep['topology']} (target "
             f"{rep.get('target')}), run {run + 1} of {rep['repeat']}: "
             f"{rinfo['verdict']}, worst gap "
             f"{'>' if rinfo['worst_gap_open'] else ''}{worst:.0f} ms, "
             f"{rinfo['streams_broken']} of {rinfo['served']} served "
             "directions broken")
    out.append(f'<text x="{LEFT}" y="18" font-size="13" '
               f'font-weight="bold">{_esc(title)}</text>')
    acts = "; ".join(rinfo.get("actions", []))
    out.append(f'<text x="{LEFT}" y="34" fill="#555">{_esc(acts)}</text>')
    # time axis
    step = 250 if span <= 4000 else 500
    tick = int(t0 // step) * step
    axis_y = height - 60
    while tick <= t1:
        if tick >= t0:
            out.append(f'<line x1="{x(tick):.1f}" y1="{TOP - 8}" '
                       f'x2="{x(tick):.1f}" y2="{axis_y}" stroke="#eee"/>')
            out.append(f'<text x="{x(tick):.1f}" y="{axis_y + 12}" '
                       f'text-anchor="middle" fill="#555">{tick}</text>')
        tick += step
    out.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{axis_y + 26}" '
               'text-anchor="middle" fill="#555">ms after the fault '
               'mark</text>')
    # markers: fault, budgets, route changes
    marks = [(0, "fault", "#000", "4,3"),
             (budget["should"], f"SHOULD {budget['should']} ms", "#e67e22",
              "2,3"),
             (budget["must"], f"MUST {budget['must']} ms", "#c0392b",
              "2,3")]
    for t, label, colour, dash in marks:
        if t0 <= t <= t1:
            out.append(f'<line x1="{x(t):.1f}" y1="{TOP - 14}" '
                       f'x2="{x(t):.1f}" y2="{axis_y}" stroke="{colour}" '
                       f'stroke-dasharray="{dash}"/>')
            out.append(f'<text x="{x(t) + 3:.1f}" y="{TOP - 16}" '
                       f'fill="{colour}">{_esc(label)}</text>')
    for e in rinfo.get("route_events", []):
        if t0 <= e["ms"] <= t1:
            out.append(f'<line x1="{x(e["ms"]):.1f}" y1="{TOP - 4}" '
                       f'x2="{x(e["ms"]):.1f}" y2="{axis_y}" '
                       'stroke="#2e86c1" stroke-width="1">'
                       f'<title>{_esc(e["router"])} +{e["ms"]} ms: '
                       f'{_esc(e["route"])}</title></line>')
    if rinfo.get("route_events"):
        first = min((e for e in rinfo["route_events"] if e["ms"] >= 0),
                    key=lambda e: e["ms"], default=None)
        if first is not None:
            out.append(f'<text x="{x(first["ms"]) + 3:.1f}" y="{TOP - 4}" '
                       f'fill="#2e86c1">{_esc(first["router"])} route '
                       f'+{first["ms"]:.0f} ms</text>')
    # rows
    y = TOP
    for relay, members in groups:
        y += 12
        out.append(f'<text x="4" y="{y - 2}" font-weight="bold">carried by '
                   f'{_esc(relay)} before the fault ({len(members)})'
                   '</text>')
        for s in members:
            yb = y + (ROW - BAR) / 2
            label = f"{s['home']} {s['call_id'].rsplit('-', 1)[-1]} " \
                    f"{s['direction']}"
            out.append(f'<text x="{LEFT - 6}" y="{y + BAR}" '
                       f'text-anchor="end" font-size="7" fill="#777">'
                       f'{_esc(label)}</text>')
            first = s["first_arrival_ms"]
            last = s["last_arrival_ms"]
            gap = s["post_fault_gap_ms"] or 0.0
            start = s["gap_start_ms"]
            tip = (f"{s['call_id']} {s['direction']}: relay "
                   f"{s['relay_before']} -> {s['relay_after']}, largest gap "
                   f"after the fault {gap:.1f} ms"
                   f"{' (never closed)' if s['gap_open'] else ''}, lost "
                   f"{s['lost']}, long gaps {s['long_gaps']}")
            out.append(f'<g><title>{_esc(tip)}</title>')
            segs = []
            if gap >= NOISE_MS and start is not None:
                segs.append((first, start))
                if not s["gap_open"]:
                    segs.append((start + gap, last))
            else:
                segs.append((first, last))
            for a, b in segs:
                if a is None or b is None or b <= a:
                    continue
                out.append(f'<rect x="{x(a):.1f}" y="{yb:.1f}" '
                           f'width="{max(x(b) - x(a), 0.5):.1f}" '
                           f'height="{BAR}" fill="#27ae60"/>')
            if gap >= NOISE_MS and start is not None:
                fill = "url(#open)" if s["gap_open"] else \
                    _gap_colour(gap, budget)
                out.append(f'<rect x="{x(start):.1f}" y="{yb:.1f}" '
                           f'width="{max(x(start + gap) - x(start), 1):.1f}" '
                           f'height="{BAR}" fill="{fill}"/>')
            out.append('</g>')
            y += ROW
    legend = [f"Each row: one served stream direction (home relay, call, "
              f"direction). Green: media arriving. Coloured: its largest "
              f"gap after the fault (yellow > {NOISE_MS:.0f} ms, orange > "
              f"SHOULD, red > MUST); hatched: never resumed.",
              f"Blue: changes of the VIP's route at the routers. {unserved} "
              f"unserved directions (ECMP sent them to a relay that did not "
              f"know the call) are not drawn."]
    for i, line in enumerate(legend):
        out.append(f'<text x="4" y="{height - 22 + 12 * i}" fill="#555" '
                   f'font-size="9">{_esc(line)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
