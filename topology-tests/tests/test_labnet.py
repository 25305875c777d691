"""labnet: topology validation and addressing (no privileges), and real
labs in network namespaces with real FRR (root only).

The root tests bring `pair` and `draft-fig` up with the prefix from
$RAF_LAB_TEST_PREFIX (default raflt-), announce the VIP from relay hosts the
way failoverd will (a kernel route over a device of the host's own plus a
`network` statement), and check what the routers install in the kernel:
ECMP, withdrawal, graceful shutdown, link-bandwidth weights, and that media
sent to the VIP really reaches the relay hosts and comes back.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

TT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TT)

from labnet import lab as labmod  # noqa: E402
from labnet import netns, paths, procs, render, services  # noqa: E402
from labnet import topology  # noqa: E402
from labnet.topology import TopologyError  # noqa: E402

PREFIX = os.environ.get("RAF_LAB_TEST_PREFIX", "raflt-")
LAB = os.path.join(TT, "lab")
PY = "/usr/bin/python3"


def topo_path(name):
    return os.path.join(paths.TOPO_DIR, name + ".yaml")


def errors_of(text):
    with pytest.raises(TopologyError) as ei:
        topology.loads(text, file="t.yaml")
    return ei.value.errors


GOOD = """\
vips: [203.0.113.10]
nodes:
  R: {role: router}
  M1: {role: relay-host}
  CL: {role: client}
links:
  - [R, M1]
  - [R, CL]
"""


# --- topology files (no root) ----------------------------------------------

def test_pair_addressing():
    t = topology.load(topo_path("pair"))
    assert [n.name for n in t.nodes.values()] == ["R", "M1", "M2", "CL",
                                                   "RS"]
    r, m1, m2, cl = (t.nodes[n] for n in ("R", "M1", "M2", "CL"))
    assert (r.asn, m1.asn, m2.asn, cl.asn) == (65001, 65101, 65102, None)
    assert str(r.iface_to("M1").addr) == "198.51.100.0/31"
    assert str(m1.iface_to("R").addr) == "198.51.100.1/31"
    assert str(m2.iface_to("R").addr) == "198.51.100.3/31"
    assert m1.iface_to("R").name == "eth-R"
    assert str(r.loopback) == "198.51.100.128"
    assert str(m2.router_id) == "198.51.100.130"
    assert cl.loopback is None
    assert str(t.gateway("CL")) == "198.51.100.4"
    assert [str(v) for v in t.vips] == ["203.0.113.10"]
    assert (t.bfd_interval_ms, t.bfd_multiplier) == (50, 3)
    assert [p.name for _, p in t.bgp_neighbors("R")] == ["M1", "M2"]
    assert t.bgp_neighbors("CL") == []
    # Each relay its TTL; with shared state (RS) one range of VIP ports.
    assert (t.relay_ttl("M1"), t.relay_ttl("M2")) == (247, 239)
    assert (t.client_ttl("M1", "CL"), t.client_ttl("M2", "CL")) == (246, 238)
    assert t.shared_state and [n.name for n in t.redis_nodes] == ["RS"]
    assert str(t.redis_addr()) == "198.51.100.7"
    assert str(t.gateway("RS")) == "198.51.100.6"
    assert t.nodes["RS"].asn is None and t.nodes["RS"].loopback is None
    assert (t.media_ports("M1"), t.media_ports("M2")) == \
        ((30000, 59999), (30000, 59999))


def test_port_slices_without_redis():
    """Without a Redis node the relays share nothing: each its own slice
    of VIP ports, so a flow hashed to the wrong relay meets no call."""
    t = topology.loads(GOOD.replace("  CL:", "  M2: {role: relay-host}\n"
                                    "  CL:") + "  - [R, M2]\n")
    assert not t.shared_state and t.redis_addr() is None
    assert (t.media_ports("M1"), t.media_ports("M2")) == \
        ((30000, 39999), (40000, 49999))
    with pytest.raises(ValueError):
        t.media_ports("CL")


def test_one_redis_node_at_most():
    two = GOOD.replace("  CL:", "  RS: {role: redis}\n  RT: {role: redis}\n"
                       "  CL:") + "  - [R, RS]\n  - [R, RT]\n"
    errs = errors_of(two)
    assert any("nodes.RT: a second redis node (after RS)" in e
               for e in errs), errs
    errs = errors_of(GOOD.replace("  CL:", "  RS: {role: redis}\n  CL:")
                     + "  - [M1, RS]\n")
    assert any("nodes.RS: a redis has exactly one link, to a router" in e
               or "every link has a router" in e for e in errs), errs


def test_draft_fig_is_the_figure():
    t = topology.load(topo_path("draft-fig"))
    assert {n.name for n in t.routers} == {"A", "B", "C"}
    assert len(t.relay_hosts) == 5

    def peers(n, role):
        return sorted(p.name for _, p in t.bgp_neighbors(n)
                      if p.role == role)

    assert peers("A", "router") == ["B", "C"]
    assert peers("B", "relay-host") == ["M1", "M2"]
    assert peers("C", "relay-host") == ["M3", "M4", "M5"]
    assert t.nodes["CL"].iface_to("A") is not None
    # Media from M5 crosses C and A: two routers take 2 off its TTL.
    assert t.client_ttl("M5", "CL") == 255 - 8 * 5 - 2
    assert t.media_ports("M5") == (30000, 59999)	# shared state
    assert t.nodes["RS"].iface_to("A") is not None
    asns = [n.asn for n in t.nodes.values() if n.speaks_bgp]
    assert len(set(asns)) == len(asns)		# RFC 7938: one AS each


def test_only_test_net_addresses():
    allowed = (topology.INFRA_RANGE, topology.SERVICE_RANGE)
    for name in topology.available(paths.TOPO_DIR):
        t = topology.load(topo_path(name))
        addrs = list(t.vips)
        for n in t.nodes.values():
            addrs += [i.addr.ip for i in n.ifaces]
            if n.loopback:
                addrs.append(n.loopback)
        for a in addrs:
            assert any(a in r for r in allowed), f"{name}: {a}"


def test_errors_name_file_line_column_and_key():
    errs = errors_of(GOOD.replace("[R, CL]", "[R, R2]"))
    assert errs[0] == "t.yaml:8:9: links[1]: unknown node 'R2'"
    errs = errors_of(GOOD.replace("relay-host}", "relay}"))
    assert errs[0].startswith("t.yaml:4:14: nodes.M1.role: 'relay' is not "
                              "one of router, relay-host")


def test_all_errors_in_one_pass():
    bad = """\
