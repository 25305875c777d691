"""controller-crash: SIGKILL failoverd on the target host. Fail closed:
the kernel deletes failoverd's anchor device with the process, zebra drops
the VIP and bgpd's import check withdraws it, although the relay is fine.
failoverd is started again afterwards."""
import signal

from labnet import procs
from scenlib.scenario import Scenario


class ControllerCrash(Scenario):
    name = "controller-crash"
    description = "SIGKILL failoverd on one host"
    killed = None

    def inject(self, ctx):
        self.killed = ctx.proc(ctx.target, "failoverd")
        ctx.signal(self.killed, signal.SIGKILL)
        self.note(f"SIGKILL failoverd pid {self.killed.pid} on "
                  f"{ctx.target}")

    def restore(self, ctx):
        if self.killed is not None and not procs.alive(self.killed.pid):
            p = ctx.respawn(self.killed)
            self.note(f"failoverd started again (pid {p.pid})")


SCENARIO = ControllerCrash
