"""Waiting on conditions with deadlines (never a fixed sleep).

A condition is a function returning (done, detail): detail says what was
seen last, so a timeout explains itself ("R: peer 198.51.100.1 Active").
"""

import time


class WaitTimeout(Exception):
    pass


def until(cond, timeout, what, interval=0.02):
    """Poll cond every `interval` s until it is done or `timeout` s pass.
    Returns the elapsed time in seconds; raises WaitTimeout with the last
    detail. Exceptions from cond propagate."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    while True:
        done, detail = cond()
        now = time.monotonic()
        if done:
            return now - t0
        if now >= deadline:
            raise WaitTimeout(f"timed out after {timeout:g} s waiting for "
                              f"{what}: {detail}")
        time.sleep(min(interval, max(0.0, deadline - now)))
