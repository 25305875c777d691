"""Where things are: the repository, FRR, the run directory."""

import os

TT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TT_DIR)
FRR_CONF_DIR = os.path.join(ROOT, "frr-conf")
TOPO_DIR = os.path.join(TT_DIR, "topologies")
SCENARIO_DIR = os.path.join(TT_DIR, "scenarios")
SERVICE_DIR = os.path.join(TT_DIR, "services")
BUILD_BIN = os.path.join(ROOT, "build", "bin")

FRR_LIBEXEC = "/usr/lib/frr"
VTYSH = "/usr/bin/vtysh"
FRR_RUN = "/var/run/frr"	# daemons put pathspace <ns> under it
FRR_USER = "frr"

DEFAULT_PREFIX = "rafl-"
PREFIX_ENV = "RAF_LAB_PREFIX"
RUNDIR_ENV = "RAF_LAB_RUNDIR"
TAG_ENV = "RAF_LAB"		# every process the lab starts carries it
RUN_BASE = "/run/raf-lab"


def prefix_from_env():
    return os.environ.get(PREFIX_ENV) or DEFAULT_PREFIX


def rundir_for(prefix):
    """The run directory of the lab with this prefix."""
    base = os.environ.get(RUNDIR_ENV) or RUN_BASE
    return os.path.join(base, prefix.rstrip("-"))
