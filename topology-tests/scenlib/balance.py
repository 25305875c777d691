"""The arithmetic of the `balance` scenario: which share of the streams
each relay should get and which it got. No I/O, no clock, no root: the
tests drive it with hand-made topologies and meter reports.

Expected shares come from the routers' kernel routes: from the client's
router down to the relays, each router splits flows in proportion to the
weights of its next hops (Linux hash-threshold ECMP), so a relay's share is
the product of its next hops' fractions along the path.

Measured shares come from the streams themselves: rtpmeter records the TTL
each direction arrives with, and every relay host has its own default TTL
(labnet/topology.py), so the TTL names the relay that forwarded the
direction, i.e. the relay ECMP delivered it to. That needs every direction
to be served, which needs shared session state; without it the shares come
from the routers' per-link packet counters instead (every stream sends the
same number of packets, so packet shares are stream shares).
"""

SCHEMA = "lab-balance/1"
TOLERANCE_POINTS = 2.0	# the target: every relay within +-2 points


class BalanceError(Exception):
    pass


def fabric_dag(topo, announcing):
    """{router: [neighbours one AS hop closer to an announcing relay]}: the
    next hops each router installs for the VIP (every node its own AS,
    as-path multipath-relax), as runner.expected_nexthops counts them."""
    dist = {r: 0 for r in announcing}
    todo = list(announcing)
    while todo:
        cur = todo.pop(0)
        for i in topo.nodes[cur].ifaces:
            peer = topo.nodes[i.peer]
            if peer.role == "router" and peer.name not in dist:
                dist[peer.name] = dist[cur] + 1
                todo.append(peer.name)
    dag = {}
    for r in topo.routers:
        if r.name in dist:
            dag[r.name] = [i.peer for i in r.ifaces
                           if dist.get(i.peer, -9) == dist[r.name] - 1]
        else:
            dag[r.name] = []
    return dag


def cumulative(dag, weights):
    """{node: link bandwidth it announces upwards}: a relay its weight, a
    router the sum over its next hops (`set extcommunity bandwidth
    cumulative`)."""
    memo = {}

    def bw(n):
        if n not in memo:
            memo[n] = weights[n] if n not in dag else \
                sum(bw(c) for c in dag[n])
        return memo[n]
    for n in list(dag) + list(weights):
        bw(n)
    return memo


def predicted_kernel(dag, weights, weighted):
    """{router: {next hop: kernel weight}} as FRR 8.4 installs them: with
    weighted ECMP each next hop's bandwidth * 100 / the total, truncated
    (bgp_zebra.c); with `bgp bestpath bandwidth ignore` all 1."""
    cum = cumulative(dag, weights)
    out = {}
    for r, hops in dag.items():
        if not hops:
            continue
        total = sum(cum[h] for h in hops)
        out[r] = {h: (cum[h] * 100 // total if weighted else 1)
                  for h in hops}
    return out


def kernel_weights(topo, router, nexthops):
    """{peer node: weight} from lab.nexthops(router, vip) entries."""
    by_dev = {i.name: i.peer for i in topo.nodes[router].ifaces}
    out = {}
    for nh in nexthops:
        peer = by_dev.get(nh["dev"])
        if peer is None:
            raise BalanceError(f"{router}: next hop on unknown device "
                               f"{nh['dev']}")
        out[peer] = out.get(peer, 0) + nh["weight"]
    return out


def expected_shares(topo, start, kernel):
    """{relay: fraction} of the flows entering router `start` that reach
    each relay, given kernel = {router: {next hop: weight}}."""
    shares = {}

    def walk(node, frac):
        if topo.nodes[node].role == "relay-host":
            shares[node] = shares.get(node, 0.0) + frac
            return
        hops = kernel.get(node, {})
        total = sum(hops.values())
        if total == 0:
            raise BalanceError(f"{node} has no route to the VIP")
        for peer, w in hops.items():
            walk(peer, frac * w / total)
    walk(start, 1.0)
    return shares


def _fractions(counts, relays):
    total = sum(counts.get(r, 0) for r in relays)
    if total == 0:
        raise BalanceError("nothing measured: no stream or packet reached "
                           "any relay")
    return {r: counts.get(r, 0) / total for r in relays}


def stream_counts(meter_reports, ttl_map, key):
    """Streams per relay from rtpmeter reports, by the TTL in field `key`
    (ttl_before_fault: the ECMP phase; ttl_last: the weighted phase).
    Returns ({relay: streams}, unattributed): a direction with no such TTL
    or a TTL no relay has is unattributed."""
    counts, lost = {}, 0
    for rep in meter_reports:
        for s in rep["streams"]:
            relay = ttl_map.get(s.get(key))
            if relay is None:
                lost += 1
            else:
                counts[relay] = counts.get(relay, 0) + 1
    return counts, lost


def packet_counts(before, after, idle_rate=None, seconds=0.0):
    """Packets per relay between two counter snapshots {relay: packets},
    less what the links carry without media (BFD, BGP) when an idle rate
    {relay: packets/s} measured beforehand is given."""
    out = {}
    for r in after:
        n = after[r] - before.get(r, 0)
        if idle_rate:
            n -= idle_rate.get(r, 0.0) * seconds
        out[r] = max(0, round(n))
    return out


def shares(counts, relays):
    return _fractions(counts, relays)


def judge(measured, expected, tolerance=TOLERANCE_POINTS):
    """(ok, worst deviation in points, {relay: deviation in points})."""
    dev = {r: round((measured.get(r, 0.0) - expected[r]) * 100, 2)
           for r in expected}
    worst = max((abs(v) for v in dev.values()), default=0.0)
    return worst <= tolerance, worst, dev


def table(rep):
    """The people's table: one row per relay, the two phases side by
    side, measured and expected."""
    relays = rep["relays"]
    ph = rep["phases"]
    unit = "streams" if rep["method"] == "ttl" else "packets"
    head = ("relay", "ecmp", "expected", "weighted", "expected",
            f"{unit} ecmp", f"{unit} weighted")
    rows = []
    for r in relays:
        rows.append((
            r,
            f"{ph['ecmp']['shares'][r] * 100:.1f}%",
            f"{ph['ecmp']['expected'][r] * 100:.1f}%",
            f"{ph['weighted']['shares'][r] * 100:.1f}%",
            f"{ph['weighted']['expected'][r] * 100:.1f}%",
            str(ph['ecmp']['counts'].get(r, 0)),
            str(ph['weighted']['counts'].get(r, 0))))
    widths = [max(len(h), *(len(x[i]) for x in rows))
              for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}"
                    for i, w in enumerate(widths))
    lines = [fmt.format(*head)] + [fmt.format(*x) for x in rows]
    lines.append(f"measured by {rep['method']}; weighted: worst "
                 f"{rep['phases']['weighted']['worst_points']:.2f} points "
                 f"from expected (tolerance {rep['tolerance_points']:g}): "
                 f"{rep['verdict']}")
    return "\n".join(lines) + "\n"


def markdown(rep):
    """The same table in Markdown, for docs/weights.md."""
    ph = rep["phases"]
    lines = ["| relay | plain ECMP | expected | weighted | expected |",
             "|---|---:|---:|---:|---:|"]
    for r in rep["relays"]:
        lines.append(
            f"| {r} | {ph['ecmp']['shares'][r] * 100:.1f}% | "
            f"{ph['ecmp']['expected'][r] * 100:.1f}% | "
            f"{ph['weighted']['shares'][r] * 100:.1f}% | "
            f"{ph['weighted']['expected'][r] * 100:.1f}% |")
    return "\n".join(lines) + "\n"
