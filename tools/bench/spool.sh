#!/usr/bin/env bash
# make bench-spool: exec -> kafka (librdkafka's mock cluster) with and without a spool, alternating,
# medians of RUNS; spool-fsync=batch should keep >= 80 % of the spool-off throughput.
set -euo pipefail
BUILD=${BUILD:-build}
N=${N:-200000}
RUNS=${RUNS:-5}
C=$BUILD/collector
GEN=$BUILD/tools/bench/gen
d=$(mktemp -d /tmp/collector-bench-spool.XXXXXX)
"$BUILD/tools/testchild/kafka_mock" --partitions 12 >"$d/boot" 2>"$d/mock.err" &
mock=$!
trap 'kill $mock 2>/dev/null; wait $mock 2>/dev/null; rm -rf "$d"' EXIT
for _ in $(seq 50); do [ -s "$d/boot" ] && break; sleep 0.1; done
boot=$(cat "$d/boot")

# one MODE: events per second of one run (MODE off, none, batch or interval).
one() {
	local opts=() start end
	rm -rf "$d/spool"
	[ "$1" = off ] || opts=(--sink-option "spool=$d/spool" --sink-option "spool-fsync=$1")
	start=$(date +%s%N)
	"$C" run -X linger.ms=5 --sink "kafka://$boot/bench$RANDOM" "${opts[@]}" \
		exec --format json -- "$GEN" "$N" 2>/dev/null
	end=$(date +%s%N)
	echo $((N * 1000000000 / (end - start)))
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

for mode in off batch none interval; do : >"$d/$mode"; done
for _ in $(seq "$RUNS"); do
	for mode in off batch none interval; do one "$mode" >>"$d/$mode"; done
done
off=$(median <"$d/off")
printf '%-10s %12s %8s\n' spool events/s "% of off"
for mode in off batch none interval; do
	m=$(median <"$d/$mode")
	printf '%-10s %12s %7s%%\n' "$mode" "$m" $((m * 100 / off))
done
