# algorithm runner: real algo-sim children for every fault switch; policy counts; leftovers.

# shellcheck source=../algorithm_lib.sh
. ./algorithm_lib.sh

begin "algorithm: calls with and without an image, results in order of ids"
pkg=$(algo_pkg basic '' '"max_inflight":2')
algo_ppm "$ALGO_WORK/frame.ppm" 64 48 2
calls="$ALGO_WORK/basic.jsonl"
algo_calls "$calls" 3
echo '{"method":"execute","params":{},"image":"frame.ppm"}' >>"$calls"
echo '{"method":"pre_execute"}' >>"$calls"
out=$WORK/algo-basic.jsonl
"$C" run algorithm --package "$pkg" --calls "$calls" >"$out"
eq "exit status" 0 "$?"
eq "outcomes" "ok=5" "$(outcomes "$out")"
eq "image bytes and checksum read from shared memory" "9216 18432" \
	"$(jq -r 'select(.type=="algorithm.result" and .data.id==4) | "\(.data.data.image_bytes) \(.data.data.sum)"' "$out")"
eq "states" "starting,ready,stopped" \
	"$(jq -r 'select(.type=="algorithm.state") | .data.state' "$out" | grep -v busy | uniq | sed -n '1,2p;$p' | paste -sd,)"
eq "clean exit" "0 shutdown" "$(field "$out" algorithm.exit '"\(.data.exit_code) \(.data.reason)"')"
eq "the child's log message" "algo-sim ready" "$(field "$out" algorithm.log .data.message)"
algo_leftovers "$out"
end

begin "algorithm: several instances share the calls, least in flight first"
pkg=$(algo_pkg multi '"--latency-us","20000"' '"max_inflight":2')
algo_calls "$ALGO_WORK/multi.jsonl" 20
out=$WORK/algo-multi.jsonl
"$C" run algorithm --package "$pkg" --instances 2 --calls "$ALGO_WORK/multi.jsonl" >"$out"
eq "outcomes" "ok=20" "$(outcomes "$out")"
eq "both instances worked" "0,1" "$(jq -r 'select(.type=="algorithm.result") | .data.instance' "$out" | sort -u | paste -sd,)"
check "max_inflight 2 reached (busy)" test "$(count "$out" '.type=="algorithm.state" and .data.state=="busy"')" -gt 0
algo_leftovers "$out"
end

for mode in segv:SIGSEGV abort:SIGABRT exit:; do
	begin "algorithm: crash after 2 calls ($mode) is reported and restarted at once"
	m=${mode%%:*}
	pkg=$(algo_pkg "crash-$m" "\"--crash-after\",\"2\",\"--crash-mode\",\"$m\",\"--exit-code\",\"7\"")
	algo_calls "$ALGO_WORK/crash.jsonl" 4
	out=$WORK/algo-crash-$m.jsonl
	"$C" run algorithm --package "$pkg" --calls "$ALGO_WORK/crash.jsonl" >"$out"
	eq "exit status (a call failed)" 1 "$?"
	eq "outcomes" "crashed=2,ok=2" "$(outcomes "$out")"
	if [ "$m" = exit ]; then
		eq "exit code" "7" "$(jq -r 'select(.type=="algorithm.exit") | .data.exit_code' "$out" | head -1)"
	else
		eq "signal" "${mode#*:}" "$(jq -r 'select(.type=="algorithm.exit") | .data.signal' "$out" | head -1)"
	fi
	# The 4th call's crash ends the run: no restart after it.
	eq "restarts (attempt, delay)" "1 0" \
		"$(jq -r 'select(.type=="algorithm.restart") | "\(.data.attempt) \(.data.delay_ms)"' "$out" | paste -sd,)"
	check "crash report has the stderr tail" \
		test "$(jq -r 'select(.type=="algorithm.exit") | .data.stderr_tail[0]' "$out" | head -1 | grep -c 'crashing on purpose')" = 1
	algo_leftovers "$out"
	end
done

begin "algorithm: restart policy to the count: 3 at once, then backoff, 5 failures open the breaker"
pkg=$(algo_pkg breaker '"--crash-after","1"')
algo_calls "$ALGO_WORK/breaker.jsonl" 8
out=$WORK/algo-breaker.jsonl
"$C" run algorithm --package "$pkg" --calls "$ALGO_WORK/breaker.jsonl" >"$out"
eq "outcomes" "broken=3,crashed=5" "$(outcomes "$out")"
eq "restarts (attempt, delay)" "1 0,2 0,3 0,4 100" \
	"$(jq -r 'select(.type=="algorithm.restart") | "\(.data.attempt) \(.data.delay_ms)"' "$out" | paste -sd,)"
