# Crash reports by default in the state directory, read by `collector crashes`: grouped, latest, --since, sparklines.

# shellcheck source=../algorithm_lib.sh
. ./algorithm_lib.sh

CD_WORK="$WORK/crash-dir"
mkdir -p "$CD_WORK"

# cd_collector ARGS...: the collector with this case's own state directory (other cases write theirs too).
cd_collector() {
	COLLECTOR_STATE_DIR="$CD_WORK/state" "$C" "$@"
}

# cd_pkg NAME 'SIM ARGS as JSON strings': an algo-sim package that crashes as told.
cd_pkg() {
	local dir="$CD_WORK/$1"
	mkdir -p "$dir"
	cat >"$dir/manifest.json" <<JSON
{"name":"$1","version":"1.0.0","protocol":1,
 "entry_point":["$SIM"${2:+,$2}],
 "env":{"ASAN_OPTIONS":"${ASAN_OPTIONS:-}:handle_segv=0:detect_leaks=0"},
 "limits":{"call_timeout_ms":5000,"handshake_timeout_ms":2000,"grace_ms":300}}
JSON
	echo "$dir"
}

# cd_run PKG CALLS [OPTIONS...]: one collector run of the package, events to stdout.
cd_run() {
	local pkg=$1 calls=$2
	shift 2
	cd_collector run algorithm --package "$pkg" --calls "$calls" "$@" 2>>"$CD_WORK/stderr"
}

algo_calls "$CD_WORK/calls" 3
SEGV=$(cd_pkg segvy '"--crash-after","3","--crash-mode","segv","--latency-us","100000"')
ABRT=$(cd_pkg aborty '"--crash-after","2","--crash-mode","abort"')
DEF="$CD_WORK/state/crashes"

