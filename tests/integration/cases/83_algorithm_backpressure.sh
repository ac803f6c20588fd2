# Algorithm runner under backpressure: a stalled, then slow pipe sink (block policy) holds
# the children back; every call gets one outcome, nothing is lost, no clock misfires.

BP_SIM="$BUILD/tools/algo-sim/algo_sim"
BP_SLOW="$BUILD/tools/bench/slow_reader"
BP_WORK="$WORK/algo-bp"
mkdir -p "$BP_WORK"

# bp_metric ADDR NAME: the value of an unlabelled-but-for-its-owner sample.
bp_metric() {
	curl -s "http://$1/metrics" | awk -v m="$2" 'index($1, m "{") == 1 { print $2; exit }'
}

begin "algorithm: a stalled sink pauses reading and dispatch; clocks freeze, nothing is lost"
pkg="$BP_WORK/pkg"
mkdir -p "$pkg"
# Each call writes 2500 stderr lines: one call fills the sink queue, the sink pipe and the
# child's stderr pipe (the child then blocks in write(2) with its call in flight).
cat >"$pkg/manifest.json" <<JSON
{"name":"bp","version":"1.0.0","protocol":1,
 "entry_point":["$BP_SIM","--stderr-lines","2500"],
 "env":{"ASAN_OPTIONS":"${ASAN_OPTIONS:-}:detect_leaks=0"},
 "limits":{"call_timeout_ms":400,"heartbeat_ms":50,"handshake_timeout_ms":2000,"grace_ms":300}}
JSON
out=$BP_WORK/out.jsonl
fifo=$BP_WORK/calls.fifo
mkfifo "$fifo"
# Nobody reads for 4 s, then 20000 lines/s.
"$C" run --metrics=127.0.0.1:0 --queue-events 16 --policy block \
	--sink "pipe:sleep 4; exec $BP_SLOW 20000 --other $out" \
	algorithm --package "$pkg" --instances 2 --calls - <"$fifo" 2>"$BP_WORK/err" &
cpid=$!
exec 7>"$fifo"
# One call: instance 0 works (then blocks writing stderr), instance 1 idles with heartbeats due.
echo '{"params":{"batch":1}}' >&7
addr=""
for _ in $(seq 50); do
	addr=$(grep -o 'http://[0-9.:]*' "$BP_WORK/err" | head -1 | sed 's|http://||')
	[ -n "$addr" ] && break
	sleep 0.1
done
sleep 1.5
eq "held back during the stall" 1 "$(bp_metric "$addr" collector_runner_paused)"
check "paused time is counted" awk -v v="$(bp_metric "$addr" collector_runner_paused_seconds_total)" 'BEGIN { exit !(v >= 0.8) }'
v=$(bp_metric "$addr" collector_sink_queue_events)
check "the sink queue stays within its 16 events (+1)" test "$v" -le 17
eq "the call is still in flight (its timeout frozen)" 1 "$(bp_metric "$addr" collector_runner_calls_in_flight)"
# More calls while still stalled: they wait in the fifo (no input is read while held back).
for i in $(seq 2 6); do echo "{\"params\":{\"batch\":2,\"n\":$i}}" >&7; done
exec 7>&-
wait "$cpid"
eq "exit status" 0 "$?"
eq "outcomes: one each" "ok=6" "$(jq -r 'select(.type=="algorithm.result") | .data.outcome' "$out" | sort | uniq -c | awk '{print $2"="$1}' | paste -sd,)"
eq "distinct call ids" 6 "$(jq -r 'select(.type=="algorithm.result") | .data.id' "$out" | sort -u | wc -l | tr -d ' ')"
eq "every stderr line arrived" 15000 "$(count "$out" '.type=="algorithm.stderr"')"
eq "no timeouts" 0 "$(count "$out" '.type=="algorithm.timeout"')"
eq "no restarts" 0 "$(count "$out" '.type=="algorithm.restart"')"
eq "no missed pongs" 0 "$(count "$out" '.type=="algorithm.state" and .data.reason=="missed pong"')"
eq "both children ended by the shutdown" "shutdown,shutdown" "$(jq -r 'select(.type=="algorithm.exit") | .data.reason' "$out" | paste -sd,)"
eq "seq is gap-free" "$(count "$out" '.runner=="algorithm"')" \
	"$(jq -s '[.[] | select(.runner=="algorithm") | .seq] | max + 1' "$out")"
check "nothing about lost events in the log" test "$(grep -c 'not delivered\|lost' "$BP_WORK/err")" = 0
left=$(pgrep -f "$BP_SIM --stderr-lines 2500")
eq "no child left" "" "$left"
end
