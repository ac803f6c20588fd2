# Helpers for the integration suite: run the real binary, count passes and failures.
# shellcheck shell=bash

C="${BUILD:?BUILD must name the build directory}/collector"
PASSED=0
FAILED=0
SKIPPED=0
CURRENT=""
WORK=$(mktemp -d /tmp/collector-it.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
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
