# The summary at the end of a run: on a terminal's stderr, or with --summary.

begin "--summary: duration, events per type, sinks, losses, runners, exit meaning"
d=$WORK/summary
mkdir -p "$d"
"$C" run --summary --sink "file:$d/ev.jsonl" exec --format json -- sh -c '
	for i in 1 2 3; do echo "{\"type\":\"t.a\"}"; done; echo "{\"type\":\"t.b\"}"' 2>"$d/err"
eq "exit status" 0 $?
check "duration and total" grep -Eq '^summary: [0-9.]+ s, 5 events$' "$d/err"
check "t.a counted" grep -Eq '^    t\.a +3$' "$d/err"
check "t.b counted" grep -Eq '^    t\.b +1$' "$d/err"
check "sink row" grep -Eq '^  file +file +5 +0 +0 +0$' "$d/err"
check "no loss" grep -q '^  losses: none$' "$d/err"
check "runner outcome" grep -Eq '^  exec +exec +success +5 +0 +0$' "$d/err"
check "exit meaning" grep -q '^  exit status 0: ok$' "$d/err"
end

begin "--summary: a failed runner and lost events say what the exit status means"
"$C" run --summary exec -- false >/dev/null 2>"$d/fail"
eq "exit status" 1 $?
check "runner failed" grep -Eq '^  exec +exec +failed ' "$d/fail"
check "meaning" grep -q '^  exit status 1: a runner failed$' "$d/fail"
"$C" run --summary exec -- sh -c 'i=0; while [ $i -lt 20000 ]; do echo line; i=$((i+1)); done' 2>"$d/loss" | head -n 1 >/dev/null
check "losses counted" grep -Eq '^  losses: [0-9]+ dropped by full queues, [1-9][0-9]* failed in sinks' "$d/loss"
check "meaning of 3" grep -q '^  exit status 3: events were lost$' "$d/loss"
end

begin "summary: printed when stderr is a terminal, not when it is a file"
if command -v script >/dev/null; then
	script -qec "$C run exec -- true" /dev/null >"$d/tty" 2>&1 </dev/null
	check "on a terminal" grep -q 'summary: ' "$d/tty"
fi
"$C" run exec -- true >/dev/null 2>"$d/file"
eq "not to a file" 0 "$(grep -c 'summary: ' "$d/file")"
end
