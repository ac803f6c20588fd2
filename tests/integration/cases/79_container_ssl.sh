# ssl runner: container identity on ssl/http events, and --container as an in-kernel filter (root, docker).
# A Go HTTPS client (the build's go-client, bind-mounted) in a real docker container and the
# same program on the host fetch from a Go server on the host.
. "$(dirname "${BASH_SOURCE[0]}")/../tls/lib.sh"
# shellcheck source=/dev/null
. "$(dirname "${BASH_SOURCE[0]}")/../../lib/docker.sh"

reason=$(tls_skip_reason)
if [ -z "$reason" ] && { ! docker_ensure || ! docker_test_image; }; then
	reason="no Docker daemon (needs root and docker.io)"
fi
if [ -n "$reason" ]; then
	skip "ssl runner: container identity" "$reason"
	return 0
fi

tls_cert
K=$WORK/cssl
mkdir -p "$K"
"$TLS_PROGS/go-server" -h1 "$WORK/cert.pem" "$WORK/key.pem" >"$K/server.out" 2>&1 &
CS_SERVER=$!
CS_URL=https://127.0.0.1:$(tls_wait_ready "$K/server.out")
name=collector-cssl-$$
mkfifo "$K/go1" "$K/go2"
# The container waits on a fifo per run, so that --container finds it running first;
# it fetches /hello?in=N, then leaves a file saying it is done. It stays up after its last
# fetch: the runner names a container by its cgroup, which goes with the container.
cid=$(docker run -d --network host -v /lib:/lib:ro -v /lib64:/lib64:ro -v "$TLS_PROGS:/progs:ro" \
	-v "$K:/k" --name "$name" "$DOCKER_TEST_IMAGE" sh -c \
	"for n in 1 2; do read x </k/go\$n; /progs/go-client -h1 '$CS_URL/hello?in='\$n >/dev/null; touch /k/done\$n; done; sleep 30")

# cs_round N: the container's fetch N and the host's, then the tracer stops.
cs_round() {
	# Bounded: a container that died would never open its end.
	timeout 10 sh -c "echo go >'$K/go$1'"
	"$TLS_PROGS/go-client" -h1 "$CS_URL/hello?host=$1" >/dev/null
	for _ in $(seq 100); do
		[ -e "$K/done$1" ] && break
		sleep 0.05
	done
	tls_untrace
}

# cs_req OUT PATH: the data of the http.request for PATH.
cs_req() {
	jq -c --arg p "$2" 'select(.type == "http.request" and .data.path == $p) | .data' "$1"
}

begin "ssl runner: the container's exchange carries container_id, runtime and name; the host's none"
out=$K/all.jsonl
tls_trace "$out" --binary-path "$TLS_PROGS/go-client"
cs_round 1
in=$(cs_req "$out" "/hello?in=1")
host=$(cs_req "$out" "/hello?host=1")
check "the container's request was seen" test -n "$in"
eq "container_id" "$cid" "$(jq -r .container_id <<<"$in")"
eq "container_runtime" docker "$(jq -r .container_runtime <<<"$in")"
eq "container_name" "$name" "$(jq -r .container_name <<<"$in")"
eq "its response carries them too" "$cid docker $name" \
	"$(jq -r --arg c "$(jq -r .conn <<<"$in")" 'select(.type == "http.response" and .data.conn == $c) | "\(.data.container_id) \(.data.container_runtime) \(.data.container_name)"' "$out")"
check "the host's request was seen" test -n "$host"
eq "a host process has no container members" "null null null" \
	"$(jq -r '[.container_id, .container_runtime, .container_name] | map(tostring) | join(" ")' <<<"$host")"
end

begin "ssl runner: --container NAME sees only that container's exchange (in-kernel cgroup filter)"
out=$K/filter.jsonl
tls_trace "$out" --binary-path "$TLS_PROGS/go-client" --container "$name"
cs_round 2
eq "only the container's request" "/hello?in=2" \
	"$(jq -r 'select(.type == "http.request") | .data.path' "$out" | paste -sd,)"
eq "every event of that container" "$cid" \
	"$(jq -r 'select(.type | test("^(http|ssl)\\.(request|response|data)")) | .data.container_id' "$out" | sort -u | paste -sd,)"
end

begin "ssl runner: --container with an unknown name is a usage error, in one line"
"$C" run ssl --container "collector-cssl-none-$$" >/dev/null 2>"$K/none.err"
eq "exit status" 2 "$?"
check "one line names it" grep -q "collector-cssl-none-$$" "$K/none.err"
end

docker rm -f "$name" >/dev/null 2>&1
kill "$CS_SERVER" 2>/dev/null
wait "$CS_SERVER" 2>/dev/null
docker_release
