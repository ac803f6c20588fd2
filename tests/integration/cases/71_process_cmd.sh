# process runner as execsnoop and bpftrace users expect: -- CMD (bpftrace -c), -x (failed execs), -u NAME, --cgroup checked.

# refused DESCRIPTION PATTERN ARGS...: `collector run process ARGS` exits 2 with one line matching PATTERN.
refused() {
	local what=$1 pattern=$2 err=$WORK/refused.err rc
	shift 2
	timeout 20 "$C" run --duration 3s process "$@" >/dev/null 2>"$err"
	rc=$?
	eq "$what: exit status" 2 "$rc"
	eq "$what: one line" 1 "$(wc -l <"$err" | tr -d ' ')"
	check "$what: says '$pattern' (got: $(head -c 300 "$err"))" grep -qE -- "$pattern" "$err"
}

begin "options checked before anything runs: --cgroup, -u, a command with --pid, a missing command"
refused "--cgroup /tmp" "--cgroup /tmp: not a cgroup directory" --cgroup /tmp
v1=$(awk '$3 == "cgroup" { print $2; exit }' /proc/mounts)
if [ -n "$v1" ]; then
	refused "--cgroup on a v1 root" "--cgroup $v1: a cgroup v1 directory; the filter needs a cgroup v2 one" --cgroup "$v1"
fi
refused "-u with an unknown user" "--uid no-such-user-h25: no such user" -u no-such-user-h25
refused "a command and --pid" "a command or --pid, not both" -p 1 -- true
refused "a command that is not there" "cannot run 'no-such-command-h25'" -- no-such-command-h25
check "--help shows the command form" grep -q "process \[OPTIONS\] \[--\] CMD" <<<"$("$C" run process --help)"
end

if ! { [ "$(id -u)" = 0 ] && "$C" doctor >/dev/null 2>&1; }; then
	skip "process -- CMD" "needs root and BPF (collector doctor says what is missing)"
	return 0
fi

begin "process -- CMD: starts the command, traces it and its descendants from its exec, ends with it"
out=$WORK/cmd.jsonl
timeout 30 "$C" run --sink "file:$out" process -- sh -c '/bin/echo child >/dev/null; exit 3' 2>"$WORK/cmd.err"
eq "exit status (the run ended with the command)" 0 $?
sh_pid=$(jq -r 'select(.type=="process.exec" and .data.argv[0]=="sh") | .pid' "$out")
check "the command's own exec is traced" test -n "$sh_pid"
eq "its child's exec, with its parent" "$sh_pid /bin/echo" \
	"$(jq -r 'select(.type=="process.exec" and .comm=="echo") | "\(.ppid) \(.data.filename)"' "$out")"
eq "its exit code" 3 "$(jq -r "select(.type==\"process.exit\" and .pid==$sh_pid) | .data.exit_code" "$out")"
eq "nothing but the command's tree" "" \
	"$(jq -r "select(.type==\"process.exec\" and .pid!=$sh_pid and .ppid!=$sh_pid) | .pid" "$out")"
eq "ready comes first" process.ready "$(head -n 1 "$out" | jq -r .type)"
end

begin "-x: a failed exec is a process.exec with ret < 0, filename and argv"
out=$WORK/fails.jsonl
timeout 30 "$C" run --sink "file:$out" process -x -- sh -c '/no/such/prog-h25 a "b c"; true' 2>"$WORK/fails.err"
eq "exit status" 0 $?
eq "the failed exec" '-2 /no/such/prog-h25 ["/no/such/prog-h25","a","b c"]' \
	"$(jq -c -r 'select(.type=="process.exec" and .data.ret < 0) | "\(.data.ret) \(.data.filename) \(.data.argv|tojson)"' "$out")"
eq "successful execs say ret 0" 0 "$(jq -r 'select(.type=="process.exec" and .data.argv[0]=="sh") | .data.ret' "$out")"
timeout 30 "$C" run --sink "file:$WORK/nofails.jsonl" process -- sh -c '/no/such/prog-h25; true' 2>/dev/null
eq "without -x: not reported" 0 "$(count "$WORK/nofails.jsonl" '.type=="process.exec" and .data.ret < 0')"
end

begin "-u NAME: only that user's processes"
out=$WORK/user.jsonl
timeout 30 "$C" run --sink "file:$out" process -u nobody -- \
	sh -c 'setpriv --reuid=65534 --regid=65534 --clear-groups /bin/echo as-nobody >/dev/null; /bin/echo as-root >/dev/null' 2>"$WORK/user.err"
eq "exit status" 0 $?
eq "the exec as nobody" "65534 as-nobody" "$(jq -r 'select(.type=="process.exec") | "\(.data.uid) \(.data.argv[1])"' "$out" | sort -u | xargs)"
end

# The BPF loader is the binary re-executed by its path: nobody must be able to reach it.
if setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$C"; then
	begin "process -- CMD: a command whose tracing cannot start never runs"
	mark=$WORK/ran-untraced
	chmod 777 "$WORK" # nobody could create the mark if the command ran
	setpriv --reuid=65534 --regid=65534 --clear-groups "$C" run process -- touch "$mark" >/dev/null 2>"$WORK/nobody.err"
	eq "exit status: the runner failed" 1 $?
	check "the command did not run" test ! -e "$mark"
	check "one line says why" grep -q "need root or CAP_BPF" "$WORK/nobody.err"
	end
else
	skip "process -- CMD as nobody" "user nobody cannot reach $C by its path (a checkout under a 0700 directory)"
fi
