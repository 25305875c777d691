#!/bin/bash
# bench-relay.sh: rtprelay against rtpengine on one pinned core each.
#
# Each relay runs alone in its own network namespace (rafbench-*), pinned to
# CPU 1; build/bin/rtpbench runs in the same namespace pinned to CPU 0,
# creates the calls over ng on 127.0.0.1:2223 and steps the offered load up
# (5 s per step by default) until two steps in a row fail. A step is "ok"
# when under 0.1 % of its packets are lost (late beyond 100 ms counts as
# lost) and the relay's queues did not grow (backlog growth under 0.5 %).
# The relay's CPU comes from /proc/PID/task/*/schedstat over each step.
# The two relays alternate (A B, then B A) so drift on a shared machine
# hits both. Results: a table on stdout and build/bench/relay.json.
#
# Environment (all optional):
#   RAFBENCH_CALLS="1000 10000"   call counts, one step set each
#   RAFBENCH_RATES=50000,...      offered packets/s, all streams together
#   RAFBENCH_STEP=5               seconds per step
#   RTPRELAY=build/bin/rtprelay   RTPENGINE=/usr/bin/rtpengine
#
# Needs root (network namespaces). Tears everything down on any exit: kills
# only the processes it started, deletes only the namespaces it created.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RTPBENCH=$ROOT/build/bin/rtpbench
RTPRELAY=${RTPRELAY:-$ROOT/build/bin/rtprelay}
RTPENGINE=${RTPENGINE:-/usr/bin/rtpengine}
OUTDIR=$ROOT/build/bench
CALLS=${RAFBENCH_CALLS:-"1000 10000"}
RATES=${RAFBENCH_RATES:-50000,80000,100000,120000,140000,160000,200000}
STEP=${RAFBENCH_STEP:-5}
CPU_RELAY=1
CPU_GEN=0
NG=127.0.0.1:2223
CPU_AT=100000		# offered rate at which CPU per packet is reported
FDS_PER_CALL=4		# rtpengine: RTP + RTCP socket per leg

PIDS=()			# every process we started, killed on exit
NSES=()			# every namespace we created
TMP=""

say() { printf '%s\n' "$*" >&2; }
die() { say "bench-relay: $*"; exit 1; }

cleanup() {
	local rc=$? pid i
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		for i in $(seq 1 30); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	for i in "${NSES[@]}"; do
		ip netns delete "$i" 2>/dev/null || true
	done
	[ -n "$TMP" ] && rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'say "bench-relay: interrupted"; exit 130' INT TERM

# Forget a PID once it has been reaped, so cleanup never signals a PID
# the kernel may have handed to someone else.
forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	forget "$pid"
}

# Value of a numeric or boolean key in one of rtpbench's JSON lines.
jget() {
	if [[ $1 =~ \"$2\":(-?[0-9.]+|true|false) ]]; then
		printf '%s' "${BASH_REMATCH[1]}"
	fi
}

jstr() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$(printf '%s' "$s" | tr -d '\000-\037')"
}

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
[ -x "$RTPBENCH" ] || die "$RTPBENCH missing: run make first"
ip netns list | grep -q '^rafbench-' &&
	die "namespaces rafbench-* exist already (another run?): $(ip netns list | grep '^rafbench-' | cut -d' ' -f1 | tr '\n' ' ')"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (relay on CPU $CPU_RELAY, generator on CPU $CPU_GEN)"

TMP=$(mktemp -d /tmp/rafbench.XXXXXX)
mkdir -p "$OUTDIR"
LOGDIR=$OUTDIR/logs
mkdir -p "$LOGDIR"

# Relays inherit our open file limit: raise the soft limit to the hard one.
# Without CAP_SYS_RESOURCE the hard limit cannot grow, and each rtpengine
# call needs FDS_PER_CALL descriptors, so large call counts may not fit.
ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)
MAXCALLS=$(( (NOFILE - 256) / FDS_PER_CALL / 1000 * 1000 ))
RUNCALLS=()
NOTES=()
for c in $CALLS; do
	if [ "$c" -gt "$MAXCALLS" ]; then
		NOTES+=("$c calls capped to $MAXCALLS: open file limit $NOFILE (hard, needs CAP_SYS_RESOURCE to raise) allows $(( (NOFILE - 256) / FDS_PER_CALL )) rtpengine calls at $FDS_PER_CALL fds each")
		c=$MAXCALLS
	fi
	RUNCALLS+=("$c")
done
for n in "${NOTES[@]}"; do say "note: $n"; done

cat > "$TMP/rtprelay.yaml" <<EOF
service-address: 127.0.0.1
control: 127.0.0.1:2223
ports: 30000-59999
media-timeout: 600s
EOF

# Ephemeral ports (the ng client's socket) stay below every relay port range
# so they never take a port a relay wants; the generator's media sockets
# bind explicitly from 1024 up.
newns() {
	ip netns add "$1"
	NSES+=("$1")
	ip netns exec "$1" ip link set lo up
	ip netns exec "$1" sysctl -qw net.ipv4.ip_local_port_range="10000 15999"
}

