# The operator's breaker reset: `collector reset-breaker` over POST /runners/NAME/ACTION.

RB_SIM="$BUILD/tools/algo-sim/algo_sim"
RB_WORK="$WORK/algo-reset"
mkdir -p "$RB_WORK"
# Where the collectors of these cases put their control tokens (and the CLI looks).
RB_RT="$RB_WORK/run"

# rb_addr ERRFILE: the metrics address the collector logged.
rb_addr() {
	local a=""
	for _ in $(seq 50); do
		a=$(grep -o 'http://[^ ]*' "$1" | head -1 | sed 's|http://||')
		[ -n "$a" ] && break
		sleep 0.1
	done
	echo "$a"
}

begin "reset-breaker: an operator closes an open breaker once the cause is fixed"
pkg="$RB_WORK/pkg"
mkdir -p "$pkg"
# The child fails at start while ./broken exists (a missing model file, say).
cat >"$pkg/start.sh" <<EOF
[ -e broken ] && { echo "model file missing" >&2; exit 3; }
exec $RB_SIM
EOF
touch "$pkg/broken"
cat >"$pkg/manifest.json" <<JSON
{"name":"fixable","version":"1.0.0","protocol":1,"entry_point":["sh","start.sh"],
 "env":{"ASAN_OPTIONS":"${ASAN_OPTIONS:-}:detect_leaks=0"},
 "limits":{"call_timeout_ms":2000,"handshake_timeout_ms":2000,"grace_ms":300}}
JSON
out=$RB_WORK/out.jsonl
fifo=$RB_WORK/calls.fifo
mkfifo "$fifo"
COLLECTOR_RUNTIME_DIR=$RB_RT "$C" run --metrics=127.0.0.1:0 algorithm --package "$pkg" \
	--breaker-cooldown 1h --calls - \
	<"$fifo" >"$out" 2>"$RB_WORK/err" &
cpid=$!
exec 7>"$fifo"
addr=$(rb_addr "$RB_WORK/err")
for _ in $(seq 100); do grep -q '"state":"broken"' "$out" && break; sleep 0.1; done
eq "the breaker opened after 5 failed starts" 5 "$(count "$out" '.type=="algorithm.exit" and .data.exit_code==3')"
eq "healthz says failing" 503 "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/healthz")"
msg=$(COLLECTOR_RUNTIME_DIR=$RB_RT "$C" reset-breaker "$addr" nosuch 2>&1)
eq "an unknown runner is refused" "1 collector: reset-breaker nosuch: no runner named 'nosuch' (HTTP 404)" "$? $msg"
eq "an unknown action is refused" 404 \
	"$(curl -s -o /dev/null -w '%{http_code}' -H "X-Collector-Token: $(cat "$RB_RT/$addr.token")" \
		-X POST "http://$addr/runners/algorithm/reboot")"
eq "a local peer without the control token may not act" 403 \
	"$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$addr/runners/algorithm/reset-breaker")"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	# What a --user nobody child of this collector would try.
	as_nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
	msg=$(COLLECTOR_RUNTIME_DIR=$RB_RT as_nobody "$C" reset-breaker "$addr" algorithm 2>&1)
	eq "another user's reset-breaker fails" 1 "$?"
	check "it says the token is not readable" grep -q 'cannot read the control token' <<<"$msg"
	COLLECTOR_RUNTIME_DIR=$RB_RT as_nobody "$C" status "$addr" >"$RB_WORK/nobody.status" 2>&1
	check "another user's status shows no children" grep -q '^(children not shown' "$RB_WORK/nobody.status"
else
	echo "  (not root: another user's refusal is not checked)"
fi
eq "the breaker is still open" 0 "$(count "$out" '.type=="algorithm.state" and .data.reason=="circuit breaker reset"')"
rm "$pkg/broken"
res=$(COLLECTOR_RUNTIME_DIR=$RB_RT "$C" reset-breaker "$addr" algorithm)
eq "reset-breaker" '0 {"runner":"algorithm","action":"reset-breaker","result":{"instances_reset":1,"instances":1}}' "$? $res"
for _ in $(seq 100); do grep -q '"state":"ready"' "$out" && break; sleep 0.1; done
eq "broken, then starting because of the reset" "broken starting circuit breaker reset" \
	"$(jq -r 'select(.type=="algorithm.state") | "\(.data.previous) \(.data.state) \(.data.reason)"' "$out" | grep '^broken' | head -1)"
eq "a second reset finds no open breaker" '{"instances_reset":0,"instances":1}' \
	"$(COLLECTOR_RUNTIME_DIR=$RB_RT "$C" reset-breaker "$addr" algorithm | jq -c .result)"
echo '{"params":{"after":"reset"}}' >&7
exec 7>&-
wait "$cpid"
eq "exit status" 0 "$?"
eq "the call after the reset ran" "ok" "$(field "$out" algorithm.result .data.outcome)"
check "the log names the operator's action" grep -q 'runner algorithm: reset-breaker by an operator' "$RB_WORK/err"
eq "no child left" "" "$(pgrep -f "$RB_SIM" | head -1)"
end

begin "reset-breaker: a runner without actions says so; only local peers may act"
out=$RB_WORK/exec.jsonl
"$C" run --metrics=127.0.0.1:0 exec -- sleep 30 >"$out" 2>"$RB_WORK/exec.err" &
cpid=$!
addr=$(rb_addr "$RB_WORK/exec.err")
# The default token directory (/run/collector for root) as the CLI finds it.
msg=$("$C" reset-breaker "$addr" exec 2>&1)
eq "exec has no actions" "1 collector: reset-breaker exec: the exec runner has no actions (HTTP 404)" "$? $msg"
kill -TERM "$cpid"
wait "$cpid"
ip=$(hostname -I 2>/dev/null | awk '{print $1}')
if [ -n "$ip" ] && [ "${ip#127.}" = "$ip" ]; then
	"$C" run --metrics="$ip:0" --metrics-public exec -- sleep 30 >"$out" 2>"$RB_WORK/exec.err" &
	cpid=$!
	addr=$(rb_addr "$RB_WORK/exec.err")
	eq "a peer on $ip (not loopback) may read" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/healthz")"
	eq "but not act" 403 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$addr/runners/exec/reset-breaker")"
	kill -TERM "$cpid"
	wait "$cpid"
else
	echo "  (no non-loopback address: the remote-peer refusal is not checked)"
fi
end
