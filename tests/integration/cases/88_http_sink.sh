# The http sink against a real control plane (FastAPI): batches, per-type paths, retries, loss.

d=$WORK/http
start_control_plane "$d" || { skip "http sink" "the control plane did not start: $(cat "$d/cp.stderr")"; return 0; }

# received FILTER: a jq filter over the control plane's list of what it received.
received() {
	curl -s "$CP_URL/_test/received" | jq -r "$1"
}

begin "http: NDJSON batches, a per-type path, headers never logged"
"$C" run --sink "http:$CP_URL/internal/runtime/heartbeat" \
	--sink-option 'header=Authorization: Bearer hush-hush' \
	--sink-option path.exec.exit=/internal/runtime/containers/ready \
	exec -- seq 1 500 2>"$d/a.err"
eq "exit status" 0 $?
eq "every line once, in order" "500 0" \
	"$(received '.events[] | select(.type=="exec.line") | .data.line' | awk 'NR!=$1{bad++} END{print NR, bad+0}')"
eq "exec.exit to its own path" /internal/runtime/containers/ready \
	"$(received '.events[] | select(.type=="exec.exit") | .path')"
eq "the token nowhere in the diagnostics" 0 "$(grep -c hush-hush "$d/a.err")"
end

begin "http: format=array posts one JSON array"
"$C" run --sink "http:$CP_URL/internal/runtime/heartbeat" --sink-option format=array \
	--name arr exec -- seq 1 3 2>"$d/b.err"
eq "exit status" 0 $?
# Requests run concurrently (max-requests): the exit's batch may overtake the lines'.
eq "three lines and the exit, in arrays" "exec.exit exec.line exec.line exec.line true" \
	"$(received '[.events[] | select(.runner=="arr")] | "\(map(.type) | sort | join(" ")) \(all(.array))"')"
end

begin "http: the control plane answers 503 for 3 s: retried, nothing lost"
curl -s -XPOST "$CP_URL/_test/fail" -d '{"status": 503, "seconds": 3}' >/dev/null
before=$(received .requests)
"$C" run --sink "http:$CP_URL/internal/runtime/heartbeat" --name retry \
	exec -- seq 1 300 2>"$d/c.err"
eq "exit status" 0 $?
eq "every line once after the retries" "300 300" \
	"$(received '[.events[] | select(.runner=="retry" and .type=="exec.line") | .data.line] | "\(length) \(unique | length)"')"
check "it was retried" test "$(($(received .requests) - before))" -gt 3
end

begin "http: the control plane answers 400: counted loss, exit 3"
curl -s -XPOST "$CP_URL/_test/fail" -d '{"status": 400, "seconds": 3}' >/dev/null
"$C" run --sink "http:$CP_URL/internal/runtime/heartbeat" \
	--sink-option 'header=X-Api-Key: sekret-value' exec -- seq 1 10 2>"$d/e.err"
eq "exit status" 3 $?
check "the status and the loss said" grep -q "HTTP 400 after 1 attempts.*events lost" "$d/e.err"
check "counted" grep -q "11 events failed in sinks" "$d/e.err"
eq "the header value nowhere" 0 "$(grep -c sekret-value "$d/e.err")"
end

begin "http: a bad URL is a usage error"
"$C" run --sink "http:ftp://127.0.0.1/x" exec -- true 2>"$d/f.err"
eq "exit status" 2 $?
check "one clear line" grep -q "expected http://HOST:PORT/PATH" "$d/f.err"
end

begin "https: the server's certificate checked against ca=; refused without it, not retried"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" -days 1 \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
port=$((20000 + RANDOM % 20000))
python3 "$(dirname "${BASH_SOURCE[0]}")/../tls/server.py" "$port" "$d/cert.pem" "$d/key.pem" >"$d/tls.out" 2>&1 &
tls_server=$!
for _ in $(seq 100); do grep -q ready "$d/tls.out" 2>/dev/null && break; sleep 0.05; done
"$C" run --sink "http:https://127.0.0.1:$port/echo" --sink-option "ca=$d/cert.pem" \
	exec -- seq 1 20 2>"$d/tls.err"
eq "exit status with the CA" 0 $?
SECONDS=0
"$C" run --sink "http:https://127.0.0.1:$port/echo" exec -- seq 1 20 2>"$d/tls-bad.err"
eq "exit status without it" 3 $?
check "the certificate refused, once" grep -q "after 1 attempts.*events lost" "$d/tls-bad.err"
check "no retry loop (${SECONDS}s)" test "$SECONDS" -lt 10
stop_server "$tls_server"
end

stop_server "$CP_PID"
