#!/usr/bin/env bash
# Sink benchmark for the collector (`make bench-sinks`).
#
# Events/s into each sink against a peer doing the same, one table with each
# issue target's verdict:
#   - file sink, plain          vs rsyslogd (imfile -> omfile, the same JSON lines)
#   - file sink, gzip rotation  (rotate every 64 MiB, gzip of the rotated files)
#   - kafka sink                vs kcat -P, to the same librdkafka mock cluster
#                                  (3 brokers, 16 partitions), the same messages
#                                  (the collector's JSON lines, keyed by event
#                                  id: kcat -K reads the key before a tab), no
#                                  headers, the same producer settings, printed
#                                  (KAFKA_PROPS: acks=all, idempotence, no
#                                  compression, batching as the sink's defaults);
#                                  rows with broker-nice=0, with no key and
#                                  with headers=type,runner (kcat -H) beside it
#   - otlp sink (protobuf, gzip) and http sink (NDJSON), each into a local
#                                  receiver that only answers 200 and counts
#                                  bytes (tools/otlp-receiver --count-only);
#                                  no peer (Fluent Bit's out_opentelemetry,
#                                  the one a user would pick instead, is in
#                                  neither Debian 12 nor npm)
# Input: N 200-byte JSON lines from tools/bench/gen, written once to a file that
# both sides read (`collector run exec -- cat FILE`, rsyslog's imfile, kcat -l).
# A run's time is from start until every event is in the output (file sinks:
# the run ends after the last rotated file is compressed; rsyslog: polled line
# count; kafka: the collector exits only after every delivery report, kcat -P
# after its final flush). Every run checks its output: file line counts, and
# for Kafka the topic's end offsets (kcat -Q) must add up to exactly the events
# sent (no loss, no duplicate), so both rates count confirmed deliveries.
# Each case runs RUNS times, the collector and its peer alternating, so a ratio
# is taken between runs under the same load; the table shows medians of the
# rates and of the per-run ratios, and CPU microseconds per event (user+sys of
# the producing process and its children), which load distorts less.
#
# Environment: BUILD (default ./build), BENCH_EVENTS (file cases, default
# 1000000), BENCH_KAFKA_EVENTS (default 500000, also the otlp and http cases),
# BENCH_RUNS (default 3; the kafka rows at least 5), BENCH_CASES (default
# "file gzip kafka otlp": the groups of rows to run).
# Needs rsyslog and kcat (make deps); a missing peer is reported and skipped.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
COLLECTOR=$BUILD/collector
GEN=$BUILD/tools/bench/gen
MOCK=$BUILD/tools/testchild/kafka_mock
N=${BENCH_EVENTS:-1000000}
NK=${BENCH_KAFKA_EVENTS:-500000}
RUNS=${BENCH_RUNS:-3}
KRUNS=$((RUNS < 5 ? 5 : RUNS))
CASES=" ${BENCH_CASES:-file gzip kafka otlp} "
# The producer settings both kafka producers get, as -X (the sink's own defaults spelled out).
KAFKA_PROPS=(acks=all enable.idempotence=true compression.codec=none queue.buffering.max.messages=20000)

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
	[[ -s $tmp/err ]] && sed 's/^/  /' "$tmp/err" >&2
	exit 1
}

have() { command -v "$1" >/dev/null; }

# timed VAR CMD...: run CMD (stderr to $tmp/err), VAR gets "SECONDS CPU_SECONDS".
TIMEFORMAT='%3R %3U %3S'
timed() {
	local var=$1 t u s
	shift
	{ time "$@" 2>"$tmp/err"; } 2>"$tmp/time" || return 1
	read -r t u s <"$tmp/time"
	printf -v "$var" '%s %s' "$t" "$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')"
}

"$GEN" "$N" >"$tmp/in.jsonl" 2>/dev/null
"$GEN" "$NK" >"$tmp/ink.jsonl" 2>/dev/null
# kcat sends the very messages the kafka sink sends: the collector's JSON lines.
"$COLLECTOR" run --sink "file:$tmp/ink-events.jsonl" exec --format json -- cat "$tmp/ink.jsonl" ||
	fail "collector exited with $?"
