# run --pretty: per-type tables fitted to the terminal, forks hidden, escapes shown not obeyed.

# A command printing events of several kinds (the exec runner takes their types and pids).
pretty_events() {
	cat <<'JSON'
{"type":"process.exec","pid":777,"ppid":1,"comm":"python3","data":{"uid":1000,"argv":["python3","job.py"]}}
{"type":"process.fork","pid":777,"ppid":1,"comm":"python3","data":{"uid":1000,"child_pid":778}}
{"type":"process.exit","pid":777,"ppid":1,"comm":"python3","data":{"uid":1000,"exit_code":3,"duration_ns":12300000,"argv":["python3","job.py"]}}
{"type":"health.sample","pid":777,"data":{"cpu_percent":12.5,"rss_bytes":123456789,"threads":3,"processes":1,"source":"procfs"}}
{"type":"algorithm.result","pid":900,"data":{"instance":0,"id":7,"method":"detect","outcome":"timeout","latency_us":1500,"message":"no result within 1 s"}}
{"type":"algorithm.crash","pid":901,"data":{"instance":1,"id":"20261205-140000-901","cause":"signal","signal":"SIGSEGV","killed_by":null,"uptime_ms":2500,"calls_in_flight":[{"id":8}]}}
JSON
	printf 'a \033]0;owned\007 title \033[2J\n' >&2
}

begin "--pretty: a table per kind of event, aligned, forks hidden, control characters escaped"
d=$WORK/pretty
mkdir -p "$d"
export -f pretty_events
COLUMNS=200 "$C" run --pretty exec -- bash -c pretty_events >"$d/out" 2>"$d/err"
eq "exit status" 0 $?
check "process table header" grep -Eq '^TIME +EVENT +UID +COMM +PID +PPID +RET/EXIT +DURATION +ARGS$' "$d/out"
check "exec row" grep -Eq '^[0-9:.]{12} exec +1000 python3 +777 +1 +0 +python3 job\.py$' "$d/out"
check "exit row: code and duration" grep -Eq '^[0-9:.]{12} exit +1000 python3 +777 +1 +3 +12\.3 ms python3 job\.py$' "$d/out"
eq "fork hidden" 0 "$(grep -c 'child 778' "$d/out")"
check "health: human sizes" grep -Eq '^[0-9:.]{12} exec +777 sample +12\.5 +117\.7 MiB +3 +1 procfs$' "$d/out"
check "algorithm result" grep -Eq 'result +detect #7 timeout 1\.5 ms: no result within 1 s$' "$d/out"
check "algorithm crash" grep -Eq 'crash +CRASH signal "?SIGSEGV"? after 2\.50 s, 1 calls in flight' "$d/out"
check "escape shown" grep -Fq 'a \x1b]0;owned\x07 title \x1b[2J' "$d/out"
eq "no raw escape reaches the terminal" 0 "$(grep -c $'\033' "$d/out")"
COLUMNS=200 "$C" run --pretty --forks exec -- bash -c pretty_events >"$d/forks" 2>/dev/null
check "--forks shows them" grep -Eq 'fork .* child 778$' "$d/forks"
end

begin "--pretty: fitted to the terminal width (COLUMNS), cut lines marked"
COLUMNS=50 "$C" run --pretty exec -- bash -c pretty_events >"$d/narrow" 2>/dev/null
eq "no line wider than 50 columns" 0 "$(awk 'length($0) > 50' "$d/narrow" | wc -l)"
check "a cut line ends in ~" grep -q '~$' "$d/narrow"
end

begin "--pretty: header lines are not events (every event delivered, exit 0)"
"$C" run --pretty --summary exec -- bash -c pretty_events >/dev/null 2>"$d/sum"
eq "exit status" 0 $?
check "stdout delivered all 8 (6 + stderr + exit)" grep -Eq '^  stdout +stdout +8 +0 +0 +0$' "$d/sum"
end

begin "--pretty with no stdout sink: exit 2, one line"
"$C" run --pretty --sink "file:$d/f.jsonl" exec -- true >"$d/o" 2>"$d/e"
eq "exit status" 2 $?
check "says what to do" grep -q -- '--pretty shows the stdout sink, and no --sink is stdout: add --sink stdout' "$d/e"
eq "one line" 1 "$(wc -l <"$d/e")"
end

if [ "$(id -u)" != 0 ]; then
	skip "--pretty with the process runner" "needs root for BPF"
else
	begin "--pretty with the process runner: execsnoop-like rows"
	COLUMNS=200 timeout 30 "$C" run --pretty process >"$d/proc" 2>"$d/proc.err" &
	p=$!
	for _ in $(seq 1 100); do
		grep -q 'ready' "$d/proc" 2>/dev/null && break
		sleep 0.1
	done
	/bin/sh -c 'exit 0' pretty56marker
	sleep 1
	kill -INT "$p"
	wait "$p"
	check "exec row with args" grep -Eq '^[0-9:.]{12} exec +0 sh +[0-9]+ +[0-9]+ +0 +/bin/sh -c "exit 0" pretty56marker$' "$d/proc"
	check "exit row" grep -Eq '^[0-9:.]{12} exit +0 sh +[0-9]+ +[0-9]+ +0 +[0-9.]+ [mµ]?s /bin/sh -c "exit 0" pretty56marker$' "$d/proc"
	end
fi

begin "--pretty: hidden forks are delivered, even as the first events of a run"
printf '{"type":"process.fork","pid":1,"data":{"child_pid":2}}\n%.0s' 1 2 3 >"$d/forks.jsonl"
"$C" run --pretty --summary exec --format json -- cat "$d/forks.jsonl" >/dev/null 2>"$d/forks.sum"
eq "exit status" 0 $?
check "stdout delivered all 4" grep -Eq '^  stdout +stdout +4 +0 +0 +0$' "$d/forks.sum"
end
