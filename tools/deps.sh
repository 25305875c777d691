#!/bin/sh
# Install the Debian packages the project needs to build, test and run the
# lab. Idempotent: when everything is present it changes nothing and needs no
# root; otherwise it runs apt-get (update once, then install) as root.
set -eu

PKGS="build-essential pkg-config libev-dev libyaml-dev libcmocka-dev
libhiredis-dev redis-server frr python3 python3-yaml python3-pytest
rtpengine-utils rtpengine-daemon tshark iproute2 procps util-linux
kamailio sip-tester openssl"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run as root (sudo make deps) to install them" >&2
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# No recommends: rtpengine would pull in its kernel module build, which the
# benchmark does not use (it runs rtpengine in userspace, --table=-1).
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
# Package installs may start system services; the project starts its own
# instances per namespace, so leave the system ones as the admin had them.
# One exception: kamailio (its rtpengine module drives the relays in
# relay/tests/integration/test_kamailio.py) enables and starts a SIP server
# on every address, port 5060, when installed on a systemd host. The admin
# had no Kamailio before this run, so none is left running or enabled.
case " $missing " in
*" kamailio "*)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now kamailio.service || true
	fi
	;;
esac
