# Container identity on process events: id, runtime and name of a real docker container; the --container filter.

# shellcheck source=/dev/null
. ../lib/docker.sh

# shellcheck source=../process_lib.sh
. ./process_lib.sh

# The exec event of /bin/echo whose argv holds MARK.
cid_exec() {
	jq -c --arg m "$2" 'select(.type == "process.exec" and (.data.argv | index($m)))' "$1" | head -1
}

if ! bpf_ok; then
	skip "container identity" "needs root and BPF (collector doctor says what is missing)"
elif ! docker_ensure || ! docker_test_image; then
	skip "container identity" "no Docker daemon (needs root and docker.io)"
else
	K=$WORK/cid
	mkdir -p "$K"
	name=collector-cid-$$
	other=collector-cid-other-$$

	begin "container identity: a container's exec carries its id, runtime and name; a host's none"
	out=$K/all.jsonl
	id=$(docker create --network none --name "$name" "$DOCKER_TEST_IMAGE" /bin/echo cid-in-$$)
	if start_tracing "$out" --comm echo; then
		docker start -a "$name" >/dev/null
		/bin/echo cid-host-$$ >/dev/null
		stop_tracing 0.3
	fi
	in=$(cid_exec "$out" cid-in-$$)
	host=$(cid_exec "$out" cid-host-$$)
	check "the container's exec was seen" test -n "$in"
	eq "container_id" "$id" "$(jq -r .data.container_id <<<"$in")"
	eq "container_runtime" docker "$(jq -r .data.container_runtime <<<"$in")"
	eq "container_name" "$name" "$(jq -r .data.container_name <<<"$in")"
	check "the host's exec was seen" test -n "$host"
	eq "a host process has no container members" "null null null" \
		"$(jq -r '[.data.container_id, .data.container_runtime, .data.container_name] | map(tostring) | join(" ")' <<<"$host")"
	eq "its exit carries the id too" "$id" \
		"$(jq -r --argjson p "$(jq .pid <<<"$in")" 'select(.type == "process.exit" and .pid == $p) | .data.container_id' "$out" | head -1)"
	end

	begin "container identity: --container NAME shows only that container's execs (in-kernel cgroup filter)"
	out=$K/filter.jsonl
	# Both run and wait on a fifo, so that the filter finds the running one's cgroup first.
	mkfifo "$K/go1" "$K/go2"
	fid=$(docker run -d --network none -v "$K:/k" --name "$name-f" "$DOCKER_TEST_IMAGE" \
		sh -c "read x </k/go1; /bin/echo cid-in-f-$$")
	docker run -d --network none -v "$K:/k" --name "$other" "$DOCKER_TEST_IMAGE" \
		sh -c "read x </k/go2; /bin/echo cid-other-$$" >/dev/null
	if start_tracing "$out" --comm echo --container "$name-f"; then
		echo go >"$K/go1"
		echo go >"$K/go2"
		/bin/echo cid-host-$$ >/dev/null
		docker wait "$name-f" "$other" >/dev/null
		stop_tracing 0.3
	fi
	check "its exec is there" test -n "$(cid_exec "$out" cid-in-f-$$)"
	check "not the other container's" test -z "$(cid_exec "$out" cid-other-$$)"
	check "not the host's" test -z "$(cid_exec "$out" cid-host-$$)"
	eq "only execs of that container" "$fid" "$(jq -r 'select(.type == "process.exec") | .data.container_id' "$out" | sort -u | xargs)"
	end

	begin "container identity: --container with an unknown name is a usage error"
	"$C" run process --container "collector-cid-none-$$" >/dev/null 2>"$K/none.err"
	eq "exit status" 2 "$?"
	check "one line names it" grep -q "collector-cid-none-$$" "$K/none.err"
	end

	docker rm -f "$name" "$name-f" "$other" >/dev/null 2>&1
	docker_release
fi
