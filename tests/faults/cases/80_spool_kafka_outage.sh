# The spool in front of kafka: the brokers go down under load (SPOOL_OUTAGE_S, 60 s as the issue asks;
# shorter by hand: SPOOL_OUTAGE_S=20 make faults CASES=cases/80_spool_kafka_outage.sh) and come back; every
# event is delivered, duplicates only from the unacknowledged window, the runner never waits.

if ! command -v kcat >/dev/null; then
	skip "spool: kafka outage" "kcat is not installed (make deps)"
else
	begin "spool: kafka down ${SPOOL_OUTAGE_S:-60}s under load, then back: every event delivered"
	d=$WORK/spool-outage
	mkdir -p "$d"
	outage=${SPOOL_OUTAGE_S:-60}
	rate=2000
	total=$((rate * (outage + 6)))
	# The mock keeps about 5 MiB per partition (older messages are trimmed): 12 partitions
	# hold the 60 s run's 132,000 events.
	start_mock "$d" --partitions 12
	"$C" run --shutdown-timeout 60s -X linger.ms=5 --sink "kafka://$boot/events" \
		--sink-option "spool=$d/spool" exec --format json -- \
		"$GEN" "$total" --rate "$rate" --count-file "$d/generated" 2>"$d/err" &
	pid=$!
	sleep 2
	kill -USR1 "$mock_pid"
	sleep 1
	spooled_before=$(du -sb "$d/spool" | cut -f1)
	sleep $((outage - 2))
	spooled_during=$(du -sb "$d/spool" | cut -f1)
	check "the runner kept reading during the outage" pgrep -f "^$GEN $total --rate" >/dev/null
	kill -USR2 "$mock_pid"
	wait "$pid"
	eq "collector exit status" 0 $?
	timeout 60 kcat -C -b "$boot" -t events -o beginning -e -q -f '%s\n' >"$d/got"
	stop_mock
	check "the brokers went down and up" grep -q "brokers up" "$d/mock.err"
	check "the spool grew during the outage ($spooled_before -> $spooled_during bytes)" \
		test "$spooled_during" -gt $((spooled_before + rate * 100))
	generated=$(cat "$d/generated")
	eq "the source wrote everything" "$total" "$generated"
	jq -r 'select(.type=="bench.event") | .data.i' "$d/got" | sort -n | uniq -c >"$d/counts"
	eq "every event delivered" "$generated 0" \
		"$(awk '$2 != NR - 1 {bad++} END {print NR, bad + 0}' "$d/counts")"
	dups=$(awk '$1 > 1 {d += $1 - 1} END {print d + 0}' "$d/counts")
	echo "  outage ${outage}s: $generated events, $dups duplicates"
	# librdkafka's queue is the unacknowledged window: at most 100,000 messages.
	check "duplicates only from the unacknowledged window ($dups)" test "$dups" -le 100000
	# A redelivered event carries its id again: one id per event, no two events share one.
	eq "one id per event, each its own" "$generated $generated $generated" \
		"$(jq -r 'select(.type=="bench.event") | "\(.data.i) \(.id)"' "$d/got" | sort -u |
			awk '{i[$1]; id[$2]} END {print NR, length(i), length(id)}')"
	end
fi
