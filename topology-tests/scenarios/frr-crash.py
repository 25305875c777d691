"""frr-crash: SIGKILL the target host's FRR daemons (zebra, bfdd, bgpd).
The host keeps its kernel routes and its relay, so media is not cut by
the crash itself: the router withdraws the host's path when BFD goes
silent or the BGP TCP session closes. Restore: the daemons are started
again and given their configuration, as the init scripts would; failoverd
reconnects and announces again."""
import os
import signal

from labnet import frr, procs, wait
from scenlib.scenario import Scenario


class FrrCrash(Scenario):
    name = "frr-crash"
    description = "SIGKILL a host's FRR daemons"
    killed = ()

    def inject(self, ctx):
        self.killed = [ctx.proc(ctx.target, d) for d in frr.DAEMONS]
        for p in self.killed:
            ctx.signal(p, signal.SIGKILL)
        self.note(f"SIGKILL {', '.join(f'{p.name} {p.pid}' for p in self.killed)}"
                  f" on {ctx.target}")

    def restore(self, ctx):
        if not self.killed:
            return
        lab, node = ctx.lab, ctx.target
        ns = lab.ns(node)
        wait.until(lambda: (not any(procs.alive(p.pid)
                                    for p in self.killed), "alive"),
                   5, "FRR daemons to die")
        # Stale sockets would make the waits below pass at once.
        for path in [frr.zserv_path(ns)] + [frr.vty_path(ns, d)
                                            for d in frr.DAEMONS]:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        by_name = {p.name: p for p in self.killed}
        ctx.respawn(by_name["zebra"], log=lab.log_path(node, "zebra.out"))
        wait.until(lambda: (os.path.exists(frr.zserv_path(ns)), "no zserv"),
                   10, "zebra to listen", interval=0.01)
        for d in ("bfdd", "bgpd"):
            ctx.respawn(by_name[d], log=lab.log_path(node, d + ".out"))
        wait.until(lambda: (all(os.path.exists(frr.vty_path(ns, d))
                                for d in frr.DAEMONS), "no vty"),
                   10, "FRR daemons to listen", interval=0.01)
        lab.vtysh(node).apply_file(os.path.join(lab.etc_dir(node),
                                                "frr.conf"))
        self.note("FRR started again and configured")


SCENARIO = FrrCrash
