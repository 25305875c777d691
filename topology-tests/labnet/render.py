"""Render frr-conf/ templates for the nodes of a topology. Pure."""

import os
import string

from . import paths

MAXIMUM_PATHS = 64
BFD_PROFILE = "fabric"

TEMPLATES = {
    "router": "router.conf",
    "relay-host": "relay-host.conf",
}


class RenderError(Exception):
    pass


def template_path(role, conf_dir=None):
    return os.path.join(conf_dir or paths.FRR_CONF_DIR, TEMPLATES[role])


def variables(topo, node):
    """The placeholder values for one BGP speaker of `topo`."""
    lines = []
    for iface, peer in topo.bgp_neighbors(node.name):
        if node.role == "router":
            group = "HOSTS" if peer.role == "relay-host" else "FABRIC"
        else:
            group = "FABRIC"
        lines.append(f" neighbor {iface.peer_addr} peer-group {group}")
    if not lines:
        lines.append(" ! (no BGP neighbors)")
    if node.weighted_ecmp:
        bw = (" ! weighted ECMP on: FRR's default "
              "(bgp bestpath bandwidth ignore would turn it off)")
    else:
        bw = " bgp bestpath bandwidth ignore"
    return {
        "hostname": node.name,
        "asn": str(node.asn),
        "router_id": str(node.router_id),
        "service_range": str(topo.service_range),
        "infra_range": str(topo.infra_range),
        "bfd_profile": BFD_PROFILE,
        "bfd_interval_ms": str(topo.bfd_interval_ms),
        "bfd_multiplier": str(topo.bfd_multiplier),
        "maximum_paths": str(MAXIMUM_PATHS),
        "bestpath_bandwidth": bw,
        "neighbors": "\n".join(lines),
    }


def render(topo, node, conf_dir=None):
    """frr.conf text for node; RenderError names the template on failure."""
    if node.role not in TEMPLATES:
        raise RenderError(f"{node.name}: a {node.role} runs no FRR")
    path = template_path(node.role, conf_dir)
    try:
        with open(path, encoding="utf-8") as f:
            tmpl = string.Template(f.read())
    except OSError as e:
        raise RenderError(f"{path}: {e.strerror}") from None
    try:
        return tmpl.substitute(variables(topo, node))
    except KeyError as e:
        raise RenderError(f"{path}: unknown placeholder {e.args[0]}") \
            from None
    except ValueError as e:
        raise RenderError(f"{path}: {e}") from None
