#!/usr/bin/python3
"""bench-repl.py: shared-state replication across the relays of a lab.

Brings up a lab topology (default draft-fig: five relay hosts and a Redis
node, everything real), creates CALLS calls through the relays' ng ports in
turn from the client's namespace at RATE calls a second (offer then answer,
as a SIP proxy would; both sides offer RTCP mux so a call costs a relay two
sockets), waits until every relay holds every call, then reads:

  - replication lag: each relay's rtprelay_replication_lag_seconds
    histogram (time from the write on the relay that took the ng command to
    the apply on this one, wall clock; all relays share the machine's
    clock), summed over the relays; p50 and p99 interpolated inside the
    buckets as Prometheus' histogram_quantile() does;
  - Redis used_memory (INFO memory) with the calls in it, and without;
  - each relay's RSS (VmRSS) with the calls, and before.

Results: a table on stdout and JSON in build/bench/repl.json. Not a test:
nothing here passes or fails, except that every relay must end up holding
every call (else the figures mean nothing and it says so, exit 1).

    sudo relay/bench/bench-repl.py [--calls N] [--rate R] [--topology T]

Needs root (namespaces) and the lab's prerequisites. The lab is torn down on
every exit path (labnet does it, Ctrl-C included).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "topology-tests"))

from labnet import lab as labmod  # noqa: E402

OUT = os.path.join(ROOT, "build", "bench", "repl.json")

# The driver runs inside the client's namespace (ip netns exec): plain
# stdlib, ng over UDP with a window of requests in flight.
DRIVER = r'''
import json, socket, sys, time
relays = json.loads(sys.argv[1]); calls = int(sys.argv[2])
rate = float(sys.argv[3]); tag = sys.argv[4]
sys.path.insert(0, sys.argv[5])
from labnet.bencode import bencode as benc

def sdp(port):
    return ("v=0\r\no=- 1 1 IN IP4 198.51.100.250\r\ns=-\r\n"
            "c=IN IP4 198.51.100.250\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtcp-mux\r\na=sendrecv\r\n" % port)

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.settimeout(0.002)
pending = {}   # cookie -> (call index, step, relay, sent at, tries)
done = errors = 0
t0 = time.monotonic()
nxt = 0

def send(i, step, tries=0):
    r = relays[i % len(relays)]
    cid = "%s-%d" % (tag, i)
    d = {"command": "offer" if step == 0 else "answer", "call-id": cid,
         "from-tag": "f%d" % i, "sdp": sdp(20000 + (i % 20000) * 2)}
    if step == 1:
        d["to-tag"] = "t%d" % i
    cookie = "%s_%d_%d_%d" % (tag, i, step, tries)
    s.sendto(cookie.encode() + b" " + benc(d), (r, 2223))
    pending[cookie] = (i, step, time.monotonic(), tries)

while done < calls:
    now = time.monotonic()
    while nxt < calls and nxt < (now - t0) * rate and len(pending) < 256:
        send(nxt, 0)
        nxt += 1
    try:
        data = s.recv(65536)
        cookie = data.split(b" ", 1)[0].decode()
        if cookie in pending:
            i, step, _, _ = pending.pop(cookie)
            if b"6:result2:ok" not in data:
                errors += 1
                sys.stderr.write("error on call %d: %r\n" % (i, data[:200]))
                done += 1
            elif step == 0:
                send(i, 1)
            else:
                done += 1
    except socket.timeout:
        pass
    for cookie, (i, step, at, tries) in list(pending.items()):
        if now - at > 1.0:
            del pending[cookie]
            if tries >= 3:
                errors += 1
                done += 1
            else:
                send(i, step, tries + 1)
print(json.dumps({"calls": calls, "errors": errors,
                  "seconds": time.monotonic() - t0}))
'''


def addr(lab, node):
    """The node's first link address (where the lab binds its services)."""
    return str(lab.topo.nodes[node].ifaces[0].addr.ip)


def metrics(lab, node):
    """The relay's metrics page, read in the host's own namespace."""
    a = addr(lab, node)
    out = subprocess.run(
        ["ip", "netns", "exec", lab.ns(node), "/usr/bin/python3", "-c",
         "import urllib.request,sys;sys.stdout.write(urllib.request.urlopen("
         f"'http://{a}:9224/metrics',timeout=5).read().decode())"],
        check=True, capture_output=True, text=True).stdout
    vals = {}
    for line in out.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            vals[k] = float(v)
    return vals


def lag_buckets(vals):
    b = {}
    for k, v in vals.items():
        if k.startswith("rtprelay_replication_lag_seconds_bucket{le=\""):
            le = k.split('"')[1]
            b[float("inf") if le == "+Inf" else float(le)] = v
    return b


def quantile(q, buckets):
    """histogram_quantile(): linear inside the bucket that holds rank q."""
    les = sorted(buckets)
    total = buckets[les[-1]]
    if total == 0:
        return None
    rank = q * total
    prev_le, prev_c = 0.0, 0.0
    for le in les:
        c = buckets[le]
        if c >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_c) / max(
                c - prev_c, 1e-9)
        prev_le, prev_c = le, c
    return les[-2]


