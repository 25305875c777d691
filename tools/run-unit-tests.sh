#!/bin/sh
# Run every cmocka unit test binary given on the command line, show its
# output, and close with one summary line of test cases passed and failed.
# Exit status 1 if any test failed or any binary crashed.
set -u

passed=0
failed=0
broken=""
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ -z "$f" ]; then
		# Crashed or sanitizer abort before cmocka could count.
		failed=$((failed + 1))
		broken="$broken $t"
	fi
done
[ -n "$broken" ] && echo "crashed or aborted:$broken"
echo "unit tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
