#!/usr/bin/env bash
# make bench-service: the algorithm runner's gRPC service driven by the Go client
# (tools/service-clients/go) over a unix socket, algo-sim children: unary Execute p50/p99
# beside its floor (a bare gRPC echo server of the same gRPC C core, tools/bench/grpc_echo,
# plus a pipe ping-pong), throughput with 64 concurrent calls and 4 instances, STREAMS frame
# streams x FPS of 1920x1080 RGB for FRAME_SECONDS through leased slots and inline bytes,
# HealthCheck p99 during that load and the runner's RSS. Each of RUNS (>= 5) runs starts its
# own collector and echo server; the table shows medians, each row against its target.
set -euo pipefail
BUILD=${BUILD:?BUILD names the build directory}
RUNS=${RUNS:-5}
N_UNARY=${N_UNARY:-5000}
N_LOAD=${N_LOAD:-50000}
STREAMS=${STREAMS:-50}
FPS=${FPS:-10}
FRAME_SECONDS=${FRAME_SECONDS:-60}
[ "$RUNS" -ge 5 ] 2>/dev/null || { echo "service.sh: RUNS=$RUNS: medians need RUNS >= 5 (shorten FRAME_SECONDS or N_LOAD for a quick run)" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
client="$BUILD/tools/service-clients/algoclient"
echo_srv="$BUILD/tools/bench/grpc_echo"
work=$(mktemp -d /tmp/collector-bench-service.XXXXXX)
pid=""
epid=""
stop() {
	for p in $pid $epid; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	pid=""
	epid=""
}
trap 'stop; rm -rf "$work"' EXIT
mkdir -p "$(dirname "$client")"
GOCACHE="$BUILD/gocache" "$repo/tools/service-clients/go/build.sh" "$client"
mkdir -p "$work/pkg"
cat >"$work/pkg/manifest.json" <<JSON
{"name":"bench","version":"1.0.0","protocol":1,"entry_point":["$BUILD/tools/algo-sim/algo_sim","--no-checksum"],
 "limits":{"call_timeout_ms":10000,"max_inflight":16,"heartbeat_ms":60000}}
JSON
wait_sock() { for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done; return 1; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR ? v[int((NR+1)/2)] : "nan")}'; }
# The median of FIELD over the runs whose FILE has samples (SAMPLES > 0), else nan.
med() { jq -r "select(.$3 > 0) | .$2" "$work/$1" | median; }

for f in unary load echo pipe slots inline rss; do : >"$work/$f"; done
for run in $(seq "$RUNS"); do
	rm -f "$work/s.sock" "$work/e.sock"
	"$BUILD/collector" run algorithm --package "$work/pkg" --instances 4 --queue-size 100000 \
		--listen "unix:$work/s.sock" >/dev/null 2>"$work/err" &
	pid=$!
	"$echo_srv" --listen "unix:$work/e.sock" 2>>"$work/err" &
	epid=$!
	if ! wait_sock "$work/s.sock" || ! wait_sock "$work/e.sock"; then
		cat "$work/err" >&2
		exit 1
	fi
	target="unix:$work/s.sock"
	"$client" -target "unix:$work/e.sock" -mode load -n "$N_UNARY" -c 1 >>"$work/echo"
	"$echo_srv" --pipe-floor "$N_UNARY" >>"$work/pipe"
	"$client" -target "$target" -mode load -n "$N_UNARY" -c 1 >>"$work/unary"
	"$client" -target "$target" -mode load -n "$N_LOAD" -c 64 >>"$work/load"
	"$client" -target "$target" -mode frames -streams "$STREAMS" -fps "$FPS" \
		-duration "${FRAME_SECONDS}s" >>"$work/slots"
	awk '/VmRSS/ {printf "{\"rss_mb\":%.1f}\n", $2 / 1024}' "/proc/$pid/status" >>"$work/rss"
	"$client" -target "$target" -mode frames -streams "$STREAMS" -fps "$FPS" \
		-duration "${FRAME_SECONDS}s" -slots=false >>"$work/inline"
	stop
	echo "run $run/$RUNS done" >&2