def rss_kib(lab, node):
    pidfile = os.path.join(lab.etc_dir(node), "rtprelay.pid")
    with open(pidfile) as f:
        pid = int(f.read().split()[0])
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def redis_memory(lab, node):
    out = subprocess.run(
        ["ip", "netns", "exec", lab.ns(node), "redis-cli", "-h",
         addr(lab, node), "INFO", "memory"],
        check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("used_memory:"):
            return int(line.split(":")[1])
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topology", default="draft-fig")
    ap.add_argument("--calls", type=int, default=9900)
    ap.add_argument("--rate", type=float, default=500.0)
    ap.add_argument("--prefix", default="rafbr-")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench-repl: needs root (network namespaces)")
    lab = labmod.Lab.load(a.topology, prefix=a.prefix)
    relays = [n.name for n in lab.topo.relay_hosts]
    redis = [n.name for n in lab.topo.role("redis")]
    clients = [n.name for n in lab.topo.role("client")]
    if not redis:
        sys.exit(f"bench-repl: topology {a.topology} has no Redis node")
    with lab:
        # A relay takes calls once it has loaded the table and leased ports.
        deadline = time.monotonic() + 30
        while not all(metrics(lab, n).get("rtprelay_shared_state_ready")
                      for n in relays):
            if time.monotonic() > deadline:
                sys.exit("bench-repl: relays not ready within 30 s")
            time.sleep(0.2)
        rss0 = {n: rss_kib(lab, n) for n in relays}
        mem0 = redis_memory(lab, redis[0])
        addrs = [addr(lab, n) for n in relays]
        tag = "bench%d" % random.randrange(1 << 30)
        print(f"{a.topology}: {len(relays)} relays, creating {a.calls} calls "
              f"at {a.rate:g}/s through their ng ports in turn ...",
              flush=True)
        res = subprocess.run(
            ["ip", "netns", "exec", lab.ns(clients[0]), "/usr/bin/python3",
             "-c", DRIVER, json.dumps(addrs), str(a.calls), str(a.rate),
             tag, os.path.join(ROOT, "topology-tests")], check=True,
            capture_output=True, text=True)
        drv = json.loads(res.stdout)
        if res.stderr:
            sys.stderr.write(res.stderr[-2000:])
        # Every relay must hold every call before anything is read.
        deadline = time.monotonic() + 30
        while True:
            held = {n: metrics(lab, n).get("rtprelay_calls", 0)
                    for n in relays}
            if all(v >= a.calls - drv["errors"] for v in held.values()) \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        vals = {n: metrics(lab, n) for n in relays}
        total = {}
        for n in relays:
            for le, c in lag_buckets(vals[n]).items():
                total[le] = total.get(le, 0) + c
        per = {n: {"calls": vals[n].get("rtprelay_calls"),
                   "p50_ms": round(1000 * quantile(0.5,
                                   lag_buckets(vals[n])), 3),
                   "p99_ms": round(1000 * quantile(0.99,
                                   lag_buckets(vals[n])), 3),
                   "applied": vals[n].get(
                       'rtprelay_replication_events_total'
                       '{outcome="applied"}'),
                   "conflicts": vals[n].get(
                       'rtprelay_replication_events_total'
                       '{outcome="conflict"}'),
                   "rss_kib_before": rss0[n], "rss_kib": rss_kib(lab, n),
                   "sockets": vals[n].get("rtprelay_media_sockets")}
               for n in relays}
        mem1 = redis_memory(lab, redis[0])
        report = {
            "topology": a.topology, "relays": len(relays),
            "calls": a.calls, "rate": a.rate, "driver": drv,
            "lag_ms": {"p50": round(1000 * quantile(0.5, total), 3),
                       "p99": round(1000 * quantile(0.99, total), 3),
                       "samples": int(total.get(float("inf"), 0))},
            "redis_used_memory_bytes": {"before": mem0, "with_calls": mem1},
            "per_relay": per,
            "all_held": all(v["calls"] >= a.calls - drv["errors"]
                            for v in per.values()),
        }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(report, f, indent=1)
    print(f"created {a.calls} calls in {drv['seconds']:.1f} s, "
          f"{drv['errors']} errors")
    print(f"replication lag over {report['lag_ms']['samples']} applies: "
          f"p50 {report['lag_ms']['p50']} ms, p99 {report['lag_ms']['p99']} "
          f"ms")
    print(f"Redis used_memory: {mem0 / 1e6:.1f} MB empty, "
          f"{mem1 / 1e6:.1f} MB with the calls")
    print(f"{'relay':6} {'calls':>6} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'RSS before':>10} {'RSS':>8} {'sockets':>8}")
    for n, v in per.items():
        print(f"{n:6} {v['calls']:6.0f} {v['p50_ms']:7.3f} "
              f"{v['p99_ms']:7.3f} {v['rss_kib_before'] / 1024:8.1f}MB "
              f"{v['rss_kib'] / 1024:6.1f}MB {v['sockets']:8.0f}")
    print(f"JSON: {os.path.relpath(OUT, ROOT)}")
    if not report["all_held"]:
        print("NOT every relay holds every call: figures are not valid")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
