#!/usr/bin/env bash
# Metrics endpoint benchmark (`make bench-metrics`): what a Prometheus scrape
# costs the pipeline, and how fast it is answered while the pipeline runs flat out.
#
# Each run pushes N 200-byte JSON events from tools/bench/gen through
# `collector run --metrics=127.0.0.1:0 --sink file:OUT exec --format json`.
# Baseline runs are not scraped; scraped runs have curl GET /metrics every
# SCRAPE_MS milliseconds for the whole run (a Prometheus default is 15 s: this
# is 150x harsher), recording each answer's time. Reports the median events/s
# of each, their ratio, and the p50/p99/max answer time over all scrapes.
#
# Environment: BUILD (default ./build), BENCH_EVENTS (default 2000000),
# BENCH_RUNS (default 5), SCRAPE_MS (default 100).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
COLLECTOR=$BUILD/collector
GEN=$BUILD/tools/bench/gen
N=${BENCH_EVENTS:-2000000}
RUNS=${BENCH_RUNS:-5}
SCRAPE_MS=${SCRAPE_MS:-100}

for bin in "$COLLECTOR" "$GEN"; do
	[[ -x $bin ]] || { echo "bench: $bin is missing (run make first)" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "bench: curl is required (make deps)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/collector-bench-metrics.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# run SCRAPE: one pipeline run; prints events/s. With SCRAPE=1, scrape times
# (seconds) are appended to $tmp/scrapes.
run() {
	local scrape=$1 out=$tmp/out.jsonl err=$tmp/err.txt start end pid addr=""
	rm -f "$out"
	start=$EPOCHREALTIME
	"$COLLECTOR" run --metrics=127.0.0.1:0 --sink "file:$out" exec --format json -- "$GEN" "$N" 2>"$err" &
	pid=$!
	if [[ $scrape == 1 ]]; then
		while [[ -z $addr ]] && kill -0 "$pid" 2>/dev/null; do
			addr=$(grep -o 'http://[0-9.:]*' "$err" | head -n 1 || true)
		done
		while kill -0 "$pid" 2>/dev/null; do
			curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$addr/metrics" >>"$tmp/scrapes" || true
			sleep "$(awk -v ms="$SCRAPE_MS" 'BEGIN { print ms / 1000 }')"
		done
	fi
	wait "$pid"
	end=$EPOCHREALTIME
	local got
	got=$(grep -c '"type":"bench.event"' "$out")
	if [[ $got != "$N" ]]; then
		echo "bench: a run delivered $got of $N events" >&2
		exit 1
	fi
	awk -v n="$N" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f\n", n / (e - s) }'
}

: >"$tmp/scrapes"
base=() scraped=()
for ((i = 0; i < RUNS; i++)); do
	base+=("$(run 0)")
	scraped+=("$(run 1)")
done
b=$(median "${base[@]}")
s=$(median "${scraped[@]}")
ok=$(awk '$1 == 200' "$tmp/scrapes" | wc -l)
total=$(wc -l <"$tmp/scrapes")
read -r p50 p99 max < <(awk '$1 == 200 { print $2 * 1000 }' "$tmp/scrapes" | sort -g |
	awk '{ v[NR] = $1 } END { i50 = int(NR * 0.50); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1; printf "%.2f %.2f %.2f\n", v[i50], v[i99], v[NR] }')

printf '\nmetrics endpoint: %d events x %d runs per case, scraped every %d ms\n\n' "$N" "$RUNS" "$SCRAPE_MS"
printf '%-44s %14s %14s %8s\n' "case" "figure" "baseline" "ratio"
printf '%-44s %14s %14s %8s\n' "pipeline events/s while scraped (median)" "$s" "$b" \
	"$(awk -v a="$s" -v b="$b" 'BEGIN { printf "%.3f", a / b }')"
printf '%-44s %14s\n' "scrape answer p50 (ms)" "$p50"
printf '%-44s %14s\n' "scrape answer p99 (ms)" "$p99"
printf '%-44s %14s\n' "scrape answer max (ms)" "$max"
printf '%-44s %14s\n' "scrapes answered 200 / made" "$ok / $total"
printf '\ntargets: p99 <= 10 ms; scraped rate >= 0.98 x baseline\n'