done
p50=$(med unary p50_us calls)
p99=$(med unary p99_us calls)
e50=$(med echo p50_us calls)
e99=$(med echo p99_us calls)
f50=$(med pipe p50_us round_trips)
ratio=$(awk -v a="$p50" -v e="$e50" -v f="$f50" 'BEGIN {
	if (a == "nan" || e == "nan" || f == "nan") print "nan"; else printf "%.2f", a / (e + f) }')
rate=$(jq -r "select(.calls > 0) | .calls_per_s | floor" "$work/load" | median)
lp99=$(med load p99_us calls)
hp99=$(med load health_p99_us health_checks)
rss_mb=$(med rss rss_mb rss_mb)
# Frames: medians of the counts, every run's lost frames added up (the target is 0 in all).
fr() { jq -r ".$2" "$work/$1" | median; }
lost() { jq -s "if length == 0 or (map(.sent) | add) == 0 then \"nan\" else map(.lost) | add end" -r "$work/$1"; }
counts() { echo "$(fr "$1" due)/$(fr "$1" sent)/$(fr "$1" answered)/$(fr "$1" dropped)"; }
s_lost=$(lost slots)
s_p99=$(med slots result_p99_us result_samples)
s_h99=$(med slots health_p99_us health_checks)
i_lost=$(lost inline)
i_p99=$(med inline result_p99_us result_samples)
i_err=$(jq -r 'select(.first_error != "") | .first_error' "$work/inline" | head -1)

verdict() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN {
	if (v == "nan" || v == "") print "NO SAMPLES"; else if ((dir == "le" && v <= t) || (dir == "ge" && v >= t)) print "PASS"; else print "FAIL" }'; }
row() { printf '%-52s %-22s %-14s %s\n' "$1" "$2" "$3" "$4"; }
echo
echo "gRPC service benchmark: medians of $RUNS runs, each its own collector and echo server"
echo "(algo-sim, 4 instances, max_inflight 16; frames: $STREAMS streams x $FPS fps of 1920x1080 RGB for ${FRAME_SECONDS} s)"
row "target" "measured" "wants" "verdict"
row "unary Execute p50, 1 client" "$p50 us" "<= 150 us" "$(verdict "$p50" 150 le)"
row "unary Execute p99, 1 client" "$p99 us" "-" "reference"
row "floor: bare gRPC echo p50 / p99 (C core $(pkg-config --modversion grpc 2>/dev/null || echo '?'))" "$e50 / $e99 us" "-" "reference"
row "floor: pipe ping-pong p50 (child round trip)" "$f50 us" "-" "reference"
row "Execute p50 / (echo p50 + pipe p50)" "$ratio x" "<= 1.5 x" "$(verdict "$ratio" 1.5 le)"
row "throughput, 64 concurrent, 4 instances" "$rate calls/s" ">= 20000" "$(verdict "$rate" 20000 ge)"
row "Execute p99 during that load" "$lp99 us" "-" "reference"
row "HealthCheck p99 during that load" "$hp99 us" "< 10000 us" "$(verdict "$hp99" 9999.999 le)"
row "frames via slots: due/sent/answered/dropped" "$(counts slots)" "-" "reference"
row "frames via slots: lost, all runs" "$s_lost" "0" "$(verdict "$s_lost" 0 le)"
row "frames via slots: result p99" "$s_p99 us" "-" "reference"
row "HealthCheck p99 during the slot frames" "$s_h99 us" "< 10000 us" "$(verdict "$s_h99" 9999.999 le)"
row "collector RSS after the slot frames" "$rss_mb MB" "< 100 MB" "$(verdict "$rss_mb" 99.999 le)"
row "frames inline: due/sent/answered/dropped" "$(counts inline)" "-" "reference"
row "frames inline: lost, all runs" "$i_lost" "-" "reference"
row "frames inline: result p99" "$i_p99 us" "-" "reference"
[ -z "$i_err" ] || echo "inline frames: $i_err"
