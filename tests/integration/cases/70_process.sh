# process runner: real BPF programs in the kernel, real processes (root only).

# shellcheck source=../process_lib.sh
. ./process_lib.sh

# A workload root that waits for a go signal, so that tracing is ready first.
start_workload() {
	local script=$1
	mkfifo "$WORK/go.$$" 2>/dev/null
	sh -c "read x < '$WORK/go.$$'; $script" &
	WORKLOAD=$!
}

run_workload() {
	echo go >"$WORK/go.$$"
	wait "$WORKLOAD"
	rm -f "$WORK/go.$$"
}

if ! bpf_ok; then
	skip "process runner" "needs root and BPF (collector doctor says what is missing)"
	return 0
fi

begin "exit codes, signals, filename and argv of a process subtree"
out=$WORK/proc.jsonl
start_workload 'ulimit -c 0; sh -c "exit 3"; sh -c "kill -SEGV \$\$"; /bin/echo a "b c" >/dev/null; sleep 0.1 & wait'
start_tracing "$out" -p "$WORKLOAD" --tree
run_workload
stop_tracing
eq "exit code 3" 3 "$(jq -r 'select(.type=="process.exit" and .data.argv==["sh","-c","exit 3"]) | .data.exit_code' "$out")"
eq "SIGSEGV" "11 SIGSEGV false null" "$(jq -r 'select(.type=="process.exit" and .data.signal!=null) | "\(.data.signal) \(.data.signal_name) \(.data.core_dumped) \(.data.exit_code)"' "$out")"
eq "filename and argv" '/bin/echo ["/bin/echo","a","b c"]' "$(jq -c -r 'select(.type=="process.exec" and .comm=="echo") | "\(.data.filename) \(.data.argv|tojson)"' "$out")"
sleep_pid=$(jq -r 'select(.type=="process.exec" and .comm=="sleep") | .pid' "$out")
eq "fork: the workload forked sleep" "$WORKLOAD" "$(jq -r "select(.type==\"process.fork\" and .data.child_pid==$sleep_pid) | .pid" "$out")"
eq "exec: sleep's parent" "$WORKLOAD" "$(jq -r "select(.type==\"process.exec\" and .pid==$sleep_pid) | .ppid" "$out")"
eq "nothing outside the subtree" "" "$(jq -r "select(.type==\"process.exec\" and (.data.argv[0]|test(\"collector\"))) | .pid" "$out")"
eq "exit of the root itself" 0 "$(jq -r "select(.type==\"process.exit\" and .pid==$WORKLOAD) | .data.exit_code" "$out")"
end

begin "--comm admits only that command"
out=$WORK/comm.jsonl
start_tracing "$out" -c marker-cmd
cp /bin/true "$WORK/marker-cmd"
"$WORK/marker-cmd"
/bin/true
"$WORK/marker-cmd"
stop_tracing
eq "two execs and exits of marker-cmd, nothing else" "marker-cmd:2 " \
	"$(jq -r 'select(.type=="process.exec" or .type=="process.exit") | .comm' "$out" | sort | uniq -c | awk '{printf "%s:%d ", $2, $1/2}')"
end

begin "--uid admits only that user"
out=$WORK/uid.jsonl
start_tracing "$out" -u 65534
setpriv --reuid=65534 --regid=65534 --clear-groups /bin/true
/bin/true
stop_tracing
eq "only uid 65534" "65534" "$(jq -r 'select(.type=="process.exec") | .data.uid' "$out" | sort -u | xargs)"
check "the unprivileged exec was seen" test "$(count "$out" '.type=="process.exec"')" -ge 1
end

begin "--pid without --tree admits that process only"
out=$WORK/pid.jsonl
start_workload 'exec /bin/sh -c "sh -c true; exit 5"'
start_tracing "$out" -p "$WORKLOAD"
run_workload
stop_tracing
eq "pids seen" "$WORKLOAD" "$(jq -r 'select(.type|startswith("process.") and . != "process.ready") | .pid' "$out" | sort -u | xargs)"
eq "its exit" 5 "$(jq -r 'select(.type=="process.exit") | .data.exit_code' "$out")"
end

begin "--cgroup admits only processes in that cgroup v2 directory"
cg=$WORK/cg2
mkdir -p "$cg"
if mount -t cgroup2 none "$cg" 2>/dev/null || grep -q " $cg cgroup2" /proc/mounts; then
	mkdir -p "$cg/collector-test"
	out=$WORK/cg.jsonl
	start_tracing "$out" --cgroup "$cg/collector-test"
	sh -c "echo \$\$ > '$cg/collector-test/cgroup.procs'; /bin/echo inside >/dev/null"
	/bin/echo outside >/dev/null
	stop_tracing
	eq "only the process in the cgroup" "inside" "$(jq -r 'select(.type=="process.exec") | .data.argv[1]' "$out" | xargs)"
	rmdir "$cg/collector-test"
	umount "$cg"
else
	echo "  (cgroup2 cannot be mounted here: checked nothing)" >&2
	CASE_OK=0
fi
end

begin "a killed loader becomes an error event and the run ends"
out=$WORK/kill.jsonl
start_tracing "$out"
# Only this tracer's loader: other collectors may be running on the machine.
pkill -KILL -P "$TRACER" -f "collector loader process"
wait "$TRACER"
rc=$?
eq "collector exit status" 1 "$rc"
eq "reason" loader_exited "$(field "$out" collector.error .data.reason)"
check "says SIGKILL" grep -q SIGKILL <<<"$(field "$out" collector.error .data.message)"
end

begin "collector doctor prints every check"
check "table" grep -q "^BTF .*yes" <<<"$("$C" doctor)"
for name in "bpf(2)" CAP_BPF "uprobe PMU" tracefs kprobes "cgroup v2" "cgroup v1" libssl libgnutls; do
	check "row $name" grep -qF "$name" <<<"$("$C" doctor)"
done
end
