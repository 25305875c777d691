"""Running scenarios on a lab: steady state, meters, fault, restore, report.

One run of a scenario:

 1. steady state: every daemon alive, every BGP session Established with
    BFD up, every relay's failoverd service up, and at every router the
    number of VIP next hops the topology implies (deadline, no sleeps);
 2. the scenario's prepare() and, if it changed which relays announce,
    the matching state (restore: one relay down);
 3. `ip -ts monitor route` in every router (passive: no polling during
    the measurement), one rtpmeter per announcing relay in the client's
    namespace, each creating its calls through that relay's ng port;
 4. when every meter printed `ready` and, with shared state, the relays'
    packet rates add up to the meters' media (wait_media): SIGUSR1 to
    each meter (the fault mark), then inject(), then during(); the meters
    stop after_fault seconds after their mark;
 5. restore() and steady state again (deadline);
 6. the meters' JSON reports become the run's rows (report.py).

Raw meter reports go to <out>/raw/, the scenario report to
<out>/<scenario>.json; the table of all scenarios run goes to stdout and
<out>/table.md.
"""

import datetime
import json
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time

from labnet import frr, netns, paths, procs, wait
from . import crosscheck, report as rmod

BIN = os.path.join(paths.ROOT, "build", "bin")
OUT_DIR = os.path.join(paths.TT_DIR, "out")

# Meter settings (rtpmeter/README.md). --settle: without shared state the
# streams ECMP sends to a relay without the call never flow; with it, a
# stream that does not flow is a failure the report counts, and the run
# still gets measured (docs/lab.md, "Shared state in the lab").
# --broken-after 1.5 s with a run of at least 3 s after the mark: a stream
# that never resumed is broken, one that resumed within the MUST budget is
# not.
METER_ARGS = ["--settle", "400ms", "--ready-timeout", "5s",
              "--duration", "120s", "--broken-after", "1500ms",
              "--ng-timeout", "200", "--ng-tries", "2", "--ping-wait", "2s"]
STEADY_TIMEOUT = 90.0
# rtpmeter's default ptime (20 ms): packets a second per direction.
METER_PPS = 50


class ScenarioError(Exception):
    pass


def log(msg):
    print(f"lab run: {msg}", file=sys.stderr, flush=True)


# --- topology questions ---------------------------------------------------

def expected_nexthops(topo, announcing):
    """{router: number of VIP next hops} when exactly the relay hosts in
    `announcing` announce: the neighbours one AS hop closer to an
    announcing relay (every router is its own AS, paths are compared by
    length, and routers use as-path multipath-relax)."""
    dist = {r: 0 for r in announcing}
    todo = list(announcing)
    while todo:
        cur = todo.pop(0)
        for i in topo.nodes[cur].ifaces:
            peer = topo.nodes[i.peer]
            if peer.role == "router" and peer.name not in dist:
                dist[peer.name] = dist[cur] + 1
                todo.append(peer.name)
    out = {}
    for r in topo.routers:
        if r.name not in dist:
            out[r.name] = 0
            continue
        out[r.name] = sum(1 for i in r.ifaces
                          if dist.get(i.peer, -9) == dist[r.name] - 1)
    return out


# --- processes --------------------------------------------------------------