eq "broken state with its reason" "broken" "$(jq -r 'select(.type=="algorithm.state" and (.data.reason|test("5 failures"))) | .data.state' "$out")"
eq "broken calls say why" "the circuit breaker is open: the algorithm failed too often" \
	"$(jq -r 'select(.type=="algorithm.result" and .data.outcome=="broken") | .data.message' "$out" | head -1)"
algo_leftovers "$out"
end

begin "algorithm: the breaker closes after its cool-down"
pkg=$(algo_pkg cooldown '"--crash-after","1"' '"max_inflight":1')
out=$WORK/algo-cooldown.jsonl
fifo=$ALGO_WORK/cooldown.fifo
mkfifo "$fifo"
"$C" run algorithm --package "$pkg" --breaker-cooldown 500ms --calls - <"$fifo" >"$out" &
cpid=$!
exec 7>"$fifo"
algo_calls /dev/stdout 5 >&7
# The late call goes in once the breaker is open, and arrives after the cool-down.
for _ in $(seq 100); do grep -q '"state":"broken"' "$out" && break; sleep 0.1; done
sleep 0.8
echo '{"params":{}}' >&7
exec 7>&-
wait "$cpid"
eq "outcomes: the late call ran (and crashed) again" "crashed=6" "$(outcomes "$out")"
eq "starting after broken" "broken,starting" \
	"$(jq -r 'select(.type=="algorithm.state") | .data.state' "$out" | grep -A1 broken | head -2 | paste -sd,)"
algo_leftovers "$out"
end

begin "algorithm: a hanging call times out, the child is killed and restarted"
pkg=$(algo_pkg hang '"--hang-after","2"' '"call_timeout_ms":300')
algo_calls "$ALGO_WORK/hang.jsonl" 3
out=$WORK/algo-hang.jsonl
"$C" run algorithm --package "$pkg" --calls "$ALGO_WORK/hang.jsonl" >"$out"
eq "outcomes" "ok=2,timeout=1" "$(outcomes "$out")"
eq "timeout event" "2 300" "$(field "$out" algorithm.timeout '"\(.data.id) \(.data.timeout_ms)"')"
eq "exit reason" "call_timeout" "$(jq -r 'select(.type=="algorithm.exit") | .data.reason' "$out" | head -1)"
eq "one restart" 1 "$(count "$out" '.type=="algorithm.restart"')"
algo_leftovers "$out"
end

begin "algorithm: three missed pongs while idle mean hung"
pkg=$(algo_pkg nopong '"--no-pong"' '"heartbeat_ms":100')
out=$WORK/algo-nopong.jsonl
"$C" run --duration 900ms algorithm --package "$pkg" >"$out"
check "degraded after a missed pong" test "$(count "$out" '.type=="algorithm.state" and .data.state=="degraded" and .data.reason=="missed pong"')" -ge 1
eq "killed as hung" "hang" "$(jq -r 'select(.type=="algorithm.exit") | .data.reason' "$out" | head -1)"
algo_leftovers "$out"
end

begin "algorithm: no hello is a failed start; five open the breaker"
pkg=$(algo_pkg nohello '"--no-hello"' '"handshake_timeout_ms":150')
algo_calls "$ALGO_WORK/nohello.jsonl" 1
out=$WORK/algo-nohello.jsonl
"$C" run algorithm --package "$pkg" --calls "$ALGO_WORK/nohello.jsonl" >"$out"
eq "outcome" "broken=1" "$(outcomes "$out")"
eq "handshake timeouts" 5 "$(count "$out" '.type=="algorithm.exit" and .data.reason=="handshake_timeout"')"
algo_leftovers "$out"
end

begin "algorithm: a child speaking another protocol version fails to start"
pkg=$(algo_pkg proto '"--protocol","2"')
out=$WORK/algo-proto.jsonl
"$C" run --duration 500ms algorithm --package "$pkg" >"$out"
check "protocol_version errors" test "$(count "$out" '.type=="algorithm.protocol_error" and .data.reason=="protocol_version"')" -ge 1
eq "exit reason" "protocol_version" "$(jq -r 'select(.type=="algorithm.exit") | .data.reason' "$out" | head -1)"
algo_leftovers "$out"
end

