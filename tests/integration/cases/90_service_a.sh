# The algorithm runner's gRPC service: every method with the real Python client, and its errors.

# shellcheck source=../service_lib.sh
. ./service_lib.sh

if ! svc_ready; then
	skip "algorithm gRPC service" "needs /usr/bin/python3 with python3-grpcio and python3-grpc-tools (make deps)"
	return 0
fi

pkg=$(algo_pkg svc-a '"--latency-us","2000"' '"max_inflight":2')

begin "service: --listen refuses what it must not serve"
"$C" run algorithm --package "$pkg" --listen 0.0.0.0:50051 >/dev/null 2>"$SVC_WORK/pub.err"
eq "a public address without --listen-public: usage error" 2 $?
check "says how" grep -q "add --listen-public" "$SVC_WORK/pub.err"
"$C" run algorithm --package "$pkg" --listen 0.0.0.0:50051 --listen-public >/dev/null 2>"$SVC_WORK/pub2.err"
eq "--listen-public without TLS: usage error" 2 $?
check "says TLS" grep -q "needs --tls-cert and --tls-key" "$SVC_WORK/pub2.err"
end

begin "service: unary methods, slots, health and metrics over a 0660 unix socket"
svc_start a "$pkg"
eq "socket mode" 660 "$(stat -c %a "$svc_sock")"
eq "health" SERVING "$(cl health | jq -r .status)"
eq "health of our service by name" SERVING "$(cl health --service collector.algorithm.v1.Algorithm | jq -r .status)"
eq "an unknown service" "NOT_FOUND" "$(cl health --service nosuch | jq -r .error)"
r=$(cl execute --params '{"n":7}' --tag mine)
eq "execute: data and tag" "1 mine" "$(jq -r '"\(.data_json | fromjson | .calls) \(.tag)"' <<<"$r")"
eq "pre_execute" "pre_execute" "$(cl pre-execute | jq -r .id | xargs -I{} jq -r "select(.type==\"algorithm.result\" and .data.id=={}) | .data.method" "$svc_out")"
eq "inline image bytes reach the child" 9216 "$(cl --width 64 --height 48 execute | jq -r '.data_json | fromjson | .image_bytes')"
eq "a 1080p frame through a leased slot" 6220800 "$(cl --width 1920 --height 1080 --slot execute | jq -r '.data_json | fromjson | .image_bytes')"
b=$(cl batch 5)
eq "batch: five outcomes in order" "ok,ok,ok,ok,ok 0,1,2,3,4" "$(jq -r '[.results[].outcome] | join(",")' <<<"$b") $(jq -r '[.results[].tag] | join(",")' <<<"$b")"
eq "the lease is back in the pool after its call" 0 "$(metric slots_leased)"
l=$(cl --ttl 60000 lease 2)
eq "two slots leased" "2 2" "$(jq -r '.slots | length' <<<"$l") $(metric slots_leased)"
eq "a wrong token releases nothing" 0 "$(cl release "$(jq -r '.slots[0].slot' <<<"$l"):1" | jq -r .released)"
eq "ReleaseSlot gives them back" "2 0" "$(cl release $(jq -r '.slots[] | "\(.slot):\(.lease)"' <<<"$l") | jq -r .released) $(metric slots_leased)"
cl --ttl 200 lease 3 >/dev/null
eq "leases end by themselves after their time" 0 "$(svc_wait_metric slots_leased 0)"
m=$(cl metrics)
eq "metrics: calls, success, instances" "9 1 1 0 0" "$(jq -r '"\(.calls_total) \(.success_rate) \(.instances) \(.in_flight) \(.queued)"' <<<"$m")"
eq "metrics: the histogram's last bucket holds every call" 9 "$(jq -r '.latency_bucket_count[-1]' <<<"$m")"
svc_stop
eq "SIGTERM: a clean exit" 0 "$svc_rc"
check "the socket is removed" test ! -e "$svc_sock"
end

begin "service: errors are statuses with detail codes"
svc_start e "$pkg" --queue-size 2
eq "bad params" "INVALID_ARGUMENT 4001" "$(cl execute --params '{bad' | jq -r '"\(.error) \(.code)"')"
eq "bad method word is not reachable; bad image geometry" "INVALID_ARGUMENT 4001" \
	"$(/usr/bin/python3 - "$SVC_CLIENT" "$svc_sock" <<'PY' 2>&1
