# exec runner: timeouts, grace period, restarts, leftovers.

begin "--timeout stops a hanging command with SIGTERM"
out=$WORK/timeout.jsonl
start=$(date +%s%N)
"$C" run exec --timeout 300ms -- sleep 30 >"$out"
rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
eq "collector exit status" 1 "$rc"
eq "status and signal" "timeout 15" "$(field "$out" exec.exit '"\(.data.status) \(.data.signal)"')"
check "stopped quickly (${took} ms)" test "$took" -lt 3000
end

begin "a command ignoring SIGTERM gets SIGKILL after the grace period"
out=$WORK/grace.jsonl
"$C" run exec --timeout 200ms --grace 300ms -- sh -c 'trap "" TERM; echo armed; while :; do sleep 0.05; done' >"$out"
eq "status and signal" "timeout 9" "$(field "$out" exec.exit '"\(.data.status) \(.data.signal)"')"
end

begin "--restart on-failure restarts up to --max-restarts"
out=$WORK/restart.jsonl
"$C" run exec --restart on-failure --max-restarts 2 --restart-delay 10ms -- sh -c 'echo run; exit 1' >"$out"
eq "runs" 3 "$(count "$out" '.type=="exec.line"')"
eq "restart counters" "0 true,1 true,2 false" \
	"$(jq -r 'select(.type=="exec.exit") | "\(.data.restarts) \(.data.will_restart)"' "$out" | paste -sd,)"
eq "seq is gap-free across runs" "$(seq 0 5 | paste -sd,)" "$(jq -r .seq "$out" | paste -sd,)"
end

begin "--restart on-failure does not restart a success"
out=$WORK/norestart.jsonl
"$C" run exec --restart on-failure -- true >"$out"
eq "one exit" 1 "$(count "$out" '.type=="exec.exit"')"
end

begin "nothing the command started survives it"
marker="collector-it-leftover-$$"
"$C" run exec -- sh -c "sh -c 'exec -a $marker sleep 60' & echo started" >/dev/null
sleep 0.2
check "no leftover process" test -z "$(pgrep -f "$marker")"
pkill -f "$marker" 2>/dev/null
end

begin "SIGTERM to the collector cancels a running command and exits cleanly"
out=$WORK/cancel.jsonl
"$C" run exec -- sleep 30 >"$out" &
pid=$!
sleep 0.3
kill -TERM "$pid"
wait "$pid"
rc=$?
eq "collector exit status" 0 "$rc"
eq "status" canceled "$(field "$out" exec.exit .data.status)"
check "no zombie or child left" test -z "$(pgrep -P "$pid")"
end