NKM=$(wc -l <"$tmp/ink-events.jsonl") # NK events and exec's exit event
# The same lines keyed as the sink keys them, by event id, for kcat -K.
awk 'match($0, /"id":"[0-9A-Z]+"/) {print substr($0, RSTART + 6, RLENGTH - 7) "\t" $0}' \
	"$tmp/ink-events.jsonl" >"$tmp/ink-keyed.txt"

# Each run prints "EVENTS/S CPU_US_PER_EVENT".
rate() { awk -v n="$1" -v t="$2" -v c="$3" 'BEGIN {printf "%d %.2f\n", n / t, c / n * 1e6}'; }

run_file() { # CONFIG_EXTRA
	local d=$tmp/file got r
	rm -rf "$d"
	mkdir -p "$d"
	cat >"$d/c.json" <<CFG
{"runners": [{"type": "exec", "format": "json", "command": ["cat", "$tmp/in.jsonl"]}],
 "sinks": [{"type": "file", "path": "$d/out.jsonl"$1}]}
CFG
	timed r "$COLLECTOR" run --config "$d/c.json" || fail "collector exited with $?"
	got=$(cat "$d/out.jsonl" <(find "$d" -name 'out.jsonl.*.gz' -exec zcat {} +) |
		grep -c '"bench.event"')
	[[ $got == "$N" ]] || fail "file sink wrote $got of $N events"
	rate "$N" "${r% *}" "${r#* }"
}

run_rsyslog() {
	local d=$tmp/rs start end got=0 pid cpu
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
	rsyslogd -n -f "$d/rs.conf" -i "$d/rs.pid" 2>"$tmp/err" &
	pid=$!
	bg_pids+=("$pid")
	for _ in $(seq 1200); do
		got=$({ wc -l <"$d/out.jsonl"; } 2>/dev/null || echo 0)
		[[ $got -ge $N ]] && break
		sleep 0.05
	done
	end=$EPOCHREALTIME
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$pid/stat")
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	[[ $got == "$N" ]] || fail "rsyslog wrote $got of $N lines"
	rate "$N" "$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')" "$cpu"
}

start_mock() {
	rm -f "$tmp/boot" # not the last run's address while this one starts
	"$MOCK" --partitions 16 >"$tmp/boot" 2>/dev/null &
	mock_pid=$!
	bg_pids+=("$mock_pid")
	for _ in $(seq 50); do
		[[ -s $tmp/boot ]] && break
		sleep 0.1
	done
	boot=$(cat "$tmp/boot")
}

# The topic must hold exactly the messages sent: the partitions' end offsets
# add up to what the brokers appended (the mock keeps only the last few MiB of
# each partition, so reading back would not count them all). Stops the mock.
check_topic() { # WHO
	local got p args=()
	for ((p = 0; p < 16; p++)); do args+=(-t "events:$p:-1"); done
	got=$(kcat -Q -b "$boot" "${args[@]}" 2>/dev/null | awk '{n += $4} END {print n + 0}')
	kill -TERM "$mock_pid"
	wait "$mock_pid" 2>/dev/null || true
	[[ $got == "$NKM" ]] || fail "$1: the topic holds $got of $NKM messages"
}

kafka_x() { local p; for p in "${KAFKA_PROPS[@]}"; do printf -- '-X\n%s\n' "$p"; done; }
mapfile -t KX < <(kafka_x)

# Both producers: KAFKA_PROPS, nothing else. run_kafka [RUN OPTIONS]
run_kafka() {
	local r
	start_mock
	timed r "$COLLECTOR" run "${KX[@]}" "$@" --sink "kafka://$boot/events" \
		exec --format json -- cat "$tmp/ink.jsonl" || fail "collector exited with $?"
	check_topic "kafka sink"
	rate "$NKM" "${r% *}" "${r#* }"
}

# The same with librdkafka's broker threads at the loop's priority.
run_kafka_nice0() { run_kafka --sink-option broker-nice=0; }
run_kafka_nokey() { run_kafka --sink-option key=none; }
run_kafka_hdrs() { run_kafka --sink-option headers=type,runner; }

