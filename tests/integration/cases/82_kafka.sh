# The kafka sink against librdkafka's mock cluster, read back with kcat.

# read_back DIR: every message as "key|headers|value|partition" into DIR/got.
read_back() {
	timeout 20 kcat -C -b "$boot" -t events -o beginning -e -q -f '%k|%h|%s|%p\n' >"$1/got"
}

# lines_once FILE N: "N 0" when data.line 1..N each appear exactly once.
lines_once() {
	cut -d'|' -f3 "$1" | jq -r 'select(.type=="exec.line") | .data.line' | sort -n | uniq -c |
		awk -v n="$2" '$1 != 1 || $2 != NR {bad++} END {print NR, bad + 0}'
}

if ! command -v kcat >/dev/null; then
	skip "kafka sink" "kcat is not installed (make deps)"
else
	begin "kafka: every event delivered once, key from a field, headers=type,runner"
	d=$WORK/kafka
	mkdir -p "$d"
	start_mock "$d"
	timeout 60 "$C" run -X linger.ms=2 --sink "kafka://$boot/events?key=line&headers=type,runner&compression=zstd" \
		exec --format text -- seq 1 20000 2>"$d/err"
	eq "collector exit status" 0 $?
	read_back "$d"
	eq "every event once" "20000 0" "$(lines_once "$d/got" 20000)"
	eq "key is data.line" 0 "$(grep 'exec.line' "$d/got" |
		awk -F'|' '{split($3, a, "\"line\":\""); split(a[2], b, "\""); if (b[1] != $1) bad++} END {print bad + 0}')"
	eq "headers" "type=exec.line,runner=exec" "$(grep '"exec.line"' "$d/got" | head -n 1 | cut -d'|' -f2)"
	eq "each partition in seq order" 0 "$(awk -F'|' '{print $4, $3}' "$d/got" |
		sed 's/^\([0-9]*\) .*"seq":\([0-9]*\).*/\1 \2/' |
		awk '$2 < last[$1] {bad++} {last[$1] = $2} END {print bad + 0}')"
	stop_mock
	end

	begin "kafka: key from a data field: only a top-level member, scalars as JSON text"
	d=$WORK/kafka-keys
	mkdir -p "$d"
	printf '%s\n' '{"type":"k","data":{"o":{"k":1},"k":2}}' '{"type":"k","data":{"k":"a\"b"}}' \
		'{"type":"k","data":{"a":[{"k":9}],"k":-1.5e3}}' '{"type":"k","data":{"k":true}}' \
		'{"type":"k","data":{"k":null}}' '{"type":"k","data":{"k":{"x":1}}}' \
		'{"type":"k","data":{"x":1}}' >"$d/in"
	start_mock "$d" --partitions 1
	timeout 60 "$C" run -X linger.ms=1 --sink "kafka://$boot/events?key=k" \
		exec --format json -- cat "$d/in" 2>"$d/err"
	eq "collector exit status" 0 $?
	read_back "$d"
	eq "keys in order" '2,a"b,-1.5e3,true,,,' \
		"$(grep '"type":"k"' "$d/got" | cut -d'|' -f1 | paste -sd,)"
	stop_mock
	end

	begin "kafka: injected broker errors lose and duplicate nothing"
	d=$WORK/kafka-errors
	mkdir -p "$d"
	start_mock "$d" --fail-every 700 --fail-count 1
	timeout 60 "$C" run --sink "kafka://$boot/events?key=line" exec --format text -- \
		sh -c 'for i in $(seq 0 9); do seq $((i * 2000 + 1)) $((i * 2000 + 2000)); sleep 0.15; done' \
		2>"$d/err"
	eq "collector exit status" 0 $?
	read_back "$d"
	eq "every event once" "20000 0" "$(lines_once "$d/got" 20000)"
	stop_mock
	injected=$(sed -n 's/^injected \([0-9]*\) errors$/\1/p' "$d/mock.err")
	check "errors were injected ($injected)" test "${injected:-0}" -gt 0
	end

	begin "kafka: librdkafka's broker threads run broker-nice (default 5) above the loop's niceness"
	d=$WORK/kafka-nice
	mkdir -p "$d"
	start_mock "$d"
	for add in 5 12; do
		opt=()
		[[ $add == 5 ]] || opt=(--sink-option "broker-nice=$add")
		"$C" run "${opt[@]}" --sink "kafka://$boot/events" exec -- sh -c 'echo up; sleep 2' \
			2>"$d/err" &
		pid=$!
		for _ in $(seq 50); do
			grep -qs '^rdk:broker' /proc/$pid/task/*/comm && break
			sleep 0.1
		done
		sleep 0.5
		base=$(awk '{print $19}' "/proc/$pid/stat")
		want=$((base + add > 19 ? 19 : base + add))
		got=$(for t in /proc/$pid/task/*; do
			[[ $(cat "$t/comm") == rdk:broker* ]] && awk '{print $19}' "$t/stat"
		done | sort -u | paste -sd,)
		eq "broker threads at nice $want (loop at $base)" "$want" "$got"
		wait $pid
		eq "collector exit status" 0 $?
	done
	stop_mock
	end

	begin "kafka: -X and the config file reach librdkafka; a bad property is an error"
	d=$WORK/kafka-x
	mkdir -p "$d"
	"$C" run -X no.such.property=1 --sink "kafka://127.0.0.1:9/events" exec -- true 2>"$d/err"
	check "bad -X rejected" test $? -ne 0
	check "bad -X named" grep -q "no.such.property" "$d/err"
	start_mock "$d"
	cat >"$d/c.json" <<CFG
{"runners": [{"type": "exec", "format": "text", "command": ["seq", "1", "500"]}],
 "sinks": [{"type": "kafka", "url": "kafka://$boot/events", "key": "seq", "X": ["linger.ms=1", "batch.num.messages=100"]}]}
CFG
	timeout 60 "$C" run --config "$d/c.json"
	eq "collector exit status" 0 $?
	read_back "$d"
	eq "every event once" "500 0" "$(lines_once "$d/got" 500)"
	stop_mock
	end
fi
