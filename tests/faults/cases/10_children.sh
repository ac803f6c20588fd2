# Children that crash, hang, flood, print garbage or never say hello: the collector goes on,
# and what it counts matches what happened.

begin "exec: a flooding child that dies by SIGSEGV mid-line, twice restarted: every line once, counters exact"
out=$WORK/segv-flood.jsonl
"$C" run exec --format text --restart on-failure --max-restarts 2 --restart-delay 10ms -- \
	sh -c 'seq 1 30000; printf torn; kill -SEGV $$' >"$out" 2>/dev/null
eq "collector exit status (the runner failed)" 1 $?
eq "three runs, each killed by signal 11" "11 11 11" "$(jq -r 'select(.type=="exec.exit") | .data.signal' "$out" | xargs)"
eq "per run: 30000 whole lines and the torn tail, as counted" "90003 30001,30001,30001" \
	"$(count "$out" '.type=="exec.line"') $(jq -r 'select(.type=="exec.exit") | .data.counters.stdout_lines' "$out" | paste -sd,)"
eq "each line of each run once, in order" 0 \
	"$(jq -r 'select(.type=="exec.line") | .data.line' "$out" | awk '{want = (NR - 1) % 30001 + 1} want <= 30000 && $0 != want {bad++} want > 30000 && $0 != "torn" {bad++} END {print bad + 0}')"
eq "seq gap-free across runs" 0 "$(jq -r .seq "$out" | awk 'NR - 1 != $1 {bad++} END {print bad + 0}')"
end

begin "exec: SIGTERM to the collector while its child ignores SIGTERM: SIGKILL after --grace, exit 0, nothing left"
out=$WORK/stubborn.jsonl
stubborn=$WORK/stubborn-$$.sh
echo 'trap "" TERM; echo armed; while :; do sleep 0.05; done' >"$stubborn"
"$C" run exec --grace 300ms -- sh "$stubborn" >"$out" 2>/dev/null &
pid=$!
for _ in $(seq 100); do grep -q armed "$out" 2>/dev/null && break; sleep 0.05; done
start=$(date +%s%N)
kill -TERM "$pid"
wait "$pid"
rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
eq "collector exit status" 0 "$rc"
eq "status and signal" "canceled 9" "$(field "$out" exec.exit '"\(.data.status) \(.data.signal)"')"
check "stopped after the grace period (${took} ms)" test "$took" -ge 250 -a "$took" -lt 3000
check "no process left" test -z "$(pgrep -f "$stubborn")"
end

begin "exec: garbage interleaved with events on both streams: each bad line is exactly one counted collector.error"
out=$WORK/garbage-mix.jsonl
"$C" run exec --format json -- sh -c 'i=0; while [ $i -lt 2000 ]; do i=$((i + 1));
	echo "{\"type\":\"ok.event\",\"data\":{\"i\":$i}}"; printf "{\"bad\\377 %d\n[%d]\n" $i $i; echo "noise $i" >&2; done' >"$out"
eq "collector exit status" 0 $?
eq "every good event, in order" "2000 0" \
	"$(jq -r 'select(.type=="ok.event") | .data.i' "$out" | awk 'NR != $1 {bad++} END {print NR, bad + 0}')"
eq "collector.error events == bad lines == counters.errors" "4000 4000" \
	"$(count "$out" '.type=="collector.error"') $(field "$out" exec.exit .data.counters.errors)"
eq "stderr lines are events, counted" "2000 2000" \
	"$(count "$out" '.type=="exec.stderr"') $(field "$out" exec.exit .data.counters.stderr_lines)"
end

ALGO_FAULTS=$WORK/algo-faults
mkdir -p "$ALGO_FAULTS"

# fault_pkg NAME 'ENTRY POINT as JSON strings' 'LIMITS JSON members': a package directory.
fault_pkg() {
	mkdir -p "$ALGO_FAULTS/$1"
	cat >"$ALGO_FAULTS/$1/manifest.json" <<JSON
{"name":"$1","version":"1.0.0","protocol":1,"entry_point":[$2],
 "env":{"ASAN_OPTIONS":"${ASAN_OPTIONS:-}:handle_segv=0:detect_leaks=0"},
 "limits":{${3:+$3,}"call_timeout_ms":2000,"handshake_timeout_ms":2000,"grace_ms":300}}
JSON
	echo "$ALGO_FAULTS/$1"
}

# fault_calls FILE N: N execute calls.
fault_calls() {
	local i
	for i in $(seq 1 "$2"); do echo "{\"params\":{\"n\":$i}}"; done >"$1"
}

begin "algorithm: two instances that crash every 4th call, print garbage and flood stderr: one result per call"
pkg=$(fault_pkg mixed "\"$SIM\",\"--crash-after\",\"4\",\"--garbage-every\",\"3\",\"--stderr-lines\",\"2000\"")
fault_calls "$ALGO_FAULTS/mixed.calls" 30
out=$WORK/algo-mixed.jsonl
"$C" run algorithm --package "$pkg" --instances 2 --calls "$ALGO_FAULTS/mixed.calls" >"$out" 2>/dev/null
eq "collector exit status (calls failed)" 1 $?
eq "each call id 1..30 answered exactly once" "30 0" \
	"$(jq -r 'select(.type=="algorithm.result") | .data.id' "$out" | sort -n | awk 'NR != $1 {bad++} END {print NR, bad + 0}')"
ok=$(count "$out" '.type=="algorithm.result" and .data.outcome=="ok"')
crashed=$(count "$out" '.type=="algorithm.result" and .data.outcome=="crashed"')
eq "every outcome is ok or crashed" 30 $((ok + crashed))
eq "crashed calls == crash reports" "$crashed" "$(count "$out" '.type=="algorithm.crash"')"
restarts=$(count "$out" '.type=="algorithm.restart"')
check "a restart after each crash but the last of each instance ($restarts for $crashed)" \
	test "$restarts" -le "$crashed" -a "$restarts" -ge $((crashed - 2))
eq "stderr events: 2000 per answered call and each crash's last words" $((ok * 2000 + crashed)) \
	"$(count "$out" '.type=="algorithm.stderr"')"
check "garbage counted as protocol errors, not fatal" test "$(count "$out" '.type=="algorithm.protocol_error" and .data.reason=="invalid_json"')" -gt 0
check "no algo-sim left" test -z "$(pgrep -f "$SIM")"
end

begin "algorithm: a child that never says hello is killed no earlier than handshake_timeout_ms, each of 5 times"
pkg=$(fault_pkg silent '"sleep","30"' '"handshake_timeout_ms":250')
sed -i 's/"handshake_timeout_ms":2000,//' "$pkg/manifest.json"
fault_calls "$ALGO_FAULTS/silent.calls" 1
out=$WORK/algo-silent.jsonl
"$C" run algorithm --package "$pkg" --calls "$ALGO_FAULTS/silent.calls" >"$out" 2>/dev/null
eq "collector exit status" 1 $?
eq "the call fails fast once the breaker is open" broken "$(field "$out" algorithm.result .data.outcome)"
eq "five handshake timeouts" 5 "$(count "$out" '.type=="algorithm.exit" and .data.reason=="handshake_timeout"')"
eq "none before 250 ms (uptimes $(jq -r 'select(.type=="algorithm.exit") | .data.uptime_ms' "$out" | xargs))" 0 \
	"$(count "$out" '.type=="algorithm.exit" and .data.uptime_ms < 250')"
check "no sleep left" test -z "$(pgrep -f "^sleep 30$" -P $$)"
end
