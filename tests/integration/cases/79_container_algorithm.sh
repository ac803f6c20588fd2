# algorithm runner: container identity of its children, from their cgroup (root, docker).
# The children share the collector's cgroup; here the collector runs in a real docker
# container's cgroup v2 directory (moved there: the busybox image cannot run the glibc binary).

# shellcheck source=/dev/null
. ../lib/docker.sh
# shellcheck source=../algorithm_lib.sh
. ./algorithm_lib.sh

# ca_cgroup_dir PID: the cgroup v2 directory of process PID, or nothing.
ca_cgroup_dir() {
	local path mnt
	path=$(sed -n 's/^0:://p' "/proc/$1/cgroup")
	for mnt in /sys/fs/cgroup/unified /sys/fs/cgroup; do
		if [ -n "$path" ] && [ "$(stat -f -c %T "$mnt" 2>/dev/null)" = cgroup2fs ]; then
			echo "$mnt$path"
			return
		fi
	done
}

if [ "$(id -u)" != 0 ]; then
	skip "algorithm: container identity" "needs root (to move a process into a container's cgroup)"
elif ! docker_ensure || ! docker_test_image; then
	skip "algorithm: container identity" "no Docker daemon (needs root and docker.io)"
else
	name=collector-calgo-$$
	cid=$(docker run -d --network none --name "$name" "$DOCKER_TEST_IMAGE" sleep 60)
	dir=$(ca_cgroup_dir "$(docker inspect -f '{{.State.Pid}}' "$name")")
	pkg=$(algo_pkg calgo '')
	algo_calls "$ALGO_WORK/calgo.jsonl" 2

	begin "algorithm: a child in a docker container's cgroup: its events carry container_id, runtime and name"
	check "the container's cgroup v2 directory" test -w "$dir/cgroup.procs"
	out=$WORK/calgo-in.jsonl
	# This subshell joins the container's cgroup, then becomes the collector.
	(echo "$BASHPID" >"$dir/cgroup.procs" &&
		exec "$C" run algorithm --package "$pkg" --calls "$ALGO_WORK/calgo.jsonl") >"$out"
	eq "exit status" 0 "$?"
	eq "algorithm.spawn" "$cid docker $name" \
		"$(jq -r 'select(.type == "algorithm.spawn") | "\(.data.container_id) \(.data.container_runtime) \(.data.container_name)"' "$out")"
	eq "every event with the child's pid carries the id" "$cid" \
		"$(jq -r 'select(.pid) | .data.container_id' "$out" | sort -u | paste -sd,)"
	end

	begin "algorithm: a child on the host has no container members"
	out=$WORK/calgo-host.jsonl
	"$C" run algorithm --package "$pkg" --calls "$ALGO_WORK/calgo.jsonl" >"$out"
	eq "exit status" 0 "$?"
	check "the child's events were seen" test "$(count "$out" '.pid')" -gt 0
	eq "none has container members" 0 \
		"$(count "$out" '.data.container_id or .data.container_runtime or .data.container_name')"
	algo_leftovers "$out"
	end

	docker rm -f "$name" >/dev/null 2>&1
	docker_release
fi