# start_relay NAME CALLS: start it in its namespace on CPU_RELAY; sets
# RELAY_PID, or returns 1 with RELAY_WHY set.
start_relay() {
	local name=$1 calls=$2 ns=rafbench-$1 log=$LOGDIR/$1-$2.log pmin pmax rc
	RELAY_PID=""
	RELAY_WHY=""
	case $name in
	rtpengine)
		[ -x "$RTPENGINE" ] || { RELAY_WHY="$RTPENGINE not installed"; return 1; }
		# The DESIGN.md command line; its port range holds 5,000 calls
		# (4 ports each), so larger runs get a wider one.
		pmin=20000 pmax=39999
		if [ $(( calls * 4 + 400 )) -gt 20000 ]; then
			pmin=16000 pmax=59999
		fi
		ip netns exec "$ns" taskset -c "$CPU_RELAY" "$RTPENGINE" \
		    --config-file=none --foreground --log-stderr --table=-1 \
		    --interface=127.0.0.1 --listen-ng=$NG \
		    --port-min=$pmin --port-max=$pmax --num-threads=1 \
		    --media-num-threads=1 --timeout=600 --silent-timeout=600 \
		    --delete-delay=0 >"$log" 2>&1 &
		;;
	rtprelay)
		[ -x "$RTPRELAY" ] || { RELAY_WHY="$RTPRELAY not built"; return 1; }
		ip netns exec "$ns" taskset -c "$CPU_RELAY" "$RTPRELAY" -d \
		    -f "$TMP/rtprelay.yaml" >"$log" 2>&1 &
		;;
	esac
	RELAY_PID=$!
	PIDS+=("$RELAY_PID")
	if ! ip netns exec "$ns" taskset -c "$CPU_GEN" "$RTPBENCH" --ng $NG \
	    --ping-only --ping-wait 10 2>>"$log"; then
		if kill -0 "$RELAY_PID" 2>/dev/null; then
			RELAY_WHY="no answer to ng ping on $NG within 10 s"
			stop_pid "$RELAY_PID"
		else
			wait "$RELAY_PID" 2>/dev/null && rc=0 || rc=$?
			forget "$RELAY_PID"
			RELAY_WHY="exited with status $rc: $(grep -v '^$' "$log" | grep -v 'ng server not ready' | tail -1)"
			RELAY_WHY=${RELAY_WHY%: }
		fi
		return 1
	fi
	return 0
}

RESULTS=()		# one JSON object per run
SUMMARY=()		# one table row per run
STEPROWS=()

# run_set NAME CALLS: one step set for one relay.
run_set() {
	local name=$1 calls=$2 ns=rafbench-$1 out=$TMP/$1-$2.jsonl
	local errlog=$LOGDIR/rtpbench-$1-$2.log bpid rc line steps="" best=0
	local bestfwd=0 us="" cpu="" p99="" rss="" ok status="ok" why="" off
	local firstfail="" lim

	say "== $name, $calls calls: steps $RATES pps, ${STEP} s each"
	if ! start_relay "$name" "$calls"; then
		say "   $name: not functional: $RELAY_WHY"
		RESULTS+=("{\"relay\":\"$name\",\"calls\":$calls,\"status\":\"not functional\",\"reason\":$(jstr "$RELAY_WHY")}")
		SUMMARY+=("$(printf '%-10s %6s  not functional: %s' "$name" "$calls" "$RELAY_WHY")")
		return 0
	fi
	ip netns exec "$ns" taskset -c "$CPU_GEN" "$RTPBENCH" --ng $NG \
	    --calls "$calls" --pps "$RATES" --duration "$STEP" \
	    --relay-pid "$RELAY_PID" --stop-after-loss 2 \
	    >"$out" 2>"$errlog" &
	bpid=$!
	PIDS+=("$bpid")
	wait "$bpid" && rc=0 || rc=$?
	forget "$bpid"
	if ! kill -0 "$RELAY_PID" 2>/dev/null; then
		status="relay died"
		why="relay exited during the run (see $LOGDIR/$name-$calls.log)"
		wait "$RELAY_PID" 2>/dev/null || true
		forget "$RELAY_PID"
	else
		stop_pid "$RELAY_PID"
	fi
	if [ "$rc" -ne 0 ] && [ "$status" = ok ]; then
		status="failed"
		why="rtpbench exit $rc: $(grep -E 'warn|err' "$errlog" | tail -1)"
	fi
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		steps+=${steps:+,}$line
		ok=$(jget "$line" ok)
		off=$(jget "$line" offered_pps)
		lim=$(jget "$line" gen_limited)
		# A step the generator could not deliver measured a lower
		# rate than its name: it never counts as the maximum.
		if [ "$ok" = true ] && [ "$lim" = false ] && [ "$off" -gt "$best" ]; then
			best=$off
			bestfwd=$(jget "$line" forwarded_pps)
		fi
		if [ "$ok" != true ] && { [ -z "$firstfail" ] || [ "$off" -lt "$firstfail" ]; }; then
			firstfail=$off
		fi
		if [ "$(jget "$line" offered_pps)" = "$CPU_AT" ]; then
			us=$(jget "$line" relay_us_per_pkt)
			cpu=$(jget "$line" relay_cpu_pct)
			p99=$(jget "$line" lat_p99_us)
		fi
		[ -n "$rss" ] || rss=$(jget "$line" relay_rss_kb)
		STEPROWS+=("$(printf '%-10s %6s %8s %9s %8s %7s %8s %8s %6s %6s %5s %s' \
		    "$name" "$calls" "$(jget "$line" offered_pps)" \
		    "$(jget "$line" forwarded_pps)" "$(jget "$line" loss_pct)" \
		    "$(jget "$line" backlog_pct)" "$(jget "$line" lat_p50_us)" \
		    "$(jget "$line" lat_p99_us)" "$(jget "$line" relay_cpu_pct)" \
		    "$(jget "$line" relay_us_per_pkt)" "$ok" \
		    "$([ "$lim" = true ] && echo '(generator-limited)')")")
	done <"$out"
	[ -n "$steps" ] || { [ "$status" != ok ] || status="failed"; why=${why:-"no step completed: $(tail -1 "$errlog")"}; }
	say "   $status: highest ok rate ${best} pps${why:+ ($why)}"
	RESULTS+=("{\"relay\":\"$name\",\"calls\":$calls,\"status\":$(jstr "$status")${why:+,\"reason\":$(jstr "$why")},\"max_lossless_pps\":$best,\"forwarded_pps_at_max\":${bestfwd:-0},\"first_failed_pps\":${firstfail:-null},\"relay_us_per_pkt_at_${CPU_AT}\":${us:-null},\"relay_cpu_pct_at_${CPU_AT}\":${cpu:-null},\"lat_p99_us_at_${CPU_AT}\":${p99:-null},\"relay_rss_kb\":${rss:-null},\"steps\":[${steps}]}")
	SUMMARY+=("$(printf '%-10s %6s %10s %10s %10s %10s %9s %9s %8s %s' "$name" "$calls" \
	    "$best" "${bestfwd:-0}" "${firstfail:--}" "${us:--}" "${cpu:--}" "${p99:--}" \
	    "$([ -n "$rss" ] && echo $(( rss / 1024 )) || echo -)" \
	    "$([ "$status" = ok ] || echo "$status")")")
}

