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
trap 'rm -f "$log"' EXIT
while IFS= read -r file; do
	pkg="./$(dirname "$file")"
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
		echo "fuzz $pkg $target ($time)"
		if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$time" "${flags[@]}" "$pkg" >"$log" 2>&1; then
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
