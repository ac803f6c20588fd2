#!/usr/bin/env bash
# HTTP/2 decoder benchmark (`make bench-h2`): a 1,000-stream capture replayed through the
# decoder alone (frames, HPACK, redaction, the stream table) on one core, BENCH_RUNS times.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
RUNS=${BENCH_RUNS:-5}

echo "HTTP/2 decoder replay, one core (taskset -c 1), $RUNS runs of 50 connections x 1,000 streams:"
for _ in $(seq "$RUNS"); do
	taskset -c 1 "$BUILD/tools/bench/h2_decode" 50
done | sort -n | awk '{ a[NR] = $0 } END { print "median: " a[int((NR + 1) / 2)] }'
