#!/usr/bin/env bash
# Runs the siobench scenarios against each benchmark server and stores one
# JSON result per run in bench/results/ (git-ignored).
#
# Every run starts a fresh server pinned to CPU $SERVER_CPU, waits for its
# "listening <port>" line, runs siobench pinned to CPU $CLIENT_CPU with -pid
# so that the server's CPU time and memory are measured, then stops the
# server. The servers take turns within each repetition of a scenario, so
# that a change in the machine's load affects them alike. A run that fails
# (including a lost, duplicated or wrong message) is reported and makes the
# script exit with status 1 after the other runs.
#
# At the end bench/report prints one table of every figure with the ratios
# of each server to Node, and writes $DOCS (with a chart, $DOCS without .md
# plus .svg) unless DOCS is empty.
#
# Settings, all from the environment:
#   SERVERS      servers to measure (default "node go go-echo go-metrics"): a
#                directory of bench/servers, or go-echo (the Go server mounted
#                in Echo v5 with sioecho) or go-metrics (the Go server with
#                the metrics package's observer on)
#   SCENARIOS    siobench scenarios (default "conns echo broadcast polling slope");
#                "slope" stands for conns@N and broadcast@N for each N of SLOPE_NS
#   REPS         repetitions of each scenario (default 3)
#   SLOPE_NS     connections of the slope runs (default "1000 5000 15000"); an N
#                equal to CONNS_N or BCAST_N reuses the conns or broadcast run
#   SLOPE_COUNT  broadcasts sent by each broadcast@N run (default 20)
#   SLOPE_TIMEOUT     siobench -timeout of the slope runs (default 30s)
#   SLOPE_SERVERS     servers that run the slope (default "node go")
#   METRICS_SCENARIOS scenarios go-metrics runs (default "echo broadcast"): it is
#                compared with go on CPU per operation only
#   PORT         server port (default 3001)
#   CONNS_N      connections opened by conns (default 10000)
#   SETTLE       how long conns holds them before reading memory (default 5s)
#   BCAST_N      room members for broadcast (default 5000)
#   BCAST_COUNT  broadcasts sent (default 200)
#   ECHO_C       closed-loop clients for echo (default 100)
#   POLL_C       closed-loop clients for polling (default 100)
#   DURATION     measurement length of echo and polling (default 10s)
#   WARMUP       warm-up before echo and polling measure (default 2s)
#   PAYLOAD      payload size in bytes (default 64)
#   TIMEOUT      siobench -timeout (default 10s)
#   SERVER_CPU, CLIENT_CPU   CPUs given to taskset (default 0 and 1)
#   RESULTS      output directory (default bench/results)
#   DOCS         Markdown report to write (default docs/benchmarks.md; empty: none)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

SERVERS=${SERVERS:-"node go go-echo go-metrics"}
SCENARIOS=${SCENARIOS:-"conns echo broadcast polling slope"}
REPS=${REPS:-3}
SLOPE_NS=${SLOPE_NS:-"1000 5000 15000"}
SLOPE_COUNT=${SLOPE_COUNT:-20}
SLOPE_TIMEOUT=${SLOPE_TIMEOUT:-30s}
SLOPE_SERVERS=${SLOPE_SERVERS:-"node go"}
METRICS_SCENARIOS=${METRICS_SCENARIOS:-"echo broadcast"}
PORT=${PORT:-3001}
CONNS_N=${CONNS_N:-10000}
SETTLE=${SETTLE:-5s}
BCAST_N=${BCAST_N:-5000}
BCAST_COUNT=${BCAST_COUNT:-200}
ECHO_C=${ECHO_C:-100}
POLL_C=${POLL_C:-100}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
PAYLOAD=${PAYLOAD:-64}
TIMEOUT=${TIMEOUT:-10s}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
RESULTS=${RESULTS:-$here/results}
DOCS=${DOCS-$root/docs/benchmarks.md}

log() { printf 'bench: %s\n' "$*" >&2; }

if command -v taskset >/dev/null 2>&1; then
	pin_server=(taskset -c "$SERVER_CPU")
	pin_client=(taskset -c "$CLIENT_CPU")