import sys, importlib.util, json, grpc
spec = importlib.util.spec_from_file_location("c", sys.argv[1]); c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c)
pb, rpc, _, _ = c.load_stubs(c.PROTO)
s = rpc.AlgorithmStub(grpc.insecure_channel("unix:" + sys.argv[2]))
try:
    s.Execute(pb.ExecuteRequest(image=pb.Image(data=b"xx", width=64, height=48, channels=3, stride=192, format="rgb8")))
except grpc.RpcError as e:
    print(e.code().name, dict(e.trailing_metadata())["collector-code"])
PY
)"
eq "a slot not leased" "FAILED_PRECONDITION 4009" \
	"$(/usr/bin/python3 - "$SVC_CLIENT" "$svc_sock" <<'PY' 2>&1
import sys, importlib.util, grpc
spec = importlib.util.spec_from_file_location("c", sys.argv[1]); c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c)
pb, rpc, _, _ = c.load_stubs(c.PROTO)
s = rpc.AlgorithmStub(grpc.insecure_channel("unix:" + sys.argv[2]))
try:
    s.Execute(pb.ExecuteRequest(image=pb.Image(slot=pb.SlotRef(slot=0, lease=42), width=4, height=4, channels=3, stride=12, format="rgb8")))
except grpc.RpcError as e:
    print(e.code().name, dict(e.trailing_metadata())["collector-code"])
PY
)"
eq "more slots than the pool has" "RESOURCE_EXHAUSTED 4002" "$(cl lease 64 | jq -r '"\(.error) \(.code)"')"
eq "an empty batch" "INVALID_ARGUMENT 4001" "$(cl batch 0 | jq -r '"\(.error) \(.code)"')"
eq "a full queue: no_capacity outcomes in a batch" true "$(cl batch 20 | jq '[.results[] | select(.outcome=="no_capacity" and .code==4002)] | length > 0')"
eq "an unknown source" "NOT_FOUND 1001" "$(cl remove-source nosuch | jq -r '"\(.error) \(.code)"')"
svc_stop
end

begin "service: a camera stream answers in order and says what it dropped"
# A child slower than the camera: a stream of 2 pending frames must drop some.
svc_start f "$(algo_pkg svc-slow '"--latency-us","50000"' '"max_inflight":2')" --pool-slots 16
cl --width 64 --height 48 --slot frames --source cam1 --count 30 --max-pending 2 >"$SVC_WORK/frames.out"
eq "one result per frame, in order" "$(seq 0 29 | paste -sd,)" "$(jq -r '.frame_id' "$SVC_WORK/frames.out" | paste -sd,)"
drops=$(jq -r 'select(.result.outcome=="dropped") | .frame_id' "$SVC_WORK/frames.out" | wc -l)
check "frames beyond max_pending were dropped" test "$drops" -gt 0
eq "the drop count is said and matches" "$drops" "$(jq -rs '.[-1].dropped_total' "$SVC_WORK/frames.out")"
eq "and counted in the metrics" "$drops" "$(metric frames_dropped)"
eq "results name the source" cam1 "$(jq -r '.source' "$SVC_WORK/frames.out" | sort -u)"
eq "no slot left leased" 0 "$(metric slots_leased)"
svc_stop
end

begin "service: SubscribeResults filters by source and outcome; sources the runner feeds"
svc_start s "$pkg"
mkdir -p "$SVC_WORK/frames"
for i in 1 2 3; do algo_ppm "$SVC_WORK/frames/f$i.ppm" 8 8 $i; done
cl --timeout 8 subscribe 3 --source door --outcome ok >"$SVC_WORK/sub.jsonl" &
sub=$!
sleep 1.5
cl execute --source other >/dev/null
eq "a source added" 3 "$(cl add-source door "$SVC_WORK/frames" --fps 20 | jq -r .frames)"
wait "$sub"
eq "the subscriber saw only door's ok results" "door ok,door ok,door ok" "$(jq -r '"\(.source) \(.outcome)"' "$SVC_WORK/sub.jsonl" | paste -sd,)"
eq "listed" "door 20" "$(cl list-sources | jq -r '.sources[] | "\(.source) \(.fps)"')"
cl remove-source door >/dev/null
eq "removed" 0 "$(cl list-sources | jq -r '.sources | length')"
svc_stop
algo_leftovers "$svc_out"
end
