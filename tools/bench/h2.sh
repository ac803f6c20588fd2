#!/usr/bin/env bash
# HTTP/2 decoder benchmark (`make bench-h2`): a 1,000-stream capture replayed through the
# decoder alone (frames, HPACK, redaction, the stream table) on one core, BENCH_RUNS times.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
RUNS=${BENCH_RUNS:-5}

echo "HTTP/2 decoder replay, one core (taskset -c 1), $RUNS runs of 50 connections x 1,000 streams:"
for _ in $(seq "$RUNS"); do
	taskset -c 1 "$BUILD/tools/bench/h2_decode" 50
done | sort -n | awk '{ a[NR] = $0 } END { print "median: " a[int((NR + 1) / 2)] }'

# Live (root, nghttpd): curl --http2 fetches 1,000 small objects over one connection,
# multiplexed (-Z), under `collector run ssl -c curl`: every stream must come out rebuilt.
if [ "$(id -u)" != 0 ] || ! command -v nghttpd >/dev/null; then
	echo "live: skipped (needs root and nghttpd from nghttp2-server)"
	exit 0
fi
WORK=$(mktemp -d /tmp/collector-bench-h2.XXXXXX)
trap 'kill "$SERVER" "$TRACER" 2>/dev/null; rm -rf "$WORK"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
	-days 1 -subj /CN=localhost 2>/dev/null
mkdir -p "$WORK/htdocs" "$WORK/got"
echo small >"$WORK/htdocs/o.txt"
PORT=$((20000 + RANDOM % 20000))
nghttpd -a 127.0.0.1 -d "$WORK/htdocs" "$PORT" "$WORK/key.pem" "$WORK/cert.pem" >/dev/null 2>&1 &
SERVER=$!
"$BUILD/collector" run --sink "file:$WORK/out.jsonl" ssl -c curl 2>"$WORK/err" &
TRACER=$!
for _ in $(seq 200); do
	grep -q '"ssl.ready"' "$WORK/out.jsonl" 2>/dev/null && break
	sleep 0.05
done
t0=$(date +%s.%N)
curl -sk --http2 -Z "https://127.0.0.1:$PORT/o.txt?i=[1-1000]" -o "$WORK/got/#1" 2>/dev/null
t1=$(date +%s.%N)
sleep 1
kill -TERM "$TRACER"
wait "$TRACER" || true
rebuilt=$(jq -c 'select(.type=="http.response" and .data.status==200 and .data.version=="2")' "$WORK/out.jsonl" | wc -l)
lost=$(jq -c 'select(.type=="collector.loss")' "$WORK/out.jsonl" | wc -l)
echo "live: curl --http2 -Z, 1,000 objects in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s:" \
	"$rebuilt responses rebuilt, $lost collector.loss events"
[ "$rebuilt" = 1000 ] && [ "$lost" = 0 ]
