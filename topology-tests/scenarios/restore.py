"""restore: failback. Before the meters start, the target's relay is
killed and its VIP withdrawn, so the calls live on the other relays. The
fault is the relay's restart: failoverd announces the VIP again once its
checks have risen, and the routers rehash flows onto the returning relay.
Linux ECMP is hash-threshold, so the flows that move belong to relays
that never failed (DESIGN.md, decision 7): they are "untouched" streams,
and untouched_lost shows what a failback costs them."""
import signal

from scenlib.scenario import Scenario


class Restore(Scenario):
    name = "restore"
    description = "failback: restart a failed relay"
    # Checks rise (relay-process 2 x 1 s), then the route, then the moved
    # streams must stay silent for --broken-after to count as broken.
    after_fault = 6.0
    killed = None

    def announcing(self, ctx):
        return [r for r in ctx.relays if r != ctx.target]

    def prepare(self, ctx):
        self.killed = ctx.proc(ctx.target, "rtprelay")
        ctx.signal(self.killed, signal.SIGKILL)
        self.note(f"before: SIGKILL rtprelay pid {self.killed.pid} on "
                  f"{ctx.target}, VIP withdrawn")

    def inject(self, ctx):
        p = ctx.respawn(self.killed)
        self.killed = None
        self.note(f"rtprelay started again on {ctx.target} (pid {p.pid})")

    def restore(self, ctx):
        if self.killed is not None:	# the run failed before inject
            ctx.respawn(self.killed)
            self.killed = None


SCENARIO = Restore
