# ssl runner: compressed bodies decoded within --max-body, an event stream whose first event
# shares the head's write (root only).
. "$(dirname "${BASH_SOURCE[0]}")/../tls/lib.sh"

reason=$(tls_skip_reason)
if [ -n "$reason" ]; then
	skip "ssl runner: bodies" "$reason"
	return 0
fi
tls_cert
mkdir -p "$WORK/enc"
for i in $(seq 400); do echo "line $i of a body that compresses well"; done >"$WORK/enc/plain"
gzip -9 -c "$WORK/enc/plain" >"$WORK/enc/body.gzip"
/usr/bin/python3 -c 'import sys, zlib; sys.stdout.buffer.write(zlib.compress(open(sys.argv[1], "rb").read()))' \
	"$WORK/enc/plain" >"$WORK/enc/body.deflate"
zstd -q -c "$WORK/enc/plain" >"$WORK/enc/body.zstd"
# 32 MiB of zeros: 32 KiB on the wire.
head -c $((32 << 20)) /dev/zero | gzip -9 -c >"$WORK/enc/body.x-gzip"
/usr/bin/python3 "$TLS_DIR/server.py" 0 "$WORK/cert.pem" "$WORK/key.pem" "$WORK/enc" >"$WORK/bd.out" 2>&1 &
BD_SERVER=$!
port=$(tls_wait_ready "$WORK/bd.out")
URL=https://127.0.0.1:$port

begin "gzip, deflate and zstd bodies come out decoded, a bomb stops at --max-body"
out=$WORK/bodies.jsonl
tls_trace "$out" -c curl
curl -sk "$URL/encoded/gzip" --next -sk "$URL/encoded/deflate" --next -sk "$URL/encoded/zstd" \
	--next -sk "$URL/encoded/x-gzip" >/dev/null
tls_untrace
plain=$(sha256sum <"$WORK/enc/plain")
for coding in gzip deflate zstd; do
	eq "$coding: decoded whole" "$coding false $plain" \
		"$(jq -j "select(.type==\"http.response\" and .data.path==\"/encoded/$coding\") | \"\(.data.decoded_from) \(.data.body_truncated) \", .data.body" "$out" |
			{ read -r -d ' ' from; read -r -d ' ' cut; echo "$from $cut $(sha256sum)"; })"
	eq "$coding: body_size is the bytes sent" "$(stat -c %s "$WORK/enc/body.$coding")" \
		"$(jq -r "select(.type==\"http.response\" and .data.path==\"/encoded/$coding\") | .data.body_size" "$out")"
done
# 64 KiB of zeros (--max-body) is 87384 characters of base64.
eq "the bomb: 64 KiB of its 32 MiB, cut" "gzip base64 87384 true" \
	"$(jq -r 'select(.type=="http.response" and .data.path=="/encoded/x-gzip") | "\(.data.decoded_from) \(.data.body_encoding) \(.data.body | length) \(.data.body_truncated)"' "$out")"
end

begin "an event stream whose first event is in the same call as the head"
out=$WORK/sse-one.jsonl
tls_trace "$out" -c curl
curl -sk "$URL/events-one-write" >/dev/null
tls_untrace
eq "both events, the first one too" 'first "in the head'"'"'s write";message "second"' \
	"$(jq -r 'select(.type=="sse.message") | "\(.data.event) \(.data.data|tojson)"' "$out" | paste -sd';')"
end

kill "$BD_SERVER" 2>/dev/null
wait "$BD_SERVER" 2>/dev/null
