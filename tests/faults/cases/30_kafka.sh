# Kafka broker errors (librdkafka's mock cluster): SIGTERM mid-stream loses and duplicates nothing;
# a cluster that goes away is a counted loss within the shutdown timeout, not a hang.

if ! command -v kcat >/dev/null; then
	skip "kafka faults" "kcat is not installed (make deps)"
else
	begin "kafka: SIGTERM while the brokers fail produce requests: generated == delivered, each once"
	d=$WORK/kafka-term
	mkdir -p "$d"
	start_mock "$d" --fail-every 300 --fail-count 1
	"$C" run --shutdown-timeout 30s -X linger.ms=5 --sink "kafka://$boot/events" exec --format json -- \
		"$GEN" 100000000 --rate 4000 --count-file "$d/generated" 2>"$d/err" &
	pid=$!
	# Stop it mid-stream: once the source has run a second (sanitizer builds start slowly).
	for _ in $(seq 100); do pgrep -f "^$GEN 100000000 --rate 4000" >/dev/null && break; sleep 0.1; done
	sleep 1
	kill -TERM "$pid"
	wait "$pid"
	eq "collector exit status" 0 $?
	timeout 20 kcat -C -b "$boot" -t events -o beginning -e -q -f '%s\n' >"$d/got"
	stop_mock
	generated=$(cat "$d/generated")
	check "the source got going ($generated lines)" test "${generated:-0}" -gt 1000
	eq "each generated event delivered once" "$generated 0" \
		"$(jq -r 'select(.type=="bench.event") | .data.i' "$d/got" | sort -n | uniq -c |
			awk '$1 != 1 || $2 != NR - 1 {bad++} END {print NR, bad + 0}')"
	check "errors were injected" grep -q '^injected [1-9][0-9]* errors$' "$d/mock.err"
	end

	begin "kafka: the cluster goes away: the collector stops at the shutdown timeout and counts what it could not deliver"
	d=$WORK/kafka-gone
	mkdir -p "$d"
	start_mock "$d"
	# The child writes a second thousand only once the cluster is gone, so those
	# are in librdkafka's queue (never delivered) however slowly this build starts.
	"$C" run --shutdown-timeout 1s -X message.timeout.ms=60000 --sink "kafka://$boot/events" --sink-option flush-timeout=1s \
		exec --format text -- sh -c "seq 1 1000; while [ ! -e '$d/go' ]; do sleep 0.05; done; seq 1001 2000; exec sleep 30" 2>"$d/err" &
	pid=$!
	timeout 30 kcat -C -b "$boot" -t events -o beginning -c 1000 -q -f '%s\n' >"$d/first"
	eq "the first thousand were delivered" 1000 "$(wc -l <"$d/first")"
	kill -KILL "$mock_pid"
	wait "$mock_pid" 2>/dev/null
	touch "$d/go"
	for _ in $(seq 100); do pgrep -P "$pid" -fx 'sleep 30' >/dev/null && break; sleep 0.05; done
	sleep 0.3
	start=$(date +%s%N)
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	took=$(( ($(date +%s%N) - start) / 1000000 ))
	eq "collector exit status says loss" 3 "$rc"
	check "stopped within the shutdown and flush timeouts, 1 s each (${took} ms)" test "$took" -lt 4500
	check "the undelivered messages are counted" grep -Eq 'sink kafka: flush: .*; [1-9][0-9]* messages not delivered|[1-9][0-9]* events were not delivered' "$d/err"
	end
fi

if command -v kcat >/dev/null; then
	begin "kafka: what the last flush delivers after the shutdown timeout is not reported lost"
	d=$WORK/kafka-late
	mkdir -p "$d"
	start_mock "$d"
	# linger.ms holds the messages past the shutdown timeout; the sink's last flush sends them.
	timeout 60 "$C" run --shutdown-timeout 300ms -X linger.ms=20000 --sink "kafka://$boot/events" \
		exec --format text -- seq 1 3000 2>"$d/err"
	eq "collector exit status" 0 $?
	timeout 20 kcat -C -b "$boot" -t events -o beginning -e -q -f '%s\n' >"$d/got"
	stop_mock
	eq "all 3000 lines and the exit event delivered" 3001 "$(wc -l <"$d/got")"
	eq "no loss reported" 0 "$(grep -c 'not delivered' "$d/err")"
	end

	begin "kafka: SIGHUP and SIGUSR1 during the last flush (and at start) are not fatal"
	d=$WORK/kafka-hup
	mkdir -p "$d"
	start_mock "$d"
	# The child stops the broker once its lines are out: the sink's last flush waits for it.
	"$C" run --shutdown-timeout 300ms -X linger.ms=5 --sink "kafka://$boot/events" \
		--sink-option flush-timeout=60s exec --format text -- sh -c "seq 1 3000; sleep 0.5; kill -STOP $mock_pid" 2>"$d/err" &
	pid=$!
	# The first moments: from when it catches SIGHUP (before exec, nothing can) as the loop starts.
	for _ in $(seq 400); do
		caught=$(awk '$1 == "SigCgt:" {print $2}' "/proc/$pid/status" 2>/dev/null)
		[ -n "$caught" ] && (( 0x$caught & 1 )) && break
		sleep 0.005
	done
	for _ in $(seq 10); do kill -HUP "$pid" 2>/dev/null; kill -USR1 "$pid" 2>/dev/null; sleep 0.01; done
	for _ in $(seq 100); do grep -q 'State: T' "/proc/$mock_pid/status" 2>/dev/null && break; sleep 0.05; done
	# Shutdown: the loop ends 300 ms after the child; signals through the last flush.
	for _ in $(seq 30); do kill -HUP "$pid" 2>/dev/null; kill -USR1 "$pid" 2>/dev/null; sleep 0.05; done
	kill -CONT "$mock_pid"
	wait "$pid"
	eq "collector exit status" 0 $?
	timeout 20 kcat -C -b "$boot" -t events -o beginning -e -q -f '%s\n' >"$d/got"
	stop_mock
	eq "all 3000 lines and the exit event delivered" 3001 "$(wc -l <"$d/got")"
	end

	begin "kafka: SIGTERM during the last flush cuts it short, counted (exit 3), not the default action"
	d=$WORK/kafka-term-tail
	mkdir -p "$d"
	start_mock "$d"
	"$C" run --shutdown-timeout 300ms -X linger.ms=5 --sink "kafka://$boot/events" \
		--sink-option flush-timeout=60s exec --format text -- sh -c "seq 1 3000; sleep 0.5; kill -STOP $mock_pid" 2>"$d/err" &
	pid=$!
	for _ in $(seq 200); do grep -q 'shutdown timed out' "$d/err" && break; sleep 0.05; done
	sleep 0.3
	kill -TERM "$pid"
	wait "$pid"
	eq "collector exit status says loss" 3 $?
	check "the flush says it was stopped" grep -q 'sink kafka: flush: stopped by a signal; [1-9][0-9]* messages not delivered' "$d/err"
	check "the loss is counted" grep -Eq '[1-9][0-9]* events were not delivered' "$d/err"
	kill -CONT "$mock_pid"
	stop_mock
	end
fi
