# Operating it: the metrics endpoint, health, status, signals and logs.

# metrics_addr ERRFILE: the address the collector logged it serves on.
metrics_addr() {
	local i addr
	for i in $(seq 1 100); do
		addr=$(grep -o 'http://[0-9.:]*' "$1" 2>/dev/null | head -n 1 | sed 's,http://,,')
		[ -n "$addr" ] && echo "$addr" && return
		sleep 0.1
	done
}

# metric ADDR NAME LABELS: the value of one sample.
metric() {
	local m=$2
	[ -z "$3" ] || m="$2{$3}"
	curl -s "http://$1/metrics" | awk -v m="$m" '$1 == m { print $2 }'
}

# wait_for ADDR NAME LABELS VALUE: until a sample has the value (5 s at most).
wait_for() {
	local i
	for i in $(seq 1 50); do
		[ "$(metric "$1" "$2" "$3")" = "$4" ] && return 0
		sleep 0.1
	done
	return 1
}

begin "/metrics counts exactly the events the sink wrote"
out=$WORK/metrics.jsonl
rt=$WORK/run
COLLECTOR_RUNTIME_DIR=$rt "$C" run --metrics=127.0.0.1:0 --sink "file:$out" exec --format text -- \
	sh -c 'seq 1 5000; printf "{\"a\":\n" >&2; exec sleep 30' 2>"$WORK/metrics.err" &
pid=$!
addr=$(metrics_addr "$WORK/metrics.err")
check "the endpoint is announced" test -n "$addr"
check "events reach 5001" wait_for "$addr" collector_runner_events_total 'runner="exec"' 5001
eq "delivered == lines in the file" "$(wc -l <"$out" | tr -d ' ')" \
	"$(metric "$addr" collector_sink_events_delivered_total 'sink="file"')"
eq "stdout lines counted" 5000 "$(metric "$addr" collector_runner_lines_total 'runner="exec",stream="stdout"')"
check "the child's RSS is reported" test "$(curl -s "http://$addr/metrics" |
	grep -c '^collector_runner_child_rss_bytes{runner="exec",pid="')" = 1
check "the collector's own RSS is reported" test \
	"$(curl -s "http://$addr/metrics" | awk '$1=="collector_resident_memory_bytes"{print ($2>100000)}')" = 1
check "histogram buckets are cumulative and end in +Inf" test "$(curl -s "http://$addr/metrics" |
	grep -c 'collector_sink_flush_seconds_bucket{sink="file",le="+Inf"}')" = 1
eq "the control token is readable by its owner only" 600 "$(stat -c %a "$rt/$addr.token")"
eq "/runners lists the child as running to the token's holder" running \
	"$(curl -s -H "X-Collector-Token: $(cat "$rt/$addr.token")" "http://$addr/runners" |
		jq -r '.runners[0].children[0].state')"
eq "/runners without the token: names and states, no pids or children" "exec running 0" \
	"$(curl -s "http://$addr/runners" |
		jq -r '"\(.runners[0].name) \(.runners[0].status) \([.. | objects | select(has("pid") or has("children"))] | length)"')"
eq "unknown path is 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/nope")"
eq "POST is refused" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$addr/metrics")"
fds_before=$(ls /proc/$pid/fd | wc -l)
for _ in $(seq 1 50); do curl -s "http://$addr/metrics" >/dev/null; done
eq "no fd left behind by 50 scrapes" "$fds_before" "$(ls /proc/$pid/fd | wc -l)"
COLLECTOR_RUNTIME_DIR=$rt "$C" status "$addr" >"$WORK/status.out"
eq "collector status exits 0" 0 $?
check "status shows the runner row" grep -Eq '^exec +exec +running +ok +5001 ' "$WORK/status.out"
check "status shows the child's pid" grep -Eq '^exec .* [0-9]+ running' "$WORK/status.out"
check "status shows the sink row" grep -Eq '^file +file +block ' "$WORK/status.out"
kill -USR1 "$pid"
sleep 0.3
check "SIGUSR1 logs a status dump" grep -q 'status: runner exec (exec): running' "$WORK/metrics.err"
kill -TERM "$pid"
wait "$pid"
eq "exit status after SIGTERM" 0 $?
check "the port is closed after exit" test "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/metrics")" = 000
check "the token file is removed" test ! -e "$rt/$addr.token"
end

