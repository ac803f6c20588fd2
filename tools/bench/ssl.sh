#!/usr/bin/env bash
# TLS capture benchmark for the ssl runner (`make bench-ssl`, root).
#
# Every round runs each mode once, one after the other, so that load from elsewhere
# hits all modes alike; figures are medians over BENCH_RUNS rounds. The server is
# pinned to CPU 0 and the traced client to CPU 1 in every mode (the collector floats).
#
# Part A, bulk: curl fetches a 64 MiB body from `openssl s_server -WWW` on 127.0.0.1:
#   - untraced
#   - under `collector run ssl -c curl` (HTTP reconstruction on; the response's body_size
#     must equal the bytes curl received, with no collector.loss)
#   - under a bpftrace one-liner on OpenSSL's public functions (entry and return of SSL_read,
#     SSL_write, SSL_read_ex, SSL_write_ex, SSL_do_handshake; SSL_free's entry; the collector
#     probes the internal functions these call, which bpftrace cannot name) with the same
#     comm filter, printing each call's thread, length, latency and bytes: as many bytes as
#     this bpftrace can print (0.17, Debian 12's, caps buf() at BPFTRACE_STRLEN <= 200)
#   Besides MB/s: curl's own CPU seconds per transfer (user + system, the uprobes' traps
#   and BPF programs included), the collector's CPU seconds (runner + loader), and the
#   kernel's bpf_stats time per run of the collector's entry and return probes.
# Part B, small exchanges: tls_exchanges.py runs N keep-alive HTTP/1.1 exchanges
# (36-byte request, 1 KiB response body) through OpenSSL client and server objects in one
# python3 process (4 probed calls per exchange), named `tlsbench` so that the filters
# (-c tlsbench) leave other python3 processes out:
#   - untraced
#   - under the collector (each exchange is seen from both ends: 2N requests and 2N
#     responses must come out, with no loss)
#   - under the same bpftrace one-liner as in A
#   - under bpftrace merely counting the same uprobes (the cost of the uprobes alone)
#   Besides exchanges/s: the generator's CPU µs per exchange in each mode, and the
#   collector's CPU µs per request/response pair it rebuilt.
#
# Part C, Go: the Go client (tools/tls-progs) fetches 64 MiB from the Go server over HTTPS,
#   untraced, under `collector run ssl --binary-path go-client` (the body whole, no loss) and
#   under bpftrace on the entries of the same Go symbols (crypto/tls.(*Conn).Write and .Read).
# Environment: BUILD (default ./build), BENCH_RUNS (default 5), BENCH_EXCHANGES (default 20000),
# BENCH_RING (the collector's --ring-size, default its own 16MiB), BENCH_PARTS (default "A B C").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
C=$BUILD/collector
RUNS=${BENCH_RUNS:-5}
N=${BENCH_EXCHANGES:-20000}
RING=${BENCH_RING:-16MiB}
SIZE=$((64 << 20))
PARTS=${BENCH_PARTS:-A B C}
# part X: whether part X runs; a part left out counts as passed.
part() { [[ " $PARTS " == *" $1 "* ]]; }
whole=$RUNS lost=0 reqs_ok=$RUNS ex_lost=0 go_whole=$RUNS go_lost=0
HZ=$(getconf CLK_TCK)
LIB=$(ldconfig -p | awk '/libssl\.so\.3 .*x86-64/ && !found { print $NF; found = 1 }')

[ "$(id -u)" = 0 ] || { echo "bench-ssl: needs root (uprobes)" >&2; exit 1; }
for tool in openssl curl python3 bpftrace bpftool jq taskset pgrep; do
	command -v $tool >/dev/null || { echo "bench-ssl: $tool is missing (make deps)" >&2; exit 1; }
done
[ -x "$C" ] || { echo "bench-ssl: $C is missing (run make)" >&2; exit 1; }
if [ "$(nproc)" -ge 2 ]; then
	SERVER_CPU=(taskset -c 0) CLIENT_CPU=(taskset -c 1)
else
	SERVER_CPU=() CLIENT_CPU=()