class RouteMonitor:
    """`ip -ts monitor route` in a router's namespace: the time of every
    change of the VIP's route, as ip(8) prints it (wall clock, us)."""

    def __init__(self, ctx, router):
        self.router = router
        self.vip = ctx.vip
        self.events = []
        self.lock = threading.Lock()
        self.proc = ctx.lab.spawn(router, "route-monitor",
                                  ["ip", "-ts", "monitor", "route"],
                                  pipe=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.popen.stdout:
            if not line.startswith("[") or self.vip not in line:
                continue
            stamp, _, text = line.partition("] ")
            try:
                t = datetime.datetime.strptime(
                    stamp[1:], "%Y-%m-%dT%H:%M:%S.%f").timestamp()
            except ValueError:
                continue
            with self.lock:
                self.events.append((t, text.strip()))

    def stop(self, lab):
        _end(self.proc)
        self.thread.join(2)
        lab.forget(self.proc)

    def relative(self, fault_ns):
        with self.lock:
            return [{"router": self.router,
                     "ms": round((t - fault_ns / 1e9) * 1000, 1),
                     "route": text} for t, text in self.events]


class Meter:
    """One rtpmeter in the client's namespace, calls on one relay."""

    def __init__(self, ctx, home, path, prefix, after_fault, args=None):
        """args: the meter's options instead of the runner's (--calls,
        --after-fault and METER_ARGS), for scenarios that measure
        something else (balance)."""
        self.home = home
        self.path = path
        argv = [os.path.join(BIN, "rtpmeter"),
                "--ng", f"{ctx.addr(home)}:2223",
                "--local", ctx.addr(ctx.client),
                "--call-prefix", prefix, "--out", path]
        if args is None:
            argv += ["--calls", str(ctx.calls),
                     "--after-fault", f"{int(after_fault * 1000)}ms"] + \
                METER_ARGS
        else:
            argv += list(args)
        self.errlog = path[:-5] + ".log"
        self.lines = queue.Queue()
        self.events = []
        self.proc = ctx.lab.spawn(ctx.client, "rtpmeter", argv,
                                  log=self.errlog, pipe=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.popen.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def expect(self, word, timeout):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise ScenarioError(f"rtpmeter (calls on {self.home}): no "
                                    f"'{word}' within {timeout:g} s; got "
                                    f"{self.events}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise ScenarioError(
                    f"rtpmeter (calls on {self.home}) ended before "
                    f"'{word}' (got {self.events}):\n"
                    f"{procs.tail(self.errlog, 12)}")
            self.events.append(line)
            if line.split()[0] == word:
                return line

    def mark(self):
        os.kill(self.proc.pid, signal.SIGUSR1)

    def finish(self, timeout):
        self.expect("done", timeout)
        try:
            rc = self.proc.popen.wait(10)
        except subprocess.TimeoutExpired:
            raise ScenarioError(f"rtpmeter (calls on {self.home}) did not "
                                "exit after 'done'") from None
        if rc != 0:
            raise ScenarioError(f"rtpmeter (calls on {self.home}) exited "
                                f"{rc}:\n{procs.tail(self.errlog, 12)}")
        with open(self.path) as f:
            return json.load(f)

    def kill(self, lab):
        _end(self.proc)
        lab.forget(self.proc)


def _end(p, sig=signal.SIGTERM):
    if p.popen is not None and p.popen.poll() is None:
        try:
            os.kill(p.pid, sig)
            p.popen.wait(5)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.popen.wait()
        except ProcessLookupError:
            pass


# --- the context a scenario works with -------------------------------------

class Context:
    def __init__(self, lab, target=None, client=None, calls=20,
                 out_dir=OUT_DIR, capture=False):
        self.lab = lab
        self.capture = capture
        self.topo = lab.topo
        self.vip = str(lab.topo.vips[0])
        self.relays = [n.name for n in lab.topo.relay_hosts]
        if not self.relays:
            raise ScenarioError(f"{lab.topo.name} has no relay host")
        clients = [n.name for n in lab.topo.role("client")]
        self.client = client or (clients[0] if clients else None)
        if self.client not in clients:
            raise ScenarioError(f"no client node {self.client!r} in "
                                f"{lab.topo.name} (clients: {clients})")
        self.target = target or self.relays[0]
        if self.target not in self.relays:
            raise ScenarioError(f"--target {self.target}: not a relay host "
                                f"of {lab.topo.name} ({self.relays})")
        self.calls = calls
        self.out_dir = out_dir
        self.monitors = []		# this run's RouteMonitors
        # The TTL a client receives names the relay (labnet/topology.py).
        self.ttl_map = {self.topo.client_ttl(r, self.client): r
                        for r in self.relays}

    # names and addresses
    def addr(self, node):
        return str(self.topo.nodes[node].ifaces[0].addr.ip)

    def links(self, node):
        """[(local iface, peer, peer iface)] of node."""
        return [(i.name, i.peer, self.topo.nodes[i.peer].iface_to(node).name)
                for i in self.topo.nodes[node].ifaces]

    # processes
    def proc(self, node, name):
        """The live process `name` the lab started on node (newest)."""
        for p in reversed(self.lab.procs):
            if p.node == node and p.name == name and \
                    procs.is_ours(p.pid, self.lab.tag, p.start):
                return p
        raise ScenarioError(f"no live {name} on {node}")

    def signal(self, p, sig):
        if not procs.is_ours(p.pid, self.lab.tag, p.start):
            raise ScenarioError(f"{p} is not ours or gone")
        os.kill(p.pid, sig)

    def kill(self, p):
        """SIGKILL and wait until it is gone (reaped if it is our child)."""
        self.signal(p, signal.SIGKILL)

        def gone():
            if p.popen is not None:
                p.popen.poll()
            return not procs.alive(p.pid), f"{p} still alive"
        wait.until(gone, 5, f"{p} to die", interval=0.005)

    def respawn(self, p, log=None):
        """Start the same program again, with the same arguments (the
        record of the dead one goes)."""
        self.lab.forget(p)
        return self.lab.spawn(p.node, p.name, p.argv, log=log)

    def run(self, node, *argv):
        return netns.run(["ip", "netns", "exec", self.lab.ns(node)]
                         + list(argv))

    # the routers' VIP routes, as the monitors saw them (passive)
    def route_changes(self):
        """How many VIP route changes the routers' monitors have seen in
        this run so far."""
        n = 0
        for m in self.monitors:
            with m.lock:
                n += len(m.events)
        return n

    def wait_route_change(self, since, timeout):
        """Wait until the monitors have seen more than `since` VIP route
        changes (a count from route_changes()); returns the new count.
        Reads ip monitor's output: no process start, no vtysh."""
        def cond():
            n = self.route_changes()
            return n > since, f"{n} route changes"
        wait.until(cond, timeout, "a VIP route change at a router",
                   interval=0.005)
        return self.route_changes()

    # failoverd
    def failoverctl(self, node, *args, status=False, check=True):
        sock = os.path.join(self.lab.etc_dir(node), "failoverd.status.sock"
                            if status else "failoverd.sock")
        r = subprocess.run([os.path.join(BIN, "failoverctl"), "-s", sock,
                            *args], capture_output=True, text=True,
                           timeout=30)
        if check and r.returncode != 0:
            raise ScenarioError(f"{node}: failoverctl {' '.join(args)}: "
                                f"{r.stderr.strip()}")
        return r

    def service_state(self, node):
        """failoverd's state of the first service on node, or None."""
        r = self.failoverctl(node, "-j", "status", status=True, check=False)
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)["services"][0]["state"]
        except (ValueError, KeyError, IndexError):
            return None

    def log_size(self, node, what):
        try:
            return os.path.getsize(self.lab.log_path(node, what))
        except OSError:
            return 0

    def wait_log(self, node, what, text, since, timeout):
        """Wait until node's <what> log has `text` after byte offset since;
        returns the new offset (just past the line)."""
        path = self.lab.log_path(node, what)

        def cond():
            with open(path, "rb") as f:
                f.seek(since)
                data = f.read().decode(errors="replace")
            i = data.find(text)
            if i < 0:
                return False, "not yet"
            j = data.find("\n", i)
            cond.off = since + len(data[:j + 1 if j >= 0 else len(data)]
                                   .encode())
            return True, "found"
        wait.until(cond, timeout, f"{node} {what} log: {text!r}",
                   interval=0.005)
        return cond.off

    # state
    def steady(self, announcing=None):
        """(steady, detail) for the lab with exactly `announcing` relays
        announcing (default all): processes, next hops, failoverd states,
        BGP and BFD sessions, checked cheapest first."""
        announcing = list(self.relays if announcing is None else announcing)
        missing = []
        for n in self.topo.nodes.values():
            names = (frr.DAEMONS if n.speaks_bgp else ()) + \
                (("failoverd",) if n.role == "relay-host" else ()) + \
                (("rtprelay",) if n.name in announcing else ()) + \
                (("redis-server",) if n.role == "redis" else ())
            for name in names:
                try:
                    self.proc(n.name, name)
                except ScenarioError:
                    missing.append(f"{n.name}/{name}")
        if missing:
            return False, "not running: " + " ".join(missing)
        want = expected_nexthops(self.topo, announcing)
        for router, count in want.items():
            got = len(self.lab.nexthops(router, self.vip))
            if got != count:
                return False, (f"{router} has {got} next hops for "
                               f"{self.vip}, steady is {count}")
        for r in self.relays:
            st = self.service_state(r)
            if (st == "up") != (r in announcing):
                return False, f"{r}: failoverd service state {st}"
        for n in self.topo.redis_nodes:
            ok, detail = self.lab.redis_ok(n.name)
            if not ok:
                return False, f"redis-server not answering: {detail}"
        if self.topo.shared_state:
            # Connected and loaded: a relay cut off from Redis by the last
            # fault keeps serving what it knew, and would not know the
            # calls the next run creates on the other relays. Connected is
            # not enough: a relay whose host lost its routes for a while
            # (a BGP session reset) can hold a connection whose TCP
            # retransmissions back off for seconds, so it must also hold
            # as many calls as Redis does.
            want = self.lab.shared_calls()
            for r in announcing:
                ok, detail = self.lab.shared_state_ok(r)
                if not ok:
                    return False, f"shared state: {detail}"
                try:
                    got = self.lab.relay_metrics(r).get("rtprelay_calls")
                except netns.NetnsError as e:
                    return False, f"shared state: {e}"
                if got != want:
                    return False, (f"shared state: {r} holds {got} calls, "
                                   f"Redis {want}")
        return self.lab.all_sessions_ok()

    def wait_steady(self, announcing=None, timeout=STEADY_TIMEOUT):
        return wait.until(lambda: self.steady(announcing), timeout,
                          "steady state", interval=0.1)


# --- one scenario -------------------------------------------------------------

def run_once(ctx, cls, index, tag):
    """One run of scenario class cls (a fresh instance, so nothing of an
    earlier run is left in it); returns the run dict for
    report.scenario_report. Restores the lab on every path."""
    t0 = time.monotonic()
    ctx.wait_steady()
    scen = cls()
    announcing = scen.announcing(ctx)
    raw = os.path.join(ctx.out_dir, "raw")
    os.makedirs(raw, exist_ok=True)
    monitors, meters = [], []
    reports = []
    dumpcap = pcap = None
    fault_ns = None
    restored = False
    restore_error = None
    warnings = []
    try:
        scen.prepare(ctx)
        if sorted(announcing) != sorted(ctx.relays):
            ctx.wait_steady(announcing, timeout=30)
        monitors = [RouteMonitor(ctx, r.name) for r in ctx.topo.routers]
        ctx.monitors = monitors
        if ctx.capture:
            pcap = os.path.join(raw, f"{scen.name}-r{index}.pcapng")
            dumpcap = start_capture(ctx, pcap)
        base = media_counts(ctx, announcing) if ctx.topo.shared_state \
            else None
        for home in announcing:
            name = f"{scen.name}-r{index}-{home}"
            meters.append(Meter(ctx, home, os.path.join(raw, name + ".json"),
                                f"{tag}-{home}-r{index}", scen.after_fault))
        for m in meters:
            m.expect("ready", 15)
        if base is not None:
            wait_media(ctx, announcing, len(meters), base)
        for m in meters:
            m.mark()
        scen.inject(ctx)
        for m in meters:
            m.expect("fault", 5)
        scen.during(ctx)
        for m in meters:
            reports.append((m.home, m.finish(scen.after_fault + 30)))
    finally:
        ctx.monitors = []
        for m in meters:
            m.kill(ctx.lab)
        for mon in monitors:
            mon.stop(ctx.lab)
        if dumpcap is not None:
            _end(dumpcap)
            ctx.lab.forget(dumpcap)
        try:
            scen.restore(ctx)
            ctx.wait_steady()
            restored = True
        except (ScenarioError, wait.WaitTimeout, netns.NetnsError,
                frr.FrrError) as e:
            restore_error = f"lab not restored: {e}"
            warnings.append(restore_error)
            log(f"{scen.name}: the lab did not come back to steady "
                f"state: {e}")
    marks = [rep["run"]["fault_ns"] for _, rep in reports
             if rep["run"]["fault_ns"]]
    fault_ns = min(marks) if marks else None
    events = []
    if fault_ns is not None:
        for mon in monitors:
            events += mon.relative(fault_ns)
    events.sort(key=lambda e: e["ms"])
    for home, rep in reports:
        warnings += [f"meter {home}: {w}" for w in rep["run"]["warnings"]]
    rows = rmod.stream_rows(reports, ctx.ttl_map, scen.touched(ctx))
    extra = {}
    if pcap is not None and reports:
        cc = crosscheck.compare([r for _, r in reports],
                                crosscheck.parse(
                                    crosscheck.tshark_streams(pcap)))
        extra["crosscheck"] = dict(cc, pcap=os.path.relpath(pcap,
                                                            ctx.out_dir))
        log(f"{scen.name}: tshark cross-check: {cc['compared']} streams, "
            f"largest |max delta - meter gap| {cc['max_abs_diff_ms']} ms, "
            f"{cc['packet_mismatches']} packet count mismatches")
    return dict(extra, **{"rows": rows, "route_events": events, "actions": scen.actions,
            "warnings": warnings, "restored": restored,
            "restore_error": restore_error,
            "meters": [os.path.relpath(m.path, ctx.out_dir) for m in meters],
            "seconds": round(time.monotonic() - t0, 1)})


def media_counts(ctx, relays):
    """{relay: rtprelay_packets_total} now (before the meters start)."""
    try:
        return {r: ctx.lab.relay_metrics(r).get("rtprelay_packets_total", 0)
                for r in relays}
    except netns.NetnsError as e:
        raise ScenarioError(str(e)) from None


def wait_media(ctx, relays, nmeters, base, timeout=5.0):
    """Before the mark: wait until the relays' packet rates add up to the
    media the meters send. A relay's rate counts its last whole second
    (rtprelay_packet_rate), and the meters are ready tens of ms after the
    first packet, so without this the fault came while the rates still
    read 0 (or the previous run's media): failoverd's drain, which waits
    for the relay's rate to fall, then saw a drained relay at once and
    withdrew without making before breaking. A rate is this run's once it
    is no more than what the relay forwarded since `base` (its
    packets_total before the meters started). With shared state every
    direction passes through exactly one relay, so the rates add up to
    the whole of the media."""
    want = nmeters * ctx.calls * 2 * METER_PPS

    def cond():
        got = 0
        for r in relays:
            try:
                m = ctx.lab.relay_metrics(r)
            except netns.NetnsError as e:
                return False, str(e)
            rate = m.get("rtprelay_packet_rate", 0)
            since = m.get("rtprelay_packets_total", 0) - base[r]
            if rate > since:
                return False, f"{r}: its rate is an older second's"
            got += rate
        return got >= 0.9 * want, f"{got:.0f} of {want} packets a second"

    try:
        wait.until(cond, timeout, "the relays to forward the meters' media",
                   interval=0.05)
    except wait.WaitTimeout as e:
        raise ScenarioError(str(e)) from None


def start_capture(ctx, pcap):
    """dumpcap on the client's link, tagged like every lab process; returns
    once it captures."""
    log_path = pcap[:-7] + ".dumpcap.log"
    iface = ctx.topo.nodes[ctx.client].ifaces[0].name
    p = ctx.lab.spawn(ctx.client, "dumpcap",
                      crosscheck.capture_argv(iface, ctx.vip, pcap),
                      log=log_path)

    def capturing():
        if p.popen.poll() is not None:
            raise ScenarioError("dumpcap exited:\n" + procs.tail(log_path, 12))
        with open(log_path, errors="replace") as f:
            return "Capturing on" in f.read(), "not yet"
    wait.until(capturing, 10, "dumpcap to capture")
    return p


def run_scenario(ctx, cls, repeat=1):
    """Run scenario class cls `repeat` times; write and return its report.
    A run that fails gives a report with "error" (and the lab restored if
    it can be)."""
    if hasattr(cls, "run_report"):
        return run_own(ctx, cls, repeat)
    scen = cls()
    runs = []
    tag = f"{scen.name}-{os.getpid()}"
    error = None
    for i in range(repeat):
        log(f"{scen.name}: run {i + 1} of {repeat} on {ctx.topo.name} "
            f"(target {ctx.target})")
        try:
            runs.append(run_once(ctx, cls, i, tag))
        except (ScenarioError, wait.WaitTimeout, netns.NetnsError,
                frr.FrrError) as e:
            error = str(e)
            break
        if not runs[-1]["restored"]:
            error = runs[-1]["restore_error"]
            break
    rep = None
    if runs:
        try:
            rep = rmod.scenario_report(scen.name, ctx.topo.name, runs,
                                       description=scen.description,
                                       target=ctx.target,
                                       notes=scen_notes(ctx, scen),
                                       shared_state=ctx.topo.shared_state)
        except rmod.ReportError as e:
            error = error or str(e)
    if rep is None or error:
        rep = dict(rep or {}, scenario=scen.name, topology=ctx.topo.name,
                   repeat=len(runs), verdict="error", error=error)
    rep["command"] = " ".join(shlex.quote(a) for a in sys.argv)
    path = os.path.join(ctx.out_dir, scen.name + ".json")
    with open(path + ".tmp", "w") as f:
        json.dump(rep, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)
    if error:
        log(f"{scen.name}: ERROR: {error}")
    else:
        log(f"{scen.name}: {rep['verdict']}; worst gap "
            f"{rep['worst_gap_ms']} ms, {rep['sessions_broken']} sessions "
            f"broken, {rep['unserved']} unserved; report {path}")
    return rep


def run_own(ctx, cls, repeat):
    """A scenario that measures something other than media gaps (balance)
    runs itself: run_report(ctx, repeat) returns its report, with a
    "verdict" (pass, fail) and a "table" for people. Written like the
    others, with "error" when it could not run."""
    scen = cls()
    log(f"{scen.name}: {repeat} run(s) on {ctx.topo.name}")
    try:
        rep = scen.run_report(ctx, repeat)
    except (ScenarioError, wait.WaitTimeout, netns.NetnsError,
            frr.FrrError) as e:
        rep = {"scenario": scen.name, "topology": ctx.topo.name,
               "repeat": repeat, "verdict": "error", "error": str(e)}
    rep["command"] = " ".join(shlex.quote(a) for a in sys.argv)
    path = os.path.join(ctx.out_dir, scen.name + ".json")
    with open(path + ".tmp", "w") as f:
        json.dump(rep, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)
    log(f"{scen.name}: {rep['verdict']}"
        + (f": {rep['error']}" if "error" in rep else "")
        + f"; report {path}")
    return rep


def scen_notes(ctx, scen):
    notes = []
    if ctx.topo.shared_state:
        notes.append(
            f"relays share session state through Redis on "
            f"{ctx.topo.redis_nodes[0].name} ({ctx.topo.redis_addr()}): "
            "any relay serves any call, so every direction is judged; a "
            "direction that never flowed (unserved) counts as lost and "
            "broken, and untouched directions that moved between healthy "
            "relays (untouched_moved) must lose nothing")
    elif len(ctx.relays) > 1:
        notes.append(
            "relays share no session state yet ([shared-state]): a call "
            "lives only on the relay whose ng port created it, so "
            "directions ECMP hashes to another relay never flow "
            "(unserved, not judged), and directions whose flow moves to "
            "another relay never resume (broken)")
    return notes


def run_all(lab, classes, repeat=1, target=None, client=None, calls=20,
            out_dir=OUT_DIR, capture=False):
    """Run every scenario class in order on a lab that is up; write the
    table to stdout and <out_dir>/table.md. Returns (reports, status):
    status 1 on a MUST failure or an error, else 0."""
    os.makedirs(out_dir, exist_ok=True)
    for name in ("failoverd", "rtprelay", "rtpmeter", "failoverctl"):
        if not os.access(os.path.join(BIN, name), os.X_OK):
            raise ScenarioError(f"build/bin/{name} missing: run make first")
    ctx = Context(lab, target=target, client=client,
                  calls=20 if calls is None else calls,
                  out_dir=out_dir, capture=capture)
    ctx.calls_given = calls is not None
    reports = []
    for cls in classes:
        rep = run_scenario(ctx, cls, repeat)
        reports.append(rep)
        if rep.get("verdict") == "error" and "not restored" in \
                str(rep.get("error")):
            log("stopping: the lab is not in steady state")
            break
    own = [r for r in reports if "table" in r]
    text = rmod.table([r for r in reports if r not in own])
    if len(own) < len(reports):
        print()
        print(f"{lab.topo.name}, target {ctx.target}, {ctx.calls} calls "
              f"per relay, budget {rmod.BUDGET_MS['should']} ms SHOULD / "
              f"{rmod.BUDGET_MS['must']} ms MUST")
        print(text, end="")
    for r in own:
        print(f"\n{r['scenario']}:\n{r['table']}", end="")
    for r in reports:
        for i, run in enumerate(r.get("runs", [])):
            # Calls on a relay the fault killed cannot be deleted: expected.
            for w in run["warnings"]:
                if "calls not deleted" not in w:
                    print(f"  {r['scenario']} run {i + 1}: {w}")
        if r.get("error"):
            print(f"  {r['scenario']}: error: {r['error']}")
    sys.stdout.flush()
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(f"`{' '.join(shlex.quote(a) for a in sys.argv)}` on "
                f"{lab.topo.name}, target {ctx.target}, {ctx.calls} calls per "
                f"relay\n\n")
        f.write(rmod.table([r for r in reports if r not in own],
                           markdown=True))
        for r in own:
            f.write(f"\n{r['scenario']}:\n\n{r.get('markdown', '')}")
    bad = [r for r in reports if r["verdict"] in ("must-fail", "fail",
                                                  "error")]
    return reports, 1 if bad else 0