# kcat -P [ARGS] FILE
run_kcat_with() {
	local r
	start_mock
	timed r kcat -P -b "$boot" -t events "${KX[@]}" "$@" || fail "kcat exited with $?"
	check_topic "kcat -P"
	rate "$NKM" "${r% *}" "${r#* }"
}
run_kcat() { run_kcat_with -K $'\t' -l "$tmp/ink-keyed.txt"; }
run_kcat_nokey() { run_kcat_with -l "$tmp/ink-events.jsonl"; }
run_kcat_hdrs() { run_kcat_with -K $'\t' -H type=bench.event -H runner=exec -l "$tmp/ink-keyed.txt"; }

# The otlp and http sinks into a receiver that answers 200 at once; the
# collector exits 0 only when every request was answered 2xx (checked).
start_counter() {
	rm -f "$tmp/recv.port"
	node "$ROOT/tools/otlp-receiver/receiver.js" --count-only --port-file "$tmp/recv.port" 2>/dev/null &
	recv_pid=$!
	bg_pids+=("$recv_pid")
	for _ in $(seq 100); do
		[[ -s $tmp/recv.port ]] && break
		sleep 0.1
	done
	recv_port=$(cat "$tmp/recv.port")
}

run_otlp() {
	local r
	timed r "$COLLECTOR" run --sink "otlp:otlp://127.0.0.1:$recv_port" \
		--sink-option compression=gzip exec --format json -- cat "$tmp/ink.jsonl" ||
		fail "collector (otlp) exited with $?"
	rate "$NKM" "${r% *}" "${r#* }"
}

run_http() {
	local r
	timed r "$COLLECTOR" run --sink "http:http://127.0.0.1:$recv_port/ingest" \
		exec --format json -- cat "$tmp/ink.jsonl" || fail "collector (http) exited with $?"
	rate "$NKM" "${r% *}" "${r#* }"
}

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# pair NAME OURS PEER [N]: N (default RUNS) alternating runs; medians into rate/cpu/ratio[NAME].
declare -A rate cpu ratio
pair() {
	local name=$1 ours=$2 peer=$3 n=${4:-$RUNS} i a b
	: >"$tmp/runs"
	for ((i = 0; i < n; i++)); do
		read -r a ac < <($ours)
		if [[ -n $peer ]]; then
			read -r b bc < <($peer)
		else
			b=0 bc=0
		fi
		echo "$a $ac $b $bc" >>"$tmp/runs"
	done
	rate[$name]=$(awk '{print $1}' "$tmp/runs" | median)
	cpu[$name]=$(awk '{print $2}' "$tmp/runs" | median)
	if [[ -n $peer ]]; then
		rate[$name.peer]=$(awk '{print $3}' "$tmp/runs" | median)
		cpu[$name.peer]=$(awk '{print $4}' "$tmp/runs" | median)
		ratio[$name]=$(awk '{printf "%.2f\n", $1 / $3}' "$tmp/runs" | median)
	fi
}

file_plain() { run_file ""; }
file_gzip() { run_file ', "rotate-size": "64MiB", "compress": "gzip"'; }

want() { [[ $CASES == *" $1 "* ]]; }

uptime_before=$(uptime)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
want file && pair file file_plain "$(have rsyslogd && echo run_rsyslog)"
want gzip && pair gzip file_gzip ""
if ! want kafka; then
	:
elif have kcat; then
	pair kafka run_kafka run_kcat "$KRUNS"
	pair kafka0 run_kafka_nice0 run_kcat "$KRUNS"
	pair kafkanokey run_kafka_nokey run_kcat_nokey "$KRUNS"
	pair kafkahdrs run_kafka_hdrs run_kcat_hdrs "$KRUNS"
else
	echo "bench-sinks: kcat is missing (make deps): kafka case skipped" >&2
fi
if ! want otlp; then
	:
elif have node && [[ -d $ROOT/tools/otlp-receiver/node_modules ]]; then
	start_counter
	pair otlp run_otlp ""
	pair http run_http ""
