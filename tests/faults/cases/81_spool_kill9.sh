# kill -9 of a spooled collector at 20 random points of a stream, restarted each time on the same
# spool: every event that reached the spool arrives at least once; the loss between the pipe
# and the spool at each kill is measured, printed and bounded.

begin "spool: 20 kill -9 during a stream, restarted each time: nothing spooled is lost"
d=$WORK/spool-kill9
mkdir -p "$d"
mkfifo "$d/fifo"
src=$(cd "$BUILD/../tools/testchild" 2>/dev/null && pwd)/spool_source.py
[ -f "$src" ] || src=$PWD/../../tools/testchild/spool_source.py
seed=${SPOOL_KILL_SEED:-$RANDOM}
echo "  kill -9 seed $seed (SPOOL_KILL_SEED=$seed repeats it)"
RANDOM=$seed
# The reader outlives every collector: what the fifo sink delivered is in out.
(while :; do cat "$d/fifo"; done >>"$d/out" 2>/dev/null) &
reader=$!
kills=20
for k in $(seq 0 $kills); do
	: >"$d/progress.$k"
	count=()
	[ "$k" = "$kills" ] && count=(2000)
	"$C" run --shutdown-timeout 30s --sink "fifo:$d/fifo" --sink-option "spool=$d/spool" \
		exec --format json -- /usr/bin/python3 "$src" $((k * 10000000)) "$d/progress.$k" 5000 \
		"${count[@]}" 2>>"$d/err" &
	pid=$!
	if [ "$k" = "$kills" ]; then
		wait "$pid"
		eq "the last run's exit status" 0 $?
		break
	fi
	sleep "$(printf '0.%03d' $((300 + RANDOM % 700)))"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
done
# Let the reader take what the last run delivered, then stop it.
sleep 0.5
kill "$reader" 2>/dev/null
pkill -P "$reader" 2>/dev/null
wait "$reader" 2>/dev/null
pkill -f "^cat $d/fifo\$" 2>/dev/null
jq -r 'select(.type=="kill.ev") | .data.i' "$d/out" | sort -n | uniq >"$d/got"
holes=0
worst=0
for k in $(seq 0 $kills); do
	last=$(sed 's/^0*//' "$d/progress.$k")
	base=$((k * 10000000))
	if [ -z "$last" ] || [ "$last" -lt "$base" ]; then
		echo "  kill $k: the source had written nothing yet"
		continue
	fi
	# Delivered in this run's range: must be a gap-free prefix of what the source wrote.
	read -r n top <<<"$(awk -v b="$base" -v e="$last" '$1 >= b && $1 <= e {n++; t = $1} END {print n + 0, t + 0}' "$d/got")"
	written=$((last - base + 1))
	lost=$((written - n))
	[ "$n" -gt 0 ] && [ "$top" -ne $((base + n - 1)) ] && holes=$((holes + 1))
	[ "$lost" -gt "$worst" ] && worst=$lost
	echo "  kill $k: written $written, delivered $n, lost between pipe and spool $lost"
done
eq "delivered events are a gap-free prefix of each run's (nothing spooled lost)" 0 "$holes"
# One read batch (64 KiB) plus the pipe's own 64 KiB, of 37-byte lines.
check "the loss at a kill is at most one read batch and the pipe ($worst events)" \
	test "$worst" -le $((2 * 65536 / 37 + 50))
eq "the last run delivered everything" 2000 "$(awk -v b=$((kills * 10000000)) '$1 >= b' "$d/got" | wc -l)"
check "duplicates were possible, events were not invented" \
	test "$(jq -r 'select(.type=="kill.ev") | .data.i' "$d/out" | wc -l)" -ge "$(wc -l <"$d/got")"
end
