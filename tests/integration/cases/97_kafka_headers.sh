# The kafka sink's message headers: none unless headers= names envelope fields; the key stays the event id.

if ! command -v kcat >/dev/null; then
	skip "kafka headers" "kcat is not installed (make deps)"
else
	begin "kafka: no headers by default, the event id as the key"
	d=$WORK/kafka-hdr-none
	mkdir -p "$d"
	start_mock "$d" --partitions 2
	timeout 60 "$C" run -X linger.ms=1 --sink "kafka://$boot/events" \
		exec --format text -- seq 1 200 2>"$d/err"
	eq "collector exit status" 0 $?
	timeout 20 kcat -C -b "$boot" -t events -o beginning -e -q -f '%k|%h|%s\n' >"$d/got"
	eq "every message" 201 "$(wc -l <"$d/got")"
	eq "no message has headers" 0 "$(cut -d'|' -f2 "$d/got" | grep -vc '^$')"
	eq "each key is the event's id" 0 "$(awk -F'|' '{split($3, a, "\"id\":\""); split(a[2], b, "\"");
		if (b[1] != $1 || length($1) != 26) bad++} END {print bad + 0}' "$d/got")"
	stop_mock
	end

	begin "kafka: headers=type,runner in the URL, headers=id,seq,pid,comm as an option"
	d=$WORK/kafka-hdr-some
	mkdir -p "$d"
	start_mock "$d" --partitions 1
	timeout 60 "$C" run -X linger.ms=1 --sink "kafka://$boot/events?headers=type,runner&key=none" \
		exec --format text -- seq 1 3 2>"$d/err"
	eq "collector exit status (URL)" 0 $?
	timeout 60 "$C" run -X linger.ms=1 --sink "kafka://$boot/events" --sink-option headers=id,seq,pid,comm \
		exec --format text -- seq 4 4 2>>"$d/err"
	eq "collector exit status (option)" 0 $?
	timeout 20 kcat -C -b "$boot" -t events -o beginning -e -q -f '%k|%h|%s\n' >"$d/got"
	eq "the URL's headers, no key" "|type=exec.line,runner=exec" \
		"$(grep '"line":"1"' "$d/got" | cut -d'|' -f1,2)"
	eq "the exit event's type" "type=exec.exit,runner=exec" \
		"$(grep -m1 '"exec.exit"' "$d/got" | cut -d'|' -f2)"
	line=$(grep '"line":"4"' "$d/got")
	id=$(sed 's/.*"id":"\([^"]*\)".*/\1/' <<<"$line")
	pid=$(sed 's/.*"pid":\([0-9]*\).*/\1/' <<<"$line")
	check "an exec line has no comm" test -z "$(grep -o '"comm"' <<<"$line")"
	eq "id, seq and pid headers in the order named, no empty comm" "$id|id=$id,seq=0,pid=$pid" \
		"$(cut -d'|' -f1,2 <<<"$line")"
	stop_mock
	end

	begin "kafka: an unknown or repeated header field is a usage error"
	d=$WORK/kafka-hdr-bad
	mkdir -p "$d"
	"$C" run --sink "kafka://127.0.0.1:9/events?headers=type,host" exec -- true 2>"$d/err"
	eq "exit status (unknown)" 2 $?
	check "the field and the choices named" grep -q "unknown field 'host' (a comma list of type, runner, comm, pid, seq, id)" "$d/err"
	"$C" run --sink "kafka://127.0.0.1:9/events" --sink-option headers=type,type exec -- true 2>"$d/err"
	eq "exit status (twice)" 2 $?
	check "the repeat named" grep -q "'type' twice" "$d/err"
	end
fi

if command -v kcat >/dev/null; then
	# The sink hands librdkafka batches (rd_kafka_produce_batch); what a full queue refuses
	# waits in the sink, in order, for delivery reports to make room.
	for hdrs in "" "&headers=seq"; do
		begin "kafka: a 50-message librdkafka queue${hdrs:+ ($hdrs)}: every event once, each partition in order"
		d=$WORK/kafka-smallq$hdrs
		mkdir -p "$d"
		start_mock "$d" --partitions 4
		timeout 60 "$C" run -X queue.buffering.max.messages=50 -X linger.ms=1 \
			--sink "kafka://$boot/events?key=line$hdrs" exec --format text -- seq 1 20000 2>"$d/err"
		eq "collector exit status" 0 $?
		timeout 20 kcat -C -b "$boot" -t events -o beginning -e -q -f '%p %s\n' >"$d/got"
		stop_mock
		eq "every event once" "20000 0" "$(grep -o '"line":"[0-9]*"' "$d/got" | tr -dc '0-9\n' |
			sort -n | uniq -c | awk '$1 != 1 || $2 != NR {bad++} END {print NR, bad + 0}')"
		eq "each partition in seq order" 0 "$(sed 's/^\([0-9]*\) .*"seq":\([0-9]*\).*/\1 \2/' "$d/got" |
			awk '$2 < last[$1] {bad++} {last[$1] = $2} END {print bad + 0}')"
		end
	done
fi
