# Errors as an operator meets them: one line with the cause and the fix, the exit code of its class.

# one_line DESCRIPTION WANT_RC PATTERN CMD...: CMD exits WANT_RC with exactly one stderr line matching PATTERN.
one_line() {
	local what=$1 want=$2 pattern=$3 err=$WORK/err.txt rc
	shift 3
	"$@" >/dev/null 2>"$err"
	rc=$?
	eq "$what: exit status" "$want" "$rc"
	eq "$what: lines on stderr" 1 "$(wc -l <"$err" | tr -d ' ')"
	check "$what: says '$pattern' (got: $(head -c 300 "$err"))" grep -qE -- "$pattern" "$err"
}

# not CMD...: CMD fails (for check).
not() {
	! "$@"
}

# A user nobody can run the binary as (tests run as root in CI).
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

begin "a --pid that names no process: one line, exit 2, not a wrong conclusion"
one_line "ssl -p 999999" 2 "ssl: no process 999999" "$C" run ssl -p 999999
check "no TLS-library conclusion" not grep -q "TLS libraries" "$WORK/err.txt"
one_line "process -p 999999" 2 "process: no process 999999" timeout 20 "$C" run process -p 999999 --tree
end

# nobody must reach the binary by its path too: the BPF loader is the binary re-executed by
# path (a checkout under a 0700 directory, e.g. mktemp -d, cannot be).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && as_nobody test -x "$C"; then
	begin "BPF without privileges: one line naming root, CAP_BPF + CAP_PERFMON and setcap; libbpf at debug"
	one_line "process as nobody" 1 "process: need root or CAP_BPF \+ CAP_PERFMON: .*setcap cap_bpf,cap_perfmon\+ep" \
		as_nobody "$C" run process --duration 2s
	check "no libbpf lines at the default level" not grep -q "libbpf" "$WORK/err.txt"
	as_nobody "$C" run --log-level debug process --duration 2s >/dev/null 2>"$WORK/debug.err"
	check "libbpf's own lines at --log-level debug" grep -q "debug: process: libbpf: " "$WORK/debug.err"
	end

	begin "a file sink that cannot be opened is a configuration error (exit 2), whatever the reason"
	dir=$(mktemp -d /tmp/collector-it-ro.XXXXXX)
	chmod 755 "$dir"
	mkdir "$dir/ro" && chmod 555 "$dir/ro"
	one_line "missing directory" 2 "No such file or directory" as_nobody "$C" run -s "file:$dir/missing/x.jsonl" exec -- true
	one_line "no permission" 2 "Permission denied" as_nobody "$C" run -s "file:$dir/ro/x.jsonl" exec -- true
	rm -rf "$dir"
	end
else
	skip "errors as nobody" "needs root, setpriv and a binary user nobody can reach by its path"
fi

begin "--metrics ADDR with a space serves ADDR; a port out of range is refused"
"$C" run --metrics 127.0.0.1:0 exec -- echo hi >"$WORK/m.out" 2>"$WORK/m.err"
eq "space form: exit status" 0 $?
check "space form: serves the address given" grep -q "on http://127.0.0.1:[0-9]" "$WORK/m.err"
check "space form: not the default port" not grep -q ":9477" "$WORK/m.err"
eq "space form: the command ran" hi "$(field "$WORK/m.out" exec.line .data.line)"
"$C" run exec --metrics 127.0.0.1:0 -- echo after >"$WORK/m2.out" 2>"$WORK/m2.err"
eq "after the runner: the command is the one after --" after "$(field "$WORK/m2.out" exec.line .data.line)"
one_line "--metrics 127.0.0.1:99999" 2 "65535" "$C" run --metrics 127.0.0.1:99999 exec -- true
one_line "status 127.0.0.1:99999" 2 "not a metrics address.*65535" "$C" status 127.0.0.1:99999
one_line "reset-breaker 127.0.0.1:99999" 2 "not a metrics address.*65535" "$C" reset-breaker 127.0.0.1:99999 algorithm
end

begin "a JSON syntax error names its line and column"
printf '{\n  "sinks": [\n    {"type": "stdout",}\n  ]\n}\n' >"$WORK/syntax.json"
one_line "validate" 2 "syntax.json: line 3, column 23: invalid JSON" "$C" validate "$WORK/syntax.json"
one_line "run --config" 2 "line 3, column 23" "$C" run --config "$WORK/syntax.json"
end

begin "did you mean: commands, runners, sinks, options, config keys"
one_line "command" 2 "did you mean 'run'" "$C" rnu
one_line "runner" 2 "did you mean 'process'" "$C" run proces
one_line "sink" 2 "did you mean 'stdout'" "$C" run -s stdot exec -- true
one_line "run option" 2 "did you mean '--policy'" "$C" run --polcy block exec -- true
one_line "runner option" 2 "did you mean '--command'" "$C" run exec --comand x
cat >"$WORK/typo.json" <<'JSON'
{"sinkz": [], "runners": [{"type": "exe", "command": ["true"]}, {"type": "exec", "comand": ["true"]}]}
JSON
"$C" validate "$WORK/typo.json" 2>"$WORK/typo.err"
check "config key" grep -q "\$.sinkz: unknown key (did you mean 'sinks'?)" "$WORK/typo.err"
check "config runner type" grep -q "did you mean 'exec'" "$WORK/typo.err"
check "config option" grep -q "comand\[0\]: unknown option (did you mean 'command'?)" "$WORK/typo.err"
check "nothing for a word far from every name" not grep -q "did you mean" <<<"$("$C" run zzzzzzzz 2>&1)"
end

begin "-V, -h and --help on every command"
eq "-V" "collector" "$("$C" -V | cut -d' ' -f1)"
for cmd in run validate list status reset-breaker crashes doctor man version; do
	out=$("$C" "$cmd" --help 2>&1)
	eq "$cmd --help: exit status" 0 $?
	check "$cmd --help: a usage line" grep -q "^usage: collector $cmd" <<<"$out"
done
check "-h is --help" grep -q "^usage: collector doctor" <<<"$("$C" doctor -h)"
check "run --help: the real bound on the stop" grep -q "shutdown-timeout.*flush-timeout" <<<"$("$C" run --help | tr -s ' \n' ' ')"
end

begin "kafka without a broker: librdkafka's lines through the collector's log, once"
"$C" run --shutdown-timeout 1s --sink-option flush-timeout=1s -s kafka://127.0.0.1:1/t \
	exec -- echo hi >/dev/null 2>"$WORK/k.err"
eq "exit status: loss" 3 $?
check "no raw librdkafka line" not grep -q '^%[0-9]|' "$WORK/k.err"
check "every line is the collector's" not grep -qv '^collector: ' "$WORK/k.err"
check "the refused connection said" grep -q "Connection refused" "$WORK/k.err"
"$C" run --log-level debug --shutdown-timeout 1s --sink-option flush-timeout=1s -s kafka://127.0.0.1:1/t \
	exec -- echo hi >/dev/null 2>"$WORK/kd.err"
check "librdkafka's own line at debug" grep -q "debug: sink kafka: librdkafka FAIL: " "$WORK/kd.err"
check "no raw line at debug either" not grep -q '^%[0-9]|' "$WORK/kd.err"
end
