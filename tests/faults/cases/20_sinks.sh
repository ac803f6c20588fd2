# Sinks that fill their disk, stall or die: under block nothing accepted is lost silently,
# under a drop policy every loss is counted.

if [ "$(id -u)" = 0 ]; then
	begin "file: a full disk (1 MiB tmpfs) is a clear error; lines in the file + failed == emitted; only whole lines"
	d=$WORK/full
	mkdir -p "$d"
	if mount -t tmpfs -o size=1m collector-faults "$d"; then
		"$C" run --sink "file:$d/ev.jsonl" exec --format text -- seq 1 20000 2>"$WORK/full.err"
		rc=$?
		written=$(wc -l <"$d/ev.jsonl" | tr -d ' ')
		failed=$(sed -n 's/^collector: warn: \([0-9]*\) events failed in sinks$/\1/p' "$WORK/full.err")
		eq "collector exit status says loss" 3 "$rc"
		check "the error names the cause" grep -q "write $d/ev.jsonl: No space left on device" "$WORK/full.err"
		check "some lines were written ($written)" test "$written" -gt 0
		eq "written + failed == emitted (20000 lines and exec.exit)" 20001 $((written + ${failed:-0}))
		check "every line is whole JSON" jq -e . "$d/ev.jsonl" >/dev/null
		eq "the file ends on a newline" "" "$(tail -c 1 "$d/ev.jsonl" | tr -d '\n')"
		eq "no line twice, in order" 0 \
			"$(jq -r 'select(.type=="exec.line") | .data.line' "$d/ev.jsonl" | awk '$1 <= last {bad++} {last = $1} END {print bad + 0}')"
		umount "$d"
	else
		CASE_OK=0
		echo "  FAIL [$CURRENT] mount -t tmpfs failed" >&2
	fi
	end
else
	skip "file: a full disk" "mounting a tmpfs needs root"
fi

begin "fifo: a reader stopped (SIGSTOP) under drop_oldest: kept + dropped == emitted, dropped == collector.loss"
d=$WORK/fifo-stop
mkdir -p "$d"
"$C" run --metrics=127.0.0.1:0 --policy drop_oldest --queue-events 100 --sink "fifo:$d/ff" \
	exec --format text -- sh -c 'seq 1 50000; exec sleep 30' 2>"$d/err" &
pid=$!
for _ in $(seq 100); do [ -p "$d/ff" ] && break; sleep 0.05; done
cat "$d/ff" >"$d/out" &
reader=$!
kill -STOP "$reader"
addr=
for _ in $(seq 100); do
	addr=$(grep -o 'http://[0-9.:]*' "$d/err" | head -n 1 | sed 's,http://,,')
	[ -n "$addr" ] && [ "$(curl -s "http://$addr/metrics" | awk '$1 == "collector_runner_events_total{runner=\"exec\"}" {print $2}')" = 50000 ] && break
	sleep 0.1
done
kill -CONT "$reader"
sleep 0.5
dropped_metric=$(curl -s "http://$addr/metrics" | awk '$1 == "collector_sink_events_dropped_total{sink=\"fifo\",reason=\"drop_oldest\"}" {print $2}')
kill -TERM "$pid"
wait "$pid"
eq "collector exit status says loss" 3 $?
wait "$reader"
kept=$(count "$d/out" '.type=="exec.line"')
reported=$(jq -s '[.[] | select(.type=="collector.loss") | .data.dropped] | add // 0' "$d/out")
check "events were dropped ($reported)" test "$reported" -gt 0
eq "collector.loss reports == the metric" "$dropped_metric" "$reported"
eq "kept + dropped == 50000 lines and exec.exit" 50001 $((kept + reported + $(count "$d/out" '.type=="exec.exit"')))
eq "the newest lines survive drop_oldest" 50000 "$(jq -r 'select(.type=="exec.line") | .data.line' "$d/out" | tail -n 1)"
check "every line is whole JSON" jq -e . "$d/out" >/dev/null
end

begin "pipe: a consumer that can never start: the collector gives up at the shutdown timeout and counts all undelivered"
d=$WORK/pipe-dead
mkdir -p "$d"
start=$(date +%s%N)
"$C" run --shutdown-timeout 1s --sink "pipe:exit 1" exec --format text -- seq 1 2000 2>"$d/err"
rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
eq "collector exit status says loss" 3 "$rc"
check "ends at the shutdown timeout (${took} ms)" test "$took" -lt 5000
check "restarts are reported" grep -q "exited with 1; restarting" "$d/err"
eq "at the end the unread events are said once, not restarted for" 1 "$(grep -c 'events (.* bytes) not read by exit 1' "$d/err")"
eq "all 2001 events counted undelivered" "collector: warn: 2001 events were not delivered" \
	"$(grep 'were not delivered' "$d/err")"
end
