#!/usr/bin/env bash
# Runner benchmark (`make bench-runners`): the container and http runners beside the CLIs they replace.
#
# Container: `collector run container -- echo hi` timed from the command's start to its
# first event (container.line) and to its exit, BENCH_RUNS (20) times, interleaved with
# `docker run --rm` of the same image and command; medians and the ratio (target <= 1.2x).
# Both with --network none, against the offline busybox image (tests/lib/docker.sh).
#
# http: a probe every 10 ms for BENCH_HTTP_S (30) seconds against a local python3 server:
# CPU (user + sys) per request and p99 of the request's total time, beside `curl -w` in a
# loop for as long. On a shared machine, read the figures as "under load".
#
# Environment: BUILD (default ./build), BENCH_RUNS, BENCH_HTTP_S. Needs root for dockerd.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-$PWD/build}
C=$BUILD/collector
RUNS=${BENCH_RUNS:-20}
HTTP_S=${BENCH_HTTP_S:-30}
PY=/usr/bin/python3
W=$(mktemp -d)
SERVER_PID=
cleanup() {
	[ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

# shellcheck source=/dev/null
. tests/lib/docker.sh
now_ns() { date +%s%N; }

echo "== container: start -> first event -> exit (echo hi), median of $RUNS =="
if docker_ensure && docker_test_image; then
	I=$DOCKER_TEST_IMAGE
	: >"$W/c.txt"
	for _ in $(seq 1 "$RUNS"); do
		t0=$(now_ns)
		"$C" run container --image "$I" --network none -- echo hi >"$W/out.jsonl"
		t1=$(now_ns)
		first=$(jq -r 'select(.type=="container.line") | .ts_ns' "$W/out.jsonl" | head -n 1)
		t2=$(now_ns)
		docker run --rm --network none "$I" echo hi >/dev/null
		t3=$(now_ns)
		echo "$((first - t0)) $((t1 - t0)) $((t3 - t2))" >>"$W/c.txt"
	done
	"$PY" - "$W/c.txt" <<'PYEOF'
import statistics, sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1])]
med = [statistics.median(r[i] for r in rows) / 1e6 for i in range(3)]
print(f"collector: first event {med[0]:7.1f} ms   exit {med[1]:7.1f} ms")
print(f"docker run --rm:                    exit {med[2]:7.1f} ms")
print(f"ratio collector/docker CLI: {med[1] / med[2]:.2f}x (target <= 1.2x)")
PYEOF
	docker_release
else
	echo "skipped: no Docker daemon (needs root and docker.io)"
fi

echo
echo "== http: a probe every 10 ms for ${HTTP_S}s, beside curl -w in a loop =="
"$PY" tests/integration/http/task_server.py >"$W/port" 2>/dev/null &
SERVER_PID=$!
for _ in $(seq 1 50); do [ -s "$W/port" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(head -n 1 "$W/port")/ok"

TIMEFORMAT='%U %S'
{ time "$C" run --duration "${HTTP_S}s" http --url "$URL" --every 10ms >"$W/probe.jsonl" 2>/dev/null; } 2>"$W/cpu"
"$PY" - "$W/probe.jsonl" "$(cat "$W/cpu")" <<'PYEOF'
import json, sys
t = [json.loads(l)["data"]["timing_ms"]["total"] for l in open(sys.argv[1])
     if '"http.response"' in l]
t.sort()
cpu_ms = sum(map(float, sys.argv[2].split())) * 1000
print(f"collector: {len(t)} requests, CPU {cpu_ms / len(t) * 1000:7.1f} us/request, "
      f"p50 {t[len(t) // 2]:.2f} ms, p99 {t[int(len(t) * 0.99)]:.2f} ms")
PYEOF

end=$(($(date +%s) + HTTP_S))
curl_loop() {
	while [ "$(date +%s)" -lt "$end" ]; do
		curl -s -o /dev/null -w '%{time_total}\n' "$URL"
		sleep 0.01
	done
}
{ time curl_loop >"$W/curl.txt"; } 2>"$W/cpu"
"$PY" - "$W/curl.txt" "$(cat "$W/cpu")" <<'PYEOF'
import sys
t = sorted(float(l) * 1000 for l in open(sys.argv[1]))
cpu_ms = sum(map(float, sys.argv[2].split())) * 1000
print(f"curl loop: {len(t)} requests, CPU {cpu_ms / len(t) * 1000:7.1f} us/request "
      f"(curl, sleep and date processes), p50 {t[len(t) // 2]:.2f} ms, p99 {t[int(len(t) * 0.99)]:.2f} ms")
PYEOF
