# The pipe and fifo sinks: slow and dying readers lose nothing; fan-out with a stalled sink.

begin "pipe: a slow consumer gets every event (backpressure)"
d=$WORK/pipe-slow
mkdir -p "$d"
"$C" run --queue-events 64 --sink "pipe:sleep 1; cat >$d/out" exec --format text -- seq 1 20000
eq "collector exit status" 0 $?
eq "every line once, in order" "20000 0" \
	"$(jq -r 'select(.type=="exec.line") | .data.line' "$d/out" | awk 'NR!=$1{bad++} END{print NR, bad+0}')"
end

begin "pipe: a consumer that keeps dying is restarted and nothing is lost"
d=$WORK/pipe-die
mkdir -p "$d"
# Reads byte by byte (sh's read on a pipe), so what it did not read stays in the pipe.
cat >"$d/consumer.sh" <<SH
i=0
while IFS= read -r l; do printf '%s\n' "\$l" >>$d/out; i=\$((i + 1)); [ \$i -ge 700 ] && exit 1; done
# At the end of its input it has handled every line: exit 0 (non-zero would count them lost).
exit 0
SH
"$C" run --sink "pipe:sh $d/consumer.sh" exec --format text -- seq 1 3000 2>"$d/err"
eq "collector exit status" 0 $?
check "restarts reported" grep -q "exited with 1; restarting" "$d/err"
eq "every line once, in order" "3000 0" \
	"$(jq -r 'select(.type=="exec.line") | .data.line' "$d/out" | awk 'NR!=$1{bad++} END{print NR, bad+0}')"
end

begin "fifo: waits for a reader without blocking, survives a reader change"
d=$WORK/fifo
mkdir -p "$d"
"$C" run --sink "fifo:$d/ff" exec --format text -- sh -c 'seq 1 2000; sleep 1; seq 2001 4000' 2>"$d/err" &
pid=$!
sleep 0.5
check "created as a fifo" test -p "$d/ff"
check "collector still running while nobody reads" kill -0 "$pid"
head -c 100000 <"$d/ff" >/dev/null # one reader reads a little and goes away
sleep 0.1
cat "$d/ff" >"$d/out" &
reader=$!
wait "$pid"
eq "collector exit status" 0 $?
wait "$reader"
last=$(jq -r 'select(.type=="exec.line") | .data.line' "$d/out" | tail -n 1)
eq "the second reader got the end" 4000 "$last"
check "output is whole JSON lines" jq -e . "$d/out" >/dev/null
end

begin "fan-out: a stalled sink with block slows the runner, every sink gets everything"
d=$WORK/fan-block
mkdir -p "$d"
cat >"$d/c.json" <<CFG
{"runners": [{"type": "exec", "format": "text", "command": ["seq", "1", "20000"]}],
 "sinks": [{"name": "disk", "type": "file", "path": "$d/file"},
           {"name": "slow", "type": "pipe", "command": "sleep 1; cat >$d/pipe",
            "queue": {"max_events": 64, "policy": "block"}}]}
CFG
"$C" run --config "$d/c.json"
eq "collector exit status" 0 $?
eq "file got all" 20000 "$(count "$d/file" '.type=="exec.line"')"
eq "stalled pipe got all" 20000 "$(count "$d/pipe" '.type=="exec.line"')"
end

begin "fan-out: a stalled sink with drop_newest drops and counts, the other gets everything"
d=$WORK/fan-drop
mkdir -p "$d"
cat >"$d/c.json" <<CFG
{"runners": [{"type": "exec", "format": "text", "command": ["seq", "1", "100000"]}],
 "sinks": [{"name": "disk", "type": "file", "path": "$d/file"},
           {"name": "slow", "type": "pipe", "command": "sleep 1; cat >$d/pipe",
            "queue": {"max_events": 64, "max_bytes": "64KiB", "policy": "drop_newest"}}]}
CFG
"$C" run --config "$d/c.json"
rc=$?
eq "collector exit status says loss" 3 "$rc"
eq "file got all" 100000 "$(count "$d/file" '.type=="exec.line"')"
kept=$(count "$d/pipe" '.type=="exec.line"')
dropped=$(jq -s '[.[] | select(.type=="collector.loss") | .data.dropped] | add // 0' "$d/pipe")
check "the stalled sink dropped some ($dropped)" test "$dropped" -gt 0
eq "kept + dropped == produced" 100001 $((kept + dropped + $(count "$d/pipe" '.type=="exec.exit"')))
check "no loss reported for the file" test "$(count "$d/file" '.type=="collector.loss"')" = 0
end
