# A command's descendants that escape its process group or keep its pipes, a collector killed
# with -9, forged and hostile JSON: runs end, trees die, counts are exact.

# gone PATTERN: true once no process matches PATTERN (within 2 s); kills what is left after.
gone() {
	for _ in $(seq 40); do
		pgrep -f "$1" >/dev/null || return 0
		sleep 0.05
	done
	pkill -KILL -f "$1"
	return 1
}

begin "exec: a setsid descendant keeping stdout: the run ends at the exit, exec.exit says what was left"
out=$WORK/setsid-stdout.jsonl
mark="600.$$1"
printf '#!/bin/sh\nsetsid sleep %s &\nfor i in $(seq 50); do echo "{\\"type\\":\\"t\\"}"; done\n' "$mark" >"$WORK/t.sh"
chmod +x "$WORK/t.sh"
timeout 20 "$C" run exec -- "$WORK/t.sh" >"$out"
eq "collector exit status" 0 $?
eq "every event, then exec.exit" "50 success" "$(count "$out" '.type=="t"') $(field "$out" exec.exit .data.status)"
if [ "$(id -u)" = 0 ]; then
	eq "one descendant left, killed" 1 "$(field "$out" exec.exit .data.descendants_left)"
	check "the descendant is gone" gone "sleep $mark"
else
	eq "the pipes were cut at the drain bound" true "$(field "$out" exec.exit .data.output_cut)"
	pkill -f "sleep $mark"
fi
end

if [ "$(id -u)" = 0 ]; then
	begin "exec: --timeout kills the whole tree, also what left the process group"
	out=$WORK/timeout-tree.jsonl
	mark="601.$$2"
	timeout 20 "$C" run exec --timeout 300ms -- sh -c "setsid sleep $mark & sleep $mark" >"$out"
	eq "collector exit status" 1 $?
	eq "status" timeout "$(field "$out" exec.exit .data.status)"
	check "nothing of the tree left" gone "sleep $mark"
	end

	begin "pipe: the command's children, also one that left its process group, die with it"
	mark="602.$$3"
	timeout 20 "$C" run --sink "pipe:setsid sleep $mark & cat >/dev/null" exec --format text -- seq 1 50 \
		2>/dev/null
	eq "collector exit status" 0 $?
	check "nothing of the tree left" gone "sleep $mark"
	end
else
	skip "exec/pipe: trees in a cgroup" "needs root to create cgroups"
fi

begin "kill -9 of the collector: its commands die with it; the next start removes what it left"
m1="603.$$4"
m2="604.$$5"
m3="605.$$6"
# In a wrapper whose stderr takes bash's "Killed" notice.
("$C" run --sink "pipe:exec sleep $m2" exec -- sh -c "setsid sleep $m3 & exec sleep $m1" >/dev/null 2>&1 &
	echo $! >"$WORK/k9.pid"
	wait) 2>/dev/null &
wrapper=$!
for _ in $(seq 100); do pgrep -f "sleep $m1" >/dev/null && pgrep -f "sleep $m2" >/dev/null && break; sleep 0.05; done
pid=$(cat "$WORK/k9.pid")
kill -KILL "$pid"
wait "$wrapper"
check "the exec command is gone" gone "sleep $m1"
check "the pipe command is gone" gone "sleep $m2"
if [ "$(id -u)" = 0 ]; then
	"$C" run --sink "pipe:cat >/dev/null" exec -- true >/dev/null 2>&1
	check "the next start killed the escaped descendant" gone "sleep $m3"
	eq "and removed the dead collector's cgroups" "" \
		"$(find /sys/fs/cgroup -maxdepth 3 -type d \( -name "collector-exec.$pid.*" -o -name "collector-pipe.$pid.*" \) 2>/dev/null)"
else
	pkill -f "sleep $m3"
fi
end

begin "pipe: a reader that takes 800 lines then stalls: delivered and not delivered add up exactly"
d=$WORK/pipe-count
mkdir -p "$d"
# sh's read takes a pipe byte by byte: exactly what it read left the pipe.
cat >"$d/reader.sh" <<SH
i=0
while [ \$i -lt 800 ] && IFS= read -r l; do printf '%s\n' "\$l" >>$d/out; i=\$((i + 1)); done
exec sleep 60
SH
"$C" run --shutdown-timeout 1s --sink "pipe:sh $d/reader.sh" exec --format text -- seq 1 5000 2>"$d/err"
eq "collector exit status says loss" 3 $?
eq "the reader got 800" 800 "$(wc -l <"$d/out")"
eq "not delivered: the 5001 written less the 800 read" 4201 \
	"$(sed -n 's/.*warn: \([0-9]*\) events were not delivered.*/\1/p' "$d/err")"
