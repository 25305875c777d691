"""drain: `failoverctl drain media` on the target host: make-before-break
(graceful-shutdown community first, withdraw once the relay's traffic has
gone). `failoverctl undrain media` afterwards."""
from scenlib.scenario import Scenario


class Drain(Scenario):
    name = "drain"
    description = "failoverctl drain, then undrain"
    drained = False

    def inject(self, ctx):
        ctx.failoverctl(ctx.target, "drain", "media", "--timeout", "30s")
        self.drained = True
        self.note(f"failoverctl drain media on {ctx.target}")

    def restore(self, ctx):
        if self.drained:
            ctx.failoverctl(ctx.target, "undrain", "media")
            self.note("failoverctl undrain media")


SCENARIO = Drain
