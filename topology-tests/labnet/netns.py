"""Network namespaces, links, addresses, routes and sysctls, through ip(8).

Nothing here touches the root namespace: links are created inside a node's
namespace with their peer end placed directly in the other node's
namespace (ip -n A link add ... peer ... netns B), so no interface ever
appears in the root namespace, even for a moment.
"""

import ctypes
import json
import os
import socket
import subprocess
import threading

NETNS_DIR = "/run/netns"
CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)


class NetnsError(Exception):
    pass


def run(argv, input=None, check=True):
    p = subprocess.run(argv, input=input, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise NetnsError(f"{' '.join(argv)}: exit {p.returncode}: "
                         f"{(p.stderr or p.stdout).strip()}")
    return p


def list_ns():
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def with_prefix(prefix):
    return [n for n in list_ns() if n.startswith(prefix)]


def exists(ns):
    return os.path.exists(os.path.join(NETNS_DIR, ns))


def add(ns):
    run(["ip", "netns", "add", ns])


def delete(ns):
    if exists(ns):
        run(["ip", "netns", "del", ns])


def batch(ns, lines):
    """Run ip commands (one per line, without the leading "ip") in ns."""
    if not lines:
        return
    run(["ip", "-n", ns, "-batch", "-"], input="\n".join(lines) + "\n")


def sysctl(ns, settings):
    """settings: [(key, value)] with keys as in sysctl(8)."""
    args = [f"{k}={v}" for k, v in settings]
    run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w"] + args)


def sysctl_get(ns, key):
    p = run(["ip", "netns", "exec", ns, "sysctl", "-n", key])
    return p.stdout.strip()


def ip_json(ns, args):
    p = run(["ip", "-n", ns, "-j"] + list(args))
    out = p.stdout.strip()
    return json.loads(out) if out else []


def route_nexthops(ns, prefix, table="main"):
    """Next hops of the kernel route to exactly `prefix` in ns:
    [{"gateway": str or None, "dev": str, "weight": int}], [] if absent.
    A route with one next hop gives one entry of weight 1."""
    routes = ip_json(ns, ["route", "show", "table", table, "exact", prefix])
    out = []
    for r in routes:
        if r.get("type", "unicast") != "unicast":
            continue
        if "nexthops" in r:
            for nh in r["nexthops"]:
                out.append({"gateway": nh.get("gateway"),
                            "dev": nh.get("dev"),
                            "weight": int(nh.get("weight", 1))})
        else:
            out.append({"gateway": r.get("gateway"), "dev": r.get("dev"),
                        "weight": 1})
    return out


def socket_in(ns, family=socket.AF_INET, type_=socket.SOCK_STREAM):
    """A socket that lives in namespace ns, made without starting a
    process: setns(2) moves only the calling thread, so a short-lived
    thread enters ns, creates the socket and ends; a socket stays in the
    namespace it was created in, whichever thread uses it later."""
    out = {}

    def enter():
        try:
            fd = os.open(os.path.join(NETNS_DIR, ns), os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, f"setns {ns}: {os.strerror(e)}")
            finally:
                os.close(fd)
            out["sock"] = socket.socket(family, type_)
        except OSError as e:
            out["error"] = e
        # The thread ends here, still in ns: nothing else runs on it.

    t = threading.Thread(target=enter, name=f"netns-{ns}", daemon=True)
    t.start()
    t.join()
    if "error" in out:
        raise NetnsError(str(out["error"]))
    return out["sock"]


def http_get(ns, host, port, path="/", timeout=2.0):
    """The body of an HTTP/1.0 GET from inside namespace ns (for the
    services' metrics pages); NetnsError when it cannot be had."""
    s = socket_in(ns)
    try:
        s.settimeout(timeout)
        s.connect((host, port))
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n"
                  .encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        raise NetnsError(f"{ns}: GET http://{host}:{port}{path}: {e}") \
            from None
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    if " 200" not in status:
        raise NetnsError(f"{ns}: GET http://{host}:{port}{path}: {status}")
    return body.decode(errors="replace")
