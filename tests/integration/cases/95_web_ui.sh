# The web page /ui in a real browser (Debian's headless Chromium driven by playwright-core): live state and a real crash.

# shellcheck source=../algorithm_lib.sh
. ./algorithm_lib.sh

UI_WORK="$WORK/web-ui"
UI_TEST="$(cd ../.. && pwd)/tools/ui-test"
mkdir -p "$UI_WORK"

# ui_wait FILE JQ: up to 10 s for an event of FILE to match.
ui_wait() {
	for _ in $(seq 100); do
		[ "$(count "$1" "$2")" -gt 0 ] && return 0
		sleep 0.1
	done
	return 1
}

begin "web ui: served from the binary, read-only JSON, crash reports only to this machine"
"$C" run --metrics=127.0.0.1:0 exec -- sleep 30 >/dev/null 2>"$UI_WORK/plain.err" &
pid=$!
addr=""
for _ in $(seq 100); do
	addr=$(grep -o 'http://127.0.0.1:[0-9]*' "$UI_WORK/plain.err" | head -1)
	[ -n "$addr" ] && break
	sleep 0.05
done
check "the log names the page" grep -q "the web page: $addr/ui" "$UI_WORK/plain.err"
curl -s -D "$UI_WORK/ui.headers" -o "$UI_WORK/ui.html" "$addr/ui"
check "/ui is the page" grep -q '<script src="/ui/app.js" defer></script>' "$UI_WORK/ui.html"
check "with a policy that runs only its own script" grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'self';" "$UI_WORK/ui.headers"
check "and no sniffing" grep -qi "^X-Content-Type-Options: nosniff" "$UI_WORK/ui.headers"
eq "app.js, style.css, icon.svg served" "200 200 200" \
	"$(for f in app.js style.css icon.svg; do curl -s -o /dev/null -w '%{http_code}' "$addr/ui/$f"; echo; done | paste -sd' ')"
eq "no other file" 404 "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$addr/ui/../metrics")"
eq "no markup from strings in app.js" 0 "$(grep -cE 'innerHTML|outerHTML|insertAdjacentHTML|document\.write' ../../collector/ui/app.js)"
eq "/api/state: runners and sinks" "exec stdout" "$(curl -s "$addr/api/state" | jq -r '"\(.runners[0].type) \(.sinks[0].type)"')"
eq "/api/state shows no pids without the token" null "$(curl -s "$addr/api/state" | jq '.collector.pid')"
eq "a path as a crash ID" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$addr/api/crashes/..%2f..%2fetc%2fpasswd")"
eq "an unknown crash" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$addr/api/crashes/20990101-000000-1")"
eq "the page changes nothing: POST /ui refused" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$addr/ui")"
kill -TERM "$pid"
wait "$pid"
# Another machine (--metrics-public, reached over this machine's own non-loopback address).
ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.' | grep -v '^127\.' | head -1)
if [ -n "$ip" ]; then
	"$C" run --metrics=0.0.0.0:0 --metrics-public exec -- sleep 30 >/dev/null 2>"$UI_WORK/public.err" &
	pid=$!
	port=""
	for _ in $(seq 100); do
		port=$(grep -o 'http://0.0.0.0:[0-9]*' "$UI_WORK/public.err" | head -1 | cut -d: -f3)
		[ -n "$port" ] && break
		sleep 0.05
	done
	eq "a remote peer gets the page" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://$ip:$port/ui")"
	eq "but not the crash reports" 403 "$(curl -s -o /dev/null -w '%{http_code}' "http://$ip:$port/api/crashes")"
	eq "nor one crash report" 403 "$(curl -s -o /dev/null -w '%{http_code}' "http://$ip:$port/api/crashes/x")"
	kill -TERM "$pid"
	wait "$pid"
fi
end

if ! command -v node >/dev/null || [ ! -x /usr/bin/chromium ] || [ ! -d "$UI_TEST/node_modules/playwright-core" ]; then
	skip "web ui in Chromium" "needs node, /usr/bin/chromium and tools/ui-test/node_modules (make deps)"
	return 0
fi

begin "web ui: Chromium shows the runners, rates, sinks, and real crashes: chart, sender, escalation, calls, stderr as text"
# Two deaths of one package's children. The first is SIGKILLed by bash during a call. The
# second ignores SIGTERM (an ignored signal stays ignored across exec) and hangs at its 12th
# call: the call times out, SIGTERM does nothing, SIGKILL ends it. Both leak 3 MiB a call, and
# their stderr carries markup that would run if the page ever parsed it.
xss="<script>window.__xss=1</script><img src=x onerror=window.__xss=2>"
pkg="$UI_WORK/webui"
mkdir -p "$pkg"
jq -n --arg sim "$SIM" --arg xss "$xss" --arg asan "${ASAN_OPTIONS:-}:handle_segv=0:detect_leaks=0" '
{name:"webui", version:"3.1.4", protocol:1,
 entry_point:["/bin/sh","-c","trap \"\" TERM; echo \"$0\" >&2; exec \"$1\" --latency-us 100000 --leak-mb 3 --hang-after 12", $xss, $sim],
 env:{ASAN_OPTIONS:$asan},
 limits:{call_timeout_ms:1000, handshake_timeout_ms:2000, grace_ms:400}}' >"$pkg/manifest.json"
