#!/bin/sh
# The test command behind `make test`: every cmocka unit test binary given as an argument, then
# the integration suite against the live server ($TSKEY_BIN). Ends with "N passed, N failed".
set -u
passed=0
failed=0

count() {	# count PATTERN TEXT -> sum of the numbers cmocka prints on matching lines
	printf '%s\n' "$2" | sed -n "s/^\[  $1  \] \([0-9][0-9]*\) test.*/\1/p" |
	    awk '{ s += $1 } END { print s + 0 }'
}

for t in "$@"; do
	echo "== unit: $t"
	out=$(timeout 300 "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(count PASSED "$out")
	f=$(count FAILED "$out")
	# A binary that crashed or hung before cmocka's summary still counts as a failure.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "== $t exited with $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done

echo "== integration: tests/integration/run.py (server: ${TSKEY_BIN:-./tskey})"
out=$(timeout 900 /usr/bin/python3 "$(dirname "$0")/integration/run.py" 2>&1)
rc=$?
printf '%s\n' "$out"
line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
if [ -n "$line" ]; then
	passed=$((passed + $(echo "$line" | sed 's/ passed.*//')))
	failed=$((failed + $(echo "$line" | sed 's/.*passed, \([0-9]*\) failed.*/\1/')))
fi
if [ "$rc" -ne 0 ] && { [ -z "$line" ] || [ "$(echo "$line" | sed 's/.*passed, \([0-9]*\) failed.*/\1/')" -eq 0 ]; }; then
	echo "== integration suite exited with $rc"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
