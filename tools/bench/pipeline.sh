#!/usr/bin/env bash
# Pipeline benchmark for the collector (`make bench`).
#
# Part A, throughput: N fixed-size 200-byte JSON events from tools/bench/gen,
# RUNS rounds in which every case runs once in turn (so load on a shared
# machine falls on all of them alike), medians reported with ratios:
#   - collector run --sink file:OUT exec --format json -- gen N   (output checked)
#   - the same with the collector on CPU 0 and gen on CPU 1 (taskset, >= 2 CPUs)
#   - with BASELINE=DIR, the first case with DIR/collector too (e.g. main's build)
#   - gen N | yajl_parse   (tools/bench/yajl_parse.c: yajl parses each line, nothing
#                           else: the parser ceiling)
#   - gen N | jq -c . > /dev/null                                (the reference)
#   - gen N | cat > /dev/null                                    (the floor)
# Part B, memory under backpressure: collector run exec --format json --
# gen 10000000 | slow_reader 10000 for THROTTLE seconds, then SIGTERM to the
# collector (it stops gen, drains and exits); reports the collector's peak RSS
# (VmHWM, polled every 100 ms) and checks that, with the default block policy,
# every generated event reached the reader, once and in order. With BASELINE
# the baseline's collector runs Part B too, and both peaks are printed.
#
# Environment: BUILD (build directory, default ./build), BASELINE (another
# build directory to compare against, optional), BENCH_EVENTS (N,
# default 2000000), BENCH_RUNS (default 5), BENCH_THROTTLE_SECONDS (default 10).
# Exit status: 0, or 1 when an output was wrong (missing, extra or reordered
# events, a hang, a crash). Being slow is reported, never a failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
COLLECTOR=$BUILD/collector
GEN=$BUILD/tools/bench/gen
SLOW=$BUILD/tools/bench/slow_reader
YAJL=$BUILD/tools/bench/yajl_parse
BASE_COLLECTOR=${BASELINE:+$BASELINE/collector}
N=${BENCH_EVENTS:-2000000}
RUNS=${BENCH_RUNS:-5}
THROTTLE=${BENCH_THROTTLE_SECONDS:-10}
B_EVENTS=10000000
B_EPS=10000
DRAIN_LIMIT=30

for bin in "$COLLECTOR" "$GEN" "$SLOW" "$YAJL" ${BASE_COLLECTOR:+"$BASE_COLLECTOR"}; do
	if [[ ! -x $bin ]]; then
		echo "bench: $bin is missing (run make first)" >&2
		exit 1
	fi
done
for v in N RUNS THROTTLE; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || (( ${!v} < 1 )); then
		echo "bench: $v must be a positive integer, not '${!v}'" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/collector-bench.XXXXXX")