else
	log "taskset not found: server and client are not pinned to CPUs"
	pin_server=()
	pin_client=()
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building siobench"
(cd "$root" && go build -o "$work/siobench" ./cmd/siobench && go build -o "$work/report" ./bench/report)
mkdir -p "$RESULTS"

# prepare_server NAME: installs or builds what server NAME needs and sets
# server_cmd to the command that starts it. Returns 1 to skip the server.
prepare_server() {
	local name=$1 dir="$here/servers/$1"
	case $name in
	go-echo | go-metrics)
		if [ ! -x "$work/server-go" ]; then
			log "building the Go server"
			(cd "$root" && go build -o "$work/server-go" ./bench/servers/go)
		fi
		server_cmd=(env "MOUNT=${name#go-}" "$work/server-go")
		return 0
		;;
	esac
	if [ ! -d "$dir" ]; then
		log "skipping server '$name': $dir does not exist (yet)"
		return 1
	fi
	case $name in
	node)
		if ! command -v node >/dev/null 2>&1; then
			log "skipping server 'node': node is not installed"
			return 1
		fi
		if [ ! -d "$dir/node_modules" ]; then
			log "installing $dir dependencies (npm ci)"
			(cd "$dir" && npm ci --no-audit --no-fund >&2)
		fi
		server_cmd=(node "$dir/server.js")
		;;
	go)
		if [ ! -x "$work/server-go" ]; then
			log "building the Go server"
			(cd "$root" && go build -o "$work/server-go" ./bench/servers/go)
		fi
		server_cmd=(env MOUNT=http "$work/server-go")
		;;
	*)
		if [ -x "$dir/start.sh" ]; then
			server_cmd=("$dir/start.sh")
		else
			log "skipping server '$name': no known way to start it (add bench/servers/$name/start.sh, which must exec the server)"
			return 1
		fi
		;;
	esac
}

# start_server NAME: starts the prepared server and waits for "listening".
start_server() {
	local name=$1 out="$work/server-$1.log"
	: >"$out"
	PORT=$PORT "${pin_server[@]}" "${server_cmd[@]}" >"$out" 2>&1 &
	server_pid=$!
	local i
	for i in $(seq 1 300); do
		if grep -q '^listening' "$out"; then
			return 0
		fi
		if ! kill -0 "$server_pid" 2>/dev/null; then
			log "server '$name' exited before listening:"
			cat "$out" >&2
			server_pid=""
			return 1
		fi
		sleep 0.1
	done
	log "server '$name' did not print 'listening' within 30s:"
	cat "$out" >&2
	stop_server
	return 1
}

stop_server() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=""
	fi
}

# scenario_args SCENARIO: prints the siobench arguments of a scenario.
scenario_args() {
	case $1 in
	conns) echo "conns -n $CONNS_N -settle $SETTLE -timeout $TIMEOUT" ;;
	echo) echo "echo -c $ECHO_C -duration $DURATION -warmup $WARMUP -timeout $TIMEOUT" ;;
	broadcast) echo "broadcast -n $BCAST_N -count $BCAST_COUNT -timeout $TIMEOUT" ;;
	polling) echo "polling -c $POLL_C -duration $DURATION -warmup $WARMUP -timeout $TIMEOUT" ;;
	conns@*) echo "conns -n ${1#conns@} -settle $SETTLE -timeout $SLOPE_TIMEOUT" ;;
	broadcast@*) echo "broadcast -n ${1#broadcast@} -count $SLOPE_COUNT -timeout $SLOPE_TIMEOUT" ;;
	*) return 1 ;;
	esac
}

# runs_scenario SERVER SCENARIO: whether SERVER runs SCENARIO. go-metrics
# only runs METRICS_SCENARIOS, and only SLOPE_SERVERS run the slope.
runs_scenario() {
	case $2 in
	conns@* | broadcast@*)
		[[ " $SLOPE_SERVERS " == *" $1 "* ]]
		return
		;;
	esac
	if [ "$1" = go-metrics ]; then
		[[ " $METRICS_SCENARIOS " == *" $2 "* ]]
		return
	fi
}

