#!/bin/sh
# Config tests: every */tests/config/NAME.yaml is checked with its program's
# -n flag (the program is named by the directory: relay -> rtprelay,
# controller -> failoverd) and the output must equal NAME.out exactly.
# The exit status must be 0 when the expected output is "configuration OK",
# 1 otherwise.
set -u

passed=0
failed=0
for dir in relay controller; do
	case $dir in
	relay) prog=build/bin/rtprelay ;;
	controller) prog=build/bin/failoverd ;;
	esac
	for y in "$dir"/tests/config/*.yaml; do
		[ -e "$y" ] || continue
		exp="${y%.yaml}.out"
		if [ ! -f "$exp" ]; then
			echo "FAIL $y: no expected output file $exp"
			failed=$((failed + 1))
			continue
		fi
		out=$("$prog" -n -f "$y" 2>&1)
		rc=$?
		want_rc=1
		[ "$(cat "$exp")" = "configuration OK" ] && want_rc=0
		if [ "$out" = "$(cat "$exp")" ] && [ "$rc" -eq "$want_rc" ]; then
			echo "ok   $y"
			passed=$((passed + 1))
		else
			echo "FAIL $y (exit $rc, expected $want_rc)"
			printf '%s\n' "$out" | diff -u "$exp" - | sed 's/^/     /'
			failed=$((failed + 1))
		fi
	done
done
echo "config tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
