# The algorithm service's lifecycle: crashes mid-stream, SIGTERM with calls in flight, a client
# killed with -9 mid-stream (its calls and slots are freed), health following the breaker.

# shellcheck source=../service_lib.sh
. ./service_lib.sh

if ! svc_ready; then
	skip "algorithm gRPC service lifecycle" "needs /usr/bin/python3 with python3-grpcio and python3-grpc-tools (make deps)"
	return 0
fi

# svc_pkg NAME 'SIM ARGS' GRACE_MS: an algo-sim package with a 5 s call timeout.
svc_pkg() {
	local dir="$SVC_WORK/$1"
	mkdir -p "$dir"
	cat >"$dir/manifest.json" <<JSON
{"name":"$1","version":"1.0.0","protocol":1,"entry_point":["$SIM"${2:+,$2}],
 "env":{"ASAN_OPTIONS":"${ASAN_OPTIONS:-}:handle_segv=0:detect_leaks=0"},
 "limits":{"max_inflight":1,"call_timeout_ms":10000,"handshake_timeout_ms":2000,"grace_ms":$3}}
JSON
	echo "$dir"
}

begin "service: a child crashing mid-stream costs one frame, the stream goes on in order"
svc_start crash "$(svc_pkg crash '"--latency-us","20000","--crash-after","4","--crash-mode","segv"' 300)"
cl frames --fps 20 --source cam --count 12 --max-pending 12 >"$SVC_WORK/crash.out"
eq "every frame answered, in order" "$(seq 0 11 | paste -sd,)" "$(jq -r .frame_id "$SVC_WORK/crash.out" | paste -sd,)"
eq "the frame in flight ended as crashed, detail 4004" "crashed 4004" \
	"$(jq -r 'select(.result.outcome=="crashed") | "\(.result.outcome) \(.result.code)"' "$SVC_WORK/crash.out" | head -1)"
eq "the restarted child answers the next frame" ok "$(jq -r 'select(.frame_id=="4") | .result.outcome' "$SVC_WORK/crash.out")"
eq "health is still serving" SERVING "$(cl health | jq -r .status)"
svc_stop
end

begin "service: SIGTERM finishes the call in flight, refuses the rest, exits 0"
svc_start term "$(svc_pkg term '"--latency-us","3000000"' 9000)"
# One child, one call at a time: the batch's first call runs, the others wait in the queue;
# SIGTERM comes while one runs and the last still waits (a 6 s window, slow machines included).
cl --timeout 30 batch 3 >"$SVC_WORK/term1.out" &
c1=$!
for _ in $(seq 100); do
	[ "$(cl metrics | jq -r '"\(.in_flight) \(.queued > "0")"')" = "1 true" ] && break
	sleep 0.1
done
kill -TERM "$svc_pid"
sleep 0.3
cl execute --tag late >"$SVC_WORK/term3.out"
wait "$c1"
svc_stop
eq "the call in flight finished, the queued one was refused (4005)" "ok 0,stopped 4005" \
	"$(jq -r '[.results[0], .results[-1] | "\(.outcome) \(.code)"] | join(",")' "$SVC_WORK/term1.out")"
eq "a call after SIGTERM: UNAVAILABLE" UNAVAILABLE "$(jq -r .error "$SVC_WORK/term3.out")"
eq "exit status" 0 "$svc_rc"
end

begin "service: a client killed with -9 mid-stream leaves no call, stream or slot behind"
svc_start kill "$(svc_pkg kill '"--latency-us","1000000"' 300)" --pool-slots 32
# The client process itself (not a subshell around it) is what kill -9 must hit.
(exec /usr/bin/python3 "$SVC_CLIENT" --stubs "$SVC_WORK/stubs" --target "unix:$svc_sock" \
	--width 320 --height 240 --slot frames --source cam --count 20 --max-pending 20 --hang >/dev/null 2>&1) &
client=$!
for _ in $(seq 100); do [ "$(metric queued)" -gt 5 ] 2>/dev/null && break; sleep 0.1; done
m=$(cl metrics)
check "calls were queued and slots held before the kill" test "$(jq -r '.queued' <<<"$m")" -gt 5 -a "$(jq -r '.slots_leased' <<<"$m")" -gt 5
eq "one stream open" 1 "$(jq -r .streams <<<"$m")"
kill -9 "$client"
wait "$client" 2>/dev/null
eq "no stream left" 0 "$(svc_wait_metric streams 0)"
eq "no call queued" 0 "$(svc_wait_metric queued 0)"
eq "no call in flight" 0 "$(svc_wait_metric in_flight 0)"
eq "every slot back in the pool" 0 "$(svc_wait_metric slots_leased 0)"
check "the queued calls ended as canceled" test "$(jq -r 'select(.type=="algorithm.result" and .data.outcome=="stopped") | .data.message' "$svc_out" | grep -c 'caller went away')" -gt 0
svc_stop
eq "exit status" 0 "$svc_rc"
algo_leftovers "$svc_out"
end

begin "service: health says NOT_SERVING once every breaker is open (Check and Watch)"
svc_start broken "$(svc_pkg broken '"--crash-after","1","--crash-mode","exit"' 300)" --breaker-cooldown 1h
cl --timeout 30 watch 2 >"$SVC_WORK/watch.out" &
w=$!
sleep 1
for i in 1 2 3 4 5; do cl execute >"$SVC_WORK/broken.$i"; done
eq "the calls crashed (UNAVAILABLE 4004)" "UNAVAILABLE 4004" "$(jq -r '"\(.error) \(.code)"' "$SVC_WORK/broken.1")"
for _ in $(seq 50); do [ "$(cl health | jq -r .status)" = NOT_SERVING ] && break; sleep 0.1; done
eq "Check: NOT_SERVING" NOT_SERVING "$(cl health | jq -r .status)"
eq "a call now: UNAVAILABLE, detail 4003 broken" "UNAVAILABLE 4003" "$(cl execute | jq -r '"\(.error) \(.code)"')"
wait "$w"
eq "Watch saw the flip" "SERVING,NOT_SERVING" "$(jq -r .status "$SVC_WORK/watch.out" | paste -sd,)"
svc_stop
end
