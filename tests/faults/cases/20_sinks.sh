# Sinks that fill their disk, stall or die: under block nothing accepted is lost silently,
# under a drop policy every loss is counted.

if [ "$(id -u)" = 0 ]; then
	begin "file: a full disk (1 MiB tmpfs) under drop_newest is a clear error; lines in the file + failed == emitted; only whole lines"
	d=$WORK/full
	mkdir -p "$d"
	if mount -t tmpfs -o size=1m collector-faults "$d"; then
		"$C" run --policy drop_newest --queue-events 30000 --queue-bytes 64MiB --sink "file:$d/ev.jsonl" exec --format text -- seq 1 20000 2>"$WORK/full.err"
		rc=$?
		written=$(wc -l <"$d/ev.jsonl" | tr -d ' ')
		failed=$(sed -n 's/^collector: warn: \([0-9]*\) events failed in sinks$/\1/p' "$WORK/full.err")
		eq "collector exit status says loss" 3 "$rc"
		check "the error names the cause" grep -q "write $d/ev.jsonl: No space left on device" "$WORK/full.err"
		check "some lines were written ($written)" test "$written" -gt 0
		# 20000 lines and exec.exit, plus a collector.loss report that may fail with them.
		total=$((written + ${failed:-0}))
		check "written + failed == emitted (20001, or 20002 with the loss report): $total" \
			test "$total" = 20001 -o "$total" = 20002
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

	begin "file: a full disk under block: the batch waits and is retried, nothing lost once space is freed"
	d=$WORK/full-block
	mkdir -p "$d"
	if mount -t tmpfs -o size=8m collector-faults "$d"; then
		dd if=/dev/zero of="$d/filler" bs=64k 2>/dev/null
		"$C" run --sink "file:$d/ev.jsonl" exec --format text -- seq 1 20000 2>"$d.err" &
		pid=$!
		for _ in $(seq 200); do grep -q 'retrying in' "$d.err" && break; sleep 0.05; done
		check "says it retries" grep -q "write $d/ev.jsonl: No space left on device; retrying in" "$d.err"
		rm -f "$d/filler"
		wait "$pid"
		eq "collector exit status" 0 $?
		eq "every line (20000 and exec.exit)" 20001 "$(grep -c '' "$d/ev.jsonl")"
		check "every line is whole JSON" jq -e . "$d/ev.jsonl" >/dev/null
		eq "each line once, in order" "20000 0" \
			"$(jq -r 'select(.type=="exec.line") | .data.line' "$d/ev.jsonl" | awk '$1 != NR {bad++} END {print NR, bad + 0}')"
		umount "$d"
	else
		CASE_OK=0
		echo "  FAIL [$CURRENT] mount -t tmpfs failed" >&2
	fi
	end

	begin "file: a symbolic link another user planted is refused at start; its target is untouched"
	d=$WORK/planted
	mkdir -p "$d"
	chmod 1777 "$d"
	printf '{"a":1}\n{"torn' >"$d/target"
	chown nobody "$d/target"
	su -s /bin/sh nobody -c "ln -s '$d/target' '$d/ev.jsonl'" 2>/dev/null || ln -s "$d/target" "$d/ev.jsonl"
	before=$(md5sum <"$d/target")
	"$C" run --sink "file:$d/ev.jsonl" exec -- echo through-the-link >/dev/null 2>"$d/err"
	eq "exit status (usage)" 2 $?
	eq "one error line" 1 "$(grep -c '' "$d/err")"
	check "it says why" grep -q "is a symbolic link" "$d/err"
	eq "the target is unchanged (no line written, no torn tail cut)" "$before" "$(md5sum <"$d/target")"
	end
else
	skip "file: a full disk" "mounting a tmpfs needs root"
	skip "file: a planted symbolic link" "a link of another user needs root"
fi

begin "file: a FIFO or a directory at the path is refused at start (exit 2, one line)"
d=$WORK/nonregular
mkdir -p "$d/dir"
mkfifo "$d/fifo"
for p in fifo dir; do
	timeout 10 "$C" run --sink "file:$d/$p" exec -- echo x >/dev/null 2>"$d/err.$p"
	eq "$p: exit status" 2 $?
	eq "$p: one error line" 1 "$(grep -c '' "$d/err.$p")"
