# The exec -> file/stdout hot path writes exactly the bytes it always wrote: a varied
# input (data/96_hotpath_input.py) against golden outputs made with the collector
# before the hot path was reworked (issue 26), only ts, ts_ns, id, host, the
# child's pid and exec.exit's timings normalized. One byte off fails the case.

data=$(cd "$(dirname "${BASH_SOURCE[0]}")/../data" && pwd)
in=$WORK/hotpath.in
/usr/bin/python3 "$data/96_hotpath_input.py" >"$in"

# normalize FILE: the volatile envelope fields (first match on each line is the
# envelope's: the encoder writes it first) and exec.exit reduced to its counters.
normalize() {
	local pid
	pid=$(jq -r 'select(.type == "exec.exit") | .pid' "$1" 2>/dev/null | tail -n 1)
	LC_ALL=C sed -E \
		-e 's/"ts":"[^"]*","ts_ns":-?[0-9]+/"ts":"TS","ts_ns":0/' \
		-e 's/"id":"[0-9A-Z]{26}","host":"[^"]*"/"id":"ID","host":"HOST"/' \
		-e "s/,\"pid\":${pid:-none}([,}])/,\"pid\":\"PID\"\\1/" "$1" |
		while IFS= read -r l; do
			case $l in
			'{"type":"exec.exit",'*)
				printf '%s\n' "$l" |
					jq -c '{type, seq, status: .data.status, counters: .data.counters}'
				;;
			*) printf '%s\n' "$l" ;;
			esac
		done
}

# same NAME GOLDEN FILE: FILE normalized equals GOLDEN byte for byte.
same() {
	if ! normalize "$3" | cmp -s - "$2"; then
		echo "  FAIL [$CURRENT] $1 differs from $(basename "$2"):" >&2
		normalize "$3" | diff "$2" - | head -n 8 | cut -c1-300 >&2
		CASE_OK=0
	fi
}

for fmt in json auto; do
	begin "exec --format $fmt -> file and stdout: byte-identical to the golden output"
	out=$WORK/hotpath.$fmt.file
	"$C" run --sink "file:$out" --sink stdout exec --format "$fmt" --max-line 65536 \
		-- cat "$in" >"$WORK/hotpath.$fmt.stdout" 2>"$WORK/hotpath.$fmt.err"
	eq "exit status" 0 "$?"
	same "file sink" "$data/96_hotpath_$fmt.golden" "$out"
	same "stdout sink" "$data/96_hotpath_$fmt.golden" "$WORK/hotpath.$fmt.stdout"
	end
done