else
	echo "bench-sinks: node or tools/otlp-receiver's packages missing (make deps): otlp and http skipped" >&2
fi
want file && ! have rsyslogd && echo "bench-sinks: rsyslogd is missing (make deps): no peer for the file rows" >&2
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
uptime_after=$(uptime)

verdict() { awk -v v="$1" -v t="$2" 'BEGIN {print (v >= t) ? "met" : "NOT met"}'; }

row() { printf '%-34s %10s %8s %10s %8s %6s  %s\n' "$@"; }
echo
echo "sinks benchmark: $N events (file), $NKM messages (kafka), median of $RUNS runs (kafka $KRUNS);"
echo "load average before $load_before, after $load_after; cpu = user+sys us per event"
row case "events/s" "cpu" "peer ev/s" "cpu" ratio "target"
if [[ -n ${rate[file]:-} ]]; then
	row "file sink, plain / rsyslog" "${rate[file]}" "${cpu[file]}" \
		"${rate[file.peer]:--}" "${cpu[file.peer]:--}" "${ratio[file]:--}" \
		">=1,000,000/s: $(verdict "${rate[file]}" 1000000); >=3x rsyslog: $(
			[[ -n ${ratio[file]:-} ]] && verdict "${ratio[file]}" 3 || echo "no peer"
		)"
fi
if [[ -n ${rate[gzip]:-} ]]; then
	row "file sink, gzip rotation 64MiB" "${rate[gzip]}" "${cpu[gzip]}" "-" "-" "-" \
		">=300,000/s: $(verdict "${rate[gzip]}" 300000)"
fi
if [[ -n ${rate[kafka]:-} ]]; then
	row "kafka sink / kcat -P (confirmed)" "${rate[kafka]}" "${cpu[kafka]}" \
		"${rate[kafka.peer]}" "${cpu[kafka.peer]}" "${ratio[kafka]}" \
		">=1.3x kcat -P: $(verdict "${ratio[kafka]}" 1.3)"
	row "  the same, broker-nice=0" "${rate[kafka0]}" "${cpu[kafka0]}" \
		"${rate[kafka0.peer]}" "${cpu[kafka0.peer]}" "${ratio[kafka0]}" "(for comparison)"
	row "  key=none / kcat without -K" "${rate[kafkanokey]}" "${cpu[kafkanokey]}" \
		"${rate[kafkanokey.peer]}" "${cpu[kafkanokey.peer]}" "${ratio[kafkanokey]}" "(for comparison)"
	row "  headers=type,runner / kcat -H" "${rate[kafkahdrs]}" "${cpu[kafkahdrs]}" \
		"${rate[kafkahdrs.peer]}" "${cpu[kafkahdrs.peer]}" "${ratio[kafkahdrs]}" "(for comparison)"
fi
if [[ -n ${rate[otlp]:-} ]]; then
	row "otlp sink, protobuf+gzip" "${rate[otlp]}" "${cpu[otlp]}" "-" "-" "-" \
		">=200,000/s: $(verdict "${rate[otlp]}" 200000)"
	row "http sink, NDJSON" "${rate[http]}" "${cpu[http]}" "-" "-" "-" "-"
	echo "otlp/http: into a local receiver that only answers 200; no peer: Fluent Bit's"
	echo "out_opentelemetry is packaged in neither Debian 12 nor npm."
fi
if [[ -n ${rate[kafka]:-} ]]; then
	echo "kafka: median of $KRUNS alternating runs each; both producers with -X ${KAFKA_PROPS[*]},"
	echo "librdkafka $(pkg-config --modversion rdkafka 2>/dev/null) defaults otherwise (linger.ms=5, batch.num.messages=10000,"
	echo "batch.size=1000000, queue.buffering.max.kbytes=1048576); the same lines, keyed by"
	echo "event id (kcat -K), no headers unless the row says; topic end offsets checked after each"
	echo "run. The collector runs librdkafka's broker threads at nice +5 (broker-nice), kcat at"
	echo "its own priority."
fi
echo "uptime before:$uptime_before"
echo "uptime after: $uptime_after"