fi

WORK=$(mktemp -d /tmp/bench-ssl.XXXXXX)
PIDS=()
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	sysctl -q kernel.bpf_stats_enabled="$STATS_WAS"
	rm -rf "$WORK"
}
trap cleanup EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
col() { awk -v c="$2" '{ print $c }' "$1" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
row() {
	printf '%-40s' "$1"
	shift
	printf ' %12s' "$@"
	echo
}

# cpu_ticks PID...: user + system clock ticks the processes have used so far.
cpu_ticks() {
	local t=0 p
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] && t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
	done
	echo $t
}

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
	-days 1 -subj /CN=localhost 2>/dev/null
head -c $SIZE /dev/zero | tr '\0' x >"$WORK/big.bin"
PORT=$((20000 + RANDOM % 20000))
(cd "$WORK" && exec "${SERVER_CPU[@]}" openssl s_server -quiet -key key.pem -cert cert.pem \
	-accept 127.0.0.1:$PORT -WWW >/dev/null 2>&1) &
PIDS+=($!)
sleep 0.5
URL=https://127.0.0.1:$PORT/big.bin

# fetch FILE: one fetch of the 64 MiB body; appends "MB/s curl-CPU-seconds" to FILE.
fetch() {
	local out t
	out=$({ TIMEFORMAT='%3U %3S'; time "${CLIENT_CPU[@]}" curl -sk -o /dev/null \
		-w '%{size_download} %{speed_download}\n' "$URL"; } 2>"$WORK/time")
	[ "${out%% *}" = $SIZE ] || { echo "bench-ssl: short transfer: $out" >&2; exit 1; }
	t=$(awk '{ print $1 + $2 }' "$WORK/time")
	echo "$out $t" | awk '{ printf "%.1f %s\n", $2 / 1e6, $3 }' >>"$1"
}

# start_collector OUT ARGS...: the ssl runner in the background, once it is ready;
# LOADER is its loader's pid.
start_collector() {
	local out=$1
	shift
	"$C" run --sink "file:$out" ssl --ring-size "$RING" "$@" 2>"$out.err" &
	COLLECTOR=$!
	PIDS+=($COLLECTOR)
	for _ in $(seq 200); do
		if grep -q '"ssl.ready"' "$out" 2>/dev/null; then
			LOADER=$(pgrep -P "$COLLECTOR" | head -1)
			return 0
		fi
		sleep 0.05
	done
	echo "bench-ssl: the collector did not start: $(cat "$out.err")" >&2
	exit 1
}

# probe_ns_per_run PATTERN: the kernel's bpf_stats for the collector's programs whose names
# match PATTERN (an awk regex), ns per run over all of them.
probe_ns_per_run() {
	bpftool prog show | awk -v pat="$1" '/ name / { on = 0; for (i = 1; i < NF; i++) if ($i == "name" && $(i + 1) ~ pat) on = 1 }
		on && /run_time_ns/ { for (i = 1; i < NF; i++) { if ($i == "run_time_ns") t += $(i + 1);
			if ($i == "run_cnt") n += $(i + 1) } } END { if (n) printf "%.0f\n", t / n }'
}

stop_collector() {
	kill -TERM "$COLLECTOR"
	wait "$COLLECTOR" || true
}

# The most bytes this bpftrace's buf() prints per call.
BT_STRLEN=16384
BPFTRACE_STRLEN=$BT_STRLEN bpftrace -e 'BEGIN { exit(); }' >/dev/null 2>&1 || BT_STRLEN=200

