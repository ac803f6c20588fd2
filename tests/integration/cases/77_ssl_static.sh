# ssl runner: OpenSSL linked in statically (stripped: by its code pattern), BoringSSL (root only).
. "$(dirname "${BASH_SOURCE[0]}")/../tls/lib.sh"

reason=$(tls_skip_reason)
if [ -n "$reason" ]; then
	skip "ssl runner: static OpenSSL, BoringSSL" "$reason"
	return 0
fi
tls_cert
"$TLS_PROGS/go-server" -h1 "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/st-server.out" 2>&1 &
ST_SERVER=$!
ST_PORT=$(tls_wait_ready "$WORK/st-server.out")

# st_fetch OUT PROGRAM ARGS...: trace with ARGS while PROGRAM fetches /hello twice.
st_fetch() {
	local out=$1 prog=$2
	shift 2
	tls_trace "$out" "$@"
	"$prog" "$ST_PORT" /hello 2 >"$out.client"
	tls_untrace
}

for variant in static-stripped static; do
	if [ ! -x "$TLS_PROGS/ssl-client-$variant" ]; then
		skip "ssl runner: libssl.a ($variant)" "needs libssl-dev's libssl.a (make deps)"
		continue
	fi
	begin "client on Debian's libssl.a ($variant): requests and responses rebuilt"
	out=$WORK/st-$variant.jsonl
	st_fetch "$out" "$TLS_PROGS/ssl-client-$variant" --binary-path "$TLS_PROGS/ssl-client-$variant"
	if [ "$variant" = static-stripped ]; then
		check "found by the code pattern" grep -q 'functions in .*ssl-client-static-stripped (prologue pattern of OpenSSL 3.0 (Debian 12))' "$out.err"
	else
		check "found by symbols" grep -q 'functions in .*ssl-client-static (symbols)' "$out.err"
	fi
	eq "both requests" "GET /hello;GET /hello" \
		"$(jq -r 'select(.type=="http.request") | "\(.data.method) \(.data.path)"' "$out" | paste -sd';')"
	eq "both responses" '200 "hello from go\n";200 "hello from go\n"' \
		"$(jq -r 'select(.type=="http.response") | "\(.data.status) \(.data.body|tojson)"' "$out" | paste -sd';')"
	eq "two connections" 2 "$(jq -r 'select(.type=="http.request") | .data.conn' "$out" | sort -u | wc -l)"
	eq "no error" 0 "$(count "$out" '.type=="collector.error" or .type=="collector.loss"')"
	end
done

if [ -x "$TLS_PROGS/ssl-client-static" ]; then
	begin "a pattern match whose calls do not land next to it is refused, in one line"
	# The stripped client with SSL_read_ex's call moved 16 bytes on: the pattern (which leaves
	# call targets open) still matches, the adjacency check must not.
	cp "$TLS_PROGS/ssl-client-static-stripped" "$WORK/ssl-client-moved"
	/usr/bin/python3 - "$WORK/ssl-client-moved" \
		"$(nm "$TLS_PROGS/ssl-client-static" | awk '$3=="SSL_read_ex" {print $1}')" \
		"$(readelf -SW "$TLS_PROGS/ssl-client-static" | awk '$2==".text" {print $4, $5}')" <<'PY'
import struct, sys
path, sym, text = sys.argv[1], int(sys.argv[2], 16), sys.argv[3].split()
off = sym - int(text[0], 16) + int(text[1], 16) + 5  # sub $8,%rsp (4 bytes), call: e8 rel32
data = bytearray(open(path, "rb").read())
assert data[off - 1] == 0xe8
struct.pack_into("<i", data, off, struct.unpack_from("<i", data, off)[0] + 16)
open(path, "wb").write(data)
PY
	"$C" run --duration 3s ssl --binary-path "$WORK/ssl-client-moved" >/dev/null 2>"$WORK/st-moved.err"
	check "says which binary and why" grep -q "ssl-client-moved has none of the TLS functions: the code pattern of OpenSSL 3.0 (Debian 12) matched at 0x.*do not call the functions next to them: refused" "$WORK/st-moved.err"
	"$C" run --duration 3s ssl --binary-path /bin/true >/dev/null 2>"$WORK/st-none.err"
	check "a binary without TLS: no symbol, no pattern" grep -q "/bin/true has none of the TLS functions: no TLS function symbol, and none of the 1 known OpenSSL code patterns matched" "$WORK/st-none.err"
	end
fi

if [ -x "$TLS_PROGS/ssl-client-boring" ]; then
	begin "BoringSSL (Debian's android-libboringssl, linked dynamically): by --lib"
	out=$WORK/st-boring.jsonl
	st_fetch "$out" "$TLS_PROGS/ssl-client-boring" --lib /usr/lib/x86_64-linux-gnu/android/libssl.so.0
	eq "both responses" '200 "hello from go\n";200 "hello from go\n"' \
		"$(jq -r 'select(.type=="http.response") | "\(.data.status) \(.data.body|tojson)"' "$out" | paste -sd';')"
	out=$WORK/st-boring-raw.jsonl
	st_fetch "$out" "$TLS_PROGS/ssl-client-boring" --lib /usr/lib/x86_64-linux-gnu/android/libssl.so.0 --raw
	eq "BoringSSL's SSL_read and SSL_write" "SSL_read openssl,SSL_write openssl" \
		"$(jq -r 'select(.type=="ssl.data") | "\(.data.func) \(.data.lib)"' "$out" | sort -u | paste -sd,)"
	end
else
	skip "ssl runner: BoringSSL" "needs android-libboringssl-dev (make deps)"
fi

kill "$ST_SERVER" 2>/dev/null
wait "$ST_SERVER" 2>/dev/null
