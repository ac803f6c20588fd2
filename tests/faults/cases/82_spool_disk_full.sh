# A full disk under the spool (a 1 MiB tmpfs mounted here, root): block stalls the source and
# resumes once delivered segments are removed; drop_oldest drops the oldest segment and counts it.

if [ "$(id -u)" != 0 ]; then
	skip "spool: full disk" "mounting a tmpfs needs root"
else
	begin "spool: a full disk, spool-full=block: the source stalls, then everything is delivered"
	d=$WORK/spool-disk-block
	mkdir -p "$d/mnt"
	mount -t tmpfs -o size=1m tmpfs "$d/mnt"
	mkfifo "$d/fifo"
	"$C" run --shutdown-timeout 30s --sink "fifo:$d/fifo" --sink-option "spool=$d/mnt/spool" \
		--sink-option spool-size=64MiB exec --format json -- "$GEN" 40000 --count-file "$d/generated" \
		2>"$d/err" &
	pid=$!
	sleep 3
	check "the disk filled" grep -q "No space left" "$d/err"
	check "the source stalls (it writes 40,000 lines in well under 3 s otherwise)" \
		pgrep -f "^$GEN 40000 --count-file $d/generated" >/dev/null
	timeout 60 cat "$d/fifo" >"$d/out" &
	reader=$!
	wait "$pid"
	eq "collector exit status" 0 $?
	wait "$reader"
	eq "every event delivered once, in order" "40000 0" \
		"$(jq -r 'select(.type=="bench.event") | .data.i' "$d/out" | awk '$1 != NR - 1 {bad++} END {print NR, bad + 0}')"
	umount "$d/mnt"
	end

	begin "spool: spool-full=drop_oldest: the oldest segments go, counted in collector.loss; exit 3"
	d=$WORK/spool-disk-drop
	mkdir -p "$d/mnt"
	mount -t tmpfs -o size=1m tmpfs "$d/mnt"
	mkfifo "$d/fifo"
	"$C" run --shutdown-timeout 30s --sink "fifo:$d/fifo" --sink-option "spool=$d/mnt/spool" \
		--sink-option spool-size=512KiB --sink-option spool-full=drop_oldest \
		exec --format json -- "$GEN" 40000 --count-file "$d/generated" 2>"$d/err" &
	pid=$!
	sleep 2
	timeout 60 cat "$d/fifo" >"$d/out" &
	reader=$!
	wait "$pid"
	eq "collector exit status says loss" 3 $?
	wait "$reader"
	kept=$(jq -r 'select(.type=="bench.event") | .data.i' "$d/out" | wc -l)
	dropped=$(jq -s '[.[] | select(.type=="collector.loss") | .data.dropped // 0] | add // 0' "$d/out")
	check "some events dropped ($dropped)" test "$dropped" -gt 0
	check "the rest delivered in order" test "$(jq -r 'select(.type=="bench.event") | .data.i' "$d/out" | sort -n | uniq | wc -l)" = "$kept"
	# Dropped records may include the collector's own loss and exit events.
	check "kept + dropped accounts for every event ($kept + $dropped)" \
		test $((kept + dropped)) -ge 40000 -a $((kept + dropped)) -le 40050
	umount "$d/mnt"
	end
fi
