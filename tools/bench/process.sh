#!/usr/bin/env bash
# Process-tracing benchmark (`make bench-process`, root only).
#
# tools/bench/process_burst fork+execs /bin/true N times. RUNS times each,
# interleaved:
#   - the burst alone (untraced wall time);
#   - the burst while `collector run --sink file:OUT process` and libbpf-tools'
#     execsnoop and exitsnoop all trace the whole system at the same time.
# For every traced run it counts the burst's events each tool captured (execs
# and exits whose parent is the driver, comm "true"), the collector's losses
# (collector.loss events, and exit status 3) and the peers' ("lost" lines on
# their stderr), and the CPU time spent over the burst window only (from just
# before the burst to 1 s after it, when every tool has drained; start-up and
# shutdown are outside), per 1,000 of those events.
#
# CPU accounting: whole-process on-CPU time, user + system, of every thread
# (/proc/PID/task/*/schedstat, the scheduler's nanosecond sum_exec_runtime,
# i.e. utime+stime without the 10 ms tick rounding): the collector plus its
# loader child against execsnoop plus exitsnoop. The BPF programs of all of
# them run in the context of the exec'ing, forking and exiting tasks, so
# their time is charged to the burst driver for every tool alike, not to any
# tracer; what is compared is the user-space side: waking up, reading the
# buffers, decoding, formatting and writing. The collector also receives and
# writes the burst's 20,000 forks, which the peers do not trace; its figure is
# still divided by execs+exits only.
#
# Prints the medians with the ratio collector/peers and a verdict per target:
# every exec and exit captured with no loss, by the collector and the peers in
# the same run; CPU per 1,000 events at most the peers'; the traced burst's
# wall time within 5% of the untraced one (untraced and traced runs are
# interleaved so that a change of machine load hits both).
#
# Scope (BENCH_SCOPE): "cgroup" (the default when a cgroup v2 hierarchy is
# mounted) runs every burst, untraced and traced, in a cgroup v2 directory of
# its own and gives all three tracers that cgroup as their in-kernel filter
# (--cgroup / -c), so that what other processes on the machine do costs none
# of them anything and the CPU figures measure the burst alone; "system"
# traces the whole machine, as each tool does by default.
#
# Environment: BUILD (default ./build), BENCH_EXECS (N, default 20000),
# BENCH_RUNS (default 3), EXECSNOOP/EXITSNOOP (default /usr/sbin/...),
# BENCH_LOADER (the process runner's --loader; default its own `collector
# loader process`; $BUILD/bpf/process-loader is the same code under another
# name, out of reach of a test suite's `pkill -f "collector loader process"`).
# Mounts tracefs on /sys/kernel/tracing when it is missing (the peers attach
# through it) and unmounts it again at the end.
# Exit status: 0, or 1 when a tool failed to start or the burst failed.
# Missing a target is reported, never a failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
COLLECTOR=$BUILD/collector
BURST=$BUILD/tools/bench/process_burst
EXECSNOOP=${EXECSNOOP:-/usr/sbin/execsnoop}
EXITSNOOP=${EXITSNOOP:-/usr/sbin/exitsnoop}
N=${BENCH_EXECS:-20000}
RUNS=${BENCH_RUNS:-3}
SCOPE=${BENCH_SCOPE:-cgroup}

if [[ $(id -u) -ne 0 ]]; then
	echo "bench-process: needs root (BPF)" >&2
	exit 1
fi
for bin in "$COLLECTOR" "$BURST" "$EXECSNOOP" "$EXITSNOOP"; do
	if [[ ! -x $bin ]]; then
		echo "bench-process: $bin is missing (make; make deps installs libbpf-tools)" >&2
		exit 1
	fi
done
for v in N RUNS; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 1)); then
		echo "bench-process: $v must be a positive integer, not '${!v}'" >&2
		exit 1
	fi
done

if [[ $SCOPE != cgroup && $SCOPE != system ]]; then
	echo "bench-process: BENCH_SCOPE must be cgroup or system, not '$SCOPE'" >&2
	exit 1
fi
cg=
if [[ $SCOPE == cgroup ]]; then
	cg2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
	if [[ -z $cg2 ]]; then
		echo "bench-process: no cgroup v2 hierarchy mounted: tracing the whole system" >&2
		SCOPE=system
	else
		cg=$cg2/collector-bench-process.$$
	fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/collector-bench-process.XXXXXX")
