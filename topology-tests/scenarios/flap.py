"""flap: the target's relay goes down and up three times in a row, as
fast as failoverd can see it: SIGSTOP until failoverd logs the probe
check down, SIGCONT until it logs it up, three times. failoverd's
hold-down must keep the VIP withdrawn until the relay has been stable for
a while, so flows move away once and come back once, not three times
(long_gaps per stream tells)."""
import signal

from scenlib.scenario import Scenario

CYCLES = 3


class Flap(Scenario):
    name = "flap"
    description = f"SIGSTOP/SIGCONT a relay {CYCLES} times"
    after_fault = 5.0
    relay = None
    stopped = False

    def inject(self, ctx):
        self.relay = ctx.proc(ctx.target, "rtprelay")
        self.log_at = ctx.log_size(ctx.target, "failoverd")
        ctx.signal(self.relay, signal.SIGSTOP)
        self.stopped = True
        self.note(f"SIGSTOP rtprelay pid {self.relay.pid} on {ctx.target}")

    def during(self, ctx):
        # Reading failoverd's log file costs no process start.
        off = self.log_at
        for i in range(CYCLES):
            if i > 0:
                ctx.signal(self.relay, signal.SIGSTOP)
                self.stopped = True
            off = ctx.wait_log(ctx.target, "failoverd",
                               "check probe up -> down", off, 3)
            ctx.signal(self.relay, signal.SIGCONT)
            self.stopped = False
            off = ctx.wait_log(ctx.target, "failoverd",
                               "check probe down -> up", off, 3)
        self.note(f"{CYCLES} cycles of SIGSTOP until failoverd's probe "
                  "check fell, SIGCONT until it rose")

    def restore(self, ctx):
        if self.stopped:
            ctx.signal(self.relay, signal.SIGCONT)


SCENARIO = Flap