# bt_print COMM: the peer one-liner: the collector's OpenSSL uprobes, filtered on COMM, printing
# each call's thread, length, latency and first BT_STRLEN bytes, and the handshakes and frees.
bt_print() {
	local f=uprobe:$LIB:SSL_read,uprobe:$LIB:SSL_write,uprobe:$LIB:SSL_read_ex,uprobe:$LIB:SSL_write_ex
	local out='printf("%d %d %d %r\n", tid, $n, nsecs - @ts[tid], buf(@buf[tid], $n))'
	local forget='delete(@buf[tid]); delete(@len[tid]); delete(@ts[tid]);'
	cat <<-EOF
	$f /comm == "$1"/ { @buf[tid] = arg1; @len[tid] = arg3; @ts[tid] = nsecs; }
	uretprobe:$LIB:SSL_read,uretprobe:$LIB:SSL_write /@ts[tid]/ {
		\$n = (int32)retval; if (\$n > 0) { $out; } $forget
	}
	uretprobe:$LIB:SSL_read_ex,uretprobe:$LIB:SSL_write_ex /@ts[tid]/ {
		if ((int32)retval == 1) { \$n = *(uint64 *)@len[tid]; $out; } $forget
	}
	uprobe:$LIB:SSL_do_handshake /comm == "$1"/ { @hs[tid] = nsecs; }
	uretprobe:$LIB:SSL_do_handshake /@hs[tid]/ { printf("handshake %d %d %d\\n", tid, (int32)retval, nsecs - @hs[tid]); delete(@hs[tid]); }
	uprobe:$LIB:SSL_free /comm == "$1"/ { printf("free %d %p\\n", pid, arg0); }
	EOF
}

# bt_count COMM: the same uprobes and filter, counting the calls only: the uprobes' own cost.
bt_count() {
	local f=uprobe:$LIB:SSL_read,uprobe:$LIB:SSL_write,uprobe:$LIB:SSL_read_ex,uprobe:$LIB:SSL_write_ex,uprobe:$LIB:SSL_do_handshake
	echo "$f /comm == \"$1\"/ { @calls = count(); } ${f//uprobe/uretprobe} /comm == \"$1\"/ { @returns = count(); }"
	echo "uprobe:$LIB:SSL_free /comm == \"$1\"/ { @frees = count(); }"
}

# bt_lost: the events bpftrace's perf buffer had no room for, in the last run.
bt_lost() { awk '/^Lost [0-9]+ events/ { n += $2 } END { print n + 0 }' "$WORK/bt.out"; }

