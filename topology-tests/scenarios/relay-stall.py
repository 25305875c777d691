"""relay-stall: SIGSTOP the relay on the target host: the process lives,
its data path does not. Only failoverd's probe through the relay's own
sockets can tell. SIGCONT afterwards."""
import signal

from scenlib.scenario import Scenario


class RelayStall(Scenario):
    name = "relay-stall"
    description = "SIGSTOP rtprelay on one host"
    stopped = None

    def inject(self, ctx):
        self.stopped = ctx.proc(ctx.target, "rtprelay")
        ctx.signal(self.stopped, signal.SIGSTOP)
        self.note(f"SIGSTOP rtprelay pid {self.stopped.pid} on "
                  f"{ctx.target}")

    def restore(self, ctx):
        if self.stopped is not None:
            ctx.signal(self.stopped, signal.SIGCONT)
            self.note("SIGCONT")


SCENARIO = RelayStall
