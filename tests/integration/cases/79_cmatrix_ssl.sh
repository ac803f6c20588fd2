# ssl runner: the support matrix's cells no other case covers (docs/ssl.md#support-matrix), root only.
# HTTP/2 decoded from Go's crypto/tls on both ends; BoringSSL by --binary-path.
. "$(dirname "${BASH_SOURCE[0]}")/../tls/lib.sh"

reason=$(tls_skip_reason)
if [ -n "$reason" ]; then
	skip "ssl runner: support matrix" "$reason"
	return 0
fi
tls_cert
"$TLS_PROGS/go-server-stripped" "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/mx-server.out" 2>&1 &
MX_SERVER=$!
MX_URL=https://127.0.0.1:$(tls_wait_ready "$WORK/mx-server.out")

# mx_h2 OUT: "METHOD PATH VERSION" of each http.request, "STATUS VERSION BODY" of each response.
mx_h2() {
	jq -r 'if .type=="http.request" then "\(.data.method) \(.data.path) \(.data.version)" elif .type=="http.response" then "\(.data.status) \(.data.version) \(.data.body|tojson)" else empty end' "$1" | paste -sd';'
}

begin "Go server (stripped), HTTP/2 from curl --http2: streams decoded on the server's side"
out=$WORK/mx-go-server-h2.jsonl
tls_trace "$out" -p "$MX_SERVER" --max-payload 128KiB
curl -sk --http2 "$MX_URL/hello" >"$WORK/mx-curl.out"
tls_untrace
eq "curl got the page" "hello from go" "$(cat "$WORK/mx-curl.out")"
eq "the stream, as the server saw it" 'GET /hello 2;200 2 "hello from go\n"' "$(mx_h2 "$out")"
end

begin "Go client with symbols, HTTP/2 (by ALPN): the stream decoded on the client's side"
out=$WORK/mx-go-client-h2.jsonl
tls_trace "$out" --binary-path "$TLS_PROGS/go-client"
"$TLS_PROGS/go-client" "$MX_URL/hello" >"$WORK/mx-go.out"
tls_untrace
eq "the client spoke h2" "HTTP/2.0 200 14" "$(cat "$WORK/mx-go.out")"
eq "the stream" 'GET /hello 2;200 2 "hello from go\n"' "$(mx_h2 "$out")"
end

boring=/usr/lib/x86_64-linux-gnu/android/libssl.so.0
if [ -x "$TLS_PROGS/ssl-client-boring" ] && [ -e "$boring" ]; then
	begin "BoringSSL: --binary-path on its libssl.so.0 works; on a program linked to it, one line says why not"
	port=${MX_URL##*:}
	out=$WORK/mx-boring.jsonl
	tls_trace "$out" --binary-path "$boring"
	"$TLS_PROGS/ssl-client-boring" "$port" /hello 1 >/dev/null
	tls_untrace
	eq "the exchange" 'GET /hello 1.1;200 1.1 "hello from go\n"' "$(mx_h2 "$out")"
	"$C" run --duration 3s ssl --binary-path "$TLS_PROGS/ssl-client-boring" >/dev/null 2>"$WORK/mx-boring.err"
	eq "exit status" 1 "$?"
	check "the program itself: its TLS is in the shared library" \
		grep -q "ssl-client-boring has none of the TLS functions: no TLS function symbol" "$WORK/mx-boring.err"
	end
else
	skip "ssl runner: BoringSSL by --binary-path" "needs android-libboringssl-dev (make deps)"
fi

kill "$MX_SERVER" 2>/dev/null
wait "$MX_SERVER" 2>/dev/null
