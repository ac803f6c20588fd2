# The http runner against a local python3 http.server: 200, 500-then-200, slow past the timeout, TLS with a throwaway CA.

H=$WORK/http
mkdir -p "$H"
PY=/usr/bin/python3
SERVER=$(pwd)/http/task_server.py

# start_server FILE [CERT KEY]: a server writing its port to FILE; SERVER_PORT and SERVER_PID set.
start_server() {
	local out=$1
	shift
	"$PY" "$SERVER" "$@" >"$out" 2>/dev/null &
	SERVER_PID=$!
	for _ in $(seq 1 50); do [ -s "$out" ] && break; sleep 0.1; done
	SERVER_PORT=$(head -n 1 "$out")
}

start_server "$H/port"
P=$SERVER_PORT
PLAIN_PID=$SERVER_PID

begin "http: a 200 with a JSON body kept as JSON, secrets redacted, timing split"
out=$H/ok.jsonl
"$C" run http --url "http://127.0.0.1:$P/ok?access_token=abc&x=1" --header 'Authorization: Bearer xyz' >"$out"
eq "exit status" 0 "$?"
eq "one result" "http.response" "$(jq -r .type "$out" | xargs)"
eq "status" 200 "$(field "$out" http.response .data.status)"
eq "JSON body is an object" object "$(field "$out" http.response '.data.body | type')"
eq "the body's field" true "$(field "$out" http.response .data.body.ok)"
eq "encoding" json "$(field "$out" http.response .data.encoding)"
eq "Set-Cookie redacted" "[REDACTED]" "$(field "$out" http.response '.data.headers["set-cookie"]')"
eq "repeated header joined" "a, b" "$(field "$out" http.response '.data.headers["x-trace"]')"
eq "token in the URL redacted" "http://127.0.0.1:$P/ok?access_token=[REDACTED]&x=1" "$(field "$out" http.response .data.url)"
eq "timing members" "connect dns first_byte tls total" "$(field "$out" http.response '.data.timing_ms | keys | join(" ")')"
check "total >= first byte" jq -e 'select(.type=="http.response") | .data.timing_ms.total >= .data.timing_ms.first_byte' "$out" >/dev/null
end

begin "http: 500 then 200 is retried with backoff 100, 200 ms; each attempt an event"
out=$H/flaky.jsonl
"$C" run http --url "http://127.0.0.1:$P/flaky" --retries 3 >"$out"
eq "exit status" 0 "$?"
eq "events" "http.attempt http.attempt http.response" "$(jq -r .type "$out" | xargs)"
eq "statuses" "500 500 200" "$(jq -r .data.status "$out" | xargs)"
eq "backoff" "100 200" "$(jq -r 'select(.type=="http.attempt") | .data.retry_in_ms' "$out" | xargs)"
eq "text body" "recovered" "$(field "$out" http.response '.data.body | rtrimstr("\n")')"
end

begin "http: a slow endpoint past --timeout is a timeout (exit 1), not retried"
out=$H/slow.jsonl
"$C" run http --url "http://127.0.0.1:$P/slow" --timeout 500ms --retries 2 >"$out"
eq "exit status" 1 "$?"
eq "one result" "http.response" "$(jq -r .type "$out" | xargs)"
eq "timed out" true "$(field "$out" http.response .data.timed_out)"
eq "no status" null "$(field "$out" http.response .data.status)"
end

begin "http: a refused connection is retried, then fails with exit 1"
out=$H/refused.jsonl
"$C" run http --url "http://127.0.0.1:1/" --retries 1 >"$out"
eq "exit status" 1 "$?"
eq "events" "http.attempt http.response" "$(jq -r .type "$out" | xargs)"
check "error named" grep -q "Couldn't connect" "$out"
end

begin "http: binary body as base64, a big one cut at --max-body, a POST body from @FILE"
out=$H/bin.jsonl
"$C" run http --url "http://127.0.0.1:$P/bin" >"$out"
eq "encoding" base64 "$(field "$out" http.response .data.encoding)"
eq "bytes back" 256 "$(field "$out" http.response .data.body | base64 -d | wc -c | tr -d ' ')"
"$C" run http --url "http://127.0.0.1:$P/big" --max-body 10 >"$out"
eq "cut" "10 100000 true" "$(field "$out" http.response '"\(.data.body | length) \(.data.body_bytes) \(.data.body_truncated)"')"
printf 'from a file' >"$H/body.txt"
"$C" run http --url "http://127.0.0.1:$P/post" --method POST --body "@$H/body.txt" >"$out"
eq "posted" "from a file" "$(field "$out" http.response .data.body.got)"
"$C" run http --url "http://127.0.0.1:$P/post" --body @"$H/absent" >/dev/null 2>&1
eq "missing @FILE: exit 2" 2 "$?"
end

begin "http: a probe every 100ms makes several requests until --duration"
out=$H/probe.jsonl
"$C" run --duration 1s http --url "http://127.0.0.1:$P/ok" --every 100ms >"$out"
eq "exit status" 0 "$?"
check "several responses" test "$(count "$out" '.type=="http.response"')" -ge 4
end

kill "$PLAIN_PID"
wait "$PLAIN_PID" 2>/dev/null

begin "http: TLS with a throwaway CA: verified with --cacert, refused without; certificate expiry"
if ! command -v openssl >/dev/null; then
	skip "http TLS" "no openssl"
else
	(
		cd "$H" &&
			openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=it-ca &&
			openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 &&
			printf 'subjectAltName=IP:127.0.0.1\n' >ext &&
			openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 30 -extfile ext
	) >/dev/null 2>&1
	start_server "$H/tport" "$H/srv.pem" "$H/srv.key"
	TP=$SERVER_PORT
	out=$H/tls.jsonl
	"$C" run http --url "https://127.0.0.1:$TP/ok" --cacert "$H/ca.pem" >"$out"
	eq "verified: exit 0" 0 "$?"
	eq "status" 200 "$(field "$out" http.response .data.status)"
	# A 30-day certificate: 30 in the second it was made, 29 after (whole days left, rounded down).
	days=$(field "$out" http.response .data.tls_cert.days_left)
	check "days left (29 or 30): $days" test "$days" = 29 -o "$days" = 30
	check "tls time measured" jq -e 'select(.type=="http.response") | .data.timing_ms.tls > 0' "$out" >/dev/null
	"$C" run http --url "https://127.0.0.1:$TP/ok" >"$out"
	eq "unknown CA: exit 1" 1 "$?"
	check "certificate error" grep -q "certificate" "$out"
	kill "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null
fi
end