begin "/healthz keeps answering beside slow connections; idle ones are closed"
"$C" run --metrics=127.0.0.1:0 exec -- sleep 30 >/dev/null 2>"$WORK/slow.err" &
pid=$!
addr=$(metrics_addr "$WORK/slow.err")
slow=()
for _ in $(seq 40); do
	exec {fd}<>"/dev/tcp/127.0.0.1/${addr##*:}"
	printf 'GET /healthz HTTP/1.1\r\n' >&"$fd"
	slow+=("$fd")
done
eq "/healthz answers beside 40 half-sent requests" 200 \
	"$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' "http://$addr/healthz")"
timeout 9 cat <&"${slow[0]}" >/dev/null
eq "a half-sent request is closed once idle (not after 9 s)" 0 $?
for fd in "${slow[@]}"; do exec {fd}>&-; done
kill -TERM "$pid"
wait "$pid"
eq "exit status" 0 $?
end

begin "/healthz: ok, then failing with the reason when a runner breaks"
cfg=$WORK/health.json
cat >"$cfg" <<'JSON'
{"metrics": "127.0.0.1:0",
 "runners": [{"name": "steady", "type": "exec", "command": ["sleep", "30"]},
             {"name": "fragile", "type": "exec", "command": ["sh", "-c", "sleep 1; exit 3"]}],
 "sinks": [{"type": "stdout"}]}
JSON
"$C" run --config "$cfg" >/dev/null 2>"$WORK/health.err" &
pid=$!
addr=$(metrics_addr "$WORK/health.err")
code=$(curl -s -o "$WORK/h1" -w '%{http_code}' "http://$addr/healthz")
eq "healthy at first: status" ok "$(jq -r .status "$WORK/h1")"
eq "healthy at first: 200" 200 "$code"
for _ in $(seq 1 40); do
	code=$(curl -s -o "$WORK/h2" -w '%{http_code}' "http://$addr/healthz")
	[ "$code" = 503 ] && break
	sleep 0.1
done
eq "failing: 503" 503 "$code"
eq "failing: status" failing "$(jq -r .status "$WORK/h2")"
eq "failing: the reason names the runner" "runner fragile ended: failed" "$(jq -r '.reasons[0]' "$WORK/h2")"
eq "the gauge says failing" 2 "$(metric "$addr" collector_health "")"
kill -TERM "$pid"
wait "$pid"
eq "exit status says a runner failed" 1 $?
end

begin "/healthz: degraded while a sink drops events"
"$C" run --metrics=127.0.0.1:0 --policy drop_newest --queue-events 16 exec --format text -- \
	sh -c 'seq 1 20000; exec sleep 30' 2>"$WORK/deg.err" | (sleep 3; cat >/dev/null) &
