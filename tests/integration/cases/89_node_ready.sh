# Lifecycle events as seed 003's containers/ready: routed with the http sink's per-type paths into
# the control plane, which records each container (exec run, algorithm instance, Docker container)
# under the node id of the collector that ran it.

# shellcheck source=../algorithm_lib.sh
. ./algorithm_lib.sh
# shellcheck source=/dev/null
. ../lib/docker.sh

d=$WORK/node-ready
start_control_plane "$d" || { skip "node ready" "the control plane did not start: $(cat "$d/cp.stderr")"; return 0; }

# container ID JQ: a field of container ID in the control plane's table.
container() {
	curl -s "$CP_URL/internal/runtime/containers" | jq -r ".[] | select(.container_id==\"$1\") | $2"
}

# node_run ID KIND ARGS...: the collector as node ID, KIND.start/KIND.exit (and algorithm.ready)
# to containers/ready, collector.node to nodes/register; the runner and its arguments follow.
# It execs: call it in a subshell (its pid is then the collector's).
node_run() {
	local id=$1 kind=$2
	shift 2
	exec "$C" run --node-id "$id" \
		--sink "cp=http:$CP_URL/internal/runtime/heartbeat" \
		--sink-option path.collector.node=/internal/runtime/nodes/register \
		--sink-option "path.$kind.start=/internal/runtime/containers/ready" \
		--sink-option "path.$kind.exit=/internal/runtime/containers/ready" \
		--sink-option path.algorithm.ready=/internal/runtime/containers/ready \
		--route 'collector.*=cp' --route "$kind.start=cp" --route "$kind.exit=cp" \
		--route 'algorithm.ready=cp' "$@"
}

# wait_container ID JQ VALUE: up to 10 s until the container's field has the value.
wait_container() {
	for _ in $(seq 100); do
		[ "$(container "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

begin "node ready: an exec run is a container of its node, ready at start, exited at the end"
(node_run ready-exec exec exec -- sleep 600 2>"$d/exec.err") &
pid=$!
child=
for _ in $(seq 100); do
	child=$(pgrep -P "$pid" -x sleep) && break
	sleep 0.1
done
check "the command runs" test -n "$child"
check "ready, recorded under the node" wait_container "exec/$child" .status ready
eq "its node, session and executor url" "ready-exec null null" \
	"$(container "exec/$child" '"\(.node_id) \(.session_id) \(.executor_url)"')"
eq "the node is registered too" online \
	"$(curl -s "$CP_URL/internal/runtime/nodes" | jq -r '.[] | select(.node_id=="ready-exec") | .status')"
kill -TERM "$pid"
wait "$pid"
eq "exit status after SIGTERM" 0 $?
eq "exited after the stop" exited "$(container "exec/$child" .status)"
end

begin "node ready: without --node the events stay as they were (no exec.start, no node fields)"
out=$d/plain.jsonl
"$C" run --duration 1s exec -- true >"$out"
eq "types" "exec.exit" "$(jq -r .type "$out" | grep -v '^collector\.' | xargs)"
eq "no node fields" null "$(jq -r 'select(.type=="exec.exit") | .data.node_id' "$out")"
end

begin "node ready: each algorithm instance is a container of its node"
pkg=$(algo_pkg ready '' '"max_inflight":1')
algo_calls "$ALGO_WORK/ready.jsonl" 2
(node_run ready-algo algorithm algorithm --package "$pkg" --instances 2 \
	--calls "$ALGO_WORK/ready.jsonl" >/dev/null 2>"$d/algo.err")
eq "exit status" 0 $?
eq "both instances, under the node" "ready-algo ready-algo" \
	"$(container algorithm/0 .node_id) $(container algorithm/1 .node_id)"
end

if ! docker_ensure || ! docker_test_image; then
	skip "node ready: container" "no Docker daemon (needs root and docker.io)"
else
	begin "node ready: a Docker container is a container of its node, by its Docker id"
	(node_run ready-docker container container --image "$DOCKER_TEST_IMAGE" --network none \
		-- true >/dev/null 2>"$d/docker.err")
	eq "exit status" 0 $?
	cid=$(curl -s "$CP_URL/internal/runtime/containers" | jq -r '.[] | select(.node_id=="ready-docker") | .container_id')
	check "the Docker id (64 hex digits: $cid)" grep -qxE '[0-9a-f]{64}' <<<"$cid"
	eq "exited after its run" exited "$(container "$cid" .status)"
	end
	docker_release
fi

stop_server "$CP_PID"
