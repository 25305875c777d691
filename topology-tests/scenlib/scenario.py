"""The base of every scenario in scenarios/.

A scenario is a class with a name and up to five steps, each given the
run's Context (runner.py):

    prepare(ctx)   bring the lab from steady state to the scenario's
                   starting point (most scenarios: nothing)
    inject(ctx)    the fault, right after the meters took the fault mark;
                   it must return quickly (no waiting on its effect)
    during(ctx)    anything that goes on while the meters run (flap)
    restore(ctx)   put the lab back in steady state (restart what was
                   killed, remove qdiscs, undrain); the runner then waits
                   for steady state with a deadline

and two questions:

    touched(ctx)   relays whose streams the fault may interrupt (their
                   streams are "touched"; the others should not notice)
    announcing(ctx) relays that announce the VIP once prepare() is done
                   (default: all); the meters create calls on these only

Waiting is on conditions with deadlines (labnet.until), never fixed
sleeps: the only fixed time is the meters' own run length, after_fault
seconds after the mark.
"""


class Scenario:
    name = None
    description = ""
    after_fault = 3.0		# seconds the meters run after the mark

    def __init__(self):
        self.actions = []	# what was done, for the report

    def note(self, what):
        self.actions.append(what)

    def touched(self, ctx):
        return [ctx.target]

    def announcing(self, ctx):
        return list(ctx.relays)

    def prepare(self, ctx):
        pass

    def inject(self, ctx):
        raise NotImplementedError

    def during(self, ctx):
        pass

    def restore(self, ctx):
        pass