begin "crash reports: written by default to the state directory and read from there by collector crashes"
cd_run "$SEGV" "$CD_WORK/calls" --health-interval 100ms >"$CD_WORK/one.jsonl"
id=$(field "$CD_WORK/one.jsonl" algorithm.crash .data.id)
check "an algorithm.crash event" test -n "$id"
check "its report in the default directory" test -f "$DEF/$id.json"
eq "mode 0750 directory, 0640 report" "750 640" "$(stat -c %a "$DEF" 2>&1) $(stat -c %a "$DEF/$id.json" 2>&1)"
cd_collector crashes >"$CD_WORK/list" 2>&1
eq "collector crashes finds it without --dir" 1 "$(grep -c "$id" "$CD_WORK/list")"
check "with its cause" grep -q "segvy 1.0.0: segmentation fault (SIGSEGV)" "$CD_WORK/list"
cd_collector crashes --help >"$CD_WORK/help"
check "--help names the directory it reads" grep -qF "here: $DEF)" "$CD_WORK/help"
# The same rule for whoever runs it: root's state directory, a user's XDG one.
root_def=$(env -u COLLECTOR_STATE_DIR "$C" crashes --help | grep -o 'here: [^)]*')
eq "root: /var/lib" "here: /var/lib/collector/crashes" "$root_def"
if command -v setpriv >/dev/null; then
	user_def=$(env -u COLLECTOR_STATE_DIR XDG_STATE_HOME=/nonexistent/state \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$C" crashes --help | grep -o 'here: [^)]*')
	eq "a user: XDG_STATE_HOME" "here: /nonexistent/state/collector/crashes" "$user_def"
	user_def=$(env -u COLLECTOR_STATE_DIR -u XDG_STATE_HOME HOME=/nonexistent/home \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$C" crashes --help | grep -o 'here: [^)]*')
	eq "a user without it: ~/.local/state" "here: /nonexistent/home/.local/state/collector/crashes" "$user_def"
fi
end

begin "crash reports: identical causes grouped (one row ×N, first and last time), latest, --since"
cd_run "$SEGV" "$CD_WORK/calls" >/dev/null
cd_run "$SEGV" "$CD_WORK/calls" >/dev/null
# Reports are stamped to the second: the boundary needs one between the runs.
sleep 1.1
since=$(date -u +%Y-%m-%dT%H:%M:%S)
sleep 1.1
cd_run "$ABRT" "$CD_WORK/calls" >"$CD_WORK/abrt.jsonl"
abrt_id=$(field "$CD_WORK/abrt.jsonl" algorithm.crash .data.id)
LC_ALL=C.UTF-8 cd_collector crashes >"$CD_WORK/grouped"
eq "two rows under the header" 3 "$(wc -l <"$CD_WORK/grouped")"
check "three segfaults, one row ×3" grep -qE "^×3 +[0-9T:.Z-]+ +[0-9T:.Z-]+ +[0-9-]+ +segvy 1.0.0: segmentation fault \(SIGSEGV\)$" "$CD_WORK/grouped"
check "the abort last, ×1, with its ID" grep -qE "^×1 .* $abrt_id +aborty 1.0.0: aborted \(SIGABRT\)$" <(tail -n 1 "$CD_WORK/grouped")
first=$(awk '/segvy/ {print $2}' "$CD_WORK/grouped")
last=$(awk '/segvy/ {print $3}' "$CD_WORK/grouped")
check "first before last" test "$first" \< "$last"
LC_ALL=C cd_collector crashes >"$CD_WORK/grouped.ascii"
check "x3 where the terminal is not UTF-8" grep -q "^x3 " "$CD_WORK/grouped.ascii"
cd_collector crashes latest >"$CD_WORK/latest"
check "latest explains the newest" grep -q "^crash $abrt_id at .*: aborty 1.0.0" "$CD_WORK/latest"
cd_collector crashes --since "$since" --all >"$CD_WORK/since"
eq "--since TIME: only the abort" "1 $abrt_id" "$(wc -l <"$CD_WORK/since") $(cut -d' ' -f1 "$CD_WORK/since")"
cd_collector crashes --since 1h --all >"$CD_WORK/since1h"
eq "--since 1h: all four" 4 "$(wc -l <"$CD_WORK/since1h")"
cd_collector crashes --since soon >/dev/null 2>"$CD_WORK/since.err"
eq "a bad --since is a usage error" 2 $?
check "saying what it takes" grep -q "expected a duration back (2h, 30m) or a UTC time" "$CD_WORK/since.err"
end

begin "crash reports: the CPU and RSS trend before death as a sparkline"
LC_ALL=C.UTF-8 cd_collector crashes "$id" >"$CD_WORK/explain"
check "a cpu line of bars" grep -qE "^  cpu %  [▁▂▃▄▅▆▇█]{2,} +[0-9]+% → [0-9]+%$" "$CD_WORK/explain"
check "an rss line of bars" grep -qE "^  rss    [▁▂▃▄▅▆▇█]{2,} +[0-9.]+ MiB → [0-9.]+ MiB$" "$CD_WORK/explain"
LC_ALL=C cd_collector crashes "$id" >"$CD_WORK/explain.ascii"
check "ASCII bars where the terminal is not UTF-8" grep -qE '^  rss    [_.:=+*#-]{2,} +[0-9.]+ MiB -> [0-9.]+ MiB$' "$CD_WORK/explain.ascii"
end

begin "crash reports: --no-crash-reports writes none; with --crash-dir it is a usage error"
COLLECTOR_STATE_DIR="$CD_WORK/state-off" "$C" run algorithm --package "$ABRT" --calls "$CD_WORK/calls" --no-crash-reports >"$CD_WORK/off.jsonl" 2>/dev/null
eq "the event still goes out" 1 "$(count "$CD_WORK/off.jsonl" '.type=="algorithm.crash"')"
check "no directory, no file" test ! -e "$CD_WORK/state-off"
cd_collector run algorithm --package "$ABRT" --calls "$CD_WORK/calls" --no-crash-reports \
	--crash-dir "$CD_WORK/x" >/dev/null 2>"$CD_WORK/both.err"
eq "exit 2" 2 $?
check "saying they contradict" grep -q "\-\-crash-dir and --no-crash-reports contradict" "$CD_WORK/both.err"
cd_run "$ABRT" "$CD_WORK/calls" --crash-dir "$CD_WORK/deep/er/dir" >"$CD_WORK/deep.jsonl"
check "--crash-dir makes its parents" test -f "$CD_WORK/deep/er/dir/$(field "$CD_WORK/deep.jsonl" algorithm.crash .data.id).json"
cd_collector crashes --crash-dir "$CD_WORK/empty-dir" >"$CD_WORK/empty.out" 2>"$CD_WORK/empty.err"
eq "an empty or missing directory: exit 0" 0 $?
check "saying there are none" grep -q "no crash reports in $CD_WORK/empty-dir" "$CD_WORK/empty.err"
cd_collector crashes --crash-dir "$CD_WORK/empty-dir" latest >/dev/null 2>&1
eq "latest of none: exit 1" 1 $?
check "no temporary report left" test -z "$(find "$DEF" -name '.*')"
end
