# The script runner: bash and python3 scripts, checks before the start, errors with file:line.

S=$WORK/script
mkdir -p "$S"
PY=/usr/bin/python3

begin "script: a bash script's lines, JSON events, arguments and exit code"
cat >"$S/ok.sh" <<'SH'
#!/bin/bash
echo "hello $1"
echo '{"type":"my.event","n":1}'
exit 3
SH
out=$S/ok.jsonl
"$C" run script --interpreter bash --script "$S/ok.sh" world >"$out"
eq "exit status of the collector" 1 "$?"
eq "types" "script.line my.event script.exit" "$(jq -r .type "$out" | xargs)"
eq "line" "hello world" "$(field "$out" script.line .data.line)"
eq "exit code" 3 "$(field "$out" script.exit .data.exit_code)"
eq "status" failed "$(field "$out" script.exit .data.status)"
eq "argv" "$(command -v bash) $S/ok.sh world" "$(jq -r 'select(.type=="script.exit") | .data.argv | join(" ")' "$out")"
eq "runner" script "$(field "$out" script.exit .runner)"
end

begin "script: a python3 script's traceback keeps the script's file and line"
printf 'print("py")\nraise ValueError("boom")\n' >"$S/boom.py"
out=$S/py.jsonl
"$C" run script --interpreter "$PY" --script "$S/boom.py" >"$out"
eq "stdout" py "$(field "$out" script.line .data.line)"
eq "file:line of the error" "$S/boom.py:2" "$(jq -r 'select(.type=="script.stderr" and .data.script_line) | "\(.data.script_file):\(.data.script_line)"' "$out")"
eq "exit code" 1 "$(field "$out" script.exit .data.exit_code)"
end

begin "script: a syntax error is the interpreter's, with its line"
printf 'echo before\nif then fi\n' >"$S/syntax.sh"
out=$S/syntax.jsonl
"$C" run script --interpreter bash --script "$S/syntax.sh" >"$out"
eq "exit status" 1 "$?"
eq "line of the syntax error" 2 "$(jq -r 'select(.type=="script.stderr" and .data.script_line) | .data.script_line' "$out" | head -n 1)"
eq "exit code" 2 "$(field "$out" script.exit .data.exit_code)"
end

begin "script: checked before anything starts (usage errors, exit 2)"
err=$S/err.txt
"$C" run script --interpreter no-such-interpreter --script "$S/ok.sh" >/dev/null 2>"$err"
eq "missing interpreter: exit 2" 2 "$?"
check "missing interpreter: one clear line" grep -q "interpreter no-such-interpreter: not found" "$err"
"$C" run script --interpreter bash --script "$S/absent.sh" >/dev/null 2>"$err"
eq "missing script: exit 2" 2 "$?"
check "missing script named" grep -q "absent.sh: No such file" "$err"
"$C" run script --interpreter bash >/dev/null 2>"$err"
eq "no script: exit 2" 2 "$?"
end

begin "script: a shebang that disagrees with --interpreter is a warning, not an error"
printf '#!/usr/bin/env python3\nprint(1)\n' >"$S/shebang.py"
err=$S/warn.txt
"$C" run script --interpreter "$PY" --script "$S/shebang.py" >/dev/null 2>"$err"
eq "agreeing shebang: exit 0" 0 "$?"
check "agreeing: no warning" test ! -s "$err"
"$C" run script --interpreter sh --script "$S/shebang.py" >/dev/null 2>"$err"
check "disagreeing: warned" grep -q "starts with #!...python3 but runs with --interpreter sh" "$err"
end

begin "script: config keys script_path, interpreter and args; the exec machinery's timeout"
printf 'echo "args: $*"\nsleep 10\n' >"$S/slow.sh"
cat >"$S/cfg.json" <<JSON
{"runners":[{"name":"s1","type":"script","script_path":"$S/slow.sh","interpreter":"sh",
  "args":["a","b"],"timeout":"300ms","grace":"100ms"}],
 "sinks":[{"name":"out","type":"file","path":"$S/cfg.jsonl"}]}
JSON
"$C" run --config "$S/cfg.json"
eq "exit status" 1 "$?"
eq "args" "args: a b" "$(field "$S/cfg.jsonl" script.line .data.line)"
eq "timeout" timeout "$(field "$S/cfg.jsonl" script.exit .data.status)"
end

begin "script: a run killed by a signal gets script.crash with --health (stderr tail, sender) and a report file"
printf 'echo "about to fail" >&2\nkill -SEGV $$\n' >"$S/segv.sh"
out=$S/crash.jsonl
"$C" run script --health --crash-dir "$S/crashes" --interpreter bash --script "$S/segv.sh" >"$out" 2>/dev/null
eq "exit status" 1 "$?"
eq "signal" SIGSEGV "$(field "$out" script.crash .data.signal)"
eq "cause" signal "$(field "$out" script.crash .data.cause)"
eq "stderr tail" "about to fail" "$(field "$out" script.crash '.data.stderr | join("|")')"
eq "report written" 1 "$(find "$S/crashes" -name '*.json' | wc -l | tr -d ' ')"
check "collector crashes lists it" sh -c "'$C' crashes --dir '$S/crashes' | grep -q SIGSEGV"
out=$S/clean.jsonl
"$C" run script --health --crash-dir "$S/crashes" --interpreter bash --script "$S/ok.sh" >"$out" 2>/dev/null
eq "an exit code is no crash" 0 "$(count "$out" '.type=="script.crash"')"
end
