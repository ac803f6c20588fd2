# collector show: stored events read back with their own time and pid, filtered, followed.

# A stored file as the file sink writes it: fixed times (2026-11-05T14:09:08Z) and pids.
show_fixture() {
	local f=$1
	cat >"$f" <<'JSON'
{"type":"http.request","ts":"2026-11-05T14:09:08.537Z","ts_ns":1793887748537000000,"runner":"ssl","seq":0,"host":"vm","pid":4242,"comm":"curl","data":{"conn":"4242:1","method":"GET","path":"/a","headers":[["Host","example.org"]]}}
{"type":"http.response","ts":"2026-11-05T14:09:08.549Z","ts_ns":1793887748549300000,"runner":"ssl","seq":1,"host":"vm","pid":4242,"comm":"curl","data":{"conn":"4242:1","method":"GET","path":"/a","status":502,"latency_ns":12300000}}
{"type":"process.exec","ts":"2026-11-05T14:10:00Z","ts_ns":1793887800000000000,"runner":"process","seq":0,"host":"vm","pid":777,"ppid":1,"comm":"python3","data":{"uid":1000,"filename":"/usr/bin/python3","argv":["python3","job.py"]}}
{"type":"process.fork","ts":"2026-11-05T14:10:01Z","ts_ns":1793887801000000000,"runner":"process","seq":1,"host":"vm","pid":777,"ppid":1,"comm":"python3","data":{"uid":1000,"child_pid":778}}
{"type":"process.exit","ts":"2026-11-05T14:10:02Z","ts_ns":1793887802000000000,"runner":"process","seq":2,"host":"vm","pid":777,"ppid":1,"comm":"python3","data":{"uid":1000,"exit_code":null,"signal":11,"signal_name":"SIGSEGV","duration_ns":2000000000,"argv":["python3","job.py"]}}
JSON
}

begin "show: the readable view of a stored file keeps the events' own time and pid"
d=$WORK/show
mkdir -p "$d"
show_fixture "$d/ev.jsonl"
TZ=UTC COLUMNS=200 "$C" show --pretty "$d/ev.jsonl" >"$d/out" 2>"$d/err"
eq "exit status" 0 $?
check "http row: method, path, status, latency, host, pid, time" \
	grep -Eq '^14:09:08\.549 curl +4242 example\.org +GET /a → 502 12\.3 ms$' "$d/out"
check "process header" grep -Eq '^TIME +EVENT +UID +COMM +PID +PPID +RET/EXIT +DURATION +ARGS$' "$d/out"
check "exec row" grep -Eq '^14:10:00\.000 exec +1000 python3 +777 +1 +0 +python3 job\.py$' "$d/out"
check "exit row with its signal and duration" \
	grep -Eq '^14:10:02\.000 exit +1000 python3 +777 +1 +SIGSEGV +2\.00 s python3 job\.py$' "$d/out"
eq "forks hidden" 0 "$(grep -c 'child 778' "$d/out")"
TZ=UTC COLUMNS=200 "$C" show --pretty --forks "$d/ev.jsonl" >"$d/forks"
eq "--forks shows them" 1 "$(grep -c 'child 778' "$d/forks")"
end

begin "show: gzip rotations and stdin read the same; --json passes lines through byte for byte"
gzip -c "$d/ev.jsonl" >"$d/ev.jsonl.000001.gz"
TZ=UTC COLUMNS=200 "$C" show --pretty "$d/ev.jsonl.000001.gz" >"$d/gz"
check "gz = plain" cmp -s "$d/out" "$d/gz"
TZ=UTC COLUMNS=200 "$C" show --pretty - <"$d/ev.jsonl" >"$d/stdin"
check "stdin = plain" cmp -s "$d/out" "$d/stdin"
"$C" show --json "$d/ev.jsonl.000001.gz" "$d/ev.jsonl" >"$d/both"
check "rotation then live file, as stored" cmp -s "$d/both" <(cat "$d/ev.jsonl" "$d/ev.jsonl")
end

begin "show: --type, --runner, --since/--until and --where filter"
eq "--type 'http.*'" 2 "$("$C" show --json --type 'http.*' "$d/ev.jsonl" | wc -l)"
eq "--type twice" 3 "$("$C" show --json --type 'http.*' --type process.exec "$d/ev.jsonl" | wc -l)"
eq "--runner" 3 "$("$C" show --json --runner process "$d/ev.jsonl" | wc -l)"
eq "--since RFC 3339" 3 "$("$C" show --json --since 2026-11-05T14:09:30Z "$d/ev.jsonl" | wc -l)"
eq "--since with an offset" 3 "$("$C" show --json --since 2026-11-05T15:09:30+01:00 "$d/ev.jsonl" | wc -l)"
eq "--until" 2 "$("$C" show --json --until 2026-11-05T14:09:30Z "$d/ev.jsonl" | wc -l)"
eq "--since 10m (relative: long ago)" 0 "$("$C" show --json --since 10m "$d/ev.jsonl" | wc -l)"
eq "--where" 502 "$("$C" show --json --where 'data.status >= 500 and comm == "curl"' "$d/ev.jsonl" |
	jq -r .data.status)"
eq "--where over an array" 2 "$("$C" show --json --where 'data.argv == "job.py"' "$d/ev.jsonl" | wc -l)"
end

begin "show: bad input is one clear line and exit 2; lines that are not events are skipped, named"
"$C" show --where 'data.status >=' "$d/ev.jsonl" >/dev/null 2>"$d/err"
eq "bad --where: exit 2" 2 $?
check "bad --where: the column" grep -q "column 15: expected a value after '>='" "$d/err"
eq "bad --where: one line" 1 "$(wc -l <"$d/err")"
"$C" show "$d/missing.jsonl" >/dev/null 2>"$d/err"
eq "missing file: exit 2" 2 $?
check "missing file: says so" grep -q 'cannot open .*missing.jsonl: No such file' "$d/err"
"$C" show --since yesterday "$d/ev.jsonl" >/dev/null 2>"$d/err"
eq "bad --since: exit 2" 2 $?
{ cat "$d/ev.jsonl"; echo 'not json'; } >"$d/bad.jsonl"
"$C" show --json "$d/bad.jsonl" >"$d/bad.out" 2>"$d/err"
eq "bad line: still exit 0" 0 $?
eq "bad line: the events shown" 5 "$(wc -l <"$d/bad.out")"
check "bad line: named by file and line" grep -q 'bad.jsonl:6: not JSON' "$d/err"
end

begin "show --follow: reads on as the file grows and into the next file after a rotation"
f=$d/live.jsonl
line() { printf '{"type":"t.%s","ts_ns":1,"runner":"r","data":{}}\n' "$1"; }
line a >"$f"
"$C" show --json --follow "$f" >"$d/follow" 2>"$d/follow.err" &
pid=$!
sleep 0.5
line b >>"$f"
sleep 0.5
mv "$f" "$f.000001"
line c >>"$f.000001"
line d >"$f"
sleep 0.8
line e >>"$f"
sleep 0.8
kill "$pid"
wait "$pid" 2>/dev/null
eq "every line, in order, across the rotation" "t.a t.b t.c t.d t.e" "$(jq -r .type "$d/follow" | xargs)"
end