vips: [192.0.2.1, 203.0.113.10, 203.0.113.10]
bfd: {interval-ms: 5, multipler: 3}
colour: red
nodes:
  R: {role: router, asn: 65001}
  M1: {role: relay-host, asn: 65001}
  CL: {role: client, asn: 7}
  X-1: {role: router}
links:
  - [R, M1]
  - [M1, R]
  - [CL, M1]
  - [R, R]
"""
    errs = errors_of(bad)
    text = "\n".join(errs)
    for want in ["vips[0]: 192.0.2.1 is not a host address of the service "
                 "range 203.0.113.0/24",
                 "vips[2]: 203.0.113.10 is listed twice",
                 "bfd.interval-ms: 5 is out of range 10..60000",
                 "bfd.multipler: unknown key",
                 "colour: unknown key",
                 "nodes.CL.asn: a client does not speak BGP",
                 "nodes.X-1: node names are",
                 "links[1]: a second link between M1 and R",
                 "links[2]: CL (client) and M1 (relay-host): every link has "
                 "a router",
                 "links[3]: a link from R to itself",
                 "links: R-M1: both ends in AS 65001",
                 "nodes.CL: a client has exactly one link, to a router"]:
        assert want in text, f"missing {want!r} in\n{text}"
    assert all(e.startswith("t.yaml:") for e in errs)


def test_yaml_syntax_error_is_positioned():
    errs = errors_of("vips: [203.0.113.10\nnodes: {}\n")
    assert errs[0].startswith("t.yaml:") and "YAML" in errs[0]


def test_missing_sections():
    errs = errors_of("name: x\n")
    assert "t.yaml: vips: missing" in errs[0]
    assert any("t.yaml: nodes: missing" in e for e in errs)
    assert any("t.yaml: links: missing" in e for e in errs)


def test_explicit_asn_and_weighted_ecmp():
    t = topology.loads(GOOD.replace("R: {role: router}",
                                    "R: {role: router, asn: 4200000001, "
                                    "weighted-ecmp: false}")
                       .replace("vips:", "weighted-ecmp: true\nvips:"))
    assert t.nodes["R"].asn == 4200000001
    assert t.nodes["R"].weighted_ecmp is False
    assert t.nodes["M1"].weighted_ecmp is True


# --- FRR configurations (no root) -------------------------------------------

def test_render_router_and_host():
    t = topology.load(topo_path("draft-fig"))
    b = render.render(t, t.nodes["B"])
    assert "$" not in b
    assert "\nrouter bgp 65002\n" in b
    assert "\n bgp router-id 198.51.100.129\n" in b
    assert " neighbor 198.51.100.0 peer-group FABRIC\n" in b	# A
    assert " neighbor 198.51.100.5 peer-group HOSTS\n" in b	# M1
    assert " neighbor 198.51.100.7 peer-group HOSTS\n" in b	# M2
    assert "ip prefix-list RELAY-VIPS seq 10 permit 203.0.113.0/24 ge 32" in b
    assert "  detect-multiplier 3\n  receive-interval 50\n" in b
    assert "\n bgp bestpath bandwidth ignore" not in b
    m1 = render.render(t, t.nodes["M1"])
    assert "\nrouter bgp 65101\n" in m1
    assert "\n bgp router-id 198.51.100.131\n" in m1
    assert " neighbor 198.51.100.4 peer-group FABRIC\n" in m1
    # failoverd owns the announcement and its route-maps.
    commands = [ln for ln in m1.splitlines()
                if ln.strip() and not ln.lstrip().startswith("!")]
    assert not any(ln.lstrip().startswith("network") for ln in commands)
    assert not any("FO-BW" in ln for ln in commands)
    assert "203.0.113.10" not in m1		# the VIP is not configured


def test_render_weighted_ecmp_off():
    t = topology.loads(GOOD.replace("R: {role: router}",
                                    "R: {role: router, weighted-ecmp: "
                                    "false}"))
    assert "\n bgp bestpath bandwidth ignore\n" in render.render(
        t, t.nodes["R"])


def test_every_template_line_is_commented():
    """The templates are documentation for engineers: each command line
    (outside "exit" and the placeholder blocks) has a comment in the block
    of lines right above it, or shares a block with commented lines."""
    for name in render.TEMPLATES.values():
        with open(os.path.join(paths.FRR_CONF_DIR, name)) as f:
            lines = f.read().splitlines()
        comment_seen = False
        for ln in lines:
            s = ln.strip()
            if s in ("!", ""):
                comment_seen = False
            elif s.startswith("!"):
                comment_seen = True
            elif s not in ("exit", "end", "exit-address-family"):
                assert comment_seen, f"{name}: no comment above {s!r}"


@pytest.mark.skipif(not os.access(paths.VTYSH, os.X_OK),
                    reason="vtysh not installed")
def test_rendered_configs_pass_vtysh_dry_run(tmp_path):
    open(tmp_path / "vtysh.conf", "w").close()
    for tname in ("pair", "draft-fig"):
        t = topology.load(topo_path(tname))
        for node in t.nodes.values():
            if not node.speaks_bgp:
                continue
            conf = tmp_path / f"{tname}-{node.name}.conf"
            conf.write_text(render.render(t, node))
            p = subprocess.run([paths.VTYSH, "--config_dir", str(tmp_path),
                                "-C", "-f", str(conf)],
                               capture_output=True, text=True)
            assert p.returncode == 0, (tname, node.name, p.stdout, p.stderr)


def test_prefix_rules():
    for good in ("rafl-", "raflab-", "x1-"):
        assert labmod.check_prefix(good) == good
    for bad in ("rafl", "Rafl-", "raf.l-", "-", "a" * 11 + "-", "raf/l-"):
        with pytest.raises(labmod.LabError):
            labmod.check_prefix(bad)


def test_lab_show_needs_no_root():
    p = subprocess.run([PY, LAB, "show", "draft-fig", "C"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert " neighbor 198.51.100.9 peer-group HOSTS" in p.stdout
    p = subprocess.run([PY, LAB, "show", "nope"], capture_output=True,
                       text=True)
    assert p.returncode == 2 and "available: draft-fig" in p.stderr
    p = subprocess.run([PY, LAB, "run", "anything"], capture_output=True,
                       text=True)
    assert p.returncode == 2


# --- real labs (root) -------------------------------------------------------

why_not = labmod.can_run()
needs_root = pytest.mark.skipif(why_not is not None,
                                reason=f"lab cannot run: {why_not}")


def assert_gone(prefix):
    assert labmod.leftovers(prefix) == []
    assert not os.path.exists(paths.rundir_for(prefix))
    assert netns.with_prefix(prefix) == []
    assert procs.find_tagged(prefix) == []
    assert not [d for d in os.listdir(paths.FRR_RUN) if d.startswith(prefix)]


@pytest.fixture(scope="module")
def pair():
    if why_not:
        pytest.skip(f"lab cannot run: {why_not}")
    if labmod.leftovers(PREFIX):
        pytest.fail(f"a lab with prefix {PREFIX} exists: "
                    f"{labmod.leftovers(PREFIX)}")
    lab = labmod.Lab.load("pair", prefix=PREFIX)
    # rtprelay when it is built; never failoverd, which would fight the
    # simulated announcements below.
    lab.up(start_services=["rtprelay"])
    print(f"\npair up: {lab.timings}")
    try:
        yield lab
    finally:
        lab.down()


ECHO = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
name = sys.argv[3].encode()
while True:
    d, a = s.recvfrom(2048)
    s.sendto(name + b" " + d, a)
"""

