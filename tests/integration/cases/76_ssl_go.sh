# ssl runner: Go's crypto/tls in Go programs, stripped or not, PIE, HTTP/1.1 and h2 (root only).
# Go writes a whole buffer in one call (up to 64 KiB here): --max-payload 128KiB captures it.
. "$(dirname "${BASH_SOURCE[0]}")/../tls/lib.sh"

reason=$(tls_skip_reason)
if [ -n "$reason" ]; then
	skip "ssl runner: Go crypto/tls" "$reason"
	return 0
fi
tls_cert
"$TLS_PROGS/go-server" "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/go-server.out" 2>&1 &
GO_SERVER=$!
GO_PORT=$(tls_wait_ready "$WORK/go-server.out")
GO_URL=https://127.0.0.1:$GO_PORT

begin "stripped Go client (-s -w): its .gopclntab, HTTP/1.1 rebuilt, a process started after the attach"
out=$WORK/go-stripped.jsonl
tls_trace "$out" --binary-path "$TLS_PROGS/go-client-stripped" --max-payload 128KiB
"$TLS_PROGS/go-client-stripped" -h1 "$GO_URL/hello" "$GO_URL/big?n=100000" >/dev/null
"$TLS_PROGS/go-client-stripped" -h1 -post 50000 "$GO_URL/echo" >/dev/null
tls_untrace
check "found by the Go function table" grep -q 'functions in .*go-client-stripped (Go function table (.gopclntab))' "$out.err"
eq "requests in order, keep-alive" "1 GET /hello;2 GET /big?n=100000;1 POST /echo" \
	"$(jq -r 'select(.type=="http.request") | "\(.data.seq) \(.data.method) \(.data.path)"' "$out" | paste -sd';')"
eq "responses whole" '200 14 "hello from go\n";200 100000 null;200 16 "got 50000 bytes\n"' \
	"$(jq -r 'select(.type=="http.response") | "\(.data.status) \(.data.body_size) \(if .data.body_size < 100 then .data.body|tojson else null end)"' "$out" | paste -sd';')"
eq "the upload's body size" 50000 "$(jq -r 'select(.type=="http.request" and .data.method=="POST") | .data.body_size' "$out")"
eq "one connection per client process, named by its *tls.Conn" 2 \
	"$(jq -r 'select(.type=="http.request") | .data.conn' "$out" | sort -u | wc -l)"
eq "no loss" 0 "$(count "$out" '.type=="collector.loss" or .type=="collector.error"')"
end

begin "Go client with symbols: the same functions, found by the symbol table"
out=$WORK/go-symbols.jsonl
tls_trace "$out" --binary-path "$TLS_PROGS/go-client" --raw
"$TLS_PROGS/go-client" -h1 "$GO_URL/hello" >/dev/null
tls_untrace
check "found by symbols" grep -q 'functions in .*go-client (symbols)' "$out.err"
eq "Go's Write and Read" "crypto/tls.(*Conn).Read go;crypto/tls.(*Conn).Write go" \
	"$(jq -r 'select(.type=="ssl.data") | "\(.data.func) \(.data.lib)"' "$out" | sort -u | paste -sd';')"
eq "request bytes exactly" "$(printf 'GET /hello HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUser-Agent: Go-http-client/1.1\r\nAccept-Encoding: gzip\r\n\r\n' "$GO_PORT" | base64 -w0)" \
	"$(jq -j 'select(.type=="ssl.data" and .data.direction=="write") | .data.data' "$out" | base64 -w0)"
end

begin "stripped PIE Go client: HTTP/1.1 and HTTP/2 (by ALPN) exchanges rebuilt"
out=$WORK/go-pie.jsonl
tls_trace "$out" --binary-path "$TLS_PROGS/go-client-pie"
"$TLS_PROGS/go-client-pie" -h1 "$GO_URL/hello" >/dev/null
"$TLS_PROGS/go-client-pie" "$GO_URL/hello" >"$WORK/go-pie.out"
tls_untrace
eq "the client spoke h2" "HTTP/2.0 200 14" "$(cat "$WORK/go-pie.out")"
eq "the HTTP/1.1 exchange" '200 "hello from go\n"' \
	"$(jq -r 'select(.type=="http.response" and .data.version!="2") | "\(.data.status) \(.data.body|tojson)"' "$out")"
eq "the h2 exchange: GET /hello, 200 and its body" 'GET /hello 200 "hello from go\n"' \
	"$(jq -r 'select(.data.version=="2") | if .type=="http.request" then "\(.data.method) \(.data.path)" else "\(.data.status) \(.data.body|tojson)" end' "$out" | paste -sd' ')"
end

begin "curl --http2 (OpenSSL) against the Go server: both ends' h2 bytes as plaintext"
out=$WORK/go-h2-curl.jsonl
tls_trace "$out" -p "$GO_SERVER" --raw
curl -sk --http2 "$GO_URL/hello" >"$WORK/h2-curl.out"
tls_untrace
eq "curl got the page" "hello from go" "$(cat "$WORK/h2-curl.out")"
eq "the server read the client's h2 preface first" "PRI * HTTP/2.0" \
	"$(jq -r 'select(.type=="ssl.data" and .data.direction=="read") | if .data.encoding=="base64" then (.data.data|@base64d) else .data.data end' "$out" | head -c 14)"
