# ssl runner: real uprobes on OpenSSL and GnuTLS, real TLS over loopback (root only).

ssl_tools_ok() {
	command -v openssl >/dev/null && command -v curl >/dev/null && command -v wget >/dev/null &&
		command -v python3 >/dev/null
}

# ssl_trace OUT ARGS...: run the ssl runner in the background until it is ready.
ssl_trace() {
	local out=$1
	shift
	"$C" run --sink "file:$out" ssl "$@" 2>"$out.err" &
	SSL_TRACER=$!
	for _ in $(seq 200); do
		grep -q '"ssl.ready"' "$out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "  ssl tracer did not become ready: $(cat "$out.err")" >&2
	return 1
}

ssl_untrace() {
	sleep 0.3
	kill -TERM "$SSL_TRACER" 2>/dev/null
	wait "$SSL_TRACER"
}

if [ "$(id -u)" != 0 ] || ! "$C" doctor >/dev/null 2>&1; then
	skip "ssl runner" "needs root and BPF (collector doctor says what is missing)"
	return 0
elif ! ssl_tools_ok; then
	skip "ssl runner" "needs openssl, curl, wget and python3 (make deps)"
	return 0
fi

TLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tls" && pwd)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
	-days 1 -subj /CN=localhost 2>/dev/null
PORT=$((20000 + RANDOM % 20000))
python3 "$TLS_DIR/server.py" "$PORT" "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/server.out" 2>&1 &
SERVER=$!
for _ in $(seq 100); do
	grep -q ready "$WORK/server.out" 2>/dev/null && break
	sleep 0.05
done
URL=https://127.0.0.1:$PORT

begin "curl (OpenSSL): keep-alive pairs, chunked body, SSE, redaction, comm filter"
out=$WORK/ssl-curl.jsonl
ssl_trace "$out" -c curl
curl -sk -H 'Authorization: Bearer topsecret' "$URL/hello" --next -sk "$URL/chunked" \
	--next -sk -d 'name=value' "$URL/echo" --next -sk "$URL/events" >"$WORK/curl.out"
ssl_untrace
eq "requests in order on one connection" "1 GET /hello;2 GET /chunked;3 POST /echo;4 GET /events" \
	"$(jq -r 'select(.type=="http.request") | "\(.data.seq) \(.data.method) \(.data.path)"' "$out" | paste -sd';')"
eq "responses paired with their requests" '1 200 /hello "hello over tls\n";2 200 /chunked "first chunk;second chunk;third";3 200 /echo "got name=value";4 200 /events null' \
	"$(jq -r 'select(.type=="http.response") | "\(.data.seq) \(.data.status) \(.data.path) \(.data.body|tojson)"' "$out" | paste -sd';')"
eq "latency from the request" true "$(jq -s '[.[] | select(.type=="http.response") | .data.latency_ns > 0] | all' "$out")"
eq "chunked flag" true "$(jq -r 'select(.type=="http.response" and .data.path=="/chunked") | .data.chunked' "$out")"
eq "Authorization redacted" '[REDACTED]' \
	"$(jq -r 'select(.type=="http.request" and .data.path=="/hello") | .data.headers[] | select(.[0]=="Authorization") | .[1]' "$out")"
eq "Set-Cookie redacted" '[REDACTED]' \
	"$(jq -r 'select(.type=="http.response" and .data.path=="/hello") | .data.headers[] | select(.[0]=="Set-Cookie") | .[1]' "$out")"
