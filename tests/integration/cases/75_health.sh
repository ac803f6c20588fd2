# Health monitor through the exec runner: real children, the real BPF program, /proc fallback.

HC="$BUILD/tools/testchild/health_child"

# exit_of FILE JQ: a field of exec.exit's data.
exit_of() {
	field "$1" exec.exit ".data | $2"
}

begin "--health-source procfs: samples from /proc, exits from waitpid"
out=$WORK/health-procfs.jsonl
"$C" run exec --health --health-source procfs --health-interval 200ms -- "$HC" leak 40 1.2 >"$out" 2>/dev/null
eq "source" "procfs /proc was asked for" "$(field "$out" health.monitor '"\(.data.source) \(.data.fallback_reason)"')"
check "samples, all from procfs" test "$(count "$out" '.type=="health.sample" and .data.source=="procfs"')" -ge 3
eq "every sample is the child's" 0 "$(count "$out" '.type=="health.sample" and .pid != null and .data.threads < 1')"
eq "RSS rises between the first two samples" true \
	"$(jq -s '[.[] | select(.type=="health.sample") | .data.rss_bytes] | .[1] > .[0]' "$out")"
eq "the end: unknown killer" "success null null" "$(exit_of "$out" '"\(.status) \(.killed_by) \(.oom_killed)"')"
end

begin "a health option without --health is refused"
"$C" run exec --memory-high 1MiB -- true >/dev/null 2>"$WORK/health-opt.err"
eq "exit status" 2 "$?"
check "the message names both" grep -q -- '--memory-high needs --health' "$WORK/health-opt.err"
end

if [ "$(id -u)" != 0 ] || ! "$C" doctor >/dev/null 2>&1; then
	skip "health monitor (BPF)" "needs root and BPF (collector doctor says what is missing)"
	return 0
fi

begin "without privileges the monitor falls back to /proc and says why"
out=$WORK/health-unpriv.jsonl
# The child where uid 65534 may run it: a checkout can sit in a directory only root enters.
pub=$(mktemp -d /tmp/collector-unpriv.XXXXXX)
chmod 755 "$pub"
cp "$HC" "$pub/"
setpriv --reuid=65534 --regid=65534 --clear-groups "$C" run exec --health --health-interval 200ms \
	-- "$pub/health_child" spin 0.5 >"$out" 2>/dev/null
rm -rf "$pub"
eq "source" procfs "$(field "$out" health.monitor .data.source)"
check "a reason is given" test -n "$(field "$out" health.monitor '.data.fallback_reason // empty')"
check "procfs samples" test "$(count "$out" '.type=="health.sample" and .data.source=="procfs"')" -ge 1
end

begin "a leaking child shows rising RSS within two samples"
out=$WORK/health-leak.jsonl
"$C" run exec --health --health-interval 300ms --memory-high 24MiB --rss-growth 10MiB \
	--rss-growth-samples 3 -- "$HC" leak 40 1.5 >"$out" 2>/dev/null
eq "source" "bpf null" "$(field "$out" health.monitor '"\(.data.source) \(.data.fallback_reason)"')"
eq "RSS rises between the first two samples" true \
	"$(jq -s '[.[] | select(.type=="health.sample") | .data.rss_bytes] | .[1] > .[0] and .[0] > 0' "$out")"
# (A sanitizer build's leak check adds a thread at exit: >= 1, not == 1.)
eq "samples are the child's, from bpf" "$(count "$out" '.type=="health.sample"')" \
	"$(count "$out" ".type==\"health.sample\" and .data.source==\"bpf\" and .data.threads>=1 and .data.processes>=1 and .pid==$(field "$out" exec.exit .pid)")"
eq "memory_high warned once" 1 "$(count "$out" '.type=="health.warning" and .data.kind=="memory_high" and .data.value > .data.limit')"
eq "rss_growing warned once" 1 "$(count "$out" '.type=="health.warning" and .data.kind=="rss_growing" and .data.value > 10485760')"
eq "a clean end" "success null false" "$(exit_of "$out" '"\(.status) \(.killed_by) \(.oom_killed)"')"
end

begin "a spinning child shows the CPU it gets (one core when it has it); cpu_pinned at its quota"
out=$WORK/health-spin.jsonl
"$C" run exec --health --health-interval 400ms --cpu-quota 10 --cpu-pinned-samples 2 \
	-- "$HC" spin 1.8 >"$out" 2>/dev/null
mean=$(jq -s '[.[] | select(.type=="health.sample") | .data.cpu_percent] | add / length' "$out")
own=$(field "$out" child.cpu .data.cpu_percent)
# Other work may share these two CPUs: compare with the share the spinner itself measured.
check "samples' mean ${mean}% is within 20 points of the child's own ${own}%" \
	jq -e -n "($mean - $own) | fabs < 20" >/dev/null