end

out=$WORK/go-h2-curl-client.jsonl
begin "curl --http2 (OpenSSL, libssl.so.3), the client's side"
tls_trace "$out" -c curl --raw
curl -sk --http2 "$GO_URL/hello" >/dev/null
tls_untrace
eq "curl wrote the h2 preface first" "PRI * HTTP/2.0" \
	"$(jq -r 'select(.type=="ssl.data" and .data.direction=="write") | .data.data' "$out" | head -n 1 | base64 -d 2>/dev/null | head -c 14)"
check "and read the page" sh -c "jq -r 'select(.type==\"ssl.data\" and .data.direction==\"read\") | .data.data' '$out' | base64 -d 2>/dev/null | grep -q 'hello from go'"
end

begin "a running stripped Go server by pid (-p): concurrent connections, each goroutine's reads whole"
"$TLS_PROGS/go-server-stripped" -h1 "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/go-server2.out" 2>&1 &
GO_SERVER2=$!
port=$(tls_wait_ready "$WORK/go-server2.out")
out=$WORK/go-pid.jsonl
tls_trace "$out" -p "$GO_SERVER2" --max-payload 128KiB
for i in 1 2 3 4; do
	curl -sk "https://127.0.0.1:$port/big?n=$((i * 30000))" --next -sk -d "$(head -c $((i * 1000)) /dev/zero | tr '\0' x)" "https://127.0.0.1:$port/echo" >/dev/null &
done
wait $(jobs -p | grep -v -e "$GO_SERVER" -e "$GO_SERVER2" -e "$TLS_TRACER") 2>/dev/null
tls_untrace
kill "$GO_SERVER2"
wait "$GO_SERVER2" 2>/dev/null
check "found in the process's own file" grep -q "functions in .*go-server-stripped (Go function table" "$out.err"
eq "every request, seen by the server" "GET /big?n=120000;GET /big?n=30000;GET /big?n=60000;GET /big?n=90000;POST /echo;POST /echo;POST /echo;POST /echo" \
	"$(jq -r 'select(.type=="http.request") | "\(.data.method) \(.data.path)"' "$out" | sort | paste -sd';')"
eq "every upload whole" "1000 2000 3000 4000" \
	"$(jq -r 'select(.type=="http.request" and .data.method=="POST") | .data.body_size' "$out" | sort -n | paste -sd' ')"
eq "every response whole" "120000 15 15 15 15 30000 60000 90000" \
	"$(jq -r 'select(.type=="http.response") | .data.body_size' "$out" | sort | paste -sd' ')"
eq "only the server" "$GO_SERVER2" "$(jq -r 'select(.pid) | .pid' "$out" | sort -u | paste -sd,)"
end

begin "system-wide (no --lib, no --binary-path): a running Go program is found among the processes"
"$TLS_PROGS/go-server-stripped" -h1 "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/go-server3.out" 2>&1 &
GO_SERVER3=$!
port=$(tls_wait_ready "$WORK/go-server3.out")
out=$WORK/go-wide.jsonl
tls_trace "$out" -c go-server-strip
curl -sk "https://127.0.0.1:$port/hello" >/dev/null
tls_untrace
kill "$GO_SERVER3"
wait "$GO_SERVER3" 2>/dev/null
check "its binary is in the list" grep -q "functions in .*go-server-stripped (Go function table" "$out.err"
eq "the request, seen by the server" "GET /hello" \
	"$(jq -r 'select(.type=="http.request") | "\(.data.method) \(.data.path)"' "$out")"
end

# A Go program in a container: its binary is found through /proc/PID/root.
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/docker.sh"
if docker_ensure && docker_test_image; then
	begin "system-wide: a Go program in a container (its own mount namespace) is found and traced"
	name=collector-it-go-$$
	docker run -d --rm --name "$name" --network host -v /lib:/lib:ro -v /lib64:/lib64:ro \
		-v "$TLS_PROGS:/progs:ro" -v "$WORK:/work:ro" "$DOCKER_TEST_IMAGE" \
		/progs/go-server-stripped -h1 /work/cert.pem /work/key.pem >/dev/null
	for _ in $(seq 100); do
		port=$(docker logs "$name" 2>/dev/null | awk '/^ready/ {print $2}')
		[ -n "$port" ] && break
		sleep 0.1
	done
	out=$WORK/go-container.jsonl
	tls_trace "$out" -c go-server-strip
	curl -sk "https://127.0.0.1:$port/hello" >/dev/null
	tls_untrace
	docker rm -f "$name" >/dev/null 2>&1
	check "named through the process's root" grep -Eq "functions in /proc/[0-9]+/root/progs/go-server-stripped" "$out.err"
	eq "the request, seen by the server in the container" "GET /hello" \
		"$(jq -r 'select(.type=="http.request") | "\(.data.method) \(.data.path)"' "$out")"
	end
	docker_release
else
	skip "ssl runner: a Go program in a container" "no Docker daemon (docker.io) answers or starts"
fi

kill "$GO_SERVER" 2>/dev/null
wait "$GO_SERVER" 2>/dev/null