end

begin "pipe: a reader that never reads is reported, with how long, every stall-log"
d=$WORK/pipe-stall
mkdir -p "$d"
cat >"$d/c.json" <<CFG
{"runners": [{"type": "exec", "format": "text", "command": ["seq", "1", "3000"]}],
 "sinks": [{"name": "stuck", "type": "pipe", "command": "exec sleep 60", "stall-log": "300ms"}]}
CFG
"$C" run --shutdown-timeout 1500ms --config "$d/c.json" 2>"$d/err"
eq "collector exit status says loss" 3 $?
check "the stall is reported with its duration" grep -q "sink stuck: exec sleep 60 has read nothing for [0-9]*s" "$d/err"
check "more than once" test "$(grep -c 'has read nothing' "$d/err")" -ge 2
end

begin "pipe: the command's stderr flood is copied rate-limited, the rest counted"
d=$WORK/pipe-flood
mkdir -p "$d"
"$C" run --sink "pipe:seq 1 5000 >&2; cat >/dev/null" exec --format text -- seq 1 10 2>"$d/err"
eq "collector exit status" 0 $?
copied=$(grep -c '^[0-9]*$' "$d/err")
dropped=$(sed -n 's/.*: \([0-9]*\) lines of the output of .* were not copied.*/\1/p' "$d/err" | awk '{s += $1} END {print s + 0}')
check "fewer lines copied than written ($copied)" test "$copied" -lt 5000
eq "copied + counted == written" 5000 $((copied + dropped))
end

begin "exec: collector.* types from a command are renamed exec.forged.*, counted"
out=$WORK/forged.jsonl
"$C" run exec --format json -- sh -c 'echo "{\"type\":\"collector.loss\",\"data\":{\"dropped\":99}}"; echo "{\"type\":\"ok\"}"' >"$out"
eq "collector exit status" 0 $?
eq "no forged collector.loss" 0 "$(count "$out" '.type=="collector.loss"')"
eq "renamed, data kept" 99 "$(field "$out" exec.forged.collector.loss .data.dropped)"
eq "counted and reported" "1 1" \
	"$(field "$out" exec.exit .data.counters.forged) $(count "$out" '.type=="collector.error" and .data.reason=="reserved_type"')"
end

begin "exec: lone surrogates are replaced as invalid UTF-8 is, counted: output stays readable by Python"
out=$WORK/surrogates.jsonl
printf '%s\n' '{"type":"s","v":"a\ud800b","w":"\udc00","ok":"\ud83d\ude00","esc":"\\ud800"}' >"$WORK/surrogates.txt"
"$C" run exec --format json -- cat "$WORK/surrogates.txt" >"$out"
eq "collector exit status" 0 $?
check "Python reads and re-encodes every line" python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    json.dumps(json.loads(line), ensure_ascii=False).encode("utf-8")' "$out"
eq "surrogates replaced; a pair and an escaped backslash kept" 'a�b � 😀 \ud800' \
	"$(jq -r 'select(.type=="s") | "\(.data.v) \(.data.w) \(.data.ok) \(.data.esc)"' "$out")"
eq "the repaired line counted" 1 "$(field "$out" exec.exit .data.counters.invalid_utf8)"
end

begin "exec: nesting deeper than 128 levels is invalid JSON, counted: output stays readable by Python"
out=$WORK/deep.jsonl
python3 -c '
print("{\"type\":\"deep\",\"v\":" + "[" * 100000 + "]" * 100000 + "}")
print("{\"type\":\"limit\",\"v\":" + "[" * 127 + "]" * 127 + "}")
print("{\"type\":\"over\",\"v\":" + "[" * 128 + "]" * 128 + "}")' >"$WORK/deep.txt"
"$C" run exec --format json --max-line 4MiB -- cat "$WORK/deep.txt" >"$out"
eq "collector exit status" 0 $?
check "Python reads every line" python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    json.loads(line)' "$out"
eq "too deep: invalid_json errors; 128 levels taken" "0 1 0 2" \
	"$(count "$out" '.type=="deep"') $(count "$out" '.type=="limit"') $(count "$out" '.type=="over"') $(count "$out" '.type=="collector.error" and .data.reason=="invalid_json"')"
end
