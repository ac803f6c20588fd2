# Every loss path exits 3 with one clear line; a sink that works again gets a collector.loss event.

begin "pipe: a command that fails at the end of its input loses what it read: exit 3"
d=$WORK/loss-pipe-end
mkdir -p "$d"
"$C" run --sink "pipe:cat >$d/out; exit 1" exec --format text -- seq 1 50 2>"$d/err"
eq "collector exit status" 3 $?
check "one clear line" grep -q "exited with 1 at the end of its input: the 51 events it read are counted lost" "$d/err"
eq "the command did read them" 50 "$(count "$d/out" '.type=="exec.line"')"
end

begin "pipe: a command that cannot start: exit 3, the unread events said"
d=$WORK/loss-pipe-start
mkdir -p "$d"
"$C" run --shutdown-timeout 1s --sink "pipe:/nonexistent/bin" exec -- echo hi 2>"$d/err"
eq "collector exit status" 3 $?
check "not-read line" grep -q "events (.* bytes) not read by /nonexistent/bin" "$d/err"
end

begin "pipe: a command that exits non-zero without reading: exit 3"
d=$WORK/loss-pipe-exit
mkdir -p "$d"
"$C" run --shutdown-timeout 1s --sink 'pipe:sh -c "exit 1"' exec -- echo hi 2>"$d/err"
eq "collector exit status" 3 $?
check "restart line" grep -q "exited with 1; restarting" "$d/err"
end

begin "stdout: a reader that goes away: exit 3"
d=$WORK/loss-stdout
mkdir -p "$d"
"$C" run exec --format text -- seq 1 100000 2>"$d/err" | head -c 10 >/dev/null
eq "collector exit status" 3 "${PIPESTATUS[0]}"
check "one clear line" grep -q "more lost" "$d/err"
end

if ! command -v kcat >/dev/null; then
	skip "kafka loss" "kcat is not installed (make deps)"
else
	begin "kafka: an event too large fails, counted, told in collector.loss; exit 3"
	d=$WORK/loss-kafka
	mkdir -p "$d"
	start_mock "$d"
	big=$(head -c 3000 /dev/zero | tr '\0' x)
	timeout 60 "$C" run -X message.max.bytes=2000 --sink "kafka://$boot/events" \
		exec --format text -- sh -c "echo small; echo $big; sleep 1.5; echo after" 2>"$d/err"
	eq "collector exit status" 3 $?
	check "one clear line" grep -q "produce: .*too large" "$d/err"
	timeout 20 kcat -C -b "$boot" -t events -o beginning -e -q -f '%s\n' >"$d/got"
	eq "the loss event" "failed 1" "$(jq -r 'select(.type=="collector.loss") | "\(.data.reason) \(.data.failed)"' "$d/got")"
	eq "the other lines" "after small" "$(jq -r 'select(.type=="exec.line") | .data.line' "$d/got" | sort | xargs)"
	stop_mock
	end
fi
