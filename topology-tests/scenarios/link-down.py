"""link-down: `ip link set down` on the target host's end of each of its
links. The other end loses carrier, so the router drops the route without
waiting for BFD (DESIGN.md: about 75 ms)."""
from labnet import netns
from scenlib.scenario import Scenario


class LinkDown(Scenario):
    name = "link-down"
    description = "ip link set down on a host's links"
    downed = ()

    def inject(self, ctx):
        self.downed = []
        for iface, _, _ in ctx.links(ctx.target):
            netns.run(["ip", "-n", ctx.lab.ns(ctx.target), "link", "set",
                       "dev", iface, "down"])
            self.downed.append(iface)
        self.note(f"link down on {ctx.target}: " + ", ".join(self.downed))

    def restore(self, ctx):
        for iface in self.downed:
            netns.run(["ip", "-n", ctx.lab.ns(ctx.target), "link", "set",
                       "dev", iface, "up"])
        if self.downed:
            self.note("links up")


SCENARIO = LinkDown