bg_pids=()
cleanup() {
	local pid
	for pid in "${bg_pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { echo "$EPOCHREALTIME"; }

# median of the arguments (numbers)
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# thousands separators for an integer
commas() {
	printf '%.0f' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'
}

# ---------------------------------------------------------------------------
# Part A
# ---------------------------------------------------------------------------

# Checks the file sink's output of one collector run of gen N: exactly N
# bench.event lines with i = 0..N-1 in order, one exec.exit (status success,
# counters.events == N), gen's own "generated N" stderr line as exec.stderr,
# nothing else. Prints a one-line reason and returns 1 when wrong.
check_collector_output() {
	local out=$1 summary
	summary=$(awk -v n="$N" '
		/^\{"type":"bench\.event",/ {
			b++
			if (match($0, /"i":[0-9]+/)) {
				i = substr($0, RSTART + 4, RLENGTH - 4) + 0
				if (i != b - 1 && bad == "")
					bad = "event " b " has i=" i ", expected " (b - 1)
			} else if (bad == "") {
				bad = "event " b " has no i"
			}
			next
		}
		/^\{"type":"exec\.exit",/ {
			x++
			if ($0 !~ /"status":"success"/) bad = bad " exec.exit status is not success;"
			if ($0 !~ ("\"events\":" n ",")) bad = bad " exec.exit counters.events != " n ";"
			next
		}
		/^\{"type":"exec\.stderr",/ && $0 ~ ("\"line\":\"generated " n "\"") { g++; next }
		{ o++; if (other == "") other = substr($0, 1, 160) }
		END {
			printf "bench.event=%d exec.exit=%d generated-line=%d other=%d", b, x, g, o
			if (b != n) printf "; expected %d bench.event", n
			if (x != 1) printf "; expected 1 exec.exit"
			if (g != 1) printf "; gen stderr line missing"
			if (o) printf "; unexpected line: %s", other
			if (bad != "") printf "; %s", bad
			print ""
			exit (b == n && x == 1 && g == 1 && o == 0 && bad == "") ? 0 : 1
		}' "$out") && return 0
	echo "$summary"
	return 1
}

# One timed collector run; prints its wall seconds. $1: "pin" or "nopin", $2: the binary.
collector_run_once() {
	local pin=$1 bin=$2 out=$tmp/out.jsonl rc=0 t0 t1 why
	local -a pre=() gpre=()
	if [[ $pin == pin ]]; then
		pre=(taskset -c 0)
		gpre=(taskset -c 1)
	fi
	rm -f "$out"
	t0=$(now)
	"${pre[@]}" "$bin" run --sink "file:$out" exec --format json -- "${gpre[@]}" "$GEN" "$N" \
		>"$tmp/collector.stdout" 2>"$tmp/collector.stderr" || rc=$?
	t1=$(now)
	if (( rc != 0 )); then
		fail "collector ($pin) exited $rc: $(tail -n 3 "$tmp/collector.stderr" | tr '\n' ' ')"
	elif [[ -s $tmp/collector.stdout ]]; then
		fail "collector ($pin) wrote to stdout although its only sink is a file"
	fi
	if ! why=$(check_collector_output "$out"); then
		fail "collector ($pin) output: $why"
	fi
	rm -f "$out"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}

jq_run_once() {
	local t0 t1 rc=0
	t0=$(now)
	"$GEN" "$N" 2>/dev/null | jq -c . >/dev/null 2>"$tmp/jq.stderr" || rc=$?
	t1=$(now)
	(( rc == 0 )) || fail "gen | jq exited $rc: $(head -c 300 "$tmp/jq.stderr")"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}

yajl_run_once() {
	local t0 t1 rc=0
	t0=$(now)
	"$GEN" "$N" 2>/dev/null | "$YAJL" 2>"$tmp/yajl.stderr" || rc=$?
	t1=$(now)
	(( rc == 0 )) || fail "gen | yajl_parse exited $rc: $(head -c 300 "$tmp/yajl.stderr")"
	grep -q "^parsed $N lines, 0 invalid" "$tmp/yajl.stderr" ||
		fail "yajl_parse: $(head -c 300 "$tmp/yajl.stderr"), expected $N valid lines"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}

cat_run_once() {
	local t0 t1 rc=0
	t0=$(now)
	"$GEN" "$N" 2>/dev/null | cat >/dev/null || rc=$?
	t1=$(now)
	(( rc == 0 )) || fail "gen | cat exited $rc"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}

declare -A case_eps case_secs case_range case_note case_cmd case_runs
case_order=()

# add_case NAME FUNCTION [ARGS...]: a case of the rounds below.
add_case() {
	local name=$1
	shift
	case_order+=("$name")
	case_cmd[$name]="$*"
}

# run_rounds: RUNS rounds, each case once per round in turn; records the medians.
run_rounds() {
	local i name s
	local -a secs rates
	for ((i = 1; i <= RUNS; i++)); do
		for name in "${case_order[@]}"; do
			[[ -n ${case_note[$name]:-} ]] && continue
			# shellcheck disable=SC2086 # the command's words
			s=$(${case_cmd[$name]} | tail -n 1)
			case_runs[$name]+="$s "
		done
		printf '  round %d of %d done (load average %s)\n' "$i" "$RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)"
	done
	for name in "${case_order[@]}"; do
		[[ -n ${case_note[$name]:-} ]] && continue
		read -r -a secs <<<"${case_runs[$name]}"
		rates=()
		for s in "${secs[@]}"; do
			rates+=("$(awk -v n="$N" -v s="$s" 'BEGIN { printf "%.0f\n", n / s }')")
		done
		case_secs[$name]=$(median "${secs[@]}")
		case_eps[$name]=$(awk -v n="$N" -v s="${case_secs[$name]}" 'BEGIN { printf "%.0f\n", n / s }')
		case_range[$name]="$(commas "$(printf '%s\n' "${rates[@]}" | sort -g | head -n 1)")..$(commas "$(printf '%s\n' "${rates[@]}" | sort -g | tail -n 1)")"
	done
}

skip_case() {
	case_order+=("$1")
	case_note[$1]=$2
}

# Runs happen in command substitutions (subshells), so failures
# are recorded in a file, not a variable.
fail() {
	echo "$*" >>"$tmp/failures"
	echo "  FAIL: $*" >&2
}

ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
echo "== collector pipeline benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), $ncpu CPUs, $(uname -r))"
echo "   N=$N events x 200 bytes ($(awk -v n="$N" 'BEGIN { printf "%.0f", n * 200 / 1048576 }') MiB), $RUNS rounds (cases alternate), median reported"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "-- Part A: throughput"
C_FREE="collector exec --format json -> file"
C_BASE="baseline collector (BASELINE) -> file"
C_PIN="collector on CPU 0, gen on CPU 1 (taskset)"
Y="gen | yajl_parse (parser ceiling)"
J="gen | jq -c . > /dev/null"
K="gen | cat > /dev/null (floor)"

add_case "$C_FREE" collector_run_once nopin "$COLLECTOR"
[[ -n $BASE_COLLECTOR ]] && add_case "$C_BASE" collector_run_once nopin "$BASE_COLLECTOR"
if ! command -v taskset >/dev/null 2>&1; then
	skip_case "$C_PIN" "skipped: taskset not installed"
elif (( ncpu < 2 )); then
	skip_case "$C_PIN" "skipped: needs 2 CPUs, have $ncpu"
else
	add_case "$C_PIN" collector_run_once pin "$COLLECTOR"
fi
add_case "$Y" yajl_run_once
if command -v jq >/dev/null 2>&1; then
	add_case "$J" jq_run_once
else
	skip_case "$J" "skipped: jq not installed (ratios unavailable)"
	echo "  SKIP: jq is not installed; the jq case and the ratios are skipped"
fi
add_case "$K" cat_run_once
run_rounds
echo "   load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# ratio NAME REF: NAME's events/s over REF's, or n/a.
ratio() {
	if [[ -n ${case_eps[$2]:-} && -n ${case_eps[$1]:-} ]]; then
		awk -v a="${case_eps[$1]}" -v b="${case_eps[$2]}" 'BEGIN { printf "%.2fx", a / b }'
	else
		echo "n/a"
	fi
}

echo
printf '%-46s %16s %8s %10s %10s   %s\n' "case" "median events/s" "vs jq" "vs yajl" "median s" "min..max events/s"
printf '%-46s %16s %8s %10s %10s   %s\n' "----" "---------------" "-----" "-------" "--------" "-----------------"
for name in "${case_order[@]}"; do
	if [[ -n ${case_note[$name]:-} ]]; then
		printf '%-46s %16s %8s %10s %10s   %s\n' "$name" "-" "-" "-" "-" "${case_note[$name]}"
		continue
	fi
	printf '%-46s %16s %8s %10s %10.3f   %s\n' "$name" "$(commas "${case_eps[$name]}")" \
		"$(ratio "$name" "$J")" "$(ratio "$name" "$Y")" "${case_secs[$name]}" "${case_range[$name]}"
done
[[ -n $BASE_COLLECTOR ]] && echo "   collector over baseline: $(ratio "$C_FREE" "$C_BASE")"

# ---------------------------------------------------------------------------
# Part B
# ---------------------------------------------------------------------------

echo
echo "-- Part B: memory under backpressure (default queue: block policy)"
echo "   collector run exec --format json -- gen $B_EVENTS | slow_reader $B_EPS; SIGTERM to the collector after ${THROTTLE}s"

# Microseconds since the epoch, without a fork.
now_us() { local t=${EPOCHREALTIME//[.,]/}; echo "$((10#$t))"; }

# Exited = gone or a zombie (our child until `wait`). Builtins only, so the
# 100 ms polls below cost next to nothing.
exited() {
	local _pid _comm st=""
	{ read -r _pid _comm st _ <"/proc/$1/stat"; } 2>/dev/null || return 0
	[[ -z $st || $st == Z || $st == X ]]
}
# proc_kb PID FIELD: the kB value of a /proc/PID/status field, empty if none.
proc_kb() {
	local k v _
	{ while read -r k v _; do
		if [[ $k == "$2:" ]]; then
			echo "$v"
			return 0
		fi
	done <"/proc/$1/status"; } 2>/dev/null || true
}
hwm_kb=0
poll_hwm() {
	local v
	v=$(proc_kb "$coll_pid" VmHWM)
	if [[ -n $v ]] && (( v > hwm_kb )); then
		hwm_kb=$v
	fi
}

# wait_exit PID SECONDS [poll_hwm]: 0 once PID exited, 1 after SECONDS.
wait_exit() {
	local deadline=$(( $(now_us) + $2 * 1000000 ))
	while (( $(now_us) < deadline )); do
		[[ ${3:-} == poll_hwm ]] && poll_hwm
		exited "$1" && return 0
		sleep 0.1
	done
	exited "$1"
}
# part_b BIN LABEL: one backpressure run of BIN, its peak RSS and checks printed.
part_b() {
	local bin=$1 label=$2
	hwm_kb=0
	echo
	echo "   [$label] $bin"
	fifo=$tmp/pipe.$label
	mkfifo "$fifo"
	"$SLOW" "$B_EPS" --type bench.event --check-seq --other "$tmp/b_${label}_other.jsonl" <"$fifo" \
		2>"$tmp/b_${label}_slow.stderr" &
	slow_pid=$!
	bg_pids+=("$slow_pid")
	"$bin" run exec --format json -- "$GEN" "$B_EVENTS" --count-file "$tmp/b_${label}_count" \
		>"$fifo" 2>"$tmp/b_${label}_collector.stderr" &
	coll_pid=$!
	bg_pids+=("$coll_pid")

	t_start=$(now)
	start_us=$(now_us)
	half_hwm=""
	early=0
	while (( $(now_us) - start_us < THROTTLE * 1000000 )); do
		sleep 0.1
		if exited "$coll_pid"; then
			early=1
			break
		fi
		poll_hwm
		if [[ -z $half_hwm ]] && (( $(now_us) - start_us >= THROTTLE * 500000 )); then
			half_hwm=$hwm_kb
		fi
	done
	rss_at_term=$(proc_kb "$coll_pid" VmRSS)
	t_term=$(now)
	if (( early == 0 )); then
		kill -TERM "$coll_pid" 2>/dev/null || true
	fi
	hung=0
	wait_exit "$coll_pid" "$DRAIN_LIMIT" poll_hwm || hung=1
	t_exit=$(now)
	if (( hung )); then
		wchan=$(cat "/proc/$coll_pid/wchan" 2>/dev/null || echo "?")
		fail "collector still running ${DRAIN_LIMIT}s after SIGTERM (wchan=$wchan); killed with SIGKILL"
		kill -KILL "$coll_pid" 2>/dev/null || true
	fi
	coll_rc=0
	wait "$coll_pid" || coll_rc=$?
	slow_hung=0
	wait_exit "$slow_pid" "$DRAIN_LIMIT" || slow_hung=1
	if (( slow_hung )); then
		fail "slow_reader saw no EOF ${DRAIN_LIMIT}s after the collector exited; killed"
		kill -KILL "$slow_pid" 2>/dev/null || true
	fi
	slow_rc=0
	wait "$slow_pid" || slow_rc=$?
	t_end=$(now)

	(( early )) && fail "collector exited before SIGTERM (status $coll_rc): $(tail -n 3 "$tmp/b_${label}_collector.stderr" | tr '\n' ' ')"
	generated=$(cat "$tmp/b_${label}_count" 2>/dev/null || true)
	[[ -n $generated ]] || fail "gen wrote no --count-file (did it get SIGKILL?)"
	gen_line=$(grep -o '"line":"generated [0-9]*"' "$tmp/b_${label}_other.jsonl" 2>/dev/null | grep -o '[0-9]*' | head -n 1 || true)
	read_lines=$(awk '/^read [0-9]+ lines/ { print $2 }' "$tmp/b_${label}_slow.stderr")
	written=$(awk '/^matched [0-9]+ bench.event/ { print $2 }' "$tmp/b_${label}_slow.stderr")
	seq_msg=$(grep -E '^sequence ' "$tmp/b_${label}_slow.stderr" || echo "sequence: no report")
	partial=$(grep -E '^partial trailing line' "$tmp/b_${label}_slow.stderr" || true)
	exit_status=$(grep -o '"type":"exec.exit".*' "$tmp/b_${label}_other.jsonl" 2>/dev/null | grep -o '"status":"[a-z_]*"' | head -n 1 | cut -d'"' -f4 || true)
	others=$(grep -c -v -E '^\{"type":"exec\.(stderr|exit)",' "$tmp/b_${label}_other.jsonl" 2>/dev/null || true)
	drain_s=$(awk -v a="$t_term" -v b="$t_exit" 'BEGIN { printf "%.2f", b - a }')
	tail_s=$(awk -v a="$t_exit" -v b="$t_end" 'BEGIN { printf "%.2f", b - a }')
	total_s=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.2f", b - a }')
	reader_eps=$(awk -v n="${read_lines:-0}" -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.0f", n / (b - a) }')

	echo
	printf '  %-44s %s\n' "collector peak RSS (VmHWM, 100 ms polls)" "$(commas "$hwm_kb") kB ($(awk -v k="$hwm_kb" 'BEGIN { printf "%.1f", k / 1024 }') MiB)"
	printf '  %-44s %s\n' "  VmHWM at ${THROTTLE}/2 s / RSS at SIGTERM" "${half_hwm:-?} kB / ${rss_at_term:-?} kB"
	printf '  %-44s %s\n' "generated (gen --count-file)" "${generated:-?}"
	printf '  %-44s %s\n' "generated (gen's exec.stderr line)" "${gen_line:-missing}"
	printf '  %-44s %s\n' "written (bench.event lines slow_reader read)" "${written:-?}"
	printf '  %-44s %s\n' "all lines slow_reader read" "${read_lines:-?} (${reader_eps} lines/s over ${total_s} s)"
	printf '  %-44s %s\n' "order of i in bench.event lines" "$seq_msg"
	printf '  %-44s %s\n' "exec.exit status" "${exit_status:-missing}"
	printf '  %-44s %s\n' "SIGTERM -> collector exit" "${drain_s} s (limit ${DRAIN_LIMIT} s)"
	printf '  %-44s %s\n' "collector exit -> slow_reader EOF" "${tail_s} s"
	printf '  %-44s %s\n' "collector exit status" "$coll_rc"
	[[ -n $partial ]] && printf '  %-44s %s\n' "stream end" "$partial"
	if [[ -n $generated && -n $written && $generated == "$written" ]]; then
		echo "  block policy: written == generated: yes"
	else
		echo "  block policy: written == generated: no"
		fail "block policy: slow_reader got ${written:-?} bench.event lines, gen wrote ${generated:-?}"
	fi

	[[ -n $gen_line && -n $generated && $gen_line != "$generated" ]] &&
		fail "gen's stderr line says $gen_line, its count file $generated"
	[[ -n $gen_line ]] || fail "gen's 'generated N' line did not come through as exec.stderr"
	[[ $seq_msg == "sequence ok" ]] || fail "bench.event order: $seq_msg"
	[[ -z $partial ]] || fail "stream ended with a partial line: $partial"
	[[ $exit_status == canceled ]] || fail "exec.exit status is '${exit_status:-missing}', expected canceled"
	(( others == 0 )) || fail "$others unexpected lines in the stream, e.g.: $(grep -v -E '^\{"type":"exec\.(stderr|exit)",' "$tmp/b_${label}_other.jsonl" | head -n 1 | cut -c1-200)"
	(( coll_rc == 0 )) || fail "collector exit status $coll_rc after a graceful stop (3 = events lost): $(tail -n 3 "$tmp/b_${label}_collector.stderr" | tr '\n' ' ')"
	(( slow_rc == 0 )) || fail "slow_reader exited $slow_rc"
	if grep -qvE '^collector: info: received SIGTERM' "$tmp/b_${label}_collector.stderr"; then
		echo "  collector stderr:"
		sed 's/^/    /' "$tmp/b_${label}_collector.stderr" | head -n 10
	fi

}

part_b "$COLLECTOR" collector
ours_hwm=$hwm_kb
if [[ -n $BASE_COLLECTOR ]]; then
	part_b "$BASE_COLLECTOR" baseline
	echo
	printf '  %-44s %s kB (collector) vs %s kB (baseline)\n' "peak RSS under backpressure" "$(commas "$ours_hwm")" "$(commas "$hwm_kb")"
fi

echo
if [[ -s $tmp/failures ]]; then
	echo "== FAILED: $(sort -u "$tmp/failures" | wc -l) problem(s):"
	sort -u "$tmp/failures" | sed 's/^/  - /'
	exit 1
fi
echo "== OK: every output checked out"
