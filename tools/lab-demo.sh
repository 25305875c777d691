#!/bin/sh
# The lab demo behind `sudo make lab`: bring up the `pair` topology, run
# baseline, relay-crash, host-silent, drain, restore and rehash, print the
# table, tear down (topology-tests/lab demo; docs/lab.md). Reports go to
# topology-tests/out/. Exit status 1 when a MUST budget failed.
if [ "$(id -u)" -ne 0 ]; then
	echo "make lab: the lab builds network namespaces: run it as root" \
	    "(sudo make lab)" >&2
	exit 1
fi
exec topology-tests/lab demo