addr=$(metrics_addr "$WORK/deg.err")
for _ in $(seq 1 40); do
	[ "$(curl -s "http://$addr/healthz" | jq -r .status)" = degraded ] && break
	sleep 0.1
done
curl -s "http://$addr/healthz" >"$WORK/h3"
eq "degraded" degraded "$(jq -r .status "$WORK/h3")"
check "the reason names the sink" grep -q 'sink stdout lost events' "$WORK/h3"
check "drops are counted by reason" test "$(metric "$addr" collector_sink_events_dropped_total 'sink="stdout",reason="drop_newest"')" -gt 0
pkill -TERM -f 'collector run --metrics=127.0.0.1:0 --policy drop_newest'
wait
end

begin "status and crashes show control characters, never send them to the terminal"
cat >"$WORK/esc.json" <<'JSON'
{"metrics": "127.0.0.1:0",
 "runners": [{"name": "a\u001b[2Jb", "type": "exec", "command": ["sleep", "30"]}],
 "sinks": [{"type": "stdout"}]}
JSON
"$C" run --config "$WORK/esc.json" >/dev/null 2>"$WORK/esc.err" &
pid=$!
addr=$(metrics_addr "$WORK/esc.err")
"$C" status "$addr" >"$WORK/esc.status"
check "status: no raw escape" test "$(tr -dc '\033' <"$WORK/esc.status" | wc -c)" = 0
check "status: the name escaped" grep -qF 'a\x1b[2Jb' "$WORK/esc.status"
kill -TERM "$pid"
wait "$pid"
mkdir -p "$WORK/crashes"
cat >"$WORK/crashes/c1.json" <<'JSON'
{"id":"c1","time":"t","package":{"name":"evil\u001b]0;owned\u0007","version":"1"},"pid":7,
 "cause":"exit","exit_code":1,"stderr":["clear \u001b[2J","c1 \u009b31m"]}
JSON
"$C" crashes --dir "$WORK/crashes" >"$WORK/esc.list"
"$C" crashes --dir "$WORK/crashes" c1 >"$WORK/esc.explain"
check "crashes: no raw control characters" test \
	"$(cat "$WORK/esc.list" "$WORK/esc.explain" | tr -dc '\033\007\302' | wc -c)" = 0
check "crashes: the package name escaped" grep -qF 'evil\x1b]0;owned\x07 1' "$WORK/esc.list"
check "crashes: stderr escaped" grep -qF 'c1 \u009b31m' "$WORK/esc.explain"
end

begin "--metrics errors are clear"
"$C" run --metrics=nonsense exec -- true 2>"$WORK/m.err"
eq "a bad address is a usage error" 2 $?
check "it names the address" grep -q "metrics address 'nonsense'" "$WORK/m.err"
"$C" run --metrics=0.0.0.0:0 exec -- true 2>"$WORK/m.err"
eq "a non-loopback address without --metrics-public is a usage error" 2 $?
check "it says how to allow it" grep -q "not a loopback address: add --metrics-public" "$WORK/m.err"
"$C" run --metrics=0.0.0.0:0 --metrics-public exec -- true >/dev/null 2>"$WORK/m.err"
eq "with --metrics-public it serves" 0 $?
check "and warns" grep -q "warn: metrics endpoint http://0.0.0.0:[0-9]* is public" "$WORK/m.err"
"$C" status 127.0.0.1:1 2>"$WORK/s.err"
eq "status without a collector fails" 1 $?
check "status says why" grep -q 'Connection refused' "$WORK/s.err"
end

begin "JSON logs, one object per line; repeats are rate-limited"
for _ in $(seq 1 40); do echo '{"a":'; done >"$WORK/bad.jsonl"
"$C" run --log-format json --log-level debug exec --format json -- cat "$WORK/bad.jsonl" \
	>/dev/null 2>"$WORK/log.json"
check "every line is JSON with ts, level and msg" \
	jq -e 'has("ts") and has("level") and has("msg")' "$WORK/log.json" >/dev/null
eq "40 identical errors print 10 lines" 10 "$(grep -c 'incomplete JSON value' "$WORK/log.json")"
end

begin "SIGHUP re-reads the configuration: log_level applies, a broken file is refused"
cfg=$WORK/reload.json
echo '{"log_level":"warn","runners":[{"type":"exec","command":["sleep","30"]}],"sinks":[{"type":"stdout"}]}' >"$cfg"
"$C" run --config "$cfg" >/dev/null 2>"$WORK/reload.err" &
pid=$!
# Signals only once the collector runs its child (its handlers are in place).
for _ in $(seq 1 100); do pgrep -P "$pid" sleep >/dev/null && break; sleep 0.1; done
kill -USR1 "$pid"
sleep 0.3
eq "log_level warn hides info messages" 0 "$(grep -c 'info: status' "$WORK/reload.err")"
sed -i 's/"warn"/"info"/' "$cfg"
kill -HUP "$pid"
sleep 0.3
kill -USR1 "$pid"
sleep 0.3
check "the new level applies" grep -q 'info: status: runner exec' "$WORK/reload.err"
echo '{broken' >"$cfg"
kill -HUP "$pid"
sleep 0.3
check "a broken file is refused with the reason" grep -q 'reload: .* is not valid; the running configuration stays' "$WORK/reload.err"
check "and the collector keeps running" kill -0 "$pid"
kill -TERM "$pid"
wait "$pid"
eq "exit status" 0 $?
end
