"""baseline: no fault. The meters mark a fault and nothing happens, so
every number of the report is the lab's noise floor."""
from scenlib.scenario import Scenario


class Baseline(Scenario):
    name = "baseline"
    description = "no fault: the noise floor"

    def touched(self, ctx):
        return []

    def inject(self, ctx):
        self.note("nothing (noise floor)")


SCENARIO = Baseline