PROBE = r"""
import json, socket, sys
vip, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = {}
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.sendto(b"x%d" % i, (vip, port))
    try:
        d, a = s.recvfrom(2048)
    except socket.timeout:
        seen["lost"] = seen.get("lost", 0) + 1
        continue
    assert a == (vip, port), a
    host = d.split()[0].decode()
    seen[host] = seen.get(host, 0) + 1
    s.close()
print(json.dumps(seen))
"""


def flows_to(lab, client, port, n):
    """Send n one-packet flows (distinct source ports) from client to the
    VIP; {relay host that answered: count}."""
    p = subprocess.run(["ip", "netns", "exec", lab.ns(client), PY, "-c",
                        PROBE, str(lab.topo.vips[0]), str(port), str(n)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@needs_root
def test_pair_sessions_and_sysctls(pair):
    rep = pair.status_report()
    sessions = [s for n in rep["nodes"] for s in n.get("bgp", [])]
    assert len(sessions) == 4
    assert all(s["state"] == "Established" and s["bfd"] == "up"
               for s in sessions), sessions
    assert all(p["alive"] for n in rep["nodes"] for p in n["procs"])
    ns = pair.ns("R")
    assert netns.sysctl_get(ns, "net.ipv4.ip_forward") == "1"
    assert netns.sysctl_get(ns, "net.ipv4.fib_multipath_hash_policy") == "1"
    for key in ("all", "default", "eth-M1", "eth-CL"):
        assert netns.sysctl_get(ns, f"net.ipv4.conf.{key}.rp_filter") == "0"
    assert netns.sysctl_get(pair.ns("M2"), "net.ipv4.ip_default_ttl") == \
        "239"
    # No ephemeral port from the media range on relay hosts.
    assert netns.sysctl_get(pair.ns("M1"),
                            "net.ipv4.ip_local_reserved_ports") == \
        "30000-59999"
    if os.path.exists(labmod.HASH_SEED_SYSCTL):
        seeds = {netns.sysctl_get(pair.ns(n),
                                  "net.ipv4.fib_multipath_hash_seed")
                 for n in ("R", "M1", "M2")}
        assert len(seeds) == 3 and "0" not in seeds
    # BFD runs with the topology's profile.
    bfd = pair.vtysh("R").json("show bfd peers json")
    assert {(b["transmit-interval"], b["detect-multiplier"]) for b in bfd} \
        == {(50, 3)}


@needs_root
def test_pair_vip_is_local_but_not_in_zebra(pair):
    vip = str(pair.topo.vips[0])
    local = netns.ip_json(pair.ns("M1"), ["route", "show", "table", "local",
                                          "exact", vip + "/32"])
    assert local and local[0]["type"] == "local"
    # zebra ignores the local table: bgpd's import check sees nothing.
    assert pair.vtysh("M1").json(f"show ip route {vip}/32 json") == {}
    assert pair.nexthops("R", vip) == []


@needs_root
def test_pair_ecmp_withdraw_and_traffic(pair):
    vip = pair.topo.vips[0]
    echo = [pair.spawn(h, "echo", [PY, "-c", ECHO, str(vip), "4000", h])
            for h in ("M1", "M2")]
    for p in echo:
        labmod.wait.until(lambda: (services.udp_bound(p.pid, str(vip), 4000),
                                   "echo not bound"), 5, "echo server")
    pair.sim_announce("M1")
    pair.sim_announce("M2")
    nh = pair.wait_nexthops("R", vip, 2)
    assert {n["dev"] for n in nh} == {"eth-M1", "eth-M2"}
    # Flows reach both relays (hash on ports: policy 1), and replies from
    # the VIP come back through the fabric.
    seen = flows_to(pair, "CL", 4000, 64)
    assert seen.get("lost", 0) == 0 and set(seen) == {"M1", "M2"}, seen

    # failoverd dies: its route goes, the import check withdraws.
    t = time.monotonic()
    pair.sim_withdraw("M1", how="route")
    pair.wait_nexthops("R", vip, 1, devs=["eth-M2"])
    print(f"\nwithdraw by route removal seen at R after "
          f"{(time.monotonic() - t) * 1000:.0f} ms")
    assert flows_to(pair, "CL", 4000, 16) == {"M2": 16}
    # The `network` statement is still there, but its path is not valid
    # (import check: nothing in zebra's RIB), so M1 announces nothing.
    m1 = pair.vtysh("M1").bgp_route(f"{vip}/32")
    assert m1["paths"] and not any(p.get("valid") for p in m1["paths"])
    assert [p["peer"]["peerId"] for p in
            pair.vtysh("R").bgp_route(f"{vip}/32")["paths"]] == \
        ["198.51.100.3"]

    pair.sim_announce("M1")
    pair.wait_nexthops("R", vip, 2)
    pair.sim_withdraw("M2", how="network")
    pair.wait_nexthops("R", vip, 1, devs=["eth-M1"])
    pair.sim_announce("M2")
    pair.wait_nexthops("R", vip, 2)


@needs_root
def test_pair_graceful_shutdown_leaves_ecmp_but_stays_as_backup(pair):
    vip = pair.topo.vips[0]
    pair.sim_announce("M1")
    pair.sim_announce("M2")
    pair.wait_nexthops("R", vip, 2)
    pair.sim_announce("M1", bw=100, gshut=True)
    pair.wait_nexthops("R", vip, 1, devs=["eth-M2"])
    paths_ = pair.vtysh("R").bgp_route(f"{vip}/32")["paths"]
    by_peer = {p["peer"]["peerId"]: p for p in paths_}
    m1 = by_peer["198.51.100.1"]
    assert m1["locPrf"] == 0 and "graceful-shutdown" in \
        m1["community"]["string"]
    assert m1["valid"] and not m1.get("multipath")
    # The last path left is used even though it is draining.
    pair.sim_withdraw("M2", how="network")
    pair.wait_nexthops("R", vip, 1, devs=["eth-M1"])
    pair.sim_announce("M2")
    pair.sim_announce("M1")
    pair.wait_nexthops("R", vip, 2)


# With shared state a relay answers pong only once it has loaded the table
# from Redis and holds a port block; until then "not ready". Ask until pong
# or 8 s, each time with a new cookie (the relay answers a cookie it has
# seen with the reply it gave then).
NG_PING = r"""
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
end = time.monotonic() + 8
n = 0
while True:
    n += 1
    s.sendto(b"p%d d7:command4:pinge" % n, (sys.argv[1], 2223))
    got = s.recvfrom(200)[0].decode()
    if "pong" in got or time.monotonic() > end:
        break
    time.sleep(0.05)
print(got)
"""


@needs_root
def test_pair_services_start_and_answer(pair):
    svc = {s.name: s for s in services.SERVICES}["rtprelay"]
    if svc.missing():
        pytest.skip(f"rtprelay: {svc.missing()}")
    relays = [p for p in pair.procs if p.name == "rtprelay"]
    assert sorted(p.node for p in relays) == ["M1", "M2"]
    for host in ("M1", "M2"):
        addr = str(pair.topo.nodes[host].ifaces[0].addr.ip)
        p = subprocess.run(["ip", "netns", "exec", pair.ns("CL"), PY, "-c",
                            NG_PING, addr], capture_output=True, text=True,
                           timeout=10)
        assert p.stdout.strip().endswith(" d6:result4:ponge"), \
            (p.stdout, p.stderr)
    conf = os.path.join(pair.etc_dir("M1"), "rtprelay.yaml")
    with open(conf) as f:
        text = f.read()
    assert "service-address: 203.0.113.10\n" in text
    # Shared state: one port range, and the Redis node's address.
    assert "\nports: 30000-59999\n" in text
    assert "\nredis:\n  server: 198.51.100.7:6379" in text
    assert "\n  node: M1\n" in text


@needs_root
def test_pair_redis_node(pair):
    """redis-server runs on RS, tagged like every lab process (its process
    title would erase the tag: the lab turns it off), and every relay
    host reaches it through the fabric."""
    rs = [p for p in pair.procs if p.name == "redis-server"]
    assert [p.node for p in rs] == ["RS"]
    assert procs.is_ours(rs[0].pid, PREFIX, rs[0].start)
    ok, detail = pair.redis_ok("RS")
    assert ok, detail
    for host in ("M1", "M2"):
        p = subprocess.run(["ip", "netns", "exec", pair.ns(host),
                            labmod.REDIS_CLI, "-h", "198.51.100.7", "ping"],
                           capture_output=True, text=True, timeout=10)
        assert p.stdout.strip() == "PONG", (host, p.stdout, p.stderr)
    node = [n for n in pair.status_report()["nodes"] if n["name"] == "RS"][0]
    assert node["redis"]["ping"] and node["redis"]["addr"] == \
        "198.51.100.7:6379"
    assert isinstance(node["redis"]["calls"], int)


@needs_root
def test_pair_refuses_a_second_lab(pair):
    other = labmod.Lab.load("pair", prefix=PREFIX)
    with pytest.raises(labmod.LabExists) as ei:
        other.up()
    assert "exists" in str(ei.value)
    ok, detail = pair.all_sessions_ok()		# the first lab is untouched
    assert ok, detail


@needs_root
def test_pair_status_from_another_process(pair):
    p = subprocess.run([PY, LAB, "status", "--prefix", PREFIX, "-j"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    rep = json.loads(p.stdout)
    assert rep["healthy"] and rep["topology"] == "pair"


@needs_root
def test_pair_teardown_leaves_nothing(pair):
    pids = [p.pid for p in pair.procs]
    assert pids
    # Something an operator started with `lab exec` goes too.
    stray = subprocess.Popen([PY, LAB, "exec", "--prefix", PREFIX, "M1",
                              "sleep", "60"])
    labmod.wait.until(lambda: (any(procs.alive(q) and q not in pids
                                   for q in procs.find_tagged(PREFIX)),
                               "no stray"), 5, "lab exec sleep")
    t = time.monotonic()
    pair.down()
    print(f"\npair down in {time.monotonic() - t:.2f} s")
    assert not any(procs.alive(pid) for pid in pids)
    assert stray.wait(timeout=5) == -signal.SIGTERM
    assert_gone(PREFIX)


@needs_root
def test_draft_fig_ecmp_and_weights():
    if labmod.leftovers(PREFIX):
        pytest.fail(f"leftovers: {labmod.leftovers(PREFIX)}")
    lab = labmod.Lab.load("draft-fig", prefix=PREFIX)
    # FRR only: failoverd would announce the VIP itself once its checks
    # rise (with shared state, seconds after the sessions, when the relays
    # reach Redis) and undo the simulated announcements below.
    lab.up(start_services=False)
    try:
        print(f"\ndraft-fig up: {lab.timings}")
        vip = lab.topo.vips[0]
        hosts = [h.name for h in lab.topo.relay_hosts]
        for h in hosts:
            lab.sim_announce(h)
        # Plain ECMP: A splits 1:1 between B and C (the draft's imbalance).
        lab.wait_nexthops("A", vip, 2, devs=["eth-B", "eth-C"])
        lab.wait_nexthops("B", vip, 2, devs=["eth-M1", "eth-M2"])
        lab.wait_nexthops("C", vip, 3, devs=["eth-M3", "eth-M4", "eth-M5"])
        # Link-bandwidth weights of 100 Mbit/s per host: B passes on 200,
        # C 300, and A weights 40:60.
        for h in hosts:
            lab.sim_announce(h, bw=100)
        nh = lab.wait_nexthops("A", vip, 2, weights=[40, 60])
        assert {n["dev"]: n["weight"] for n in nh} == {"eth-B": 40,
                                                       "eth-C": 60}
        lab.wait_nexthops("C", vip, 3, weights=[33, 33, 33])
        # The balance switch: weighted ECMP off at A.
        lab.vtysh("A").config("router bgp 65001",
                              "bgp bestpath bandwidth ignore")
        lab.wait_nexthops("A", vip, 2, weights=[1, 1])
        lab.vtysh("A").config("router bgp 65001",
                              "no bgp bestpath bandwidth ignore")
        lab.wait_nexthops("A", vip, 2, weights=[40, 60])
        # M3 drains: C's cumulative bandwidth drops to 200, A goes 50:50.
        lab.sim_announce("M3", bw=100, gshut=True)
        lab.wait_nexthops("C", vip, 2, devs=["eth-M4", "eth-M5"])
        lab.wait_nexthops("A", vip, 2, weights=[50, 50])
        # Every host behind B drains: A leaves B entirely.
        lab.sim_announce("M1", bw=100, gshut=True)
        lab.sim_announce("M2", bw=100, gshut=True)
        lab.wait_nexthops("A", vip, 1, devs=["eth-C"])
        # Media from the client reaches the hosts behind C only.
        for h in hosts:
            lab.spawn(h, "echo", [PY, "-c", ECHO, str(vip), "4000", h])
        for p in [p for p in lab.procs if p.name == "echo"]:
            labmod.wait.until(lambda: (services.udp_bound(
                p.pid, str(vip), 4000), "not bound"), 5, "echo server")
        seen = flows_to(lab, "CL", 4000, 48)
        assert set(seen) == {"M4", "M5"}, seen
    finally:
        lab.down()
    assert_gone(PREFIX)


# --- lifecycle: failures and signals (root) -------------------------------

@needs_root
def test_bad_template_fails_and_cleans_up(tmp_path):
    for name in render.TEMPLATES.values():
        shutil.copy(os.path.join(paths.FRR_CONF_DIR, name), tmp_path)
    with open(tmp_path / "router.conf", "a") as f:
        f.write("router bgp 65001\n neighbor HOSTS frobnicate\n")
    lab = labmod.Lab.load("pair", prefix=PREFIX, frr_conf_dir=str(tmp_path))
    with pytest.raises(labmod.LabError) as ei:
        lab.up(start_services=False)
    assert "FRR rejected the configuration" in str(ei.value)
    assert "frobnicate" in str(ei.value)
    assert_gone(PREFIX)


def _wait_tagged(prefix, timeout=10):
    labmod.wait.until(lambda: (len(procs.find_tagged(prefix)) >= 3,
                               "no FRR yet"), timeout, "lab to start FRR",
                      interval=0.005)


@needs_root
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_up_tears_down(sig):
    p = subprocess.Popen([PY, LAB, "up", "pair", "--prefix", PREFIX,
                          "--no-services"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        _wait_tagged(PREFIX)
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 130, out + err
    assert "interrupted" in err
    assert_gone(PREFIX)


@needs_root
def test_killed_lab_is_removed_by_lab_down():
    """SIGKILL leaves everything behind; `lab down` from another process
    finds it all (state file, tags, names) and removes it."""
    p = subprocess.Popen([PY, LAB, "up", "pair", "--prefix", PREFIX,
                          "--no-services"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        _wait_tagged(PREFIX)
    finally:
        p.kill()
        p.wait()
    assert labmod.leftovers(PREFIX)
    d = subprocess.run([PY, LAB, "down", "--prefix", PREFIX],
                       capture_output=True, text=True, timeout=60)
    assert d.returncode == 0, d.stderr
    assert_gone(PREFIX)
    # Nothing left: a second down says so and succeeds.
    d = subprocess.run([PY, LAB, "down", "--prefix", PREFIX],
                       capture_output=True, text=True, timeout=60)
    assert d.returncode == 0 and "no lab" in d.stdout


@needs_root
def test_teardown_never_touches_untagged_processes():
    """A process in the lab's namespace that the lab did not start (no
    tag) is not signalled; a recorded PID whose start time differs (PID
    reuse) is not signalled either."""
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        rec = procs.Proc(stranger.pid, procs.starttime(stranger.pid) + 1,
                         "M1", "fake", ["sleep"])
        assert procs.terminate([rec], PREFIX, timeout=0.2) == []
        rec.start -= 1	# right start time, but no tag
        assert procs.terminate([rec], PREFIX, timeout=0.2) == []
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