bg_pids=()
mounted_tracefs=0
cleanup() {
	local pid
	for pid in "${bg_pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if ((mounted_tracefs)); then
		umount /sys/kernel/tracing || true
	fi
	if [[ -n $cg && -d $cg ]]; then
		rmdir "$cg" || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -n $cg ]]; then
	mkdir "$cg"
fi
if [[ ! -e /sys/kernel/tracing/events ]]; then
	mount -t tracefs tracefs /sys/kernel/tracing
	mounted_tracefs=1
fi

# cpu_ns PID...: on-CPU nanoseconds of these processes, all their threads and
# their children (the collector's loader).
cpu_ns() {
	local pid kids p
	for pid in "$@"; do
		kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null || true)
		for p in $pid $kids; do
			cat /proc/"$p"/task/*/schedstat 2>/dev/null || true
		done
	done | awk '{ t += $1 } END { printf "%d\n", t }'
}

perf_fds() {
	find /proc/"$1"/fd -lname 'anon_inode:\[perf_event\]' 2>/dev/null | wc -l
}

# wait_for WHAT CMD...: poll CMD for up to 30 s.
wait_for() {
	local what=$1
	shift
	for _ in $(seq 300); do
		"$@" && return 0
		sleep 0.1
	done
	echo "bench-process: $what did not start" >&2
	exit 1
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

burst() {
	if [[ -n $cg ]]; then
		# shellcheck disable=SC2016 # $$ is the inner shell's pid
		sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" "$3"' sh "$cg" "$BURST" "$N" >"$tmp/burst.out"
	else
		"$BURST" "$N" >"$tmp/burst.out"
	fi
	sed -n 's/^pid=\([0-9]*\) .*/\1/p' "$tmp/burst.out" >"$tmp/burst.pid"
	sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p' "$tmp/burst.out"
}

traced_run() {
	local run=$1
	local out=$tmp/c$run.jsonl c e x c0 p0 c1 p1 wall drv rc
	"$COLLECTOR" run --log-level warn --sink "file:$out" process ${BENCH_LOADER:+--loader "$BENCH_LOADER"} \
		${cg:+--cgroup "$cg"} 2>"$tmp/c$run.err" &
	c=$!
	bg_pids+=("$c")
	"$EXECSNOOP" ${cg:+-c "$cg"} >"$tmp/e$run.txt" 2>"$tmp/e$run.err" &
	e=$!
	bg_pids+=("$e")
	"$EXITSNOOP" ${cg:+-c "$cg"} >"$tmp/x$run.txt" 2>"$tmp/x$run.err" &
	x=$!
	bg_pids+=("$x")
	wait_for collector grep -qs '"process.ready"' "$out"
	# Their stdout is block-buffered: ready once their tracepoints' perf
	# events are open (execsnoop has two tracepoints, exitsnoop one).
	wait_for execsnoop test "$(perf_fds "$e")" -ge 2
	wait_for exitsnoop test "$(perf_fds "$x")" -ge 1
	sleep 0.5
	c0=$(cpu_ns "$c")
	p0=$(cpu_ns "$e" "$x")
	wall=$(burst)
	drv=$(cat "$tmp/burst.pid")
	sleep 1 # let every tool drain what the kernel queued
	c1=$(cpu_ns "$c")
	p1=$(cpu_ns "$e" "$x")
	local pid
	for pid in "$c" "$e" "$x"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "bench-process: a tracer ended during the burst:" >&2
			cat "$tmp/c$run.err" "$tmp/e$run.err" "$tmp/x$run.err" >&2
			exit 1
		fi
	done
	kill -INT "$e" "$x"
	kill -TERM "$c"
	rc=0
	wait "$c" || rc=$?
	wait "$e" "$x" || true
	bg_pids=()

	local c_exec c_exit c_fork c_loss e_exec x_exit p_loss
	# Events are counted, not distinct pids: 20,000 children reuse pids.
	c_exec=$(jq -r "select(.type==\"process.exec\" and .ppid==$drv and .comm==\"true\") | .pid" "$out" | wc -l)
	c_exit=$(jq -r "select(.type==\"process.exit\" and .ppid==$drv and .comm==\"true\") | .pid" "$out" | wc -l)
	c_fork=$(jq -r "select(.type==\"process.fork\" and .pid==$drv) | .data.child_pid" "$out" | wc -l)
	c_loss=$(jq -s '[.[] | select(.type=="collector.loss") | .data.dropped // 0] | add // 0' "$out")
	e_exec=$(awk -v d="$drv" '$1=="true" && $3==d {print $2}' "$tmp/e$run.txt" | wc -l)
	x_exit=$(awk -v d="$drv" '$1=="true" && $3==d {print $2}' "$tmp/x$run.txt" | wc -l)
	p_loss=$(cat "$tmp/e$run.err" "$tmp/x$run.err" | awk '/[Ll]ost/ {for (i=1;i<=NF;i++) if ($i ~ /^[0-9]+$/) {s+=$i; break}} END {print s+0}')
	echo "$wall $c_exec $c_exit $c_fork $c_loss $rc $e_exec $x_exit $p_loss $((c1 - c0)) $((p1 - p0))" \
		>>"$tmp/traced"
	echo "  traced run $run: wall ${wall}s; collector exec $c_exec exit $c_exit fork $c_fork loss $c_loss" \
		"(exit $rc); execsnoop $e_exec exitsnoop $x_exit lost $p_loss;" \
		"cpu ms collector $(((c1 - c0) / 1000000)) peers $(((p1 - p0) / 1000000))"
	rm -f "$out"
}

