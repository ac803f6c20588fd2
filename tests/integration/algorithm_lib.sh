# Helpers of the algorithm cases (80_, 83_): algo-sim packages, calls, frames, leftovers.
# shellcheck shell=bash

SIM="$BUILD/tools/algo-sim/algo_sim"
ALGO_WORK="$WORK/algo"
mkdir -p "$ALGO_WORK"

# algo_pkg NAME 'SIM ARGS as JSON strings' 'LIMITS JSON members': a package running algo-sim.
algo_pkg() {
	local dir="$ALGO_WORK/$1"
	mkdir -p "$dir"
	cat >"$dir/manifest.json" <<JSON
{"name":"$1","version":"1.0.0","protocol":1,
 "entry_point":["$SIM"${2:+,$2}],
 "config":{"threshold":0.5},
 "env":{"ASAN_OPTIONS":"${ASAN_OPTIONS:-}:handle_segv=0:detect_leaks=0"},
 "limits":{${3:+$3,}"call_timeout_ms":1000,"handshake_timeout_ms":1000,"grace_ms":300}}
JSON
	echo "$dir"
}

# algo_calls FILE N [IMAGE]: N execute calls, each with the image when given.
algo_calls() {
	local i
	: >"$1"
	for i in $(seq 1 "$2"); do
		if [ -n "${3:-}" ]; then
			echo "{\"method\":\"execute\",\"params\":{\"n\":$i},\"image\":\"$3\"}" >>"$1"
		else
			echo "{\"params\":{\"n\":$i}}" >>"$1"
		fi
	done
}

# algo_ppm FILE W H BYTE: a binary PPM filled with one byte value.
algo_ppm() {
	{ printf 'P6\n# test frame\n%d %d\n255\n' "$2" "$3"; head -c $(($2 * $3 * 3)) /dev/zero | tr '\0' "\\$(printf '%03o' "$4")"; } >"$1"
}

# algo_leftovers [EVENTS]: nothing of a run survives it: the shm objects and temp dirs
# its algorithm.spawn events name, child cgroups, this build's algo-sim processes.
algo_leftovers() {
	local left paths=""
	[ -n "${1:-}" ] && paths=$(jq -r 'select(.type=="algorithm.spawn") | "/dev/shm\(.data.shm)", .data.tmpdir' "$1" | sort -u)
	left=$( { for p in $paths; do [ -e "$p" ] && echo "$p"; done;
		stale_algo_cgroups;
		pgrep -f "$SIM" ; } | head -5)
	eq "nothing left behind" "" "$left"
}

outcomes() {
	jq -r 'select(.type=="algorithm.result") | .data.outcome' "$1" | sort | uniq -c | awk '{print $2"="$1}' | paste -sd,
}
