# The seed's management system is Go: the Go client (tools/service-clients/go), built offline
# from Debian's Go packages, drives the runner's gRPC service.

# shellcheck source=../service_lib.sh
. ./service_lib.sh

if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/google.golang.org/grpc ]; then
	skip "algorithm gRPC service, Go client" "needs golang-go and golang-google-grpc-dev (make deps)"
	return 0
fi

begin "service: the Go client checks health, calls, reads a detail code, runs a load"
goclient="$SVC_WORK/algoclient"
# The build directory keeps the Go build cache: the second (sanitizer) run builds warm.
check "the Go client builds offline" env GOCACHE="$BUILD/gocache" \
	"$(cd .. && cd .. && pwd)/tools/service-clients/go/build.sh" "$goclient"
svc_start go "$(algo_pkg svc-go '' '"max_inflight":4')" --instances 2
gc() { "$goclient" -target "unix:$svc_sock" "$@"; }
eq "health" SERVING "$(gc -mode health | jq -r .status)"
eq "execute echoes the tag" "go-1 1" "$(gc -mode execute -tag go-1 | jq -r '"\(.tag) \(.data_json | fromjson | .calls)"')"
eq "an error with its detail code" "InvalidArgument 4001" "$(gc -mode execute -params '{bad' | jq -r '"\(.error) \(.code[0])"')"
l=$(gc -mode load -n 500 -c 16)
eq "500 concurrent calls, none failed, health answered meanwhile" "500 0 true" \
	"$(jq -r '"\(.calls) \(.failed) \(.health_checks > 0)"' <<<"$l")"
svc_stop
eq "exit status" 0 "$svc_rc"
end
