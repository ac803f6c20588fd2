# Node registration and heartbeats through the http sink into a real control plane (FastAPI, SQLite).

d=$WORK/node
start_control_plane "$d" || { skip "node" "the control plane did not start: $(cat "$d/cp.stderr")"; return 0; }

# node ID JQ: a field of node ID in the control plane's table.
cp_node() {
	curl -s "$CP_URL/internal/runtime/nodes" | jq -r ".[] | select(.node_id==\"$1\") | $2"
}

# register ID ARGS...: the README's command line, in the background; sets NODE_PID.
register() {
	local id=$1
	shift
	"$C" run --node-id "$id" "$@" \
		--sink "cp=http:$CP_URL/internal/runtime/heartbeat" \
		--sink-option path.collector.node=/internal/runtime/nodes/register \
		--route 'collector.*=cp' exec -- sleep 600 2>"$d/$id.err" &
	NODE_PID=$!
}

# wait_for ID JQ VALUE SECONDS: until the node's field has the value.
wait_for() {
	for _ in $(seq $(($4 * 10))); do
		[ "$(cp_node "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

begin "node: registered at start, heartbeats every 5 s by default"
register n5
check "registered" wait_for n5 .status online 10
eq "what it says of itself" "$(nproc) true 5000" \
	"$(cp_node n5 '"\(.total_cpu_cores) \(.total_memory_mb > 0) \(.heartbeat_ms)"')"
sleep 11
beats=$(cp_node n5 .heartbeats)
check "two heartbeats in 11 s ($beats)" test "$beats" = 2
gap=$(curl -s "$CP_URL/_test/received" | jq -r '[.events[] | select(.type=="collector.heartbeat" and .data.node_id=="n5") | .data.uptime_ms] | .[1] - .[0]')
check "about 5 s between them ($gap ms)" test "$gap" -ge 4500 -a "$gap" -le 5500
kill -TERM "$NODE_PID"
wait "$NODE_PID"
eq "exit status after SIGTERM" 0 $?
eq "stopping after SIGTERM" stopping "$(cp_node n5 .status)"
end

begin "node: unhealthy when stopped (3 heartbeats missed), healthy again after SIGCONT"
# The same mechanism as 5 s and 20 s, scaled down: heartbeats every 1 s, stopped 5 s.
register n1 --heartbeat 1s
check "registered" wait_for n1 .status online 10
sleep 1.5
kill -STOP "$NODE_PID"
sleep 5
eq "unhealthy while stopped" unhealthy "$(cp_node n1 .status)"
kill -CONT "$NODE_PID"
check "healthy again after SIGCONT" wait_for n1 .status online 5
kill -TERM "$NODE_PID"
wait "$NODE_PID"
eq "exit status" 0 $?
eq "stopping" stopping "$(cp_node n1 .status)"
check "nothing lost" test "$(grep -c 'not delivered\|failed in sinks' "$d/n1.err")" = 0
end

begin "node: the heartbeat carries queues, losses and runner states"
out=$d/hb.jsonl
"$C" run --node-id hb --heartbeat 200ms --duration 1s --sink "file:$out" exec -- sleep 5
eq "exit status" 0 $?
eq "collector.node first, stopping last" "running stopping" \
	"$(jq -r 'select(.type=="collector.node") | .data.state' "$out" | paste -sd' ')"
eq "a heartbeat's shape" 'file 0 exec running ok 1' \
	"$(jq -r 'select(.type=="collector.heartbeat") | "\(.data.queues[0].sink) \(.data.losses.dropped) \(.data.runners[0].type) \(.data.runners[0].state) \(.data.runners[0].health) \(.data.running_containers)"' "$out" | head -n 1)"
eq "the runners of the node" 'exec:1' \
	"$(jq -r 'select(.type=="collector.node") | .data.runners[] | "\(.type):\(.instances)"' "$out" | head -n 1)"
eq "default id: the machine id" "$(cat /etc/machine-id 2>/dev/null || hostname)" \
	"$("$C" run --node --duration 100ms exec -- true | jq -r 'select(.type=="collector.node") | .data.node_id' | head -n 1)"
"$C" run --heartbeat 0 exec -- true 2>"$d/bad.err"
eq "--heartbeat 0 is a usage error" 2 $?
end

stop_server "$CP_PID"
