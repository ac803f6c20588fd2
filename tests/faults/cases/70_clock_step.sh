# A wall-clock step during a run (NTP, `date -s`): durations, uptime and health stay right,
# timestamps follow the clock. A preloaded shim steps CLOCK_REALTIME for the collector alone.

SHIM=${CLOCK_STEP_SO:-$BUILD/tools/faultlib/clock_step.so}

# stepped SECONDS FILE CMD...: CMD with CLOCK_REALTIME SECONDS off once FILE exists.
stepped() {
	local s=$1 f=$2
	shift 2
	(
		export LD_PRELOAD=$SHIM CLOCK_STEP_FILE=$f CLOCK_STEP_S=$s
		[ "$ASAN_BUILD" = 1 ] && export ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"
		exec "$@"
	)
}

begin "the wall clock steps back an hour while a command runs: its duration stays right"
d=$WORK/clockback
mkdir -p "$d"
stepped -3600 "$d/stepped" timeout 20 "$C" run exec --format text -- \
	sh -c "sleep 0.3; touch '$d/stepped'; sleep 0.3; echo done" >"$d/out" 2>"$d/err"
eq "exit status" 0 $?
dur=$(jq -r 'select(.type=="exec.exit") | .data.duration_ns' "$d/out")
check "duration_ns ($dur) is the run's, not the step's" test "$dur" -gt 500000000 -a "$dur" -lt 20000000000
check "the end timestamp follows the stepped wall clock" \
	jq -e 'select(.type=="exec.exit") | .data.end < .data.start' "$d/out" >/dev/null
end

begin "the wall clock steps forward an hour: /healthz keeps a recent loss, uptime stays right"
d=$WORK/clockfwd
mkdir -p "$d"
mkfifo "$d/fifo"
exec 7<>"$d/fifo" # a reader that never reads: the queue fills and drops
stepped 3600 "$d/stepped" "$C" run --metrics=127.0.0.1:0 --policy drop_newest --queue-events 16 \
	--shutdown-timeout 1s exec --format text -- sh -c 'seq 1 20000; exec sleep 30' \
	>"$d/fifo" 2>"$d/err" &
cpid=$!
addr=
for _ in $(seq 1 100); do
	addr=$(grep -o 'http://[0-9.:]*' "$d/err" 2>/dev/null | head -n 1 | sed 's,http://,,')
	[ -n "$addr" ] && break
	sleep 0.1
done
for _ in $(seq 1 100); do
	[ "$(curl -s "http://$addr/healthz" | jq -r .status)" = degraded ] && break
	sleep 0.1
done
eq "degraded by the loss" degraded "$(curl -s "http://$addr/healthz" | jq -r .status)"
touch "$d/stepped"
curl -s "http://$addr/healthz" >"$d/health"
eq "still degraded after the step" degraded "$(jq -r .status "$d/health")"
check "the reason is the loss" grep -q 'sink stdout lost events' "$d/health"
up=$(curl -s "http://$addr/runners" | jq -r '.collector.uptime_seconds')
check "the collector's uptime ($up s) is not the step's" awk -v u="$up" 'BEGIN { exit !(u >= 0 && u < 600) }'
kill -TERM "$cpid"
wait "$cpid"
exec 7>&-
end