echo "bench-process: $N fork+execs of /bin/true, $RUNS runs each, $(nproc) CPUs, scope $SCOPE${cg:+ ($cg)};" \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$RUNS"); do
	wall=$(burst)
	echo "$wall" >>"$tmp/untraced"
	echo "  untraced run $run: wall ${wall}s"
	traced_run "$run"
done

col() { awk -v c="$1" '{print $c}' "$tmp/traced" | median; }
untraced=$(median <"$tmp/untraced")
traced=$(col 1)
ce=$(col 2) cx=$(col 3) cf=$(col 4) cl=$(col 5) ee=$(col 7) xx=$(col 8) pl=$(col 9)
# CPU seconds per 1,000 captured burst execs+exits, per run, then the median.
cpu_c=$(awk '{ n = $2 + $3; print n ? $10 / 1e9 * 1000 / n : "nan" }' "$tmp/traced" | median)
cpu_p=$(awk '{ n = $7 + $8; print n ? $11 / 1e9 * 1000 / n : "nan" }' "$tmp/traced" | median)
# Per run: did the collector and the peers both capture everything, losslessly?
all_runs=$(awk -v n="$N" '$2 == n && $3 == n && $5 == 0 && $6 == 0 && $7 == n && $8 == n && $9 == 0 {ok++}
	END {print ok + 0}' "$tmp/traced")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.3f\n", a / b }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi; }
cpu_ratio=$(ratio "$cpu_c" "$cpu_p")
wall_ratio=$(ratio "$traced" "$untraced")
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %14s %14s %8s\n' "median of $RUNS runs" collector "exec/exitsnoop" ratio
printf '%-34s %14s %14s %8s\n' "burst execs captured (of $N)" "$ce" "$ee" "$(ratio "$ce" "$ee")"
printf '%-34s %14s %14s %8s\n' "burst exits captured (of $N)" "$cx" "$xx" "$(ratio "$cx" "$xx")"
printf '%-34s %14s %14s %8s\n' "burst forks captured (of $N)" "$cf" "-" "-"
printf '%-34s %14s %14s %8s\n' "events lost" "$cl" "$pl" "-"
printf '%-34s %14.4f %14.4f %8s\n' "CPU s per 1,000 execs+exits" "$cpu_c" "$cpu_p" "$cpu_ratio"
printf '%-34s %14s %14s %8s\n' "burst wall s, traced vs untraced" "$traced" "$untraced" "$wall_ratio"
echo
echo "targets:"
printf '  %-58s %s\n' "all $N execs and exits, 0 lost, peers too ($all_runs of $RUNS runs)" \
	"$(verdict "$all_runs == $RUNS")"
printf '  %-58s %s\n' "CPU per 1,000 events <= execsnoop+exitsnoop (ratio $cpu_ratio)" \
	"$(verdict "\"$cpu_ratio\" != \"-\" && $cpu_ratio <= 1")"
printf '  %-58s %s\n' "traced wall time within 5% of untraced (ratio $wall_ratio)" \
	"$(verdict "\"$wall_ratio\" != \"-\" && $wall_ratio <= 1.05")"
