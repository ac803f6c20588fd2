# Command line and configuration file errors; config equivalent to CLI.

cli_error() {
	local err=$WORK/cli.err
	"$C" "$@" >/dev/null 2>"$err"
	local rc=$?
	eq "exit status of: collector $*" 2 "$rc"
	eq "one line of error for: collector $*" 1 "$(wc -l <"$err" | tr -d ' ')"
}

begin "bad flags and values exit 2 with one clear line"
cli_error run exec --timeout 5x -- true
cli_error run exec --bogus -- true
cli_error run nosuchrunner
cli_error run --sink nosuchsink:x exec -- true
cli_error run --policy sometimes exec -- true
cli_error run exec
cli_error frobnicate
check "names the flag" grep -q -- "--timeout" <<<"$("$C" run exec --timeout 5x -- true 2>&1)"
end

begin "validate: every problem with its JSON path"
cfg=$WORK/bad.json
cat >"$cfg" <<'JSON'
{"runners":[{"type":"exec","timeout":"soon"},{"type":"nope"},{"name":"x","type":"exec","command":["true"],"colour":1}],
 "sinks":[{"type":"file"},{"name":"q","type":"stdout","queue":{"policy":"maybe"}}],
 "routes":[{"match":"*","sinks":["missing"]}],
 "extra":true}
JSON
"$C" validate --config "$cfg" >"$WORK/val.out" 2>"$WORK/val.err"
eq "exit status" 2 $?
for p in '$.runners[0].timeout' '$.runners[0]: missing required option' '$.runners[1].type' \
	'$.runners[2].colour' '$.sinks[0]: missing required option' '$.sinks[1].queue.policy' \
	'$.routes[0].sinks[0]' '$.extra'; do
	check "reports $p" grep -qF "$p" "$WORK/val.err"
done
end

begin "a config file runs like the command line"
cfg=$WORK/good.json
out=$WORK/cfg.jsonl
cat >"$cfg" <<JSON
{"shutdown_timeout":"5s",
 "runners":[{"name":"greeter","type":"exec","command":["echo","hello"]},
            {"name":"counter","type":"exec","command":["seq","3"],"format":"text"}],
 "sinks":[{"name":"archive","type":"file","path":"$out","queue":{"max_events":1000,"policy":"block"}}],
 "routes":[{"runner":"counter","sinks":["archive"]},{"match":"exec.exit","sinks":["archive"]}]}
JSON
"$C" validate --config "$cfg" >"$WORK/ok.out"
eq "validate ok" 0 $?
"$C" run --config "$cfg"
eq "run exit status" 0 $?
eq "routed events" "counter:exec.exit counter:exec.line counter:exec.line counter:exec.line greeter:exec.exit" \
	"$(jq -r '"\(.runner):\(.type)"' "$out" | sort | xargs)"
end

begin "list and help"
check "list names the built-ins" grep -q "file" <<<"$("$C" list)"
check "run exec --help lists --timeout" grep -q -- "--timeout" <<<"$("$C" run exec --help)"
end

begin "--plugin loads a runner type from a shared object"
out=$WORK/plugin.jsonl
"$C" run --plugin "$BUILD/tools/examples/ticker.so" ticker --count 3 --interval 10ms >"$out"
eq "exit status" 0 $?
eq "ticks" "0:1 1:2 2:3" "$(jq -r 'select(.type=="ticker.tick") | "\(.seq):\(.data.n)"' "$out" | xargs)"
cli_error run --plugin /nonexistent.so ticker
cli_error run --plugin /bin/true exec -- true
end

begin "validate: unknown queue keys are named, not ignored"
echo '{"sinks":[{"type":"stdout","queue":{"events":3}}]}' >"$WORK/q.json"
"$C" validate --config "$WORK/q.json" >/dev/null 2>"$WORK/q.err"
eq "exit status" 2 $?
check "names the key" grep -q '^.*\$\.sinks\[0\]\.queue\.events: unknown key' "$WORK/q.err"
end

begin "every command parses its flags through its table, with --help"
for cmd in validate list status reset-breaker; do
	help=$("$C" $cmd --help)
	eq "$cmd --help exits 0" 0 $?
	check "$cmd --help lists --help" grep -q -- "--help" <<<"$help"
done
check "validate --help lists --config" grep -q -- "--config" <<<"$("$C" validate --help)"
check "status --help lists --metrics" grep -q -- "--metrics" <<<"$("$C" status --help)"
check "list --help lists --plugin" grep -q -- "--plugin" <<<"$("$C" list --help)"
echo '{"runners":[{"type":"exec","command":["true"]}]}' >"$WORK/v.json"
eq "validate FILE" 0 "$("$C" validate "$WORK/v.json" >/dev/null; echo $?)"
eq "validate --config=FILE" 0 "$("$C" validate --config="$WORK/v.json" >/dev/null; echo $?)"
cli_error validate
cli_error validate "$WORK/v.json" extra
cli_error validate --bogus "$WORK/v.json"
cli_error list extra
cli_error list --bogus
cli_error status --bogus
cli_error status --metrics=127.0.0.1:1 127.0.0.1:2
cli_error reset-breaker
cli_error reset-breaker 127.0.0.1:1 algorithm extra
man=$("$C" man)
for cmd in run validate list status reset-breaker crashes doctor; do
	check "collector --help lists $cmd" grep -q "^  $cmd " <<<"$("$C" --help)"
	check "the man page lists $cmd" grep -q "^\.B $(sed 's/-/\\\\-/g' <<<"$cmd")\$" <<<"$man"
done
end

begin "names over 64 bytes are refused, not cut"
long=$(printf 'n%.0s' $(seq 65))
cli_error run --name "$long" exec -- true
cli_error run --sink "$long=stdout" exec -- true
check "says the limit" grep -q "longer than 64 bytes" <<<"$("$C" run --name "$long" exec -- true 2>&1)"
eq "64 bytes are fine" "${long:1}" "$("$C" run --name "${long:1}" exec -- true | jq -r .runner)"
echo "{\"runners\":[{\"type\":\"exec\",\"name\":\"$long\",\"command\":[\"true\"]}]}" >"$WORK/long.json"
"$C" validate "$WORK/long.json" >/dev/null 2>"$WORK/long.err"
eq "validate refuses a long name" 2 $?
check "with its path" grep -qF '$.runners[0].name: longer than 64 bytes' "$WORK/long.err"
echo "{\"sinks\":[{\"type\":\"stdout\",\"name\":\"$long\"}]}" >"$WORK/long.json"
eq "and a long sink name" 2 "$("$C" validate "$WORK/long.json" >/dev/null 2>&1; echo $?)"
end

begin "a sink's global flags come from its option table"
check "run --help lists -X and --pretty" grep -q -- "-X, --X" <<<"$("$C" run --help | grep -A3 'every --sink')"
check "run --help lists --pretty" grep -q -- "--pretty" <<<"$("$C" run --help | grep -A3 'every --sink')"
eq "--pretty reaches the stdout sink" 0 "$("$C" run --pretty exec -- echo hi | grep -c '^{')"
cli_error run --sink file:/dev/null --sink-option =1 exec -- true
end
