#!/usr/bin/env bash
# make bench-spool: exec -> kafka (librdkafka's mock cluster) with and without a spool, alternating,
# medians of RUNS; spool-fsync=batch should keep >= 80 % of the spool-off throughput. Then the
# outage row (below; RUNS=0 runs it alone). Quick look: RUNS=1 N=20000 OUTAGE_S=10 make bench-spool.
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

# RUNS=0 skips to the outage row.
if [ "$RUNS" -gt 0 ]; then
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
fi

# The outage row: the brokers down for OUTAGE_S (600) while exec feeds RATE (5,000) events/s
# into the spool; then back. Prints the spool's peak size on disk, the collector's RSS over the
# outage (sampled every 5 s: it should stay flat, the spool is on disk) and how fast the backlog
# drained once the brokers returned. OUTAGE_S=0 skips it.
OUTAGE_S=${OUTAGE_S:-600}
RATE=${RATE:-5000}
[ "$OUTAGE_S" -gt 0 ] || exit 0
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 ~ "^"m"[{]" {s += $2} END {print s + 0}'; }
port=$((20000 + RANDOM % 20000))
total=$((RATE * (OUTAGE_S + 2)))
rm -rf "$d/spool"
"$C" run --metrics "127.0.0.1:$port" --shutdown-timeout 30m -X linger.ms=5 \
	--sink "kafka://$boot/outage" --sink-option "spool=$d/spool" --sink-option spool-fsync=batch \
	exec --format json -- "$GEN" "$total" --rate "$RATE" --count-file "$d/generated" 2>"$d/outage.err" &
pid=$!
sleep 2
kill -USR1 $mock
rss_min=0 rss_max=0 rss_60=0 disk=0
end=$((SECONDS + OUTAGE_S))
while [ $SECONDS -lt $end ] && kill -0 $pid 2>/dev/null; do
	sleep 5
	rss=$(ps -o rss= -p $pid) || break
	[ "$rss_min" -gt 0 ] && [ "$rss_min" -le "$rss" ] || rss_min=$rss
	[ "$rss_max" -ge "$rss" ] || rss_max=$rss
	[ $((end - SECONDS)) -lt $((OUTAGE_S - 60)) ] || rss_60=$rss
	now=$(du -sb "$d/spool" 2>/dev/null | cut -f1) || now=0
	[ "$disk" -ge "$now" ] || disk=$now
done
backlog=$(($(metric collector_runner_events_total) - $(metric collector_sink_events_delivered_total)))
delivered0=$(metric collector_sink_events_delivered_total)
kill -USR2 $mock
t0=$(date +%s%N) t_first=0
# librdkafka reconnects with its own backoff (reconnect.backoff.max.ms): the drain rate counts
# from the first delivery after the return, the reconnect delay is printed apart.
while kill -0 $pid 2>/dev/null; do
	if [ "$t_first" = 0 ] && [ "$(metric collector_sink_events_delivered_total)" -gt "$delivered0" ]; then
		t_first=$(date +%s%N)
	fi
	sleep 0.05
done
rc=0
wait $pid || rc=$?
t1=$(date +%s%N)
[ "$t_first" != 0 ] || t_first=$t0
reconnect_ms=$(((t_first - t0) / 1000000))
drain_ms=$(((t1 - t_first) / 1000000))
echo
uptime
printf 'outage %d s at %d events/s: %d events generated, exit %d\n' "$OUTAGE_S" "$RATE" "$(cat "$d/generated")" "$rc"
printf '  spool on disk at its peak   %d MB (%d bytes/event)\n' $((disk / 1000000)) $((disk / (RATE * OUTAGE_S)))
printf '  collector RSS over outage   %d..%d KiB (%d after 60 s, %d at the end)\n' \
	"$rss_min" "$rss_max" "$rss_60" "$rss"
printf '  backlog at return           %d events\n' "$backlog"
printf '  first delivery after       %d ms (librdkafka reconnect backoff)\n' "$reconnect_ms"
printf '  drained in                  %d.%03d s = %d events/s\n' $((drain_ms / 1000)) $((drain_ms % 1000)) \
	$((backlog * 1000 / (drain_ms > 0 ? drain_ms : 1)))
