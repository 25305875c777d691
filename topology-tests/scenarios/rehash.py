"""rehash: one healthy relay leaves the VIP's ECMP set cleanly and comes
back, while media runs; what is measured is every *other* relay's streams.

Linux ECMP is hash-threshold: when a next hop leaves or returns, flows of
next hops that did not change move too (DESIGN.md, decision 7). On `pair`
the return of the target moves about half of M2's flows to it; on
draft-fig the target's leaving already re-weights A's split between B and
C and moves flows of M2 to C's relays. With shared session state those
flows land on relays that know their calls and must lose nothing: the
report's untouched_lost and untouched_broken say whether they did, and
untouched_moved how many moved between healthy relays.

The leave is `failoverctl drain media --timeout 1s` (make-before-break:
the graceful-shutdown community takes the path out of ECMP while the
relay still forwards, then the withdraw once failoverd sees the relay's
traffic gone, or after 1 s). The return, `failoverctl undrain media`,
waits for two conditions: a router's VIP route changed (the routers'
`ip monitor`, read passively) and failoverd logged the drain done. So the
streams that moved settle on their new relay for up to a second before
the return moves flows again. Nothing fails: the target's own streams,
which leave and come back, should lose nothing either; they are the
touched ones."""
from scenlib.scenario import Scenario

DRAIN_TIMEOUT = "1s"


class Rehash(Scenario):
    name = "rehash"
    description = "a healthy relay leaves ECMP and returns: others' streams"
    # Drain done within 1 s, the return's route change, then the moved
    # streams must flow for --broken-after (1.5 s) before sending stops.
    after_fault = 4.5
    drained = False

    def inject(self, ctx):
        self.log_at = ctx.log_size(ctx.target, "failoverd")
        self.routes_at = ctx.route_changes()
        ctx.failoverctl(ctx.target, "drain", "media", "--timeout",
                        DRAIN_TIMEOUT)
        self.drained = True
        self.note(f"failoverctl drain media --timeout {DRAIN_TIMEOUT} on "
                  f"{ctx.target}")

    def during(self, ctx):
        # Reading failoverd's log file and ip monitor's output costs no
        # process start.
        n = ctx.wait_route_change(self.routes_at, 5)
        off = ctx.wait_log(ctx.target, "failoverd", "-> drained",
                           self.log_at, 5)
        ctx.failoverctl(ctx.target, "undrain", "media")
        self.drained = False
        ctx.wait_log(ctx.target, "failoverd", "drained -> up", off, 5)
        ctx.wait_route_change(n, 5)
        self.note("route changed and drain done (failoverd log), then "
                  "failoverctl undrain media: announced again, route "
                  "changed back")

    def restore(self, ctx):
        if self.drained:
            ctx.failoverctl(ctx.target, "undrain", "media")
            self.drained = False
            self.note("failoverctl undrain media")


SCENARIO = Rehash
