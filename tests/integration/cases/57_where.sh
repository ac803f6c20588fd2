# run --where: a field filter before the sinks; filtered is not lost; a bad expression is exit 2.

begin "--where: only matching events reach the sinks, seq stays gap-free, exit 0"
d=$WORK/where
mkdir -p "$d"
"$C" run --where 'data.status >= 500 and comm == "curl"' --sink "file:$d/ev.jsonl" exec --format json -- sh -c '
	echo "{\"type\":\"http.response\",\"comm\":\"curl\",\"status\":503}"
	echo "{\"type\":\"http.response\",\"comm\":\"curl\",\"status\":200}"
	echo "{\"type\":\"http.response\",\"comm\":\"wget\",\"status\":500}"
	echo "{\"type\":\"http.response\",\"comm\":\"curl\",\"status\":502}"' 2>"$d/err"
eq "exit status (filtered is not lost)" 0 $?
eq "the two matching events" "503 502" "$(jq -r .data.status "$d/ev.jsonl" | xargs)"
eq "their seq, gap-free" "0 1" "$(jq -r .seq "$d/ev.jsonl" | xargs)"
end

begin "--where: the collector's own reports always pass"
"$C" run --where 'data.n > 100' --sink "file:$d/own.jsonl" exec --format json -- sh -c 'echo "{\"type\":\"t\",\"n\":1}"; echo "not json"' 2>/dev/null
eq "collector.error kept, t filtered" "collector.error" "$(jq -r .type "$d/own.jsonl" | xargs)"
end

begin "--where: filtered events are counted in the metrics"
"$C" run --metrics=127.0.0.1:0 --where 'type == "keep"' exec --format json -- sh -c '
	for i in 1 2 3; do echo "{\"type\":\"drop\"}"; done; echo "{\"type\":\"keep\"}"; sleep 3' >"$d/m.out" 2>"$d/m.err" &
p=$!
addr=""
for _ in $(seq 1 40); do
	addr=$(grep -o 'http://[0-9.:]*' "$d/m.err" 2>/dev/null | head -n 1 | sed 's,http://,,')
	[ -n "$addr" ] && break
	sleep 0.1
done
sleep 1
eq "collector_runner_events_filtered_total" 3 "$(curl -s "http://$addr/metrics" |
	awk '/^collector_runner_events_filtered_total/ { print $2 }')"
wait "$p"
eq "exit status" 0 $?
eq "only keep reached stdout" "keep" "$(jq -r .type "$d/m.out" | grep -v exec.exit | xargs)"
end

begin "--where: a bad expression is exit 2 and one line with the column, nothing runs"
"$C" run --where 'data.status >= 500 and' exec -- touch "$d/ran" >/dev/null 2>"$d/bad"
eq "exit status" 2 $?
check "the column and what was expected" grep -q "column 23: expected a field" "$d/bad"
eq "one line" 1 "$(wc -l <"$d/bad")"
check "nothing ran" test ! -e "$d/ran"
end
