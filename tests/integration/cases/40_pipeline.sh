# Floods, backpressure, drops and graceful stop through the real sinks.

begin "a flood reaches the file sink whole and in order"
out=$WORK/flood.jsonl
"$C" run --sink "file:$out" exec --format text -- seq 1 200000
eq "collector exit status" 0 $?
eq "lines" 200001 "$(wc -l <"$out" | tr -d ' ')"
eq "seq and payload in order" "0 1 199999 200000" \
	"$(jq -r 'select(.type=="exec.line") | "\(.seq) \(.data.line)"' "$out" | sed -n '1p;$p' | xargs)"
eq "gap-free seq" 200000 "$(jq -r .seq "$out" | awk 'NR-1!=$1{bad++} END{print NR-1-bad}')"
end

begin "block policy: a slow reader gets every event"
out=$WORK/slow.txt
"$C" run --queue-events 64 exec --format text -- seq 1 20000 |
	(sleep 1; cat) >"$out"
eq "every line delivered" 20000 "$(count "$out" '.type=="exec.line"')"
end

begin "drop_newest: a stalled sink drops, counts and reports the loss"
out=$WORK/drop.jsonl
"$C" run --policy drop_newest --queue-events 100 --queue-bytes 64KiB exec --format text -- seq 1 100000 |
	(sleep 1; cat) >"$out"
rc=${PIPESTATUS[0]}
eq "collector exit status says loss" 3 "$rc"
kept=$(count "$out" '.type=="exec.line"')
dropped=$(jq -s '[.[] | select(.type=="collector.loss") | .data.dropped] | add // 0' "$out")
check "some events dropped ($dropped)" test "$dropped" -gt 0
eq "kept + dropped == produced" 100001 $((kept + dropped + $(count "$out" '.type=="exec.exit"')))
end

begin "SIGTERM during a flood loses nothing already read"
out=$WORK/term.jsonl
"$C" run --sink "file:$out" exec --format text -- \
	sh -c 'while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done' &
pid=$!
sleep 1
kill -TERM "$pid"
wait "$pid"
eq "collector exit status" 0 $?
check "output is whole JSON lines" jq -e . "$out" >/dev/null
eq "status" canceled "$(field "$out" exec.exit .data.status)"
eq "every line read was written" "$(field "$out" exec.exit .data.counters.stdout_lines)" \
	"$(count "$out" '.type=="exec.line"')"
eq "gap-free seq" "$(wc -l <"$out" | tr -d ' ')" "$(jq -r .seq "$out" | awk 'NR-1==$1{ok++} END{print ok}')"
end

begin "fan-out: two file sinks get the same events; routes select by type"
a=$WORK/a.jsonl b=$WORK/b.jsonl
"$C" run --sink "all=file:$a" --sink "errs=file:$b" --route '*=all' --route 'exec.stderr=errs' \
	exec -- sh -c 'echo out; echo err >&2'
eq "all" "exec.exit exec.line exec.stderr" "$(jq -r .type "$a" | sort | xargs)"
eq "routed" "exec.stderr" "$(jq -r .type "$b" | xargs)"
end

begin "file sink: appends, cuts a torn tail, mode 0640"
out=$WORK/torn.jsonl
printf '{"whole":1}\n{"torn' >"$out"
"$C" run --sink "file:$out" exec -- echo x 2>"$WORK/torn.err"
eq "first line kept" '{"whole":1}' "$(head -n 1 "$out")"
check "torn tail cut and reported" grep -q "torn" "$WORK/torn.err"
check "rest is whole JSON" jq -e . "$out" >/dev/null
rm -f "$WORK/new.jsonl"
"$C" run --sink "file:$WORK/new.jsonl" exec -- true
eq "mode" 640 "$(stat -c %a "$WORK/new.jsonl")"
end

begin "SIGHUP reopens the file (logrotate)"
out=$WORK/rot.jsonl
"$C" run --sink "file:$out" exec --format text -- sh -c 'echo one; sleep 1; echo two' &
pid=$!
sleep 0.5
mv "$out" "$out.1"
kill -HUP "$pid"
wait "$pid"
eq "before rotation" one "$(field "$out.1" exec.line .data.line)"
eq "after rotation" two "$(field "$out" exec.line .data.line)"
end

begin "--pretty gives a readable row per event"
out=$WORK/pretty.txt
"$C" run --pretty exec -- echo hi >"$out"
check "readable" grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} exec\.line +exec +[0-9]+ hi$' "$out"
end

begin "a stop forced by the shutdown timeout still ends stdout on a whole line"
out=$WORK/forced.jsonl
{ "$C" run --shutdown-timeout 500ms exec --format json -- "$BUILD/tools/bench/gen" 10000000 |
	"$BUILD/tools/bench/slow_reader" 500 >/dev/null 2>"$WORK/forced.reader"; } 2>"$WORK/forced.err" &
sleep 1
pkill -TERM -f -- "--shutdown-timeout 500ms exec"
wait
eq "partial lines the reader saw" 0 "$(grep -c partial "$WORK/forced.reader")"
check "undelivered events are reported" grep -q "not delivered" "$WORK/forced.err"
end