eq "secret nowhere" 0 "$(grep -c topsecret "$out")"
eq "SSE messages split" 'greeting - "hello";message 2 "line one\nline two"' \
	"$(jq -r 'select(.type=="sse.message") | "\(.data.event) \(.data.id // "-") \(.data.data|tojson)"' "$out" | paste -sd';')"
eq "handshake succeeds" true "$(jq -s '[.[] | select(.type=="ssl.handshake" and .data.success)] | length >= 1' "$out")"
eq "only curl" curl "$(jq -r 'select(.comm) | .comm' "$out" | sort -u | paste -sd,)"
eq "HTTP connections give no ssl.data" 0 "$(count "$out" '.type=="ssl.data"')"
end

begin "python3 (OpenSSL _ex calls): exact bytes both ways, truncation, pid filter, X-Api-Key"
out=$WORK/ssl-py.jsonl
mkfifo "$WORK/go"
python3 "$TLS_DIR/client.py" "$PORT" "$WORK/py.response" "$WORK/go" &
CLIENT=$!
ssl_trace "$out" -p "$CLIENT" --raw
curl -sk "$URL/hello" >/dev/null
echo go >"$WORK/go"
wait "$CLIENT"
ssl_untrace
conn=$(jq -r 'select(.type=="ssl.data") | .data.conn' "$out" | head -n 1)
eq "request bytes exactly, X-Api-Key's value hidden" "$(printf 'GET /hello HTTP/1.1\r\nHost: test\r\nX-Api-Key: [REDACTED]\r\n\r\n' | base64 -w0)" \
	"$(jq -j "select(.type==\"ssl.data\" and .data.conn==\"$conn\" and .data.direction==\"write\") | .data.data" "$out" | base64 -w0)"
eq "response bytes exactly, Set-Cookie's value hidden" \
	"$(sed 's/^Set-Cookie: .*\r$/Set-Cookie: [REDACTED]\r/' "$WORK/py.response" | base64 -w0)" \
	"$(jq -j "select(.type==\"ssl.data\" and .data.conn==\"$conn\" and .data.direction==\"read\") | .data.data" "$out" | base64 -w0)"
eq "SSL_read_ex and SSL_write_ex, probed in the internal functions they call" ssl_read_internal,ssl_write_internal "$(jq -r 'select(.type=="ssl.data") | .data.func' "$out" | sort -u | paste -sd,)"
eq "1 MiB upload (and its head) in one write, truncated at 16 KiB" "1048636 16384 true" \
	"$(jq -r 'select(.type=="ssl.data" and .data.len > 1000000) | "\(.data.len) \(.data.captured) \(.data.truncated)"' "$out" | head -n 1)"
eq "X-Api-Key redacted" '[REDACTED]' \
	"$(jq -r 'select(.type=="http.request" and .data.path=="/hello") | .data.headers[] | select(.[0]=="X-Api-Key") | .[1]' "$out")"
eq "only the client's pid" "$CLIENT" "$(jq -r 'select(.pid) | .pid' "$out" | sort -u | paste -sd,)"
eq "no loss" 0 "$(count "$out" '.type=="collector.loss"')"
end

begin "redaction: --raw payloads, query parameters, form fields, X-Auth-Token and Private-Token"
out=$WORK/ssl-redact.jsonl
ssl_trace "$out" -c curl --raw
curl -sk -H 'Authorization: Bearer topsecret1' -H 'Cookie: s=topsecret2' \
	-H 'X-Auth-Token: topsecret3' -H 'Private-Token: topsecret4' \
	"$URL/hello?access_token=topsecret5&x=1" \
	--next -sk -d 'user=u&password=topsecret6' "$URL/echo" >/dev/null
ssl_untrace
eq "the path's access_token hidden" '/hello?access_token=[REDACTED]&x=1' \
	"$(jq -r 'select(.type=="http.request" and .data.method=="GET") | .data.path' "$out")"
eq "the form's password hidden" 'user=u&password=[REDACTED]' \
	"$(jq -r 'select(.type=="http.request" and .data.method=="POST") | .data.body' "$out")"
eq "the headers hidden" '[REDACTED] [REDACTED] [REDACTED] [REDACTED]' \
	"$(jq -r 'select(.type=="http.request" and .data.method=="GET") | .data.headers[] |
		select(.[0]|test("^(Authorization|Cookie|X-Auth-Token|Private-Token)$")) | .[1]' "$out" | paste -sd' ')"
check "ssl.data carries the request, hidden" grep -q 'Authorization: \[REDACTED\]\\r\\nCookie: \[REDACTED\]' "$out"
eq "ssl.data says how many values it hid (4 headers, access_token, password)" 6 \
	"$(jq -s '[.[] | select(.type=="ssl.data" and .data.direction=="write") | .data.redacted // 0] | add' "$out")"
# The test server echoes the form back: a response body is the server's text, not redacted.
eq "no secret anywhere but the echo" 0 "$(grep -v '"type":"http.response"' "$out" | grep -c topsecret)"
end

begin "64 KiB capture: one call's plaintext over four ring-buffer records, put back in order"
out=$WORK/ssl-64k.jsonl
python3 "$TLS_DIR/client.py" "$PORT" "$WORK/py.response" "$WORK/go" &
CLIENT=$!
ssl_trace "$out" -p "$CLIENT" --raw --max-payload 64KiB
echo go >"$WORK/go"
wait "$CLIENT"
ssl_untrace
# The request head is 60 bytes; the rest of the 64 KiB is the body's z's.
expected=$( {
	printf 'POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 1048576\r\n\r\n'
	head -c $((65536 - 60)) /dev/zero | tr '\0' z
} | sha256sum)
eq "captured 64 KiB of 1 MiB" "1048636 65536 true" \
	"$(jq -r 'select(.type=="ssl.data" and .data.len > 1000000) | "\(.data.len) \(.data.captured) \(.data.truncated)"' "$out" | head -n 1)"
eq "the 64 KiB exactly" "$expected" "$(jq -j 'select(.type=="ssl.data" and .data.len > 1000000) | .data.data' "$out" | head -c 65536 | sha256sum)"
end

begin "wget (GnuTLS): request and response, binary payload as base64, --no-redact"
out=$WORK/ssl-wget.jsonl
ssl_trace "$out" -c wget --raw --no-redact
wget -q --no-check-certificate --header 'Authorization: Basic b3Blbg==' -O "$WORK/wget.out" "$URL/binary"
ssl_untrace
eq "GnuTLS calls" gnutls_record_recv,gnutls_record_send "$(jq -r 'select(.type=="ssl.data") | .data.func' "$out" | sort -u | paste -sd,)"
eq "response" "200 256 base64" "$(jq -r 'select(.type=="http.response") | "\(.data.status) \(.data.body_size) \(.data.body_encoding)"' "$out")"
eq "binary body exactly" "$(base64 -w0 <"$WORK/wget.out")" "$(jq -r 'select(.type=="http.response") | .data.body' "$out")"
eq "not redacted" 'Basic b3Blbg==' \
	"$(jq -r 'select(.type=="http.request") | .data.headers[] | select(.[0]=="Authorization") | .[1]' "$out")"
end

begin "the loader by hand prints JSON lines, which the runner reads as a --loader"
"$C" loader ssl -c curl >"$WORK/ssl-rec.jsonl" 2>"$WORK/ssl-rec.err" &
REC=$!
for _ in $(seq 200); do
	grep -q '"ready"' "$WORK/ssl-rec.jsonl" 2>/dev/null && break
	sleep 0.05
done
curl -sk "$URL/hello" --next -sk "$URL/chunked" >/dev/null
sleep 0.3
kill -TERM "$REC"
wait "$REC"
check "a data line carries data_b64" grep -q '"data_b64"' "$WORK/ssl-rec.jsonl"
printf '#!/bin/sh\nexec cat %s\n' "$WORK/ssl-rec.jsonl" >"$WORK/replay"
chmod +x "$WORK/replay"
"$C" run --sink "file:$WORK/ssl-replay.jsonl" ssl --loader "$WORK/replay" 2>/dev/null || true
eq "responses rebuilt from the lines" '200 /hello;200 /chunked' \
	"$(jq -r 'select(.type=="http.response") | "\(.data.status) \(.data.path)"' "$WORK/ssl-replay.jsonl" | paste -sd';')"
end

begin "failures name the check: a library without TLS functions, a missing library"
"$C" run --duration 3s ssl --lib /bin/true >/dev/null 2>"$WORK/ssl-fail.err"
check "says which file lacks the functions" grep -q '/bin/true has none of the TLS functions' "$WORK/ssl-fail.err"
"$C" run --duration 3s ssl --lib /nonexistent/libssl.so >/dev/null 2>"$WORK/ssl-fail2.err"
check "says which library is missing" grep -q -- '--lib /nonexistent/libssl.so: No such file' "$WORK/ssl-fail2.err"
end

kill "$SERVER" 2>/dev/null
wait "$SERVER" 2>/dev/null
