#!/usr/bin/env bash
# Old binary against new: the events both write on the integration workloads, byte for byte,
# with what differs from run to run masked.
#
#   tools/compare-output.sh OLD_BUILD NEW_BUILD [CASE_PATTERN...]
#   tools/compare-output.sh --dirs OLD_DIR NEW_DIR
#
# The first form runs tests/integration/run.sh (the CASE_PATTERNs, default the cases that
# exercise the JSON writers) once with each build directory's binary, keeping every file the
# cases wrote (IT_KEEP); the second compares two such kept trees. Every *.jsonl file and
# crash report (reports/*.json) found in both is compared after masking: the envelope's ts, ts_ns, seq and host; pids
# anywhere; data members that measure time, memory or CPU, or name temporary files or the
# build directory; connection ids, ports and Date headers of the TLS cases. The
# masking is sed on the raw bytes, not jq: jq 1.6 rewrites numbers (12.50 becomes 12.5), which
# would hide the very differences this looks for. Lines are compared as sets (sorted, unique):
# how many periodic samples a run produced is timing, not output (a crash report's samples
# count as one). Compare a build with itself to see the noise left: a workload that races
# (restarts, kills, the drop policy) can differ run to run, and 30_bad_input's garbage.jsonl
# is random input, different every run.
# Exit status: 0 when every common file matches, 1 when one differs, 2 on usage errors.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CASES_DEFAULT=(10_exec_basic 30_bad_input 40_pipeline 75_health 75_ssl 80_algorithm
	83_algorithm_crash)

usage() {
	echo "usage: $0 OLD_BUILD NEW_BUILD [CASE_PATTERN...] | $0 --dirs OLD_DIR NEW_DIR" >&2
	exit 2
}

# mask FILE: the file's lines with what varies between runs replaced, sorted and unique.
mask() {
	sed -E \
		-e 's/"ts":"[^"]*","ts_ns":-?[0-9]+/"ts":TS,"ts_ns":TS/' \
		-e 's/"seq":[0-9]+,"host":"([^"\\]|\\.)*"/"seq":SEQ,"host":HOST/' \
		-e 's/"(pid|tid|ppid|root|killer_pid|child_pid)":[0-9]+/"\1":PID/g' \
		-e 's/"(ts_ns|latency_ns|latency_us|queued_us|uptime_ms|age_ms|spawn_to_ready_us|duration_ns|delay_ms|rss_bytes|oom_rss_bytes|threads|processes|cpu_percent|value|dropped|dropped_total|image_bytes|timeout_ms|cgroup_id)":-?[0-9][0-9.eE+-]*/"\1":N/g' \
		-e 's/"(start|end|time|id|tmpdir|shm|fallback_reason|message)":"([^"\\]|\\.)*"/"\1":S/g' \
		-e "s#/[^\"' ]*/(tools/(algo-sim|testchild|bench)/)#BUILD/\\1#g" \
		-e 's#/tmp/collector-[a-z]+\.[A-Za-z0-9]+#TMP#g; s#collector-it-oom\.[0-9]+#OOMCG#g' \
		-e 's/"conn":"[0-9]+:[0-9a-f]+"/"conn":CONN/g; s/\["Date","[^"]*"\]/["Date",D]/g' \
		-e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:PORT/g; s/Date: [^\\]*\\r/Date: D\\r/g' \
		-e 's/"stdout_bytes":[0-9]+|"stderr_bytes":[0-9]+/"bytes":N/g' \
		-e 's/(\{"ts_ns":N,"cpu_percent":N,"rss_bytes":N,"threads":N,"processes":N,"source":"[a-z]+"\},?)+/SAMPLES/g' \
		"$1" | LC_ALL=C sort -u
}

compare_dirs() {
	local old=$1 new=$2 rel same=0 differ=0 only=0 n
	while IFS= read -r rel; do
		if [[ ! -f $new/$rel ]]; then
			only=$((only + 1))
			continue
		fi
		if diff <(mask "$old/$rel") <(mask "$new/$rel") >"$tmp/diff" 2>&1; then
			same=$((same + 1))
		else
			differ=$((differ + 1))
			n=$(grep -c '^[<>]' "$tmp/diff" || true)
			echo "== $rel differs ($n lines; < old, > new)"
			grep '^[<>]' "$tmp/diff" | cut -c1-400 | head -20 || true
		fi
	done < <(cd "$old" && find . -name '*.jsonl' -o -path '*/reports/*.json' | sed 's|^\./||' | sort)
	echo "compare-output: $same files match, $differ differ, $only only in the old tree"
	[[ $differ -eq 0 ]]
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/compare-output.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [[ ${1:-} == --dirs ]]; then
	[[ $# -eq 3 && -d $2 && -d $3 ]] || usage
	compare_dirs "$2" "$3"
	exit
fi
[[ $# -ge 2 && -x $1/collector && -x $2/collector ]] || usage
old_build=$(cd "$1" && pwd)
new_build=$(cd "$2" && pwd)
shift 2
cases=("$@")
[[ ${#cases[@]} -gt 0 ]] || cases=("${CASES_DEFAULT[@]}")
for side in old new; do
	build=$old_build
	[[ $side == new ]] && build=$new_build
	mkdir -p "$tmp/$side"
	echo "compare-output: running ${cases[*]} with $build/collector" >&2
	(cd "$ROOT/tests/integration" &&
		BUILD=$build IT_KEEP=$tmp/$side bash run.sh "${cases[@]}" >"$tmp/$side.log" 2>&1) ||
		echo "compare-output: some $side cases failed (see their output in $tmp/$side.log)" >&2
	grep -E '^integration:' "$tmp/$side.log" >&2 || true
done
compare_dirs "$tmp/old" "$tmp/new"
