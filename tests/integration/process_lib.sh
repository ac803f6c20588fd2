# Helpers of the process runner's cases (70_process, 79_container_identity): real BPF, root only.
# shellcheck shell=bash

# bpf_ok: root, and `collector doctor` finds everything the BPF runners need.
bpf_ok() {
	[ "$(id -u)" = 0 ] && "$C" doctor >/dev/null 2>&1
}

# start_tracing OUT ARGS...: run the process runner in the background (pid in TRACER) until it is ready.
start_tracing() {
	local out=$1
	shift
	"$C" run --sink "file:$out" process "$@" 2>"$out.err" &
	TRACER=$!
	for _ in $(seq 100); do
		grep -q '"process.ready"' "$out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "  tracer did not become ready: $(cat "$out.err")" >&2
	return 1
}

# stop_tracing [SECONDS]: let the last events arrive (0.2 s unless told), then stop the runner.
stop_tracing() {
	sleep "${1:-0.2}"
	kill -TERM "$TRACER" 2>/dev/null
	wait "$TRACER"
}