algo_calls "$UI_WORK/calls" 30
fifo="$UI_WORK/calls.fifo"
mkfifo "$fifo"
ev="$UI_WORK/events.jsonl"
# Its own state directory: the page lists every report there, and other cases write theirs.
COLLECTOR_STATE_DIR="$UI_WORK/state" "$C" run --metrics=127.0.0.1:0 --sink "file:$ev" algorithm --package "$pkg" \
	--calls - --health-interval 100ms <"$fifo" 2>"$UI_WORK/run.err" &
pid=$!
exec 7>"$fifo"
cat "$UI_WORK/calls" >&7
check "calls answered" ui_wait "$ev" '.type=="algorithm.result" and .data.id >= 6'
bash -c "echo \$\$ >'$UI_WORK/killer.pid'; kill -9 $(field "$ev" algorithm.spawn .pid)"
check "a second crash" ui_wait "$ev" '.type=="algorithm.crash" and .data.cause=="timeout"'
id1=$(jq -r 'select(.type=="algorithm.crash" and .data.cause=="signal") | .data.id' "$ev")
id2=$(field "$ev" algorithm.crash .data.id)
source=$(field "$ev" algorithm.crash .data.health_source)
eq "the host's stop escalated: SIGTERM then SIGKILL" "timeout SIGKILL SIGTERM,SIGKILL" \
	"$(field "$ev" algorithm.crash '.data | "\(.cause) \(.signal) \([.stop_escalation[].step] | join(","))"')"
addr=$(grep -o 'http://127.0.0.1:[0-9]*' "$UI_WORK/run.err" | head -1)
node "$UI_TEST/ui-test.js" "$addr" "$UI_WORK" "$id1" "$id2" >"$UI_WORK/ui.json" 2>"$UI_WORK/ui.err"
rc=$?; [ "$rc" -eq 0 ] || sed "s/^/  ui-test: /" "$UI_WORK/ui.err" | head -n 20 >&2; eq "the browser run" 0 "$rc"
exec 7>&-
wait "$pid"
ui() { jq -r "$1" "$UI_WORK/ui.json" 2>/dev/null; }
eq "no script errors, nothing fetched from elsewhere" "0 0 0" \
	"$(ui '"\(.page_errors | length) \(.console_errors | length) \(.requests_elsewhere | length)"')"
eq "the runner row" "algorithm algorithm running" "$(ui '.runners[0][0:3] | join(" ")')"
check "its rate per type, a number" test -n "$(ui '.rates[] | select(.[0]=="algorithm") | .[3] | select(test("^[0-9.,]+$"))')"
eq "the sink row" "file file block" "$(ui '.sinks[0][0:3] | join(" ")')"
eq "two crash rows, newest first" "×1 webui 3.1.4 $id2,×1 webui 3.1.4 $id1" \
	"$(ui '[.crashes[] | "\(.[0]) \(.[3]) \(.[5])"] | join(",")')"
for i in 0 1; do
	n=$((i + 1))
	p() { ui ".pages[$i] | $1"; }
	eq "page $n reached by its link" "#crash/$( [ $i = 0 ] && echo "$id1" || echo "$id2")" "$(p .url_hash)"
	check "page $n: a CPU and an RSS point per sample, at least 5" test "$(p '[.cpu_points, .rss_points, .rss_line_points] | unique | if length == 1 then .[0] else -1 end')" -ge 5
	eq "page $n: stderr shown as text" "$xss" "$(p '.stderr | split("\n")[0]')"
	eq "page $n: and never run: no element, no script but the page's, no image" "0 /ui/app.js null 0" \
		"$(p '"\(.stderr_elements) \(.scripts | join(",")) \(.xss) \(.images)"')"
	check "page $n: a mark per timeline entry" test "$(p .timeline_marks)" = "$(p '.timeline | length')"
	check "screenshot crash-$n.png taken" test "$(head -c 8 "$UI_WORK/crash-$n.png" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a
done
eq "as many points as the report's samples" "$(jq '.samples | length' "$UI_WORK/state/crashes/$id1.json")" "$(ui '.pages[0].cpu_points')"
eq "the call in flight when bash killed it" "execute" "$(ui '.pages[0].calls[0][1]')"
eq "the second: the cause" "killed by the host: a call ran past its timeout" "$(ui '.pages[1].cause')"
check "the second: timeout, SIGTERM, SIGKILL, death on the timeline, in order" test \
	"$(ui '.pages[1].timeline | map(select(test("ran past its timeout|SIGTERM sent|SIGKILL sent|died:")) | sub("^[-0-9.]+ s: "; "") | split(" ")[0:2] | join(" ")) | join(",")')" \
	= "call $(field "$ev" algorithm.crash .data.timed_out_call.id),SIGTERM sent,SIGKILL sent,died: killed"
if [ "$source" = bpf ]; then
	eq "the first: signal and sender" "SIGKILL sent by bash (pid $(cat "$UI_WORK/killer.pid"))" "$(ui '.pages[0].sender')"
	eq "the second: signal and sender" "SIGKILL sent by collector (pid $pid)" "$(ui '.pages[1].sender')"
	eq "the OOM verdict" "not an OOM kill" "$(ui '.pages[1].oom')"
else
	eq "the signal, sender unknown without BPF" "SIGKILL, sender unknown (needs the BPF health monitor)" "$(ui '.pages[0].sender')"
fi
check "the overview screenshot taken" test "$(head -c 8 "$UI_WORK/overview.png" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a
algo_leftovers "$ev"
end