newns rafbench-rtpengine
newns rafbench-rtprelay

START=$(date +%s)
order=(rtpengine rtprelay)
for c in "${RUNCALLS[@]}"; do
	for r in "${order[@]}"; do
		run_set "$r" "$c"
	done
	order=("${order[1]}" "${order[0]}")
done
ELAPSED=$(( $(date +%s) - START ))

{
	echo
	echo "Relay benchmark: ${STEP} s steps, relay on CPU $CPU_RELAY, generator on CPU $CPU_GEN, 172-byte RTP, ${ELAPSED} s"
	echo "ok = loss < 0.1 % (later than 100 ms counts as lost) and backlog growth < 0.5 %"
	echo
	printf '%-10s %6s %8s %9s %8s %7s %8s %8s %6s %6s %5s\n' relay calls offered forwarded 'loss%' 'backlg%' 'p50us' 'p99us' 'cpu%' 'us/pk' ok
	printf '%s\n' "${STEPROWS[@]}"
	echo
	printf '%-10s %6s %10s %10s %10s %10s %9s %9s %8s\n' relay calls 'max-ok-pps' 'fwd-pps' 'first-fail' "us/pkt@${CPU_AT:0:3}k" "cpu%@${CPU_AT:0:3}k" "p99us@${CPU_AT:0:3}k" 'RSS-MB'
	printf '%s\n' "${SUMMARY[@]}"
	echo "max-ok-pps: highest offered rate that was ok and that the generator delivered;"
	echo "first-fail: lowest offered rate that was not ok (a lone failure below max-ok is noise"
	echo "on this shared machine: read the step rows)."
	for n in "${NOTES[@]}"; do echo "note: $n"; done
}

{
	printf '{"generated":"%s","kernel":%s,"cpus":%s,' "$(date -u +%FT%TZ)" \
	    "$(jstr "$(uname -r)")" "$(nproc)"
	printf '"rtpengine":%s,' "$(jstr "$("$RTPENGINE" --version 2>&1 | head -1 || true)")"
	printf '"step_seconds":%s,"rates":[%s],"cpu_relay":%s,"cpu_generator":%s,' \
	    "$STEP" "$RATES" "$CPU_RELAY" "$CPU_GEN"
	printf '"ok_rule":"loss < 0.1%% (late > 100 ms counts as lost) and backlog growth < 0.5%%; max_lossless_pps ignores generator-limited steps",'
	printf '"open_file_limit":%s,"notes":[' "$NOFILE"
	sep=""
	for n in "${NOTES[@]}"; do printf '%s%s' "$sep" "$(jstr "$n")"; sep=,; done
	printf '],"runs":['
	sep=""
	for r in "${RESULTS[@]}"; do printf '%s%s' "$sep" "$r"; sep=,; done
	printf ']}\n'
} >"$OUTDIR/relay.json"
say "wrote $OUTDIR/relay.json"
