#!/usr/bin/env bash
# TLS capture benchmark for the ssl runner (`make bench-ssl`, root).
#
# Part A, bulk: curl fetches a 64 MiB body from `openssl s_server -WWW` on 127.0.0.1,
# RUNS times per mode, median throughput reported:
#   - untraced
#   - under `collector run ssl -c curl` (HTTP reconstruction on; every response's
#     body_size must equal the bytes curl received, with no collector.loss)
#   - under a bpftrace one-liner on the same uprobes (SSL_read entry/return) printing
#     each call's bytes (bpftrace caps buf() at BPFTRACE_STRLEN = 200 bytes per call)
# Part B, small exchanges: tls_exchanges.py runs N keep-alive HTTP/1.1 exchanges
# (36-byte request, 1 KiB response body) through OpenSSL client and server objects
# in one python3 process; reported exchanges/s:
#   - untraced
#   - under the collector (each exchange is seen from both ends: 2N requests and
#     2N responses must come out, with no loss)
#   - under bpftrace counting the same uprobes (the cost of the uprobes alone)
#   - the runner alone: the loader's recorded lines replayed into `collector run ssl
#     --loader`, i.e. how fast user space reconstructs exchanges
#
# Environment: BUILD (default ./build), BENCH_RUNS (default 5), BENCH_EXCHANGES (default 50000),
# BENCH_RING (the collector's --ring-size in part A, default 256MiB).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
C=$BUILD/collector
RUNS=${BENCH_RUNS:-5}
N=${BENCH_EXCHANGES:-50000}
RING=${BENCH_RING:-256MiB}
SIZE=$((64 << 20))
LIB=$(ldconfig -p | awk '/libssl\.so\.3 .*x86-64/ && !found { print $NF; found = 1 }')

[ "$(id -u)" = 0 ] || { echo "bench-ssl: needs root (uprobes)" >&2; exit 1; }
for tool in openssl curl python3 bpftrace jq; do
	command -v $tool >/dev/null || { echo "bench-ssl: $tool is missing (make deps)" >&2; exit 1; }
