"""Topology files: load, validate, assign addresses.

Pure: no I/O beyond reading the file, no privileges. Every error names the
file, the line and column, and the key ("pair.yaml:7:5: links[2]: unknown
node 'R2'"), and all errors of a file are reported at once, as the C config
layer does (common/yconf.h).

Addressing (TEST-NET only; 192.0.2.0/24 is never used, DESIGN.md "Lab rules"):

  198.51.100.0/25    point-to-point links: link i (in file order) gets
                     198.51.100.(2i)/31; the first node named in the link
                     takes the even address. 64 links at most.
  198.51.100.128/26  loopbacks of the FRR nodes (routers and relay hosts), in
                     node order; each is that node's BGP router-id. 64 at most.
  203.0.113.0/24     the service range: anycast VIPs, and nothing else.

Clients and Redis nodes use their link address and a default route through
the router they are linked to. A Redis node makes the relays share session
state: the lab runs redis-server there and every relay host gets the same
media port range (media_ports). ASNs (RFC 7938: one private AS per node):
routers 65001, 65002, ... and relay hosts 65101, 65102, ... in file order,
unless a node sets `asn`.
"""

import ipaddress
import os
import re

import yaml

ROLES = ("router", "relay-host", "client", "redis")
BGP_ROLES = ("router", "relay-host")

LINK_POOL = ipaddress.ip_network("198.51.100.0/25")
LOOPBACK_POOL = ipaddress.ip_network("198.51.100.128/26")
INFRA_RANGE = ipaddress.ip_network("198.51.100.0/24")
SERVICE_RANGE = ipaddress.ip_network("203.0.113.0/24")

ROUTER_ASN_BASE = 65001
HOST_ASN_BASE = 65101

# Interface names are "eth-<peer>" and must fit IFNAMSIZ (15 characters).
NODE_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,10}$")

TOP_KEYS = {"name", "description", "vips", "bfd", "weighted-ecmp", "nodes",
            "links"}
NODE_KEYS = {"role", "asn", "weighted-ecmp", "description"}
BFD_KEYS = {"interval-ms", "multiplier"}

BFD_DEFAULT_INTERVAL_MS = 50	# DESIGN.md: 50 ms x 3, about 230 ms worst gap
BFD_DEFAULT_MULTIPLIER = 3


