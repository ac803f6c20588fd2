# Helpers for the integration suite: run the real binary, count passes and failures.
# shellcheck shell=bash

C="${BUILD:?BUILD must name the build directory}/collector"
PASSED=0
FAILED=0
SKIPPED=0
CURRENT=""
WORK=$(mktemp -d /tmp/collector-it.XXXXXX)
# IT_KEEP=DIR keeps a copy of the cases' files there (tools/compare-output.sh diffs two builds').
trap '[ -z "${IT_KEEP:-}" ] || cp -a "$WORK/." "$IT_KEEP/"; rm -rf "$WORK"' EXIT
# Crash reports go to the state directory (collector/crash_dir.c): this run's, not the machine's.
export COLLECTOR_STATE_DIR="$WORK/state"
# Sanitizer builds write reports here; any report fails the suite.
mkdir -p "$WORK/san"
export ASAN_OPTIONS="log_path=$WORK/san/asan:detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$WORK/san/ubsan:print_stacktrace=1:${UBSAN_OPTIONS:-}"

# begin NAME: start a test case.
begin() {
	CURRENT="$1"
	CASE_OK=1
}

# check DESCRIPTION COMMAND...: one assertion of the current case.
check() {
	local what="$1"
	shift
	if ! "$@"; then
		echo "  FAIL [$CURRENT] $what" >&2
		CASE_OK=0
	fi
}

# eq DESCRIPTION EXPECTED ACTUAL
eq() {
	if [ "$2" != "$3" ]; then
		echo "  FAIL [$CURRENT] $1: expected '$2', got '$3'" >&2
		CASE_OK=0
	fi
}

# done_case: record the current case.
end() {
	if [ "$CASE_OK" = 1 ]; then
		PASSED=$((PASSED + 1))
		echo "ok   $CURRENT"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL $CURRENT"
	fi
}

skip() {
	SKIPPED=$((SKIPPED + 1))
	echo "skip $1: $2"
}

# count FILE JQ_FILTER: number of lines of FILE for which the filter is true.
count() {
	jq -c "select($2)" "$1" | wc -l | tr -d ' '
}

# field FILE TYPE JQ_PATH: the value at JQ_PATH of the last event of TYPE.
field() {
	jq -r "select(.type == \"$2\") | $3" "$1" | tail -n 1
}

summary() {
	local report
	for report in "$WORK"/san/*; do
		[ -e "$report" ] || continue
		echo "FAIL sanitizer report $(basename "$report"):"
		cat "$report"
		FAILED=$((FAILED + 1))
	done
	echo
	echo "${SUITE:-integration}: $PASSED passed, $FAILED failed, $SKIPPED skipped"
	[ "$FAILED" = 0 ]
}

# stale_algo_cgroups: child cgroups (collector-algo.COLLECTOR_PID.INSTANCE.N) whose
# collector is gone; those of collectors still running elsewhere are theirs to remove.
stale_algo_cgroups() {
	local d pid
	find /sys/fs/cgroup -maxdepth 6 -type d -name 'collector-algo.*' 2>/dev/null | while read -r d; do
		pid=${d##*/collector-algo.}
		pid=${pid%%.*}
		kill -0 "$pid" 2>/dev/null || echo "$d"
	done
}

# start_mock DIR [ARGS]: librdkafka's mock cluster in the background; sets mock_pid and boot.
start_mock() {
	local d=$1
	shift
	"$BUILD/tools/testchild/kafka_mock" "$@" >"$d/boot" 2>"$d/mock.err" &
	mock_pid=$!
	for _ in $(seq 50); do
		[ -s "$d/boot" ] && break
		sleep 0.1
	done
	boot=$(cat "$d/boot")
}

# librdkafka's mock cluster can hang in its destroy after a client vanished mid-request
# (seen after the SIGSTOP cases of tests/faults/cases/30_kafka.sh): SIGKILL after 5 s.
stop_mock() {
	local killer
	kill -TERM "$mock_pid" 2>/dev/null
	(sleep 5 && kill -KILL "$mock_pid" 2>/dev/null) &
	killer=$!
	wait "$mock_pid" 2>/dev/null
	kill "$killer" 2>/dev/null
	wait "$killer" 2>/dev/null
}

# run_cases [PATTERN...]: source cases/*.sh, only those whose names contain a pattern if any.
# The cases share this shell: the functions a case defines are removed after it, so a helper
# named like a program (`cc`, `node`) cannot shadow that program in the cases after it.
run_cases() {
	local t pat want f
	for t in cases/*.sh; do
		if [ $# -gt 0 ]; then
			want=0
			for pat in "$@"; do
				case "$t" in *"$pat"*) want=1 ;; esac
			done
			[ "$want" = 1 ] || continue
		fi
		# A name no case uses: a case's own variables live in this shell too.
		_run_cases_functions=$(declare -F)
		# shellcheck source=/dev/null
		. "$t"
		for f in $(declare -F | grep -vxF "$_run_cases_functions" | awk '{print $3}'); do
			unset -f "$f"
		done
	done
}

# wait_port_file FILE: wait (up to 20 s) until a test server wrote its ephemeral port there.
wait_port_file() {
	for _ in $(seq 200); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	echo "  no port in $1" >&2
	return 1
}

# otlp_receiver_ok: the Node receiver and its npm packages are there (make deps).
otlp_receiver_ok() {
	command -v node >/dev/null &&
		[ -d "$(dirname "${BASH_SOURCE[0]}")/../../tools/otlp-receiver/node_modules/@opentelemetry" ]
}

# start_otlp_receiver OUT [ARGS...]: tools/otlp-receiver on 127.0.0.1:0; sets OTLP_PORT, OTLP_PID.
start_otlp_receiver() {
	local out=$1
	shift
	rm -f "$out.port"
	node "$(dirname "${BASH_SOURCE[0]}")/../../tools/otlp-receiver/receiver.js" \
		--port-file "$out.port" --out "$out" "$@" 2>"$out.stderr" &
	OTLP_PID=$!
	wait_port_file "$out.port" && OTLP_PORT=$(cat "$out.port")
}

# start_control_plane DIR: tools/control-plane on 127.0.0.1:0; sets CP_PORT, CP_PID, CP_URL.
start_control_plane() {
	mkdir -p "$1"
	/usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/../../tools/control-plane/app.py" \
		--db "$1/nodes.db" --port-file "$1/port" 2>"$1/cp.stderr" &
	CP_PID=$!
	wait_port_file "$1/port" && CP_PORT=$(cat "$1/port")
	CP_URL=http://127.0.0.1:$CP_PORT
	for _ in $(seq 100); do
		curl -sf "$CP_URL/internal/runtime/nodes" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# stop_server PID: end a test server this case started, and reap it.
stop_server() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
