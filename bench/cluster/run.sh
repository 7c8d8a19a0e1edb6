#!/usr/bin/env bash
# The cluster benchmark (make bench-cluster): three Socket.IO servers on one redis-server,
# each holding N connections from a load-generator process of its own, with broadcasts to
# rooms that have members on every server. Go servers (internal/clusternode, on the classic
# Redis adapter) and Node servers (bench/cluster/node-server.js, socket.io 4.8 on
# @socket.io/redis-adapter) take turns in every repetition. It starts and stops
# redis-server and every process it starts, on success and on failure.
#
# Settings (environment):
#   IMPLS="go node"   the clusters, in the order they take turns
#   REPS=1            repetitions
#   N=15000           connections per server (45,000 in all)
#   ROOMS=45          rooms, each with members on every server
#   COUNT=400         broadcasts per run
#   RATE=20           broadcasts per second
#   CONCURRENCY=100   connections being opened at once, per load-generator process
#   TIMEOUT=30s       limit of one connect, one join, and of the deliveries after the last send
#   RESULTS=bench/results   where the JSON results go
set -euo pipefail
cd "$(dirname "$0")/../.."

IMPLS=${IMPLS:-"go node"}
REPS=${REPS:-1}
N=${N:-15000}
ROOMS=${ROOMS:-45}
COUNT=${COUNT:-400}
RATE=${RATE:-20}
CONCURRENCY=${CONCURRENCY:-100}
TIMEOUT=${TIMEOUT:-30s}
RESULTS=${RESULTS:-bench/results}

# Every server and load-generator process holds up to N+100 open files.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((N + 200)) ]; then
	echo "bench-cluster: the open-file limit $(ulimit -n) is too low for N=$N" >&2
	exit 1
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 1
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "bench-cluster: building" >&2
go build -o "$work/clusternode" ./internal/clusternode
go build -o "$work/cluster" ./cmd/siobench/cluster
[ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund

# A free loopback port: the kernel picks one for a listener that is closed at once.
free_port() { "$work/cluster" -free-port; }

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
for _ in $(seq 100); do
	redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
	sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null

# start_server IMPL INDEX: starts one server; sets server_pid and server_url.
start_server() {
	local impl=$1 i=$2 log="$work/$1-$2.log" port
	port=$(free_port)
	if [ "$impl" = go ]; then
		PORT=$port REDIS_ADDR=127.0.0.1:$redis_port "$work/clusternode" >"$log" 2>&1 &
	else
		PORT=$port REDIS_ADDR=127.0.0.1:$redis_port node bench/cluster/node-server.js >"$log" 2>&1 &
	fi
	server_pid=$!
	pids+=("$server_pid")
	for _ in $(seq 300); do
		grep -q '^listening' "$log" && break
		kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; return 1; }
		sleep 0.1
	done
	grep -q '^listening' "$log" || { echo "bench-cluster: $impl server $i did not start" >&2; cat "$log" >&2; return 1; }
	server_url=http://127.0.0.1:$port
}

mkdir -p "$RESULTS"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
files=()
for rep in $(seq "$REPS"); do
	for impl in $IMPLS; do
		urls=() spids=()
		for i in 1 2 3; do
			start_server "$impl" "$i"
			urls+=("$server_url") spids+=("$server_pid")
		done
		load=$(cut -d' ' -f1-3 /proc/loadavg)
		out="$RESULTS/cluster-$stamp-$impl-$rep.json"
		echo "bench-cluster: $impl, repetition $rep, load average $load" >&2
		# In the background, so that a signal to this script stops the run at once (the EXIT
		# trap stops the load generator, which stops its workers).
		"$work/cluster" -urls "$(IFS=,; echo "${urls[*]}")" -pids "$(IFS=,; echo "${spids[*]}")" \
			-redis-pid "$redis_pid" -n "$N" -rooms "$ROOMS" -count "$COUNT" -rate "$RATE" \
			-concurrency "$CONCURRENCY" -timeout "$TIMEOUT" -label "$impl" -load "$load" -json "$out" &
		load_pid=$!
		pids+=("$load_pid")
		wait "$load_pid"
		files+=("$out")
		for p in "${spids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
		for p in "${spids[@]}"; do wait "$p" 2>/dev/null || true; done
		redis-cli -p "$redis_port" flushall >/dev/null
	done
done
"$work/cluster" -summary "${files[@]}"
