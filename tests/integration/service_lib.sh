# Helpers of the gRPC service cases (90_service_*): a runner listening, the Python client.
# shellcheck shell=bash

# shellcheck source=algorithm_lib.sh
. ./algorithm_lib.sh

SVC_WORK="$WORK/service"
mkdir -p "$SVC_WORK"
SVC_CLIENT="$(cd .. && cd .. && pwd)/tools/service-clients/python/algo_client.py"

# svc_ready: whether Debian's grpcio and grpc-tools are there for the client.
svc_ready() {
	/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null
}

# svc_start NAME PKG [RUNNER ARGS...]: the runner serving unix:$SVC_WORK/NAME.sock in the
# background; sets svc_pid, svc_sock, svc_out (events) and svc_err (log).
svc_start() {
	local name=$1 pkg=$2
	shift 2
	svc_sock="$SVC_WORK/$name.sock"
	svc_out="$SVC_WORK/$name.jsonl"
	svc_err="$SVC_WORK/$name.err"
	"$C" run algorithm --package "$pkg" --listen "unix:$svc_sock" "$@" >"$svc_out" 2>"$svc_err" &
	svc_pid=$!
	for _ in $(seq 100); do
		[ -S "$svc_sock" ] && grep -q 'gRPC service' "$svc_err" && break
		sleep 0.05
	done
}

# svc_stop: SIGTERM and the runner's exit status in svc_rc (SIGKILL and 137 after 15 s: a hang).
svc_stop() {
	kill -TERM "$svc_pid" 2>/dev/null
	for _ in $(seq 150); do
		kill -0 "$svc_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$svc_pid" 2>/dev/null
	wait "$svc_pid"
	svc_rc=$?
	eq "the runner ended within 15 s of SIGTERM" true "$([ "$svc_rc" != 137 ] && echo true)"
}

# cl ARGS...: the Python client against the running runner.
cl() {
	/usr/bin/python3 "$SVC_CLIENT" --stubs "$SVC_WORK/stubs" --target "unix:$svc_sock" "$@"
}

# metric NAME: one field of GetMetrics.
metric() {
	cl metrics | jq -r ".$1"
}

# svc_wait_metric NAME VALUE: poll GetMetrics until NAME is VALUE (10 s at most).
svc_wait_metric() {
	local v=""
	for _ in $(seq 50); do
		v=$(metric "$1")
		[ "$v" = "$2" ] && break
		sleep 0.2
	done
	echo "$v"
}
