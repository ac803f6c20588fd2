# The file sink grown up: rotation by size and age, gzip off the loop, keep N, crash recovery.

begin "rotation under load with gzip: every event exactly once, in order, across the files"
d=$WORK/rot-gz
mkdir -p "$d"
cat >"$d/c.json" <<CFG
{"runners": [{"type": "exec", "format": "text", "command": ["seq", "1", "300000"]}],
 "sinks": [{"type": "file", "path": "$d/ev.jsonl", "rotate-size": "2MiB", "compress": "gzip"}]}
CFG
"$C" run --config "$d/c.json"
eq "collector exit status" 0 $?
n=$(ls "$d"/ev.jsonl.*.gz | wc -l)
check "several rotated files ($n)" test "$n" -ge 5
check "no uncompressed or temporary rotated file left" test -z "$(ls "$d" | grep -v -e '\.gz$' -e '^ev\.jsonl$' -e '^c\.json$')"
eq "mode of rotated files" 640 "$(stat -c %a "$(ls "$d"/ev.jsonl.*.gz | head -n 1)")"
{ for f in $(ls "$d"/ev.jsonl.*.gz | sort); do zcat "$f"; done; cat "$d/ev.jsonl"; } >"$d/all"
eq "every line once, in order" "300000 0" \
	"$(jq -r 'select(.type=="exec.line") | .data.line' "$d/all" | awk 'NR!=$1{bad++} END{print NR, bad+0}')"
eq "gap-free seq" "$(wc -l <"$d/all" | tr -d ' ')" "$(jq -r .seq "$d/all" | awk 'NR-1==$1{ok++} END{print ok}')"
end

begin "keep N removes the oldest rotated files; a restart continues the sequence"
d=$WORK/rot-keep
mkdir -p "$d"
cat >"$d/c.json" <<CFG
{"runners": [{"type": "exec", "format": "text", "command": ["seq", "1", "100000"]}],
 "sinks": [{"type": "file", "path": "$d/ev.jsonl", "rotate-size": "512KiB", "keep": 3,
            "rotate-name": "$d/archive-{time}-{seq}.jsonl"}]}
CFG
"$C" run --config "$d/c.json"
first=$(ls "$d" | grep -c '^archive-')
"$C" run --config "$d/c.json"
eq "kept files" "3 3" "$first $(ls "$d" | grep -c '^archive-')"
last=$(ls "$d"/archive-* | sed 's/.*-0*\([0-9]*\)\.jsonl$/\1/' | sort -n | tail -n 1)
check "sequence went on after the restart ($last)" test "$last" -gt 20
check "names follow the pattern" test -z "$(ls "$d"/archive-* | grep -v -E 'archive-[0-9]{8}T[0-9]{6}Z-[0-9]{6}\.jsonl$')"
end

begin "rotation by age"
d=$WORK/rot-age
mkdir -p "$d"
cat >"$d/c.json" <<CFG
{"runners": [{"type": "exec", "format": "text",
              "command": ["sh", "-c", "for i in 1 2 3 4 5 6; do echo \$i; sleep 0.2; done"]}],
 "sinks": [{"type": "file", "path": "$d/ev.jsonl", "rotate-age": "300ms", "compress": "gzip"}]}
CFG
"$C" run --config "$d/c.json"
n=$(ls "$d"/ev.jsonl.*.gz 2>/dev/null | wc -l)
check "rotated by age ($n files)" test "$n" -ge 2
eq "every line once, in order" "1 2 3 4 5 6" \
	"$({ for f in $(ls "$d"/ev.jsonl.*.gz | sort); do zcat "$f"; done; cat "$d/ev.jsonl"; } |
		jq -r 'select(.type=="exec.line") | .data.line' | xargs)"
end

begin "kill -9 mid-write, then a restart keeps only whole lines"
d=$WORK/crash
mkdir -p "$d"
"$C" run --sink "file:$d/ev.jsonl" exec --format text -- \
	sh -c 'while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done' &
pid=$!
sleep 0.5
kill -KILL "$pid"
wait "$pid" 2>/dev/null
# A write cut by the kill may or may not have left half a line; make sure one is there.
printf '{"type":"exec.line","da' >>"$d/ev.jsonl"
before=$(grep -c '}$' "$d/ev.jsonl")
"$C" run --sink "file:$d/ev.jsonl" exec -- echo after 2>"$d/err"
check "torn tail reported" grep -q "cut a torn last line of" "$d/err"
check "every line is whole JSON" jq -e . "$d/ev.jsonl" >/dev/null
eq "whole lines kept, new ones appended" $((before + 2)) "$(wc -l <"$d/ev.jsonl" | tr -d ' ')"
end

begin "--sink-option sets file sink options on the command line"
d=$WORK/rot-cli
mkdir -p "$d"
"$C" run --sink "file:$d/ev.jsonl" --sink-option rotate-size=256KiB --sink-option compress=gzip \
	exec --format text -- seq 1 10000
eq "collector exit status" 0 $?
check "rotated and compressed" test -n "$(ls "$d"/ev.jsonl.000001.gz 2>/dev/null)"
"$C" run --sink "file:$d/ev.jsonl" --sink-option rotate-size=lots exec -- true 2>"$d/err"
eq "bad value is a usage error" 2 $?
check "names the option" grep -q -- "--rotate-size: 'lots'" "$d/err"
end
