# Driving the algorithm runner as the docs say: one result per calls line (rejected ones
# included, with line and tag), child protocol errors counted, the benchmark's own CLI.

# shellcheck source=../algorithm_lib.sh
. ./algorithm_lib.sh

C5_WORK="$WORK/algo-calls5"
mkdir -p "$C5_WORK"

begin "calls file: every line ends in exactly one algorithm.result, with its line and tag"
cat >"$C5_WORK/calls" <<'EOF2'
{"params":{"n":1},"tag":"a"}
not a call
{"image":"missing.ppm","tag":"c"}
{"params":{"n":4},"tag":"d"}
EOF2
"$C" run algorithm --package "$(algo_pkg c5 '')" --calls "$C5_WORK/calls" >"$C5_WORK/out" 2>/dev/null
eq "exit status: some calls failed" 1 $?
eq "one result per line, ids in step with lines" "1 1 a ok,2 2 - bad_input,3 3 c bad_input,4 4 d ok" \
	"$(jq -r 'select(.type=="algorithm.result") | .data | "\(.id) \(.line) \(.tag // "-") \(.outcome)"' "$C5_WORK/out" | sort -n | paste -sd,)"
eq "the rejections say why" "invalid_call bad_image" \
	"$(jq -r 'select(.type=="algorithm.result" and .data.outcome=="bad_input") | .data.message | split(":")[0]' "$C5_WORK/out" | sort -r | paste -sd' ')"
eq "and each has its collector.error too" "bad_image,invalid_call" \
	"$(jq -r 'select(.type=="collector.error") | .data.reason' "$C5_WORK/out" | sort | paste -sd,)"
eq "answered calls say their send-to-outcome time" true \
	"$(jq -s '[.[] | select(.type=="algorithm.result" and .data.outcome=="ok") | .data.run_us >= 0 and .data.run_us <= .data.latency_us] | all' "$C5_WORK/out")"
end

begin "a child's protocol errors are counted in /metrics and /runners"
pkg=$(algo_pkg c5garbage '"--garbage-every","2"')
algo_calls "$C5_WORK/g.calls" 6
mkfifo "$C5_WORK/g.fifo.in"
"$C" run --metrics=127.0.0.1:0 algorithm --package "$pkg" --calls - \
	<"$C5_WORK/g.fifo.in" >"$C5_WORK/g.out" 2>"$C5_WORK/g.err" &
cp=$!
exec 8>"$C5_WORK/g.fifo.in"
addr=""
for _ in $(seq 50); do
	addr=$(grep -o 'http://[^ ]*' "$C5_WORK/g.err" | head -1 | sed 's|http://||')
	[ -n "$addr" ] && break
	sleep 0.1
done
cat "$C5_WORK/g.calls" >&8
for _ in $(seq 50); do [ "$(count "$C5_WORK/g.out" '.type=="algorithm.result"')" -ge 6 ] && break; sleep 0.1; done
errs=$(curl -s "http://$addr/runners" | jq '.runners[0].errors // .[0].errors')
check "/runners counts them" test "${errs:-0}" -gt 0
check "/metrics counts them by reason" grep -q 'reason="child_protocol"' <(curl -s "http://$addr/metrics")
check "the latency histogram is in /metrics" grep -q 'collector_runner_call_latency_seconds_bucket{runner="algorithm",le="+Inf"} 6' <(curl -s "http://$addr/metrics")
exec 8>&-
wait "$cp"
end

begin "the algorithm benchmark knows --help and never judges a row with no samples"
out=$("$BUILD/tools/bench/algorithm" --help 2>&1)
eq "--help: exit 0, usage, no benchmark" "0 1 0" "$? $(grep -c '^usage: algorithm' <<<"$out") $(grep -c PASS <<<"$out")"
"$BUILD/tools/bench/algorithm" --nosuch >/dev/null 2>&1
eq "an unknown option: usage error" 2 $?
"$BUILD/tools/bench/algorithm" 0 >/dev/null 2>&1
eq "a zero count: usage error" 2 $?
end
