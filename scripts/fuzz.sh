#!/usr/bin/env bash
# Runs every native fuzz target of the module for the given time each (default 60s), then
# prints how many inputs each target ran. The duration takes Go's -fuzztime forms: "60s", or
# "2000000x" for an exact number of executions. FUZZPARALLEL sets the fuzzing processes per
# target (default GOMAXPROCS); use 1 on a shared machine. FUZZMINIMIZETIME bounds the time
# spent minimizing each new interesting input (default 5s; Go's own default of 60s stalls the
# targets that drive a whole server).
# Usage: scripts/fuzz.sh [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-60s}
flags=(-fuzzminimizetime="${FUZZMINIMIZETIME:-5s}")
if [ -n "${FUZZPARALLEL:-}" ]; then
	flags+=(-parallel "$FUZZPARALLEL")
fi
status=0
summary=""
log=$(mktemp)
trap 'rm -f "$log" "$log.failed"' EXIT

# fuzz_one PKG TARGET fuzzes one target into $log; $log.failed is non-empty when it failed.
fuzz_one() {
	: >"$log.failed"
	if ! go test -run='^$' -fuzz="^${2}\$" -fuzztime="$time" "${flags[@]}" "$1" >"$log" 2>&1; then
		echo failed >"$log.failed"
		return 1
	fi
}

# deadline_race reports whether the failure in $log is only the fuzzing engine's race at the
# end of its time window: the deadline error, and no failing input, panic or test error.
deadline_race() {
	grep -q 'context deadline exceeded' "$log" &&
		! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:|fuzz: minimizing' "$log"
}
while IFS= read -r file; do
	pkg="./$(dirname "$file")"
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
		echo "fuzz $pkg $target ($time)"
		if ! fuzz_one "$pkg" "$target" && deadline_race; then
			# Go's fuzzing coordinator can report the end of a -fuzztime window as a failure,
			# "context deadline exceeded" with no failing input (golang/go#75804, fixed in Go
			# 1.27): run the target once more. Any other failure, or a second one, counts.
			echo "fuzz $pkg $target: the fuzzing engine's deadline race (no failing input), run again"
			fuzz_one "$pkg" "$target" || true
		fi
		if [ -s "$log.failed" ]; then
			cat "$log"
			status=1
		fi
		execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
		summary+=$(printf '%-44s %-26s %12s execs' "$pkg" "$target" "$execs")$'\n'
	done
done < <(git ls-files '*_test.go' | xargs grep -l '^func Fuzz' 2>/dev/null || true)
echo
echo "fuzz executions per target:"
printf '%s' "$summary"
exit $status