done
check "the FIFO: says it is not a regular file" grep -q "is not a regular file" "$d/err.fifo"
end

begin "file: deleted while open: created again, said once, nothing after the deletion lost"
d=$WORK/deleted
mkdir -p "$d"
"$C" run --metrics=127.0.0.1:0 --sink "file:$d/ev.jsonl" exec --format text -- \
	sh -c "seq 1 200; while [ ! -e '$d/go' ]; do sleep 0.05; done; seq 201 400" 2>"$d/err" &
pid=$!
for _ in $(seq 200); do [ "$(grep -c '' "$d/ev.jsonl" 2>/dev/null)" = 200 ] && break; sleep 0.05; done
rm "$d/ev.jsonl"
touch "$d/go"
wait "$pid"
eq "collector exit status" 0 $?
eq "the new file has the 200 later lines and exec.exit" 201 "$(grep -c '' "$d/ev.jsonl" 2>/dev/null)"
eq "they are 201..400" "201 400" "$(jq -r 'select(.type=="exec.line") | .data.line' "$d/ev.jsonl" 2>/dev/null | sed -n '1p;$p' | paste -sd' ')"
eq "said once" 1 "$(grep -c 'ev.jsonl was deleted while open: created it again' "$d/err")"
end

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

begin "stdout into head -1: the lines written whole are delivered, only the rest failed (exact)"
d=$WORK/stdout-head
mkdir -p "$d"
"$C" run exec --format text -- seq 1 100000 2>"$d/err" | head -1 >"$d/got"
eq "head got the first line" 1 "$(jq -r .data.line "$d/got")"
written=$(sed -n 's/.*Broken pipe (\([0-9]*\) events written whole, .*/\1/p' "$d/err")
failed=$(sed -n 's/^collector: warn: \([0-9]*\) events failed in sinks$/\1/p' "$d/err")
check "some were written whole (${written:-none})" test "${written:-0}" -ge 1
check "not all failed (${failed:-none} of 100001)" test "${failed:-100001}" -lt 100001
# Emitted: 100,001 events, plus the collector.loss report the failures queue into the same
# sink (it fails too, and is counted with them).
total=$((${written:-0} + ${failed:-0}))
check "written whole + failed == emitted (100001, or 100002 with the loss report): $total" \
	test "$total" = 100001 -o "$total" = 100002
end

begin "stderr on a stopped reader: sinks and /healthz go on; the waiting log lines come out after"
d=$WORK/stderr-stopped
mkdir -p "$d"
mkfifo "$d/errpipe"
exec 7<>"$d/errpipe"
cat "$d/errpipe" >"$d/err" 7>&- &
rpid=$!
for _ in $(seq 100); do ls -l "/proc/$rpid/fd" 2>/dev/null | grep -q errpipe && break; sleep 0.02; done
kill -STOP "$rpid"
# The pipe is full before the collector's first line.
dd if=/dev/zero of="$d/errpipe" bs=4096 count=64 oflag=nonblock 2>/dev/null
"$C" run --metrics=127.0.0.1:0 --log-level debug --sink "file:$d/ev.jsonl" exec --format text -- \
	sh -c 'seq 1 1000; exec sleep 30' 2>"$d/errpipe" 7>&- &
pid=$!
for _ in $(seq 100); do [ "$(grep -c '' "$d/ev.jsonl" 2>/dev/null)" = 1000 ] && break; sleep 0.05; done
eq "the file sink got every line" 1000 "$(grep -c '' "$d/ev.jsonl" 2>/dev/null)"
addr=$(ss -ltnpH 2>/dev/null | grep "pid=$pid," | awk '{print $4}' | head -n 1)
check "/healthz answers (${addr:-not listening})" curl -s -m 3 -o /dev/null "http://$addr/healthz"
kill -TERM "$pid"
kill -CONT "$rpid"
wait "$pid"
eq "collector exit status" 0 $?
exec 7>&-
wait "$rpid"
check "the waiting lines came out once stderr took them" grep -aq 'collector: info: serving /metrics, /healthz and /runners on http://' "$d/err"
end
