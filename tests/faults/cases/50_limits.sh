# fd and memory limits: a clear error and a non-zero exit, or the run goes through; never a
# signal death (libev's abort()), a hang or a sanitizer report.

# limited 'ULIMIT ARGS' OUT ERR COLLECTOR ARGS...: the collector under a ulimit, 20 s at most.
limited() {
	local lim=$1 out=$2 err=$3
	shift 3
	(
		# LeakSanitizer needs fds of its own at exit (/proc/PID/task): not under these limits.
		[ "$ASAN_BUILD" = 1 ] && export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
		# shellcheck disable=SC2086
		ulimit $lim || exit 99
		exec timeout 20 "$C" "$@"
	) >"$out" 2>"$err"
}

begin "fd limits 4..12 with exec and a file sink: 101 events and exit 0, or exit 1 saying 'Too many open files'"
d=$WORK/nofile
mkdir -p "$d"
for n in 4 5 6 7 8 10 12; do
	rm -f "$d/ev.jsonl"
	limited "-n $n" "$d/out" "$d/err.$n" run --sink "file:$d/ev.jsonl" exec --format text -- seq 1 100
	rc=$?
	if [ "$rc" = 0 ]; then
		eq "ulimit -n $n: every event" 101 "$(grep -c '' "$d/ev.jsonl")"
	else
		eq "ulimit -n $n: exit status" 1 "$rc"
		check "ulimit -n $n: says why ($(head -c 120 "$d/err.$n"))" grep -q 'Too many open files' "$d/err.$n"
	fi
done
eq "the loop's own fds (ulimit -n 4) are a clear error" \
	"collector: error: (libev) error creating signal/async pipe: Too many open files" "$(head -n 1 "$d/err.4")"
check "a runner's pipe (ulimit -n 6) is a clear error" grep -q 'runner exec: pipe: Too many open files' "$d/err.6"
end

begin "fd limits with the algorithm runner: results for every call, or exit 1 with a clear error"
d=$WORK/nofile-algo
mkdir -p "$d/pkg"
cat >"$d/pkg/manifest.json" <<JSON
{"name":"fdl","version":"1.0.0","protocol":1,"entry_point":["$SIM"],
 "limits":{"call_timeout_ms":2000,"handshake_timeout_ms":2000,"grace_ms":300}}
JSON
for i in 1 2 3; do echo "{\"params\":{\"n\":$i}}"; done >"$d/calls"
for n in 8 16 32; do
	limited "-n $n" "$d/out.$n" "$d/err.$n" run algorithm --package "$d/pkg" --calls "$d/calls"
	rc=$?
	if [ "$rc" = 0 ]; then
		eq "ulimit -n $n: three ok results" "ok=3" \
			"$(jq -r 'select(.type=="algorithm.result") | .data.outcome' "$d/out.$n" | sort | uniq -c | awk '{print $2"="$1}')"
	else
		check "ulimit -n $n: exit 1 or 3, not a signal ($rc)" test "$rc" = 1 -o "$rc" = 3
		check "ulimit -n $n: says why" grep -Eq 'Too many open files|EMFILE' "$d/err.$n" "$d/out.$n"
	fi
done
check "no algo-sim left" test -z "$(pgrep -f "$SIM")"
end

if [ "$ASAN_BUILD" = 1 ]; then
	skip "memory limit (ulimit -v)" "an ASan build reserves terabytes of address space"
else
	begin "ulimit -v with a 1 GiB queue: out of memory is a counted loss (seq gap, exit 3) or a clear exit 1"
	d=$WORK/nomem
	mkdir -p "$d"
	# The smallest limits the binary and its libraries load under (gRPC, libcurl, ... need ~50 MB).
	for v in 60000 80000; do
		( ulimit -v "$v"; exec timeout 60 "$C" run --queue-events 1000000 --queue-bytes 1GiB \
			exec --format text -- seq 1 300000 ) 2>"$d/err.$v" | (sleep 1; cat) >"$d/out.$v"
		rc=${PIPESTATUS[0]}
		check "ulimit -v $v: exit 1 or 3, not a signal ($rc)" test "$rc" = 1 -o "$rc" = 3
		check "ulimit -v $v: says out of memory" grep -q 'out of memory' "$d/err.$v"
		# A fatal exit (1) cannot finish the line stdout was writing; a loss (3) ends whole.
		if [ "$rc" = 1 ] && [ -s "$d/out.$v" ] && [ "$(tail -c 1 "$d/out.$v" | od -An -c | tr -d ' ')" != '\n' ]; then
			sed -i '$d' "$d/out.$v"
		fi
		check "ulimit -v $v: whole JSON lines" jq -e . "$d/out.$v" >/dev/null
		# seq counts per runner: the collector's own loss report has its own.
		eq "ulimit -v $v: seq strictly increasing (gaps only, never a repeat)" 0 \
			"$(jq -r 'select(.runner == "exec") | .seq' "$d/out.$v" | awk 'NR > 1 && $1 <= last {bad++} {last = $1} END {print bad + 0}')"
		if [ "$rc" = 3 ]; then
			check "ulimit -v $v: the loss is counted in the final report" \
				grep -Eq 'events were lost: out of memory|events failed in sinks|events were not delivered' "$d/err.$v"
		fi
	done
	end
fi
