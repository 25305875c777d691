"""relay-crash: SIGKILL the relay on the target host. failoverd sees the
death through its pidfd and withdraws the VIP; the relay is started again
afterwards with the same arguments."""
import signal

from labnet import procs
from scenlib.scenario import Scenario


class RelayCrash(Scenario):
    name = "relay-crash"
    description = "SIGKILL rtprelay on one host"
    killed = None

    def inject(self, ctx):
        self.killed = ctx.proc(ctx.target, "rtprelay")
        ctx.signal(self.killed, signal.SIGKILL)
        self.note(f"SIGKILL rtprelay pid {self.killed.pid} on {ctx.target}")

    def restore(self, ctx):
        if self.killed is not None and not procs.alive(self.killed.pid):
            p = ctx.respawn(self.killed)
            self.note(f"rtprelay started again on {ctx.target} "
                      f"(pid {p.pid})")


SCENARIO = RelayCrash