begin "algorithm: garbage and over-long lines are counted protocol errors, not fatal"
pkg=$(algo_pkg garbage '"--garbage-every","1","--long-line","3000"' '"max_line_bytes":1024')
algo_calls "$ALGO_WORK/garbage.jsonl" 4
out=$WORK/algo-garbage.jsonl
"$C" run algorithm --package "$pkg" --calls "$ALGO_WORK/garbage.jsonl" >"$out"
eq "outcomes" "ok=4" "$(outcomes "$out")"
eq "invalid_json errors" 4 "$(count "$out" '.type=="algorithm.protocol_error" and .data.reason=="invalid_json"')"
eq "line_too_long errors" 4 "$(count "$out" '.type=="algorithm.protocol_error" and .data.reason=="line_too_long"')"
eq "no restart" 0 "$(count "$out" '.type=="algorithm.restart"')"
algo_leftovers "$out"
end

begin "algorithm: stderr lines are events; failed results are answers"
pkg=$(algo_pkg stderr '"--stderr-lines","3","--fail-every","2"')
algo_calls "$ALGO_WORK/stderr.jsonl" 4
out=$WORK/algo-stderr.jsonl
"$C" run algorithm --package "$pkg" --calls "$ALGO_WORK/stderr.jsonl" >"$out"
eq "stderr events" 12 "$(count "$out" '.type=="algorithm.stderr"')"
eq "outcomes" "failed=2,ok=2" "$(outcomes "$out")"
eq "the child's error object" "SIMULATED" "$(jq -r 'select(.data.outcome=="failed") | .data.error.code' "$out" | head -1)"
eq "no restart" 0 "$(count "$out" '.type=="algorithm.restart"')"
algo_leftovers "$out"
end

begin "algorithm: a child ignoring shutdown and SIGTERM gets SIGKILL after the grace periods"
pkg=$(algo_pkg ignore '"--ignore-shutdown"')
algo_calls "$ALGO_WORK/ignore.jsonl" 1
out=$WORK/algo-ignore.jsonl
start=$(date +%s%N)
"$C" run algorithm --package "$pkg" --calls "$ALGO_WORK/ignore.jsonl" >"$out"
took=$(( ($(date +%s%N) - start) / 1000000 ))
eq "signal" "SIGKILL" "$(field "$out" algorithm.exit .data.signal)"
check "two grace periods of 300 ms (${took} ms)" test "$took" -ge 550 -a "$took" -lt 3000
algo_leftovers "$out"
end

begin "algorithm: a slow start is waited for; spawn-to-ready is reported"
pkg=$(algo_pkg slow '"--slow-start-ms","300"')
algo_calls "$ALGO_WORK/slow.jsonl" 2
out=$WORK/algo-slow.jsonl
"$C" run algorithm --package "$pkg" --calls "$ALGO_WORK/slow.jsonl" >"$out"
eq "outcomes" "ok=2" "$(outcomes "$out")"
check "spawn_to_ready >= 300 ms" test "$(field "$out" algorithm.ready .data.spawn_to_ready_us)" -ge 300000
algo_leftovers "$out"
end

begin "algorithm: an exhausted shm pool queues calls instead of failing them"
pkg=$(algo_pkg pool '"--latency-us","5000"' '"max_inflight":4')
algo_ppm "$ALGO_WORK/pool.ppm" 32 32 1
algo_calls "$ALGO_WORK/pool.jsonl" 12 pool.ppm
out=$WORK/algo-pool.jsonl
"$C" run algorithm --package "$pkg" --instances 2 --pool-slots 1 --calls "$ALGO_WORK/pool.jsonl" >"$out"
eq "outcomes" "ok=12" "$(outcomes "$out")"
eq "one call in flight at a time (one slot)" 0 "$(count "$out" '.type=="algorithm.state" and .data.inflight > 1')"
algo_leftovers "$out"
end

begin "algorithm: frames from a directory at a frame rate"
mkdir -p "$ALGO_WORK/frames"
for i in 1 2 3; do algo_ppm "$ALGO_WORK/frames/f$i.ppm" 16 16 $i; done
printf 'P5\n16 16\n255\n' >"$ALGO_WORK/frames/g4.pgm"; head -c 256 /dev/zero >>"$ALGO_WORK/frames/g4.pgm"
out=$WORK/algo-frames.jsonl
"$C" run algorithm --package "$(algo_pkg frames '')" --frames "$ALGO_WORK/frames" --fps 50 >"$out"
eq "sums per frame" "768,1536,2304,0" "$(jq -r 'select(.type=="algorithm.result") | .data.data.sum' "$out" | paste -sd,)"
algo_leftovers "$out"
end

