"""labnet: the network layer of the namespace lab.

Topologies (topology.py), FRR configurations (render.py, frr-conf/),
namespaces and processes (netns.py, procs.py, frr.py, services.py), and the
Lab that ties them together (lab.py). Python 3 standard library plus
python3-yaml; run as root for anything that builds namespaces.
"""

from .lab import (Lab, LabError, LabExists, Signals, can_run, leftovers,
                  teardown)
from .topology import Topology, TopologyError, load as load_topology
from .wait import WaitTimeout, until

__all__ = ["Lab", "LabError", "LabExists", "Signals", "Topology",
           "TopologyError", "WaitTimeout", "can_run", "leftovers",
           "load_topology", "teardown", "until"]
