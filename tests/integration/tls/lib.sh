# Helpers of the ssl runner's cases (76_ssl_go, 77_ssl_static, 78_ssl_server).
# shellcheck shell=bash

TLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# TLS_PROGS=DIR: the test programs of another build (to run these cases against an older collector).
TLS_PROGS=${TLS_PROGS:-$BUILD/tls-progs}

# tls_skip_reason: why the ssl cases cannot run here, or nothing.
tls_skip_reason() {
	if [ "$(id -u)" != 0 ] || ! "$C" doctor >/dev/null 2>&1; then
		echo "needs root and BPF (collector doctor says what is missing)"
	elif ! command -v openssl >/dev/null || ! command -v curl >/dev/null; then
		echo "needs openssl and curl (make deps)"
	elif [ ! -x "$TLS_PROGS/go-client" ]; then
		echo "needs the TLS test programs (make all builds $TLS_PROGS with golang-go)"
	fi
}

# tls_cert: a throwaway certificate and key in $WORK/cert.pem, $WORK/key.pem.
tls_cert() {
	[ -f "$WORK/cert.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" \
		-out "$WORK/cert.pem" -days 1 -subj /CN=localhost 2>/dev/null
}

# tls_trace OUT ARGS...: the ssl runner in the background (TLS_TRACER) until it is ready.
tls_trace() {
	local out=$1
	shift
	"$C" run --sink "file:$out" ssl "$@" 2>"$out.err" &
	TLS_TRACER=$!
	for _ in $(seq 300); do
		grep -q '"ssl.ready"' "$out" 2>/dev/null && return 0
		kill -0 "$TLS_TRACER" 2>/dev/null || break
		sleep 0.05
	done
	echo "  ssl tracer did not become ready: $(cat "$out.err")" >&2
	return 1
}

tls_untrace() {
	sleep 0.3
	kill -TERM "$TLS_TRACER" 2>/dev/null
	wait "$TLS_TRACER"
}

# tls_wait_ready FILE: wait until a server wrote "ready PORT" to FILE; print the port.
tls_wait_ready() {
	for _ in $(seq 200); do
		if grep -q '^ready' "$1" 2>/dev/null; then
			awk '/^ready/ {print $2; exit}' "$1"
			return 0
		fi
		sleep 0.05
	done
	return 1
}
