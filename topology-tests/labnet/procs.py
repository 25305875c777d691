"""Processes the lab starts: spawn inside a namespace, tag, find, kill.

Every process carries the environment variable RAF_LAB=<prefix> (the tag).
The lab records each one by PID and start time; before it signals a PID it
checks /proc/PID/environ for the tag and /proc/PID/stat for the start time,
so it never kills a process it did not start, even after a PID was reused.
Nothing is ever killed by name.
"""

import ctypes
import errno
import os
import signal
import subprocess
import time

from . import paths

CLONE_NEWUTS = 0x04000000
CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)


def _enter(ns, hostname):
    """preexec_fn: join netns `ns`, and a fresh UTS namespace named after
    the node so FRR shows it (the BGP hostname capability, logs)."""
    if ns is not None:
        fd = os.open(os.path.join("/run/netns", ns), os.O_RDONLY)
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns {ns}: {os.strerror(e)}")
        os.close(fd)
    if hostname is not None:
        if _libc.unshare(CLONE_NEWUTS) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"unshare(CLONE_NEWUTS): {os.strerror(e)}")
        name = hostname.encode()
        if _libc.sethostname(name, len(name)) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"sethostname: {os.strerror(e)}")


def tag_env(tag, extra=None):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    if extra:
        env.update(extra)
    env[paths.TAG_ENV] = tag
    return env


def starttime(pid):
    """Field 22 of /proc/PID/stat (clock ticks since boot), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # comm (field 2) may hold spaces and parentheses: split after the last ')'.
    rest = data[data.rindex(b")") + 2:].split()
    return int(rest[19])


def state(pid):
    """Process state letter (R, S, Z, ...) or None when gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2:].split()[0].decode()


def alive(pid):
    """True while the process exists and is not a zombie. (In a container
    whose PID 1 does not reap, killed orphans stay zombies: they hold no
    namespace and no socket, so they count as gone.)"""
    s = state(pid)
    return s is not None and s not in ("Z", "X")


def tagged(pid, tag):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read().split(b"\0")
    except OSError:
        return False
    return f"{paths.TAG_ENV}={tag}".encode() in env


def is_ours(pid, tag, start=None):
    if not alive(pid) or not tagged(pid, tag):
        return False
    return start is None or starttime(pid) == start


def find_tagged(tag):
    """PIDs of live processes that carry the tag (found by scanning /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            pid = int(d)
            if pid != os.getpid() and alive(pid) and tagged(pid, tag):
                out.append(pid)
    return sorted(out)


class Proc:
    """A started process: what state.json records."""

    def __init__(self, pid, start, node, name, argv, popen=None):
        self.pid = pid
        self.start = start
        self.node = node
        self.name = name
        self.argv = argv
        self.popen = popen	# set only in the process that started it

    def record(self):
        return {"pid": self.pid, "start": self.start, "node": self.node,
                "name": self.name, "argv": self.argv}

    @classmethod
    def from_record(cls, r):
        return cls(r["pid"], r["start"], r["node"], r["name"], r["argv"])

    def __repr__(self):
        return f"{self.node}/{self.name}[{self.pid}]"


def spawn(argv, tag, node, name, ns=None, hostname=None, log=None,
          env=None, cwd="/", pipe=False, stdin_pipe=False):
    """Start argv in namespace ns; stdout and stderr go to the file log.
    pipe: stdout is a pipe instead (popen.stdout, text), stderr the log.
    stdin_pipe: stdin is a pipe (popen.stdin, text if pipe), else empty."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    try:
        p = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin_pipe
                             else subprocess.DEVNULL,
                             stdout=subprocess.PIPE if pipe else out,
                             stderr=out if pipe else subprocess.STDOUT,
                             text=pipe, env=tag_env(tag, env),
                             cwd=cwd, start_new_session=True,
                             preexec_fn=lambda: _enter(ns, hostname))
    finally:
        if log:
            out.close()
    return Proc(p.pid, starttime(p.pid), node, name, list(argv), popen=p)


def tail(path, lines=15):
    """The last lines of a process's log, for error messages; the reason
    in parentheses when it cannot be read."""
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return f"({path}: {e.strerror})"


def _reap(procs):
    for p in procs:
        if p.popen is not None:
            p.popen.poll()


def terminate(procs, tag, timeout=3.0):
    """SIGTERM every process of ours in procs, SIGKILL what is left after
    timeout, wait until all are gone. Returns the list of PIDs that were
    still alive at the end (should be empty)."""
    ours = [p for p in procs if is_ours(p.pid, tag, p.start)]
    for p in ours:
        _signal(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(ours)
        if not any(alive(p.pid) for p in ours):
            return []
        time.sleep(0.01)
    for p in ours:
        if is_ours(p.pid, tag, p.start):
            _signal(p.pid, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        _reap(ours)
        if not any(alive(p.pid) for p in ours):
            return []
        time.sleep(0.01)
    return [p.pid for p in ours if alive(p.pid)]


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except OSError as e:
        if e.errno != errno.ESRCH:
            raise
