#!/usr/bin/env bash
# Sink benchmark for the collector (`make bench-sinks`).
#
# Events/s into each sink, median of RUNS runs, against a peer doing the same:
#   - file sink, plain          vs rsyslogd (imfile -> omfile, the same JSON lines)
#   - file sink, gzip rotation  vs rsyslogd as above
#   - kafka sink, acks=all      vs kcat -P -X acks=all -X enable.idempotence=true, to
#                                  the same librdkafka mock cluster (16 partitions), sending
#                                  the same messages: the collector's JSON lines with the
#                                  same type and runner headers
# Input: N 200-byte JSON lines from tools/bench/gen, written once to a file that
# both sides read (`collector run exec -- cat FILE`, rsyslog's imfile). A run's
# time is from start until every event is in the output (file sinks: the run
# ends after the last rotated file is compressed; rsyslog: polled line count;
# kafka: the collector exits only after every delivery report, kcat -P after
# its flush). Output line counts are checked.
#
# Environment: BUILD (default ./build), BENCH_EVENTS (file cases, default
# 1000000), BENCH_KAFKA_EVENTS (default 200000), BENCH_RUNS (default 3).
# Needs rsyslog and kcat (make deps); a missing peer is reported and skipped.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
COLLECTOR=$BUILD/collector
GEN=$BUILD/tools/bench/gen
MOCK=$BUILD/tools/testchild/kafka_mock
N=${BENCH_EVENTS:-1000000}
NK=${BENCH_KAFKA_EVENTS:-200000}
RUNS=${BENCH_RUNS:-3}

for bin in "$COLLECTOR" "$GEN" "$MOCK"; do
	[[ -x $bin ]] || { echo "bench-sinks: $bin is missing (run make first)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/collector-bench-sinks.XXXXXX")
bg_pids=()
cleanup() {
	local pid
	for pid in "${bg_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "bench-sinks: $*" >&2
	exit 1
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# eps EVENTS START END: events per second.
eps() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN {printf "%d", n / (b - a)}'; }

"$GEN" "$N" >"$tmp/in.jsonl" 2>/dev/null
"$GEN" "$NK" >"$tmp/ink.jsonl" 2>/dev/null
# kcat sends the very messages the kafka sink sends: the collector's JSON lines.
"$COLLECTOR" run --sink "file:$tmp/ink-events.jsonl" exec --format json -- cat "$tmp/ink.jsonl" ||
	fail "collector exited with $?"

# A file sink run: clean the directory, time the collector, count the lines.
run_file() { # CONFIG_EXTRA
	local d=$tmp/file start end got
	rm -rf "$d"
	mkdir -p "$d"
	cat >"$d/c.json" <<CFG
{"runners": [{"type": "exec", "format": "json", "command": ["cat", "$tmp/in.jsonl"]}],
 "sinks": [{"type": "file", "path": "$d/out.jsonl"$1}]}
CFG
	start=$EPOCHREALTIME
	"$COLLECTOR" run --config "$d/c.json" || fail "collector exited with $?"
	end=$EPOCHREALTIME
	got=$(cat "$d/out.jsonl" <(find "$d" -name 'out.jsonl.*.gz' -exec zcat {} +) |
		grep -c '"bench.event"')
	[[ $got == "$N" ]] || fail "file sink wrote $got of $N events"
	eps "$N" "$start" "$end"
}

run_rsyslog() {
	local d=$tmp/rs start end got=0 pid
	rm -rf "$d"
	mkdir -p "$d/work"
	cat >"$d/rs.conf" <<CONF
global(workDirectory="$d/work" maxMessageSize="64k")
module(load="imfile" mode="inotify")
template(name="line" type="string" string="%msg%\n")
ruleset(name="bench") { action(type="omfile" file="$d/out.jsonl" template="line") }
input(type="imfile" file="$d/in.jsonl" tag="bench" ruleset="bench")
CONF
	cp "$tmp/in.jsonl" "$d/in.jsonl"
	start=$EPOCHREALTIME
	rsyslogd -n -f "$d/rs.conf" -i "$d/rs.pid" &
	pid=$!
	bg_pids+=("$pid")
	for _ in $(seq 1200); do
		got=$({ wc -l <"$d/out.jsonl"; } 2>/dev/null || echo 0)
		[[ $got -ge $N ]] && break
		sleep 0.05
	done
	end=$EPOCHREALTIME
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	[[ $got == "$N" ]] || fail "rsyslog wrote $got of $N lines"
	eps "$N" "$start" "$end"
}

start_mock() {
	"$MOCK" --partitions 16 >"$tmp/boot" 2>/dev/null &
	mock_pid=$!
	bg_pids+=("$mock_pid")
	for _ in $(seq 50); do
		[[ -s $tmp/boot ]] && break
		sleep 0.1
	done
	boot=$(cat "$tmp/boot")
}

stop_mock() {
	kill -TERM "$mock_pid"
	wait "$mock_pid" 2>/dev/null || true
}

run_kafka() {
	local start end
	start_mock
	start=$EPOCHREALTIME
	"$COLLECTOR" run --queue-events 65536 --queue-bytes 64MiB --sink "kafka://$boot/events?acks=all" \
		exec --format json -- cat "$tmp/ink.jsonl" || fail "collector exited with $?"
	end=$EPOCHREALTIME
	stop_mock
	eps "$NK" "$start" "$end"
}

run_kcat() {
	local start end
	start_mock
	start=$EPOCHREALTIME
	kcat -P -b "$boot" -t events -X acks=all -X enable.idempotence=true -H type=bench.event \
		-H runner=exec -l "$tmp/ink-events.jsonl" || fail "kcat exited with $?"
	end=$EPOCHREALTIME
	stop_mock
	eps "$NK" "$start" "$end"
}

# measure NAME FUNCTION [ARGS]: the median of RUNS runs, into results[NAME].
declare -A results
measure() {
	local name=$1 v
	shift
	v=$(for _ in $(seq "$RUNS"); do "$@"; echo; done | median)
	results[$name]=$v
}

have() { command -v "$1" >/dev/null; }

measure file run_file ""
measure file_gzip run_file ', "rotate-size": "64MiB", "compress": "gzip"'
if have rsyslogd; then measure rsyslog run_rsyslog; fi
measure kafka run_kafka
if have kcat; then measure kcat run_kcat; fi

row() { # LABEL OURS PEER PEER_LABEL
	if [[ -n ${3:-} ]]; then
		printf '%-32s %12s %12s %-14s %6s\n' "$1" "$2" "$3" "$4" \
			"$(awk -v a="$2" -v b="$3" 'BEGIN {printf "%.2f", a / b}')"
	else
		printf '%-32s %12s %12s %-14s %6s\n' "$1" "$2" "-" "$4 (missing)" "-"
	fi
}

echo
echo "sinks benchmark: $N events (file), $NK events (kafka), median of $RUNS runs, events/s"
printf '%-32s %12s %12s %-14s %6s\n' case collector peer "peer is" ratio
row "file sink, plain" "${results[file]}" "${results[rsyslog]:-}" rsyslog
row "file sink, gzip rotation 64MiB" "${results[file_gzip]}" "${results[rsyslog]:-}" rsyslog
row "kafka sink, acks=all (mock)" "${results[kafka]}" "${results[kcat]:-}" "kcat -P"
