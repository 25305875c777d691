#!/usr/bin/python3
"""Measure failoverd's reaction times in the `pair` lab (a benchmark, not a
test: the figures go to docs/performance.md with this command).

  sudo controller/tests/topo/measure.py [--repeat N] [--prefix P]

For each repeat:
  relay death   SIGKILL M1's rtprelay; time until R's kernel route to the
                VIP changes (M1's next hop gone), read from `ip -timestamp
                monitor route` running in R's namespace, so no polling adds
                to the figure. Then the relay is restarted and the lab waits
                for both next hops again.
  failoverd death  SIGKILL M1's failoverd: the same, through the anchor.
  drain         with media from the client (rtpmeter, calls on M1), run
                `failoverctl drain`: time until R takes M1 out of ECMP (no
                new media reaches M1 after that), and until failoverd reports
                the VIP withdrawn (M1's packet rate below the threshold).

Prints one line per sample and a summary (min, median, max).
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                    ".."))
sys.path.insert(0, os.path.join(ROOT, "topology-tests"))
from labnet import lab as labmod, procs, wait  # noqa: E402

BIN = os.path.join(ROOT, "build", "bin")
VIP = "203.0.113.10"
TS = re.compile(r"^Timestamp: .* (\d\d):(\d\d):(\d\d) \d{4} (\d+) usec")


class RouteMonitor:
    """`ip -timestamp monitor route` in a namespace; remembers when each
    line about the VIP arrived (wall clock, as the kernel event time
    printed by ip)."""

    def __init__(self, lab, node):
        self.events = []
        self.lock = threading.Lock()
        self.p = subprocess.Popen(
            ["ip", "-n", lab.ns(node), "-timestamp", "monitor", "route"],
            stdout=subprocess.PIPE, text=True)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        stamp = None
        for line in self.p.stdout:
            m = TS.match(line)
            if m:
                h, mi, s, us = map(int, m.groups())
                stamp = (h, mi, s, us)
                continue
            if VIP in line and stamp is not None:
                with self.lock:
                    self.events.append((stamp, line.strip()))

    def first_after(self, t_wall, timeout=5.0):
        """Seconds from t_wall to the first VIP route event after it."""
        lt = time.localtime(t_wall)
        base = time.mktime(lt[:3] + (0, 0, 0) + lt[6:])
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                for (h, mi, s, us), _ in self.events:
                    t = base + h * 3600 + mi * 60 + s + us / 1e6
                    if t >= t_wall:
                        return t - t_wall
            time.sleep(0.01)
        raise TimeoutError("no route event at the router")

    def clear(self):
        with self.lock:
            self.events.clear()

    def stop(self):
        self.p.kill()
        self.p.wait()


def proc(lab, node, name):
    for p in reversed(lab.procs):
        if p.node == node and p.name == name and procs.alive(p.pid):
            return p
    raise RuntimeError(f"no live {name} on {node}")


def addr(lab, node):
    return str(lab.topo.nodes[node].ifaces[0].addr.ip)


def ctl(lab, node, *args):
    sock = os.path.join(lab.etc_dir(node), "failoverd.sock")
    return subprocess.run([os.path.join(BIN, "failoverctl"), "-s", sock,
                           *args], capture_output=True, text=True,
                          timeout=30)


def state(lab, node):
    sock = os.path.join(lab.etc_dir(node), "failoverd.status.sock")
    r = subprocess.run([os.path.join(BIN, "failoverctl"), "-s", sock, "-j",
                        "status"], capture_output=True, text=True,
                       timeout=30)
    if r.returncode != 0:
        return None
    return json.loads(r.stdout)["services"][0]["state"]


def wait_up(lab):
    lab.wait_nexthops("R", VIP, 2, timeout=30)
    wait.until(lambda: (state(lab, "M1") == "up", "not up"), 30, "M1 up")


def kill_and_time(lab, mon, name):
    p = proc(lab, "M1", name)
    mon.clear()
    t0 = time.time()
    os.kill(p.pid, signal.SIGKILL)
    took = mon.first_after(t0)
    lab.wait_nexthops("R", VIP, 1, timeout=5)
    lab.spawn("M1", name, p.argv)
    wait_up(lab)
    return took


def drain_and_time(lab, mon):
    meter = subprocess.Popen(
        ["ip", "netns", "exec", lab.ns("CL"), os.path.join(BIN, "rtpmeter"),
         "--ng", addr(lab, "M1") + ":2223", "--local", addr(lab, "CL"),
         "--calls", "10", "--ready-timeout", "60s", "--duration", "60s"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Media through M1 before the drain.
        wait.until(lambda: (_rate(lab) > 100, "no media"), 15,
                   "media through M1")
        mon.clear()
        t0 = time.time()
        r = ctl(lab, "M1", "drain", "media", "--timeout", "30s")
        assert r.returncode == 0, r.stderr
        moved = mon.first_after(t0)
        wait.until(lambda: (state(lab, "M1") == "drained", "draining"), 40,
                   "drained")
        withdrawn = time.time() - t0
    finally:
        meter.kill()
        meter.wait()
    ctl(lab, "M1", "undrain", "media")
    wait_up(lab)
    return moved, withdrawn


def _rate(lab):
    r = subprocess.run(
        ["ip", "netns", "exec", lab.ns("M1"), sys.executable, "-c",
         "import urllib.request; print(urllib.request.urlopen("
         f"'http://{addr(lab, 'M1')}:9224/metrics', timeout=2)"
         ".read().decode())"], capture_output=True, text=True, timeout=10)
    for line in r.stdout.splitlines():
        if line.startswith("rtprelay_packet_rate "):
            return int(float(line.split()[1]))
    return 0


def summary(name, xs, unit="ms", scale=1000.0):
    v = [x * scale for x in xs]
    print(f"{name:34s} n={len(v):2d}  min {min(v):7.1f}  median "
          f"{statistics.median(v):7.1f}  max {max(v):7.1f} {unit}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--prefix", default="rafms-")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("measure.py: needs root (namespaces, FRR)")
    lab = labmod.Lab.load("pair", prefix=args.prefix)
    relay, fod, moved, withdrawn = [], [], [], []
    with labmod.Signals():
        try:
            lab.up()
            lab.wait_converged()
            wait_up(lab)
            mon = RouteMonitor(lab, "R")
            for i in range(args.repeat):
                relay.append(kill_and_time(lab, mon, "rtprelay"))
                fod.append(kill_and_time(lab, mon, "failoverd"))
                m, w = drain_and_time(lab, mon)
                moved.append(m)
                withdrawn.append(w)
                print(f"repeat {i + 1}: relay death -> R route "
                      f"{relay[-1] * 1000:.1f} ms; failoverd death -> R "
                      f"route {fod[-1] * 1000:.1f} ms; drain -> out of "
                      f"R's ECMP {m * 1000:.1f} ms, withdrawn "
                      f"{w * 1000:.0f} ms", flush=True)
            mon.stop()
        finally:
            lab.down()
    print()
    summary("relay SIGKILL -> R kernel route", relay)
    summary("failoverd SIGKILL -> R kernel route", fod)
    summary("drain -> M1 out of R's ECMP", moved)
    summary("drain -> VIP withdrawn (rate < 5)", withdrawn)


if __name__ == "__main__":
    main()