# start_bpftrace PROGRAM: bpftrace in the background, once its probes are attached.
start_bpftrace() {
	BPFTRACE_STRLEN=$BT_STRLEN bpftrace -e "$1" >"$WORK/bt.out" 2>"$WORK/bt.err" &
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

echo "load before: $(uptime)"
# Uprobes attached by anyone else on these libraries trap in every mode, "untraced" included.
others=$(bpftool prog show | grep -cE ' name (ssl_read_enter|tls_leave) ' || true)
[ "$others" = 0 ] || echo "note: $others TLS uprobe program(s) of other tools are attached" \
	"($(pgrep -fa 'loader ssl' | cut -c1-80 | paste -sd';')): every mode pays their traps"
if part A; then
	echo "== A: 64 MiB over TLS on loopback, curl (CPU 1) <- openssl s_server -WWW (CPU 0), $RUNS rounds, medians"
	whole=0 lost=0 drains=() bt_calls=0 bt_lost=0
	for i in $(seq "$RUNS"); do
		fetch "$WORK/a.base"

		sysctl -q kernel.bpf_stats_enabled=1
		start_collector "$WORK/bulk$i.jsonl" -c curl
		t0=$(cpu_ticks "$COLLECTOR" "$LOADER")
		fetch "$WORK/a.col"
		# Until the runner has rebuilt the response (at most 60 s): its CPU time is all counted.
		s0=$(date +%s.%N)
		for _ in $(seq 600); do
			grep -q '"http.response"' "$WORK/bulk$i.jsonl" && break
			sleep 0.1
		done
		drains+=("$(awk -v a="$s0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')")
		echo "$(($(cpu_ticks "$COLLECTOR" "$LOADER") - t0))" | awk -v hz="$HZ" '{ print $1 / hz }' >>"$WORK/a.colcpu"
		probe_ns_per_run '^tls_leave$' >>"$WORK/a.leave"
		probe_ns_per_run '_enter$' >>"$WORK/a.enter"
		stop_collector
		sysctl -q kernel.bpf_stats_enabled="$STATS_WAS"
		whole=$((whole + $(jq -c "select(.type==\"http.response\" and .data.body_size==$SIZE)" "$WORK/bulk$i.jsonl" | wc -l)))
		lost=$((lost + $(jq -s '[.[] | select(.type=="collector.loss") | .data.dropped] | add // 0' "$WORK/bulk$i.jsonl")))

		start_bpftrace "$(bt_print curl)"
		fetch "$WORK/a.bt"
		stop_bpftrace
		bt_calls=$((bt_calls + $(grep -c '^[0-9]' "$WORK/bt.out" || true))) bt_lost=$((bt_lost + $(bt_lost)))
	done

	base=$(col "$WORK/a.base" 1) traced=$(col "$WORK/a.col" 1) bt=$(col "$WORK/a.bt" 1)
	base_cpu=$(col "$WORK/a.base" 2) traced_cpu=$(col "$WORK/a.col" 2) bt_cpu=$(col "$WORK/a.bt" 2)
	row figure untraced collector bpftrace
	row "MB/s" "$base" "$traced" "$bt"
	row "  ratio to untraced" 1.00 "$(ratio "$traced" "$base")" "$(ratio "$bt" "$base")"
	row "curl CPU s per 64 MiB (user+sys)" "$base_cpu" "$traced_cpu" "$bt_cpu"
	row "  ratio to untraced" 1.00 "$(ratio "$traced_cpu" "$base_cpu")" "$(ratio "$bt_cpu" "$base_cpu")"
	row "collector CPU s per 64 MiB" - "$(median <"$WORK/a.colcpu")" -
	row "entry probe ns per call (bpf_stats)" - "$(median <"$WORK/a.enter")" -
	row "return probe ns per call (bpf_stats)" - "$(median <"$WORK/a.leave")" -
	echo "collector: $whole of $RUNS responses carry all $SIZE body bytes; ring-buffer loss: $lost records;"
	echo "           the response came out at most $(printf '%s\n' "${drains[@]}" | sort -g | tail -1) s after its transfer ended (--ring-size $RING)"
	echo "bpftrace:  printed $bt_calls calls, the first $BT_STRLEN bytes of each (its buf() limit here), lost $bt_lost events"
fi

echo
if part B; then
	echo "== B: $N keep-alive HTTP exchanges (1 KiB bodies) through OpenSSL in one python3 process (tlsbench, CPU 1), $RUNS rounds, medians"
	ln -s "$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')" "$WORK/tlsbench"
	GEN=("${CLIENT_CPU[@]}" "$WORK/tlsbench" "$ROOT/tools/bench/tls_exchanges.py" "$N" "$WORK/cert.pem" "$WORK/key.pem")
	reqs_ok=0 ex_lost=0 bt_calls=0 bt_lost=0
	for i in $(seq "$RUNS"); do
		"${GEN[@]}" >>"$WORK/b.base"

		sysctl -q kernel.bpf_stats_enabled=1
		start_collector "$WORK/ex$i.jsonl" -c tlsbench
		t0=$(cpu_ticks "$COLLECTOR" "$LOADER")
		"${GEN[@]}" >>"$WORK/b.col"
		sleep 0.2
		t1=$(cpu_ticks "$COLLECTOR" "$LOADER")
		probe_ns_per_run '^tls_leave$' >>"$WORK/b.leave"
		probe_ns_per_run '_enter$' >>"$WORK/b.enter"
		stop_collector
		sysctl -q kernel.bpf_stats_enabled="$STATS_WAS"
		echo "$((t1 - t0))" | awk -v hz="$HZ" -v pairs=$((2 * N)) '{ printf "%.1f\n", $1 / hz * 1e6 / pairs }' >>"$WORK/b.colcpu"
		reqs=$(jq -c 'select(.type=="http.request" and .data.path=="/item")' "$WORK/ex$i.jsonl" | wc -l)
		resps=$(jq -c 'select(.type=="http.response" and .data.path=="/item" and .data.status==200 and .data.body_size==1024)' "$WORK/ex$i.jsonl" | wc -l)
		[ "$reqs" = $((2 * N)) ] && [ "$resps" = $((2 * N)) ] && reqs_ok=$((reqs_ok + 1))
		ex_lost=$((ex_lost + $(jq -s '[.[] | select(.type=="collector.loss") | .data.dropped] | add // 0' "$WORK/ex$i.jsonl")))

		start_bpftrace "$(bt_print tlsbench)"
		"${GEN[@]}" >>"$WORK/b.bt"
		stop_bpftrace
		bt_calls=$((bt_calls + $(grep -c '^[0-9]' "$WORK/bt.out" || true))) bt_lost=$((bt_lost + $(bt_lost)))

		start_bpftrace "$(bt_count tlsbench)"
		"${GEN[@]}" >>"$WORK/b.count"
		stop_bpftrace
	done

	ex_base=$(col "$WORK/b.base" 1) ex_traced=$(col "$WORK/b.col" 1) ex_bt=$(col "$WORK/b.bt" 1)
	ex_count=$(col "$WORK/b.count" 1)
	us_base=$(col "$WORK/b.base" 2) us_traced=$(col "$WORK/b.col" 2) us_bt=$(col "$WORK/b.bt" 2)
	us_count=$(col "$WORK/b.count" 2)
	col_us=$(median <"$WORK/b.colcpu")
	row figure untraced collector bpftrace "bt count()"
	row "exchanges/s" "$ex_base" "$ex_traced" "$ex_bt" "$ex_count"
	row "  ratio to bpftrace" - "$(ratio "$ex_traced" "$ex_bt")" 1.00 "$(ratio "$ex_count" "$ex_bt")"
	row "generator CPU µs per exchange" "$us_base" "$us_traced" "$us_bt" "$us_count"
	row "entry probe ns per call (bpf_stats)" - "$(median <"$WORK/b.enter")" - -
	row "return probe ns per call (bpf_stats)" - "$(median <"$WORK/b.leave")" - -
	row "request/response pairs rebuilt/s" - "$((ex_traced * 2))" - -
	row "collector CPU µs per pair rebuilt" - "$col_us" - -
	row "  pairs/s one collector CPU can rebuild" - "$(awk -v u="$col_us" 'BEGIN { printf "%.0f", 1e6 / u }')" - -
	echo "uprobes alone: $(awk -v a="$us_count" -v b="$us_base" 'BEGIN { printf "%.1f", (a - b) / 4 }') µs of the traced process's CPU per probed call (bt count() - untraced, 4 calls per exchange),"
	echo "               so at most $(awk -v a="$us_count" 'BEGIN { printf "%.0f", 1e6 / a }') exchanges/s on one CPU whatever the probes do"
	echo "collector: $reqs_ok of $RUNS rounds gave all $((2 * N)) requests and responses (200, 1024-byte body); ring-buffer loss: $ex_lost records"
	echo "bpftrace:  printed $bt_calls of $((4 * N * RUNS)) calls, the first $BT_STRLEN bytes of each, lost $bt_lost events"
fi

echo
if part C; then
	echo "== C: 64 MiB over HTTPS, Go client (go-client -h1, CPU 1) <- Go server (CPU 0), $RUNS rounds, medians"
	GOC=$BUILD/tls-progs/go-client
	"${SERVER_CPU[@]}" "$BUILD/tls-progs/go-server" -h1 "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/gos.out" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do grep -q '^ready' "$WORK/gos.out" && break; sleep 0.05; done
	GO_URL="https://127.0.0.1:$(awk '/^ready/ { print $2 }' "$WORK/gos.out")/big?n=$SIZE"

	# go_fetch FILE: one 64 MiB fetch by the Go client; appends "MB/s client-CPU-seconds" to FILE.
	go_fetch() {
		local t0 t1 out
		t0=$(date +%s.%N)
		out=$({ TIMEFORMAT='%3U %3S'; time "${CLIENT_CPU[@]}" "$GOC" -h1 "$GO_URL"; } 2>"$WORK/time")
		t1=$(date +%s.%N)
		[ "$out" = "HTTP/1.1 200 $SIZE" ] || { echo "bench-ssl: Go client: $out" >&2; exit 1; }
		awk -v a="$t0" -v b="$t1" -v n=$SIZE '{ printf "%.1f %s\n", n / (b - a) / 1e6, $1 + $2 }' "$WORK/time" >>"$1"
	}

	# The peer: bpftrace 0.17 attaches to a Go symbol's entry only (no offsets into a function,
	# and a uretprobe on Go code is unsafe): it prints what Write is given and what Read is asked.
	bt_go() {
		local f='uprobe:'$GOC':"crypto/tls.(*Conn).'
		cat <<-EOF
		${f}Write" /comm == "go-client"/ { printf("w %d %d %r\\n", tid, reg("cx"), buf(reg("bx"), reg("cx"))); }
		${f}Read" /comm == "go-client"/ { printf("r %d %d\\n", tid, reg("cx")); }
	EOF
	}

	go_whole=0 go_lost=0
	for i in $(seq "$RUNS"); do
		go_fetch "$WORK/c.base"
		sysctl -q kernel.bpf_stats_enabled=1
		start_collector "$WORK/go$i.jsonl" --binary-path "$GOC"
		t0=$(cpu_ticks "$COLLECTOR" "$LOADER")
		go_fetch "$WORK/c.col"
		for _ in $(seq 600); do
			grep -q '"http.response"' "$WORK/go$i.jsonl" && break
			sleep 0.1
		done
		echo "$(($(cpu_ticks "$COLLECTOR" "$LOADER") - t0))" | awk -v hz="$HZ" '{ print $1 / hz }' >>"$WORK/c.colcpu"
		probe_ns_per_run '^go_read_ret$' >>"$WORK/c.ret"
		probe_ns_per_run '^go_(read|write)_enter$' >>"$WORK/c.enter"
		stop_collector
		sysctl -q kernel.bpf_stats_enabled="$STATS_WAS"
		go_whole=$((go_whole + $(jq -c "select(.type==\"http.response\" and .data.body_size==$SIZE)" "$WORK/go$i.jsonl" | wc -l)))
		go_lost=$((go_lost + $(jq -s '[.[] | select(.type=="collector.loss") | .data.dropped] | add // 0' "$WORK/go$i.jsonl")))

		start_bpftrace "$(bt_go)"
		go_fetch "$WORK/c.bt"
		stop_bpftrace
	done
	base=$(col "$WORK/c.base" 1) traced=$(col "$WORK/c.col" 1) bt=$(col "$WORK/c.bt" 1)
	base_cpu=$(col "$WORK/c.base" 2) traced_cpu=$(col "$WORK/c.col" 2) bt_cpu=$(col "$WORK/c.bt" 2)
	row figure untraced collector bpftrace
	row "MB/s" "$base" "$traced" "$bt"
	row "Go client CPU s per 64 MiB (user+sys)" "$base_cpu" "$traced_cpu" "$bt_cpu"
	row "  ratio to untraced" 1.00 "$(ratio "$traced_cpu" "$base_cpu")" "$(ratio "$bt_cpu" "$base_cpu")"
	row "collector CPU s per 64 MiB" - "$(median <"$WORK/c.colcpu")" -
	row "entry probe ns per call (bpf_stats)" - "$(median <"$WORK/c.enter")" -
	row "RET probe ns per call (bpf_stats)" - "$(median <"$WORK/c.ret")" -
	echo "collector: $go_whole of $RUNS responses carry all $SIZE body bytes; ring-buffer loss: $go_lost records"
	echo "bpftrace:  entry probes only (Read's bytes are not there yet at its entry)"
fi
echo "load after: $(uptime)"
[ "$whole" = "$RUNS" ] && [ "$lost" = 0 ] && [ "$reqs_ok" = "$RUNS" ] && [ "$ex_lost" = 0 ] &&
	[ "$go_whole" = "$RUNS" ] && [ "$go_lost" = 0 ]
