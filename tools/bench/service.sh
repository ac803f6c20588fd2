#!/usr/bin/env bash
# make bench-service: the algorithm runner's gRPC service driven by the Go client
# (tools/service-clients/go) over a unix socket, algo-sim children: unary Execute p50/p99,
# throughput with 64 concurrent calls and 4 instances, HealthCheck p99 during that load and
# the runner's RSS. Medians of RUNS (5) runs, each row against its target.
set -euo pipefail
BUILD=${BUILD:?BUILD names the build directory}
RUNS=${RUNS:-5}
N_UNARY=${N_UNARY:-5000}
N_LOAD=${N_LOAD:-50000}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
client="$BUILD/tools/service-clients/algoclient"
work=$(mktemp -d /tmp/collector-bench-service.XXXXXX)
pid=""
trap '[ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null; rm -rf "$work"' EXIT

mkdir -p "$(dirname "$client")"
GOCACHE="$BUILD/gocache" "$repo/tools/service-clients/go/build.sh" "$client"
mkdir -p "$work/pkg"
cat >"$work/pkg/manifest.json" <<JSON
{"name":"bench","version":"1.0.0","protocol":1,"entry_point":["$BUILD/tools/algo-sim/algo_sim","--no-checksum"],
 "limits":{"call_timeout_ms":10000,"max_inflight":16,"heartbeat_ms":60000}}
JSON
"$BUILD/collector" run algorithm --package "$work/pkg" --instances 4 --queue-size 100000 \
	--listen "unix:$work/s.sock" >/dev/null 2>"$work/err" &
pid=$!
for _ in $(seq 100); do [ -S "$work/s.sock" ] && break; sleep 0.05; done
target="unix:$work/s.sock"

median() { sort -g | awk '{v[NR]=$1} END {print (NR ? v[int((NR+1)/2)] : "nan")}'; }

: >"$work/unary"
: >"$work/load"
for run in $(seq "$RUNS"); do
	"$client" -target "$target" -mode load -n "$N_UNARY" -c 1 >>"$work/unary"
	"$client" -target "$target" -mode load -n "$N_LOAD" -c 64 >>"$work/load"
	echo "run $run/$RUNS done" >&2
done
rss_mb=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
p50=$(jq -r .p50_us "$work/unary" | median)
p99=$(jq -r .p99_us "$work/unary" | median)
rate=$(jq -r ".calls_per_s | floor" "$work/load" | median)
lp99=$(jq -r .p99_us "$work/load" | median)
hp99=$(jq -r .health_p99_us "$work/load" | median)

verdict() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN {
	if (v == "nan" || v == "") print "NO SAMPLES"; else if ((dir == "le" && v <= t) || (dir == "ge" && v >= t)) print "PASS"; else print "FAIL" }'; }
row() { printf '%-52s %-22s %-14s %s\n' "$1" "$2" "$3" "$4"; }
echo
echo "gRPC service benchmark: medians of $RUNS runs (algo-sim, 4 instances, max_inflight 16)"
row "target" "measured" "wants" "verdict"
row "unary Execute p50, 1 client" "$p50 us" "<= 150 us" "$(verdict "$p50" 150 le)"
row "unary Execute p99, 1 client" "$p99 us" "-" "reference"
row "throughput, 64 concurrent, 4 instances" "$rate calls/s" ">= 20000" "$(verdict "$rate" 20000 ge)"
row "Execute p99 during that load" "$lp99 us" "-" "reference"
row "HealthCheck p99 during that load" "$hp99 us" "< 10000 us" "$(verdict "$hp99" 9999.999 le)"
row "collector RSS after the runs" "$rss_mb MB" "< 100 MB" "$(verdict "$rss_mb" 99.999 le)"
row "bare gRPC echo floor (same library)" "not measured" "-" "NOT IMPLEMENTED"
row "50 frame streams x 10 fps 1080p via slots" "not measured" "0 lost" "NOT IMPLEMENTED"