if [ "$(id -u)" = 0 ] && [ -d /sys/fs/cgroup/memory ] || grep -q memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	begin "algorithm: a leak past memory_mb is OOM-killed in the child's own cgroup, which is removed"
	pkg=$(algo_pkg leak '"--leak-mb","16"' '"memory_mb":48')
	algo_calls "$ALGO_WORK/leak.jsonl" 6
	out=$WORK/algo-leak.jsonl
	"$C" run algorithm --package "$pkg" --calls "$ALGO_WORK/leak.jsonl" >"$out"
	check "a cgroup was used" test "$(field "$out" algorithm.spawn .data.cgroup)" != none
	eq "killed by SIGKILL (OOM)" "SIGKILL" "$(jq -r 'select(.type=="algorithm.exit") | .data.signal' "$out" | head -1)"
	check "crashed calls" test "$(count "$out" '.type=="algorithm.result" and .data.outcome=="crashed"')" -ge 1
	algo_leftovers "$out"
	end

	begin "algorithm: cpu_percent throttles a spinning child"
	pkg=$(algo_pkg spin '"--spin-ms","40"' '"cpu_percent":20')
	algo_calls "$ALGO_WORK/spin.jsonl" 2
	out=$WORK/algo-spin.jsonl
	"$C" run algorithm --package "$pkg" --calls "$ALGO_WORK/spin.jsonl" >"$out"
	eq "outcomes" "ok=2" "$(outcomes "$out")"
	check "throttled: 40 ms of CPU took > 100 ms" test "$(jq -r 'select(.type=="algorithm.result") | .data.latency_us' "$out" | sort -n | tail -1)" -gt 100000
	algo_leftovers "$out"
	end
else
	skip "algorithm cgroup limits" "needs root and a memory cgroup controller"
fi

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	begin "algorithm: --user runs the child as a low-privilege user that can read the image"
	# The user must reach the binary and the package: both in a world-readable directory.
	pub=$(mktemp -d /tmp/collector-it-pub.XXXXXX)
	chmod 755 "$pub"
	cp "$SIM" "$pub/algo_sim"
	mkdir -p "$pub/pkg"
	sed "s|$SIM|$pub/algo_sim|" "$(algo_pkg user '')/manifest.json" >"$pub/pkg/manifest.json"
	pkg=$pub/pkg
	algo_calls "$ALGO_WORK/user.jsonl" 1 frame.ppm
	out=$WORK/algo-user.jsonl
	"$C" run algorithm --package "$pkg" --user nobody --calls "$ALGO_WORK/user.jsonl" >"$out"
	eq "outcomes" "ok=1" "$(outcomes "$out")"
	rm -rf "$pub"
	algo_leftovers "$out"
	end
else
	skip "algorithm --user" "needs root and the user nobody"
fi

begin "algorithm: the Python example child"
if command -v python3 >/dev/null; then
	out=$WORK/algo-python.jsonl
	algo_ppm "$ALGO_WORK/bright.ppm" 40 30 200
	echo '{"params":{},"image":"bright.ppm"}' >"$ALGO_WORK/python.jsonl"
	echo '{"method":"pre_execute"}' >>"$ALGO_WORK/python.jsonl"
	"$C" run algorithm --package ../../tools/algo-example --calls "$ALGO_WORK/python.jsonl" >"$out"
	eq "outcomes" "ok=2" "$(outcomes "$out")"
	eq "mean brightness" "200" "$(jq -r 'select(.type=="algorithm.result" and .data.id==1) | .data.data.mean' "$out")"
	eq "its own event" "bright_frame" "$(field "$out" algorithm.event .data.name)"
	algo_leftovers "$out"
fi
end

begin "algorithm: the C API example host; no fd or child left after close"
res=$("$BUILD/tools/algo-host/algo_host" "$(algo_pkg host '' '"max_inflight":4')" 200)
eq "exit status" 0 "$?"
eq "async results" "async: 200 ok, 0 failed" "$(echo "$res" | grep async)"
eq "after close" "after close: 0 fds more than before, children left: none" "$(echo "$res" | grep 'after close')"
eq "image written in place" 'execute in place: ok {"calls":203,"image_bytes":921600,"sum":1843200}' "$(echo "$res" | grep 'in place')"
eq "bad input" "bad params: bad_input (bad_input: params is not one valid JSON value)" "$(echo "$res" | grep 'bad params')"
eq "no capacity" "queue of one, 5 submitted before ready: 4 refused (no_capacity) at once" "$(echo "$res" | grep 'queue of one')"
algo_leftovers
end

begin "algorithm: a bad manifest is a clear error naming the field"
mkdir -p "$ALGO_WORK/bad"
echo '{"name":"bad","protocol":1}' >"$ALGO_WORK/bad/manifest.json"
msg=$("$C" run algorithm --package "$ALGO_WORK/bad" 2>&1 >/dev/null)
check "non-zero exit" test $? -ne 0
check "names entry_point ($msg)" grep -q '"entry_point" is required' <<<"$msg"
end