# The scenario list with "slope" expanded.
scenarios=()
for scenario in $SCENARIOS; do
	if [ "$scenario" = slope ]; then
		# The conns and broadcast runs already measure CONNS_N and BCAST_N.
		for n in $SLOPE_NS; do [[ " $SCENARIOS " == *" conns "* && $n == "$CONNS_N" ]] || scenarios+=("conns@$n"); done
		for n in $SLOPE_NS; do [[ " $SCENARIOS " == *" broadcast "* && $n == "$BCAST_N" ]] || scenarios+=("broadcast@$n"); done
	else
		scenarios+=("$scenario")
	fi
done

failures=0
stamp=$(date -u +%Y%m%dT%H%M%SZ)
# The conditions of the runs, next to their results.
{
	printf '{"date":"%s","commit":"%s","kernel":"%s","cpus":%s,' \
		"$stamp" "$(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(uname -r)" "$(nproc)"
	printf '"go":"%s","node":"%s",' "$(go env GOVERSION)" "$(node --version 2>/dev/null || echo none)"
	printf '"servers":"%s","scenarios":"%s","reps":%s,"conns_n":%s,"bcast_n":%s,"bcast_count":%s,' \
		"$SERVERS" "${scenarios[*]}" "$REPS" "$CONNS_N" "$BCAST_N" "$BCAST_COUNT"
	printf '"slope_ns":"%s","slope_count":%s,' "$SLOPE_NS" "$SLOPE_COUNT"
	printf '"echo_c":%s,"poll_c":%s,"duration":"%s","warmup":"%s","payload":%s,"server_cpu":"%s","client_cpu":"%s",' \
		"$ECHO_C" "$POLL_C" "$DURATION" "$WARMUP" "$PAYLOAD" "$SERVER_CPU" "$CLIENT_CPU"
	printf '"load_start":%s}\n' "$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)"
} >"$RESULTS/$stamp-meta.json"
log "load average before the run: $(cat /proc/loadavg 2>/dev/null || echo unknown)"

# Prepare every server first (install, build); remember how to start each.
declare -A server_cmds=()
ready=()
for name in $SERVERS; do
	server_cmd=()
	prepare_server "$name" || continue
	printf -v quoted '%q ' "${server_cmd[@]}"
	server_cmds[$name]=$quoted
	ready+=("$name")
done

for scenario in "${scenarios[@]}"; do
	if ! args=$(scenario_args "$scenario"); then
		log "unknown scenario '$scenario'"
		failures=$((failures + 1))
		continue
	fi
	for rep in $(seq 1 "$REPS"); do
		for name in "${ready[@]}"; do
			runs_scenario "$name" "$scenario" || continue
			eval "server_cmd=(${server_cmds[$name]})"
			load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
			printf '%s %s %s %s\n' "$name" "$scenario" "$rep" "$load" >>"$RESULTS/$stamp-load.txt"
			log "load average before $name $scenario run $rep: $load"
			start_server "$name" || { failures=$((failures + 1)); continue; }
			out="$RESULTS/$stamp-$name-$scenario-$rep.json"
			log "$name $scenario run $rep/$REPS (pid $server_pid): siobench $args"
			# shellcheck disable=SC2086 # args is a list of words on purpose
			if "${pin_client[@]}" "$work/siobench" $args -url "http://127.0.0.1:$PORT" \
				-payload "$PAYLOAD" -pid "$server_pid" -json >"$out" 2>"$out.err"; then
				rm -f "$out.err"
			else
				log "FAILED: $name $scenario run $rep (details in $out.err):"
				cat "$out.err" >&2
				failures=$((failures + 1))
			fi
			stop_server
			if [ -s "$out" ] && command -v jq >/dev/null 2>&1; then
				jq -r --arg s "$name" -f "$here/summary.jq" "$out" >&2
			fi
		done
	done
done

log "results in $RESULTS ($stamp-*.json)"
report_args=(-results "$RESULTS" -stamp "$stamp")
if [ -n "$DOCS" ]; then
	report_args+=(-md "$DOCS" -svg "${DOCS%.md}.svg" -slope-svg "${DOCS%.md}-slope.svg")
fi
if ! "$work/report" "${report_args[@]}"; then
	failures=$((failures + 1))
elif [ -n "$DOCS" ]; then
	log "wrote $DOCS, ${DOCS%.md}.svg and ${DOCS%.md}-slope.svg"
fi
if [ "$failures" -gt 0 ]; then
	log "$failures run(s) failed"
	exit 1
fi
