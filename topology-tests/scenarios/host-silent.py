"""host-silent: the target host goes silent without any link event: a
qdisc that drops everything (`tc qdisc add dev X root pfifo limit 0`) on
both ends of each of its links. Carrier stays up, the host's processes
run, nothing arrives: only BFD can tell. (This kernel has no netem.)"""
from labnet import netns
from scenlib.scenario import Scenario


class HostSilent(Scenario):
    name = "host-silent"
    description = "blackhole a host's links (pfifo limit 0 both ends)"
    ends = ()

    def inject(self, ctx):
        self.ends = []
        for iface, peer, peer_iface in ctx.links(ctx.target):
            for node, dev in ((ctx.target, iface), (peer, peer_iface)):
                netns.run(["tc", "-n", ctx.lab.ns(node), "qdisc", "add",
                           "dev", dev, "root", "pfifo", "limit", "0"])
                self.ends.append((node, dev))
        self.note("pfifo limit 0 on " + ", ".join(f"{n}:{d}"
                                                   for n, d in self.ends))

    def restore(self, ctx):
        for node, dev in self.ends:
            netns.run(["tc", "-n", ctx.lab.ns(node), "qdisc", "del", "dev",
                       dev, "root"], check=False)
        if self.ends:
            self.note("qdiscs removed")


SCENARIO = HostSilent
