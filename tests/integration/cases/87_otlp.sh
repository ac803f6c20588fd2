# The otlp sink against a real OTLP/HTTP receiver decoding with OpenTelemetry JS's generated code.

if ! otlp_receiver_ok; then
	skip "otlp sink" "needs node and tools/otlp-receiver's npm packages (make deps)"
	return 0
fi
CHECK="$(dirname "${BASH_SOURCE[0]}")/../otlp_check.py"
d=$WORK/otlp
mkdir -p "$d"

# A command whose events cover scalars, nesting, arrays, a float, a bool, null, a deep object,
# more attributes than the bound, and an error type.
cat >"$d/emit.sh" <<'SH'
echo plain line
echo '{"type":"app.sample","data":{"s":"x","i":-7,"f":1.5,"b":true,"n":null,"a":[1,"two"],"o":{"p":{"q":{"r":{"deep":1}}}}}}'
echo '{"type":"app.error","data":{"message":"it broke","code":42}}'
printf '{"type":"app.wide","data":{'; for i in $(seq 1 80); do printf '"k%d":%d,' $i $i; done; echo '"end":0}}'
echo to stderr >&2
SH

# otlp_run NAME RECEIVER-ARGS -- COLLECTOR-ARGS...: receiver up, collector run into it and a file.
otlp_run() {
	local name=$1
	shift
	local rargs=()
	while [ "$1" != -- ]; do rargs+=("$1"); shift; done
	shift
	start_otlp_receiver "$d/$name.recv" "${rargs[@]}"
	"$C" run --sink "file:$d/$name.jsonl" --sink "otlp:otlp://127.0.0.1:$OTLP_PORT" "$@" 2>"$d/$name.err"
	RC=$?
	stop_server "$OTLP_PID"
}

begin "otlp: exec events, protobuf: every mapped field"
otlp_run pb -- exec -- sh "$d/emit.sh"
eq "exit status" 0 "$RC"
check "the mapping" /usr/bin/python3 "$CHECK" "$d/pb.jsonl" "$d/pb.recv"
eq "protobuf, not gzipped" "false false" "$(jq -r '"\(.json) \(.gzip)"' "$d/pb.recv" | sort -u)"
eq "the bound: 64 attributes, the rest counted" "64 21" \
	"$(jq -r '.request.resourceLogs[].scopeLogs[].logRecords[] | select(.eventName=="app.wide") | "\(.attributes|length) \(.droppedAttributesCount)"' "$d/pb.recv")"
end

begin "otlp: gzip, and OTLP JSON encoding"
otlp_run gz -- --sink-option compression=gzip exec -- sh "$d/emit.sh"
eq "gzip: exit status" 0 "$RC"
check "gzip: the mapping" /usr/bin/python3 "$CHECK" "$d/gz.jsonl" "$d/gz.recv"
eq "gzipped protobuf" "false true" "$(jq -r '"\(.json) \(.gzip)"' "$d/gz.recv" | sort -u)"
otlp_run js -- --sink-option encoding=json exec -- sh "$d/emit.sh"
eq "json: exit status" 0 "$RC"
check "json: the mapping" /usr/bin/python3 "$CHECK" "$d/js.jsonl" "$d/js.recv"
eq "JSON" "true false" "$(jq -r '"\(.json) \(.gzip)"' "$d/js.recv" | sort -u)"
end

begin "otlp: OTEL_EXPORTER_OTLP_* environment: endpoint, headers, protocol"
start_otlp_receiver "$d/env.recv"
OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:$OTLP_PORT OTEL_EXPORTER_OTLP_HEADERS='authorization=Bearer%20t0ken-value' \
	OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/json OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
	"$C" run --sink otlp --log-level debug exec -- echo hi 2>"$d/env.err"
eq "exit status" 0 $?
stop_server "$OTLP_PID"
eq "the logs variant wins: JSON; the header decoded" "true Bearer t0ken-value" \
	"$(jq -r '"\(.json) \(.headers.authorization)"' "$d/env.recv" | sort -u)"
eq "the token not in the diagnostics" 0 "$(grep -c t0ken "$d/env.err")"
OTEL_EXPORTER_OTLP_PROTOCOL=grpc "$C" run --sink otlp exec -- true 2>"$d/grpc.err"
eq "grpc is a usage error" 2 $?
check "said so" grep -q "http/protobuf or http/json" "$d/grpc.err"
end