done
[ -x "$C" ] || { echo "bench-ssl: $C is missing (run make)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/bench-ssl.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
	-days 1 -subj /CN=localhost 2>/dev/null
head -c $SIZE /dev/zero | tr '\0' x >"$WORK/big.bin"
PORT=$((20000 + RANDOM % 20000))
(cd "$WORK" && exec openssl s_server -quiet -key key.pem -cert cert.pem \
	-accept 127.0.0.1:$PORT -WWW >/dev/null 2>&1) &
PIDS+=($!)
sleep 0.5
URL=https://127.0.0.1:$PORT/big.bin

# fetch_runs: RUNS fetches of the 64 MiB body; prints MB/s per run.
fetch_runs() {
	for _ in $(seq "$RUNS"); do
		curl -sk -o /dev/null -w '%{size_download} %{speed_download}\n' "$URL" |
			awk -v size=$SIZE '$1 != size { print "short transfer" > "/dev/stderr"; exit 1 }
				{ printf "%.1f\n", $2 / 1e6 }'
	done
}

# start_collector OUT ARGS...: the ssl runner in the background, once it is ready.
start_collector() {
	local out=$1
	shift
	"$C" run --sink "file:$out" ssl "$@" 2>"$out.err" &
	COLLECTOR=$!
	PIDS+=($COLLECTOR)
	for _ in $(seq 200); do
		grep -q '"ssl.ready"' "$out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench-ssl: the collector did not start: $(cat "$out.err")" >&2
	exit 1
}

stop_collector() {
	sleep 0.5
	kill -TERM "$COLLECTOR"
	wait "$COLLECTOR" || true
}

# start_bpftrace PROGRAM: bpftrace in the background, once its probes are attached.
start_bpftrace() {
	BPFTRACE_STRLEN=200 bpftrace -e "$1" >"$WORK/bt.out" 2>"$WORK/bt.err" &
	BT=$!
	PIDS+=($BT)
	for _ in $(seq 200); do
		grep -q '^Attaching' "$WORK/bt.out" 2>/dev/null && { sleep 0.5; return 0; }
		sleep 0.05
	done
	echo "bench-ssl: bpftrace did not start: $(cat "$WORK/bt.err")" >&2
	exit 1
}

stop_bpftrace() {
	kill -INT "$BT"
	wait "$BT" || true
}

echo "== A: 64 MiB over TLS on loopback, curl <- openssl s_server, $RUNS runs, median MB/s"
base=$(fetch_runs | median)

start_collector "$WORK/bulk.jsonl" -c curl --ring-size "$RING"
traced=$(fetch_runs | median)
# The ring buffer holds what the runner has not rebuilt yet: wait for it (at most 120 s).
t0=$(date +%s.%N)
for _ in $(seq 1200); do
	[ "$(grep -c '"http.response"' "$WORK/bulk.jsonl")" -ge "$RUNS" ] && break
	sleep 0.1
done
drain=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
stop_collector
responses=$(jq -c 'select(.type=="http.response")' "$WORK/bulk.jsonl" | wc -l)
whole=$(jq -c "select(.type==\"http.response\" and .data.body_size==$SIZE)" "$WORK/bulk.jsonl" | wc -l)
lost=$(jq -s '[.[] | select(.type=="collector.loss") | .data.dropped] | add // 0' "$WORK/bulk.jsonl")

start_bpftrace "uprobe:$LIB:SSL_read /comm == \"curl\"/ { @buf[tid] = arg1; }
uretprobe:$LIB:SSL_read /@buf[tid]/ { if (retval > 0) { printf(\"%d %r\\n\", retval, buf(@buf[tid], retval)); } delete(@buf[tid]); }"
bt=$(fetch_runs | median)
stop_bpftrace

printf '%-44s %12s %10s %8s\n' figure value peer ratio
printf '%-44s %12s %10s %8s\n' "untraced MB/s" "$base" - -
printf '%-44s %12s %10s %8s\n' "collector (HTTP reconstruction) MB/s" "$traced" "$base" \
	"$(awk -v a="$traced" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
printf '%-44s %12s %10s %8s\n' "bpftrace printf(buf(200 B)) one-liner MB/s" "$bt" "$base" \
	"$(awk -v a="$bt" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
echo "collector: $whole of $responses responses carry all $SIZE body bytes; ring-buffer loss: $lost records;"
echo "           the last response came out ${drain} s after the last transfer ended (--ring-size $RING)"

echo
echo "== B: $N keep-alive HTTP exchanges (1 KiB bodies) through OpenSSL in one python3 process"
GEN=(python3 "$ROOT/tools/bench/tls_exchanges.py" "$N" "$WORK/cert.pem" "$WORK/key.pem")
ex_base=$("${GEN[@]}")

start_collector "$WORK/ex.jsonl" -c python3
ex_traced=$("${GEN[@]}")
stop_collector
reqs=$(jq -c 'select(.type=="http.request")' "$WORK/ex.jsonl" | wc -l)
resps=$(jq -c 'select(.type=="http.response" and .data.status==200 and .data.body_size==1024)' "$WORK/ex.jsonl" | wc -l)
ex_lost=$(jq -s '[.[] | select(.type=="collector.loss") | .data.dropped] | add // 0' "$WORK/ex.jsonl")

start_bpftrace "uprobe:$LIB:SSL_read_ex,uprobe:$LIB:SSL_write_ex /comm == \"python3\"/ { @calls = count(); }
uretprobe:$LIB:SSL_read_ex,uretprobe:$LIB:SSL_write_ex /comm == \"python3\"/ { @returns = count(); }"
ex_bt=$("${GEN[@]}")
stop_bpftrace

# The runner alone: record the loader's lines, then replay them as a "loader".
"$C" loader ssl -c python3 >"$WORK/rec.jsonl" 2>/dev/null &
REC=$!
PIDS+=($REC)
for _ in $(seq 200); do grep -q '"ready"' "$WORK/rec.jsonl" 2>/dev/null && break; sleep 0.05; done
"${GEN[@]}" >/dev/null
sleep 0.5
kill -TERM $REC
wait $REC || true
printf '#!/bin/sh\nexec cat %s\n' "$WORK/rec.jsonl" >"$WORK/replay"
chmod +x "$WORK/replay"
t0=$(date +%s.%N)
"$C" run --sink "file:$WORK/replay.jsonl" ssl --loader "$WORK/replay" 2>/dev/null || true
t1=$(date +%s.%N)
replayed=$(jq -c 'select(.type=="http.response")' "$WORK/replay.jsonl" | wc -l)
replay_rate=$(awk -v n="$replayed" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')

printf '%-44s %12s %10s %8s\n' figure value peer ratio
printf '%-44s %12s %10s %8s\n' "untraced exchanges/s" "$ex_base" - -
printf '%-44s %12s %10s %8s\n' "collector exchanges/s (both ends rebuilt)" "$ex_traced" "$ex_base" \
	"$(awk -v a="$ex_traced" -v b="$ex_base" 'BEGIN { printf "%.2f", a / b }')"
printf '%-44s %12s %10s %8s\n' "bpftrace count() on the same uprobes" "$ex_bt" "$ex_base" \
	"$(awk -v a="$ex_bt" -v b="$ex_base" 'BEGIN { printf "%.2f", a / b }')"
printf '%-44s %12s %10s %8s\n' "collector request/response pairs rebuilt/s" "$((ex_traced * 2))" - -
printf '%-44s %12s %10s %8s\n' "runner alone (replayed lines): pairs/s" "$replay_rate" "$((ex_traced * 2))" \
	"$(awk -v a="$replay_rate" -v b="$ex_traced" 'BEGIN { printf "%.2f", a / b / 2 }')"
echo "collector: $reqs requests and $resps responses (200, 1024-byte body) of $((2 * N)) each; ring-buffer loss: $ex_lost records"
[ "$whole" = "$RUNS" ] && [ "$lost" = 0 ] && [ "$reqs" = $((2 * N)) ] && [ "$resps" = $((2 * N)) ] &&
	[ "$ex_lost" = 0 ]
