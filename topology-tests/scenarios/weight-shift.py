"""weight-shift: `failoverctl weight media 300` on the target relay while
media flows. failoverd re-announces the VIP with another link bandwidth
(never a withdraw); the routers re-weight their next hops, and Linux's
hash-threshold ECMP moves a part of the flows, also between relays the
change did not touch (on draft-fig A goes from 40:60 to 57:42, B from 50:50
to 75:25). With shared session state every relay serves every call, so a
moved flow goes on at once on its new relay: no stream may lose a packet
or break, and `moved` counts the directions that changed relay.
`failoverctl weight media auto` puts the configured weight back
afterwards."""
from scenlib.scenario import Scenario

WEIGHT = 300


class WeightShift(Scenario):
    name = "weight-shift"
    description = f"failoverctl weight {WEIGHT} on one relay at run time"
    after_fault = 4.0
    shifted = False

    def touched(self, ctx):
        # Nothing fails: every direction is judged as untouched, so one
        # lost packet anywhere shows in untouched_lost.
        return []

    def inject(self, ctx):
        ctx.failoverctl(ctx.target, "weight", "media", str(WEIGHT))
        self.shifted = True
        self.note(f"failoverctl weight media {WEIGHT} on {ctx.target}")

    def restore(self, ctx):
        if self.shifted:
            ctx.failoverctl(ctx.target, "weight", "media", "auto")
            self.note("failoverctl weight media auto")


SCENARIO = WeightShift