class TopologyError(Exception):
    """All problems of one file; str() gives one "file:line:col: msg" each."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


class Iface:
    """One end of a link, as seen from its node."""

    def __init__(self, node, name, peer, addr, peer_addr, link_index):
        self.node = node		# node name
        self.name = name		# interface name inside the node: eth-<peer>
        self.peer = peer		# peer node name
        self.addr = addr		# ipaddress.IPv4Interface, /31
        self.peer_addr = peer_addr	# ipaddress.IPv4Address
        self.link_index = link_index

    def __repr__(self):
        return f"Iface({self.node}.{self.name} {self.addr} -> {self.peer})"


class Node:
    def __init__(self, name, role, asn=None, weighted_ecmp=True,
                 description=""):
        self.name = name
        self.role = role
        self.asn = asn			# int for BGP speakers, None otherwise
        self.weighted_ecmp = weighted_ecmp
        self.description = description
        self.loopback = None		# IPv4Address for BGP speakers
        self.ifaces = []		# [Iface], in link order

    @property
    def speaks_bgp(self):
        return self.role in BGP_ROLES

    @property
    def router_id(self):
        return self.loopback

    def iface_to(self, peer):
        for i in self.ifaces:
            if i.peer == peer:
                return i
        return None

    def __repr__(self):
        return f"Node({self.name}, {self.role}, asn={self.asn})"


class Topology:
    def __init__(self, path, name, description, vips, bfd_interval_ms,
                 bfd_multiplier, nodes, links, text=""):
        self.path = path
        self.text = text		# the file as read
        self.name = name
        self.description = description
        self.vips = vips		# [IPv4Address]
        self.bfd_interval_ms = bfd_interval_ms
        self.bfd_multiplier = bfd_multiplier
        self.nodes = nodes		# {name: Node}, file order
        self.links = links		# [(a, b)]
        self.service_range = SERVICE_RANGE
        self.infra_range = INFRA_RANGE

    def role(self, role):
        return [n for n in self.nodes.values() if n.role == role]

    @property
    def routers(self):
        return self.role("router")

    @property
    def relay_hosts(self):
        return self.role("relay-host")

    def bgp_neighbors(self, name):
        """[(Iface, peer Node)] of BGP sessions of node `name`."""
        node = self.nodes[name]
        out = []
        if not node.speaks_bgp:
            return out
        for i in node.ifaces:
            peer = self.nodes[i.peer]
            if peer.speaks_bgp:
                out.append((i, peer))
        return out

    @property
    def redis_nodes(self):
        return self.role("redis")

    @property
    def shared_state(self):
        """True when relays share session state: a Redis node exists."""
        return bool(self.redis_nodes)

    def redis_addr(self):
        """The address redis-server listens on: the first Redis node's
        link address (None without one)."""
        r = self.redis_nodes
        return r[0].ifaces[0].addr.ip if r else None

    def gateway(self, name):
        """Next hop of a client's or Redis node's default route."""
        return self.nodes[name].ifaces[0].peer_addr

    def relay_index(self, name):
        """1 for the first relay host in file order, 2 for the next..."""
        return [n.name for n in self.relay_hosts].index(name) + 1

    def relay_ttl(self, name):
        """The net.ipv4.ip_default_ttl the lab gives relay host `name`:
        255 - 8 x its relay index. A relay forwards media with its host's
        default TTL, so the TTL a client receives names the relay (up to
        31 relay hosts, paths of up to 7 routers)."""
        return 255 - 8 * self.relay_index(name)

    def media_ports(self, name):
        """(first, last) of the VIP ports relay host `name` hands out.

        With a Redis node the relays share sessions: every relay binds
        every call's ports and leases blocks of the one range in Redis, so
        all relay hosts get the whole of 30000-59999. Without one, each
        relay its own slice of it: while they share no sessions, a flow
        ECMP sends to the wrong relay must not meet (and latch onto)
        another call on the same port there."""
        self.relay_index(name)		# ValueError for a non-relay
        if self.shared_state:
            return 30000, 59999
        n = len(self.relay_hosts)
        size = min(10000, 30000 // n) // 2 * 2
        lo = 30000 + size * (self.relay_index(name) - 1)
        return lo, lo + size - 1

    def hops(self, a, b):
        """Links on the shortest path from node a to node b (None if none)."""
        seen = {a: 0}
        todo = [a]
        while todo:
            cur = todo.pop(0)
            if cur == b:
                return seen[cur]
            for i in self.nodes[cur].ifaces:
                if i.peer not in seen:
                    seen[i.peer] = seen[cur] + 1
                    todo.append(i.peer)
        return None

    def client_ttl(self, relay, client):
        """The TTL of media from relay host `relay` as `client` receives it:
        the relay's default TTL less one per router on the way."""
        return self.relay_ttl(relay) - (self.hops(relay, client) - 1)


# --- YAML with positions ---------------------------------------------------

class _Val:
    """A YAML value and where it was in the file."""

    __slots__ = ("v", "line", "col")

    def __init__(self, v, mark):
        self.v = v
        self.line = mark.line + 1
        self.col = mark.column + 1


def _plain(node):
    """Compose tree -> nested dict/list of _Val, keys as plain strings."""
    if isinstance(node, yaml.MappingNode):
        d = {}
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else str(k.value)
            d[key] = (_plain(v), _Val(key, k.start_mark))
        return _Val(d, node.start_mark)
    if isinstance(node, yaml.SequenceNode):
        return _Val([_plain(x) for x in node.value], node.start_mark)
    # Scalars: let the safe constructor type them (int, bool, str, null).
    loader = yaml.SafeLoader("")
    try:
        return _Val(loader.construct_object(node, deep=True),
                    node.start_mark)
    finally:
        loader.dispose()