check "no sample above one core" test "$(count "$out" '.type=="health.sample" and .data.cpu_percent > 102')" = 0
eq "cpu_pinned" 1 "$(count "$out" '.type=="health.warning" and .data.kind=="cpu_pinned"')"
end

begin "a child killed by another process names that process"
out=$WORK/health-kill.jsonl
"$C" run exec --health -- "$HC" sleep 30 >"$out" 2>/dev/null &
runner=$!
for _ in $(seq 100); do
	child=$(field "$out" child.ready .pid 2>/dev/null)
	[ -n "$child" ] && break
	sleep 0.05
done
sh -c "echo \$\$ >'$WORK/killer.pid'; kill -9 $child"
wait "$runner"
eq "signal" "9 SIGKILL" "$(exit_of "$out" '"\(.signal) \(.signal_name)"')"
eq "killed by the shell" "sh $(cat "$WORK/killer.pid") false" "$(exit_of "$out" '"\(.killed_by.name) \(.killed_by.pid) \(.oom_killed)"')"
end

begin "a segfault gives signal 11, raised by the child itself"
out=$WORK/health-segv.jsonl
"$C" run exec --health -- "$HC" segv >"$out" 2>/dev/null
eq "signal" "11 SIGSEGV" "$(exit_of "$out" '"\(.signal) \(.signal_name)"')"
eq "sender" "health_child $(field "$out" exec.exit .pid)" "$(exit_of "$out" '"\(.killed_by.name) \(.killed_by.pid)"')"
end

begin "--memory-restart stops the command before the OOM killer does"
out=$WORK/health-restart.jsonl
"$C" run exec --health --health-interval 200ms --memory-restart 20MiB --restart on-failure \
	--max-restarts 1 --restart-delay 10ms -- "$HC" leak 40 5 >"$out" 2>/dev/null
eq "an action per run" 2 "$(count "$out" '.type=="health.action" and .data.action=="restart" and .data.kind=="memory_action"')"
eq "runs ended by the collector's SIGTERM" "15 collector,15 collector" \
	"$(jq -r 'select(.type=="exec.exit") | "\(.data.signal) \(.data.killed_by.name)"' "$out" | paste -sd,)"
end

begin "a full sink: exec's health.sample readings are skipped and counted, as the algorithm runner's"
out=$WORK/health-stall.jsonl
# Nobody reads for 3 s: the lines fill the 4-event queue and the pipe, then the command sleeps.
"$C" run --metrics=127.0.0.1:0 --queue-events 4 --policy block --sink "pipe:sleep 3; exec cat >$out" \
	exec --health --health-source procfs --health-interval 100ms \
	-- sh -c 'seq 1 20000; sleep 2.5' 2>"$WORK/health-stall.err" &
cpid=$!
addr=""
for _ in $(seq 50); do
	addr=$(grep -o 'http://[0-9.:]*' "$WORK/health-stall.err" | head -1 | sed 's|http://||')
	[ -n "$addr" ] && break
	sleep 0.1
done
sleep 2
skipped=$(curl -s "http://$addr/metrics" |
	awk 'index($1, "collector_runner_health_samples_skipped_total{") == 1 { print $2; exit }')
wait "$cpid"
check "samples skipped while held back (got '$skipped')" awk -v v="$skipped" 'BEGIN { exit !(v + 0 >= 1) }'
eq "every line arrived" 20000 "$(count "$out" '.type=="exec.line"')"
end

memcg_root=/sys/fs/cgroup/memory$(awk -F: '$2=="memory" {print $3}' /proc/self/cgroup)
if [ ! -w "$memcg_root" ] || [ ! -e "$memcg_root/memory.limit_in_bytes" ]; then
	skip "OOM kill in a memory cgroup" "no writable cgroup v1 memory controller at $memcg_root"
	return 0
fi

begin "a child over its cgroup memory limit is OOM-killed by the OOM killer"
out=$WORK/health-oom.jsonl
cg=$memcg_root/collector-it-oom.$$
mkdir "$cg"
echo 32M >"$cg/memory.limit_in_bytes"
"$C" run exec --health -- sh -c "echo \$\$ >$cg/cgroup.procs; exec '$HC' leak 100 10" >"$out" 2>/dev/null
rmdir "$cg"
eq "signal" "9 SIGKILL" "$(exit_of "$out" '"\(.signal) \(.signal_name)"')"
eq "killed by" "OOM killer null true" "$(exit_of "$out" '"\(.killed_by.name) \(.killed_by.pid) \(.oom_killed)"')"
eq "health.oom names the victim" "health_child $(field "$out" exec.exit .pid)" "$(field "$out" health.oom '"\(.data.comm) \(.pid)"')"
check "the cgroup is gone" test ! -e "$cg"
end
