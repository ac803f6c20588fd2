# ssl runner, HTTP/2: curl --http2 against nghttpd, python grpcio over TLS (root only).

h2_trace() {
	local out=$1
	shift
	"$C" run --sink "file:$out" ssl "$@" 2>"$out.err" &
	H2_TRACER=$!
	for _ in $(seq 200); do
		grep -q '"ssl.ready"' "$out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "  ssl tracer did not become ready: $(cat "$out.err")" >&2
	return 1
}

h2_untrace() {
	sleep 0.3
	kill -TERM "$H2_TRACER" 2>/dev/null
	wait "$H2_TRACER"
}

# h2_wait_port FILE PATTERN: until a server says it is ready.
h2_wait() {
	for _ in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

if [ "$(id -u)" != 0 ] || ! "$C" doctor >/dev/null 2>&1; then
	skip "ssl runner, HTTP/2" "needs root and BPF (collector doctor says what is missing)"
	return 0
elif ! command -v nghttpd >/dev/null || ! command -v curl >/dev/null ||
	! /usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null; then
	skip "ssl runner, HTTP/2" "needs nghttpd (nghttp2-server), curl, python3-grpcio, python3-grpc-tools (make deps)"
	return 0
fi

H2_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../h2" && pwd)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/h2key.pem" -out "$WORK/h2cert.pem" \
	-days 1 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
mkdir -p "$WORK/htdocs"
for i in 1 2 3 4 5; do
	printf 'object %s\n' "$i" >"$WORK/htdocs/obj$i.txt"
done

begin "curl --http2 against nghttpd: every stream rebuilt with method, path, status, body"
out=$WORK/h2-curl.jsonl
H2_PORT=$((20000 + RANDOM % 20000))
nghttpd -a 127.0.0.1 -d "$WORK/htdocs" "$H2_PORT" "$WORK/h2key.pem" "$WORK/h2cert.pem" \
	>"$WORK/nghttpd.out" 2>&1 &
NGHTTPD=$!
sleep 0.5
h2_trace "$out" -c curl
curl -sk --http2 -Z -H 'Authorization: Bearer h2secret' \
	"https://127.0.0.1:$H2_PORT/obj{1,2,3,4,5}.txt?token=h2token" -o "$WORK/h2-#1.out" 2>/dev/null
curl -sk --http2 "https://127.0.0.1:$H2_PORT/missing" -o /dev/null
h2_untrace
kill "$NGHTTPD" 2>/dev/null
wait "$NGHTTPD" 2>/dev/null
eq "every request, version 2" "GET /missing 2;GET /obj1.txt?token=[REDACTED] 2;GET /obj2.txt?token=[REDACTED] 2;GET /obj3.txt?token=[REDACTED] 2;GET /obj4.txt?token=[REDACTED] 2;GET /obj5.txt?token=[REDACTED] 2" \
	"$(jq -r 'select(.type=="http.request") | "\(.data.method) \(.data.path) \(.data.version)"' "$out" | sort | paste -sd';')"
eq "every response with its request and body" "404 /missing;200 /obj1.txt?token=[REDACTED] object 1;200 /obj2.txt?token=[REDACTED] object 2;200 /obj3.txt?token=[REDACTED] object 3;200 /obj4.txt?token=[REDACTED] object 4;200 /obj5.txt?token=[REDACTED] object 5" \
	"$(jq -r 'select(.type=="http.response") | "\(.data.status) \(.data.path)\(if .data.status == 200 then " " + (.data.body|rtrimstr("\n")) else "" end)"' "$out" | sort -t' ' -k2 | paste -sd';')"
eq "authority" "127.0.0.1:$H2_PORT" "$(jq -r 'select(.type=="http.request") | .data.authority' "$out" | sort -u)"
eq "stream ids odd, paired" true \
	"$(jq -s '[.[] | select(.type=="http.response") | .data.stream_id % 2 == 1 and .data.latency_ns > 0] | all and length == 6' "$out")"
eq "Authorization redacted" '[REDACTED]' \
	"$(jq -r 'select(.type=="http.request" and (.data.path|startswith("/obj1"))) | .data.headers[] | select(.[0]=="authorization") | .[1]' "$out")"
eq "secrets nowhere" 0 "$(grep -c -e h2secret -e h2token "$out")"
eq "no ssl.data for HTTP/2 connections" 0 "$(count "$out" '.type=="ssl.data"')"
eq "no headers_incomplete (the capture saw the preface)" 0 "$(count "$out" '.data.headers_incomplete')"
end

begin "python grpcio over TLS: service, method, grpc-status, message sizes"
out=$WORK/h2-grpc.jsonl
mkdir -p "$WORK/stubs"
/usr/bin/python3 -m grpc_tools.protoc -I"$H2_DIR" --python_out="$WORK/stubs" \
	--grpc_python_out="$WORK/stubs" "$H2_DIR/greet.proto"
G_PORT=$((20000 + RANDOM % 20000))
/usr/bin/python3 "$H2_DIR/grpc_pair.py" server "$G_PORT" "$WORK/h2cert.pem" "$WORK/h2key.pem" \
	"$WORK/stubs" >"$WORK/grpc-server.out" 2>&1 &
G_SERVER=$!
h2_wait "$WORK/grpc-server.out" ready
mkfifo "$WORK/grpc-go"
/usr/bin/python3 "$H2_DIR/grpc_pair.py" client "$G_PORT" "$WORK/h2cert.pem" "$WORK/stubs" \
	"$WORK/grpc-go" >"$WORK/grpc-client.out" 2>&1 &
G_CLIENT=$!
h2_trace "$out" -p "$G_CLIENT"
echo go >"$WORK/grpc-go"
wait "$G_CLIENT"
h2_untrace
kill "$G_SERVER" 2>/dev/null
wait "$G_SERVER" 2>/dev/null
eq "the client ran" "hello collector;NOT_FOUND" "$(paste -sd';' "$WORK/grpc-client.out")"
eq "requests: service and method" "collector.test.Greeter SayHello;collector.test.Greeter Fail" \
	"$(jq -r 'select(.type=="http.request" and .data.grpc) | "\(.data.grpc.service) \(.data.grpc.method)"' "$out" | paste -sd';')"
eq "responses: grpc-status and grpc-message" "SayHello 0 null;Fail 5 no such name" \
	"$(jq -r 'select(.type=="http.response" and .data.grpc) | "\(.data.grpc.method) \(.data.grpc.status) \(.data.grpc.message)"' "$out" | paste -sd';')"
# Hello{name="collector"}: field 1, 9 bytes: 11 bytes in one uncompressed message.
eq "the request's message: one, 11 bytes, its payload" "1 11 false $(printf '\n\tcollector' | base64 -w0)" \
	"$(jq -r 'select(.type=="http.request" and .data.grpc.method=="SayHello") | .data.grpc | "\(.message_count) \(.messages[0].size) \(.messages[0].compressed) \(.messages[0].payload)"' "$out")"
eq "the reply: one message of 17 bytes" "1 17" \
	"$(jq -r 'select(.type=="http.response" and .data.grpc.method=="SayHello") | .data.grpc | "\(.message_count) \(.messages[0].size)"' "$out")"
end