class _Errors:
    def __init__(self, file):
        self.file = file
        self.list = []

    def add(self, where, key, msg):
        if where is None:
            self.list.append(f"{self.file}: {key}: {msg}")
        else:
            self.list.append(f"{self.file}:{where.line}:{where.col}: "
                             f"{key}: {msg}")


def _want_str(errs, val, key):
    if not isinstance(val.v, str) or val.v == "":
        errs.add(val, key, f"expected a non-empty string, got {val.v!r}")
        return None
    return val.v


def _want_int(errs, val, key, lo, hi):
    if isinstance(val.v, bool) or not isinstance(val.v, int):
        errs.add(val, key, f"expected an integer, got {val.v!r}")
        return None
    if not lo <= val.v <= hi:
        errs.add(val, key, f"{val.v} is out of range {lo}..{hi}")
        return None
    return val.v


def _want_bool(errs, val, key):
    if not isinstance(val.v, bool):
        errs.add(val, key, f"expected true or false, got {val.v!r}")
        return None
    return val.v


def _unknown_keys(errs, mapping, allowed, where):
    for k, (_, kval) in mapping.items():
        if k not in allowed:
            errs.add(kval, f"{where}{k}", "unknown key (known: "
                     + ", ".join(sorted(allowed)) + ")")


def load(path, name=None):
    """Read and validate a topology file; raise TopologyError or OSError."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return loads(text, file=path, name=name)


def loads(text, file="<string>", name=None):
    """Validate topology text; `file` is the name used in messages."""
    shown = os.path.basename(file)
    errs = _Errors(shown)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        pos = f"{mark.line + 1}:{mark.column + 1}: " if mark else " "
        raise TopologyError([f"{shown}:{pos}YAML: "
                             f"{getattr(e, 'problem', None) or e}"])
    if root is None:
        raise TopologyError([f"{shown}: the file is empty"])
    top = _plain(root)
    if not isinstance(top.v, dict):
        raise TopologyError([f"{shown}:{top.line}:{top.col}: the top level "
                             "must be a mapping"])
    m = top.v
    _unknown_keys(errs, m, TOP_KEYS, "")

    def get(key):
        return m[key][0] if key in m else None

    topo_name = name or os.path.splitext(shown)[0]
    if get("name") is not None:
        topo_name = _want_str(errs, get("name"), "name") or topo_name
    description = ""
    if get("description") is not None:
        description = _want_str(errs, get("description"),
                                "description") or ""

    # vips
    vips = []
    vv = get("vips")
    if vv is None:
        errs.add(None, "vips", "missing: at least one anycast VIP from "
                 f"{SERVICE_RANGE}")
    elif not isinstance(vv.v, list) or not vv.v:
        errs.add(vv, "vips", "expected a non-empty list of addresses")
    else:
        for i, x in enumerate(vv.v):
            key = f"vips[{i}]"
            try:
                a = ipaddress.IPv4Address(str(x.v))
            except ValueError:
                errs.add(x, key, f"{x.v!r} is not an IPv4 address")
                continue
            if a not in SERVICE_RANGE or a in (SERVICE_RANGE.network_address,
                                               SERVICE_RANGE.broadcast_address):
                errs.add(x, key, f"{a} is not a host address of the service "
                         f"range {SERVICE_RANGE}")
            elif a in vips:
                errs.add(x, key, f"{a} is listed twice")
            else:
                vips.append(a)

    # bfd
    interval = BFD_DEFAULT_INTERVAL_MS
    mult = BFD_DEFAULT_MULTIPLIER
    bv = get("bfd")
    if bv is not None:
        if not isinstance(bv.v, dict):
            errs.add(bv, "bfd", "expected a mapping with interval-ms and "
                     "multiplier")
        else:
            _unknown_keys(errs, bv.v, BFD_KEYS, "bfd.")
            if "interval-ms" in bv.v:
                # bfdd accepts 10..60000 ms.
                interval = _want_int(errs, bv.v["interval-ms"][0],
                                     "bfd.interval-ms", 10, 60000) or interval
            if "multiplier" in bv.v:
                mult = _want_int(errs, bv.v["multiplier"][0],
                                 "bfd.multiplier", 2, 255) or mult

    wecmp = True
    if get("weighted-ecmp") is not None:
        w = _want_bool(errs, get("weighted-ecmp"), "weighted-ecmp")
        wecmp = True if w is None else w

    # nodes
    nodes = {}
    node_where = {}
    nv = get("nodes")
    if nv is None:
        errs.add(None, "nodes", "missing")
    elif not isinstance(nv.v, dict) or not nv.v:
        errs.add(nv, "nodes", "expected a mapping of node name to "
                 "{role: ...}")
    else:
        for nname, (val, kval) in nv.v.items():
            key = f"nodes.{nname}"
            if not NODE_NAME_RE.match(nname):
                errs.add(kval, key, "node names are a letter then up to 10 "
                         "letters or digits (they become interface names "
                         "eth-<name>)")
                continue
            if nname.lower() in (n.lower() for n in nodes):
                errs.add(kval, key, "duplicate node name (names are "
                         "compared without case)")
                continue
            if not isinstance(val.v, dict):
                errs.add(val, key, "expected a mapping with at least role")
                continue
            _unknown_keys(errs, val.v, NODE_KEYS, key + ".")
            if "role" not in val.v:
                errs.add(kval, key, "missing role (one of "
                         + ", ".join(ROLES) + ")")
                continue
            rv = val.v["role"][0]
            if rv.v not in ROLES:
                errs.add(rv, key + ".role", f"{rv.v!r} is not one of "
                         + ", ".join(ROLES))
                continue
            node = Node(nname, rv.v, weighted_ecmp=wecmp)
            if "asn" in val.v:
                av = val.v["asn"][0]
                if node.role not in BGP_ROLES:
                    errs.add(av, key + ".asn", f"a {node.role} does not "
                             "speak BGP")
                else:
                    node.asn = _want_int(errs, av, key + ".asn", 1,
                                         4294967294)
            if "weighted-ecmp" in val.v:
                w = _want_bool(errs, val.v["weighted-ecmp"][0],
                               key + ".weighted-ecmp")
                if w is not None:
                    node.weighted_ecmp = w
            if "description" in val.v:
                node.description = _want_str(
                    errs, val.v["description"][0],
                    key + ".description") or ""
            nodes[nname] = node
            node_where[nname] = kval

    # links
    links = []
    lv = get("links")
    if lv is None:
        errs.add(None, "links", "missing")
    elif not isinstance(lv.v, list) or not lv.v:
        errs.add(lv, "links", "expected a non-empty list of [node, node]")
    else:
        seen = set()
        for i, x in enumerate(lv.v):
            key = f"links[{i}]"
            if (not isinstance(x.v, list) or len(x.v) != 2
                    or not all(isinstance(e.v, str) for e in x.v)):
                errs.add(x, key, "expected [node, node]")
                continue
            a, b = x.v[0].v, x.v[1].v
            declared = nv.v if nv is not None and isinstance(nv.v,
                                                               dict) else {}
            bad = False
            for e in x.v:
                if e.v in nodes:
                    continue
                bad = True
                if e.v not in declared:	# else it had its own error
                    errs.add(e, key, f"unknown node {e.v!r}")
            if bad:
                continue
            if a == b:
                errs.add(x, key, f"a link from {a} to itself")
                continue
            pair = frozenset((a, b))
            if pair in seen:
                errs.add(x, key, f"a second link between {a} and {b} "
                         "(one link per pair of nodes)")
                continue
            seen.add(pair)
            ra, rb = nodes[a].role, nodes[b].role
            if "router" not in (ra, rb):
                errs.add(x, key, f"{a} ({ra}) and {b} ({rb}): every link "
                         "has a router on at least one end")
                continue
            links.append((a, b, x))
        if len(links) > LINK_POOL.num_addresses // 2:
            errs.add(lv, "links", f"{len(links)} links; the link pool "
                     f"{LINK_POOL} holds {LINK_POOL.num_addresses // 2}")

    # addressing
    for idx, (a, b, _) in enumerate(links):
        if idx >= LINK_POOL.num_addresses // 2:
            break
        base = LINK_POOL.network_address + 2 * idx
        aa, ba = base, base + 1
        nodes[a].ifaces.append(Iface(a, "eth-" + b, b,
                                     ipaddress.IPv4Interface(f"{aa}/31"),
                                     ba, idx))
        nodes[b].ifaces.append(Iface(b, "eth-" + a, a,
                                     ipaddress.IPv4Interface(f"{ba}/31"),
                                     aa, idx))

    # roles and links
    for nname, node in nodes.items():
        where = node_where[nname]
        key = f"nodes.{nname}"
        peers = [nodes[i.peer] for i in node.ifaces]
        if node.role in ("client", "redis"):
            if len(node.ifaces) != 1 or peers[0].role != "router":
                errs.add(where, key, f"a {node.role} has exactly one link, "
                         "to a router")
        elif node.role == "relay-host":
            if not node.ifaces:
                errs.add(where, key, "a relay host needs a link to a router")
            elif any(p.role != "router" for p in peers):
                errs.add(where, key, "a relay host links to routers only")
        elif not node.ifaces:
            errs.add(where, key, "a router without links")

    # loopbacks and ASNs
    speakers = [n for n in nodes.values() if n.speaks_bgp]
    if len(speakers) > LOOPBACK_POOL.num_addresses:
        errs.add(nv, "nodes", f"{len(speakers)} BGP speakers; the loopback "
                 f"pool {LOOPBACK_POOL} holds "
                 f"{LOOPBACK_POOL.num_addresses}")
    for i, n in enumerate(speakers[:LOOPBACK_POOL.num_addresses]):
        n.loopback = LOOPBACK_POOL.network_address + i
    used = {n.asn for n in speakers if n.asn is not None}
    nexts = {"router": ROUTER_ASN_BASE, "relay-host": HOST_ASN_BASE}
    for n in speakers:
        if n.asn is None and n.name in node_where:
            a = nexts[n.role]
            while a in used:
                a += 1
            n.asn = a
            used.add(a)
            nexts[n.role] = a + 1
    for a, b, x in links:
        na, nb = nodes[a], nodes[b]
        if (na.speaks_bgp and nb.speaks_bgp and na.asn is not None
                and na.asn == nb.asn):
            errs.add(x, f"links: {a}-{b}", f"both ends in AS {na.asn}: the "
                     "lab builds eBGP sessions only")

    redis = [n for n in nodes.values() if n.role == "redis"]
    if len(redis) > 1:
        errs.add(node_where[redis[1].name], f"nodes.{redis[1].name}",
                 f"a second redis node (after {redis[0].name}): the relays "
                 "of a lab share one redis-server")
    if not any(n.role == "router" for n in nodes.values()) and nodes:
        errs.add(nv, "nodes", "no router")
    if not any(n.role == "relay-host" for n in nodes.values()) and nodes:
        errs.add(nv, "nodes", "no relay host")

    if errs.list:
        raise TopologyError(errs.list)
    return Topology(file, topo_name, description, vips, interval, mult,
                    nodes, [(a, b) for a, b, _ in links], text)


def resolve(name_or_path, topo_dir):
    """A topology name from topo_dir ("pair") or a path to a file."""
    if os.sep in name_or_path or name_or_path.endswith((".yaml", ".yml")):
        return name_or_path
    return os.path.join(topo_dir, name_or_path + ".yaml")


def available(topo_dir):
    try:
        return sorted(os.path.splitext(f)[0] for f in os.listdir(topo_dir)
                      if f.endswith(".yaml"))
    except OSError:
        return []