begin "otlp: the receiver answers 503 twice, then 200: retried, nothing lost"
otlp_run retry --fail-first 2 --fail-status 503 -- exec -- seq 1 1000
eq "exit status" 0 "$RC"
check "the mapping, each record once" /usr/bin/python3 "$CHECK" "$d/retry.jsonl" "$d/retry.recv"
eq "records received" 1001 "$(jq -s '[.[].request.resourceLogs[].scopeLogs[].logRecords | length] | add' "$d/retry.recv")"
end

begin "otlp: partial success: the rejected records are a counted loss, not retried"
otlp_run partial --partial 2 -- exec -- seq 1 5
eq "exit status" 3 "$RC"
check "said so" grep -q "the receiver rejected 2 of [0-9]*: test rejects" "$d/partial.err"
# Each request has up to 2 of its records rejected.
rejected=$(jq -s '[.[] | [.request.resourceLogs[].scopeLogs[].logRecords | length] | add | if . < 2 then . else 2 end] | add' "$d/partial.recv")
check "counted: $rejected" grep -q "^collector: warn: $rejected events failed in sinks" "$d/partial.err"
eq "not sent again: each record once" 6 "$(jq -s '[.[].request.resourceLogs[].scopeLogs[].logRecords | length] | add' "$d/partial.recv")"
end

if [ "$(id -u)" != 0 ] || ! "$C" doctor >/dev/null 2>&1; then
	skip "otlp: process and ssl events" "needs root and BPF (collector doctor says what is missing)"
else
	begin "otlp: process events: every mapped field"
	start_otlp_receiver "$d/proc.recv"
	"$C" run --duration 2s --sink "file:$d/proc.jsonl" --sink "otlp:otlp://127.0.0.1:$OTLP_PORT" \
		process 2>"$d/proc.err" &
	tracer=$!
	for _ in $(seq 100); do grep -q process.ready "$d/proc.jsonl" 2>/dev/null && break; sleep 0.05; done
	for _ in 1 2 3; do sh -c 'true; ls / >/dev/null'; done
	wait "$tracer"
	eq "exit status" 0 $?
	stop_server "$OTLP_PID"
	check "some exec events" test "$(count "$d/proc.jsonl" '.type=="process.exec"')" -gt 0
	check "the mapping" /usr/bin/python3 "$CHECK" "$d/proc.jsonl" "$d/proc.recv"
	end

	begin "otlp: ssl http exchanges as log records and spans with HTTP semantic conventions"
	TLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tls" && pwd)
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" \
		-days 1 -subj /CN=localhost 2>/dev/null
	port=$((20000 + RANDOM % 20000))
	python3 "$TLS_DIR/server.py" "$port" "$d/cert.pem" "$d/key.pem" >"$d/server.out" 2>&1 &
	server=$!
	for _ in $(seq 100); do grep -q ready "$d/server.out" 2>/dev/null && break; sleep 0.05; done
	start_otlp_receiver "$d/ssl.recv"
	"$C" run --sink "file:$d/ssl.jsonl" --sink "otlp:otlp://127.0.0.1:$OTLP_PORT" \
		ssl -c curl 2>"$d/ssl.err" &
	tracer=$!
	for _ in $(seq 200); do grep -q '"ssl.ready"' "$d/ssl.jsonl" 2>/dev/null && break; sleep 0.05; done
	curl -sk "https://127.0.0.1:$port/hello" --next -sk "https://127.0.0.1:$port/chunked" >/dev/null
	sleep 0.5
	kill -TERM "$tracer"
	wait "$tracer"
	eq "exit status" 0 $?
	stop_server "$OTLP_PID"
	stop_server "$server"
	eq "two exchanges" 2 "$(count "$d/ssl.jsonl" '.type=="http.response"')"
	check "records and spans" /usr/bin/python3 "$CHECK" "$d/ssl.jsonl" "$d/ssl.recv" --spans
	eq "spans on /v1/traces" 2 "$(jq -r 'select(.path=="/v1/traces") | .request.resourceSpans[].scopeSpans[].spans[] | .name' "$d/ssl.recv" | wc -l)"
	end
fi

begin "otlp: algorithm events: every mapped field"
# shellcheck source=../algorithm_lib.sh
. ./algorithm_lib.sh
pkg=$(algo_pkg otlp '' '"max_inflight":2')
algo_calls "$ALGO_WORK/otlp.jsonl" 3
otlp_run algo -- algorithm --package "$pkg" --calls "$ALGO_WORK/otlp.jsonl"
eq "exit status" 0 "$RC"
check "results among them" test "$(count "$d/algo.jsonl" '.type=="algorithm.result"')" = 3
check "the mapping" /usr/bin/python3 "$CHECK" "$d/algo.jsonl" "$d/algo.recv"
end
