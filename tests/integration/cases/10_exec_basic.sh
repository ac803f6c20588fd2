# exec runner: lines, typed JSON, exit results.

begin "echo gives exec.line and a successful exec.exit"
out=$WORK/echo.jsonl
"$C" run exec -- echo hello >"$out"
eq "exit status" 0 $?
eq "line" hello "$(field "$out" exec.line .data.line)"
eq "status" success "$(field "$out" exec.exit .data.status)"
eq "exit code" 0 "$(field "$out" exec.exit .data.exit_code)"
eq "envelope" "exec 0 true" "$(jq -r 'select(.type=="exec.line") | "\(.runner) \(.seq) \(.ts|test("^[0-9-]{10}T[0-9:]{8}\\.[0-9]{9}Z$"))"' "$out")"
eq "pid is the child's" "$(field "$out" exec.exit .pid)" "$(field "$out" exec.line .pid)"
end

begin "JSON lines keep their type, envelope fields and unknown fields"
out=$WORK/json.jsonl
"$C" run exec -- printf '%s\n' '{"type":"app.login","user":"ann","n":18446744073709551615,"nested":{"a":[1,2]}}' \
	'{"type":"app.tick","pid":4242,"comm":"ticker","data":{"k":"v"}}' >"$out"
eq "type kept" 1 "$(count "$out" '.type=="app.login"')"
eq "unknown fields in data" '{"user":"ann","n":18446744073709551615,"nested":{"a":[1,2]}}' \
	"$(grep '"app.login"' "$out" | sed 's/.*"data"://; s/}$//')"
eq "pid and comm from the line" "4242 ticker" "$(field "$out" app.tick '"\(.pid) \(.comm)"')"
eq "data member becomes data" '{"k":"v"}' "$(field "$out" app.tick '.data|tojson')"
end

begin "a failing command: exit code and exit status 1"
out=$WORK/fail.jsonl
"$C" run exec -- sh -c 'exit 3' >"$out"
eq "collector exit status" 1 $?
eq "status" failed "$(field "$out" exec.exit .data.status)"
eq "exit code" 3 "$(field "$out" exec.exit .data.exit_code)"
end

begin "a crashing command: signal, name and core flag"
out=$WORK/segv.jsonl
"$C" run exec -- sh -c 'kill -SEGV $$' >"$out"
eq "signal" "11 SIGSEGV null" "$(field "$out" exec.exit '"\(.data.signal) \(.data.signal_name) \(.data.exit_code)"')"
eq "core_dumped is a boolean" boolean "$(field "$out" exec.exit '.data.core_dumped|type')"
end

begin "a command that does not exist is an error result"
out=$WORK/nocmd.jsonl
"$C" run exec -- /nonexistent/cmd >"$out" 2>"$WORK/nocmd.err"
eq "collector exit status" 1 $?
eq "status" error "$(field "$out" exec.exit .data.status)"
check "error names the command" grep -q "nonexistent" <<<"$(field "$out" exec.exit .data.error)"
end

begin "exits mid-line: the last line without newline is kept"
out=$WORK/midline.jsonl
"$C" run exec -- printf 'one\ntwo-without-newline' >"$out"
eq "lines" "one two-without-newline" "$(jq -r 'select(.type=="exec.line") | .data.line' "$out" | xargs)"
end

begin "stderr lines become exec.stderr"
out=$WORK/stderr.jsonl
"$C" run exec -- sh -c 'echo oops >&2' >"$out"
eq "stderr" oops "$(field "$out" exec.stderr .data.line)"
end

begin "closes stdout but keeps running: the run waits for the exit"
out=$WORK/closed.jsonl
start=$(date +%s%N)
"$C" run exec -- sh -c 'echo before; exec 1>&-; sleep 1; exit 4' >"$out"
took=$(( ($(date +%s%N) - start) / 1000000 ))
eq "line" before "$(field "$out" exec.line .data.line)"
eq "exit code" 4 "$(field "$out" exec.exit .data.exit_code)"
check "waited for the exit (${took} ms)" test "$took" -ge 900
end

begin "the child sees only stdin, stdout and stderr"
out=$WORK/fds.jsonl
"$C" run exec --format text -- sh -c 'ls /proc/$$/fd' >"$out"
eq "fds" "0 1 2" "$(jq -r 'select(.type=="exec.line") | .data.line' "$out" | sort -n | grep -v '^10$' | xargs)"
end

begin "--env and --cwd reach the child"
out=$WORK/env.jsonl
"$C" run exec --env GREETING=hi --cwd / -- sh -c 'echo "$GREETING $(pwd)"' >"$out"
eq "line" "hi /" "$(field "$out" exec.line .data.line)"
end
