# A full disk under the spool (a 1 MiB tmpfs mounted here, root): spool-full=block stalls the
# source and resumes once delivered segments are removed, also when the disk fills before
# spool-size (ENOSPC); drop_oldest drops the oldest segments and counts every dropped event.

if [ "$(id -u)" != 0 ]; then
	skip "spool: full disk" "mounting a tmpfs needs root"
else
	begin "spool: spool-full=block on a disk smaller than spool-size: stalls, resumes, loses nothing"
	d=$WORK/spool-disk-block
	mkdir -p "$d/mnt"
	mount -t tmpfs -o size=1m tmpfs "$d/mnt"
	mkfifo "$d/fifo"
	timeout 50 "$C" run --summary --shutdown-timeout 20s --sink "fifo:$d/fifo" \
		--sink-option "spool=$d/mnt/spool" --sink-option spool-size=8MiB \
		--sink-option spool-full=block \
		exec --format json -- "$GEN" 40000 --count-file "$d/generated" 2>"$d/err" &
	pid=$!
	sleep 2
	timeout 50 cat "$d/fifo" >"$d/out" &
	reader=$!
	wait "$pid"
	eq "collector exit status" 0 $?
	wait "$reader"
	eq "every event delivered once, in order" 40000 \
		"$(jq -r 'select(.type=="bench.event") | .data.i' "$d/out" | awk '$1 == NR - 1' | wc -l)"
	umount "$d/mnt"
	end

	begin "spool: spool-full=drop_oldest: the oldest segments go, counted in collector.loss; exit 3"
	d=$WORK/spool-disk-drop
	mkdir -p "$d/mnt"
	mount -t tmpfs -o size=1m tmpfs "$d/mnt"
	mkfifo "$d/fifo"
	timeout 50 "$C" run --summary --shutdown-timeout 20s --sink "fifo:$d/fifo" \
		--sink-option "spool=$d/mnt/spool" --sink-option spool-size=512KiB \
		--sink-option spool-full=drop_oldest \
		exec --format json -- "$GEN" 40000 --count-file "$d/generated" 2>"$d/err" &
	pid=$!
	sleep 2
	timeout 50 cat "$d/fifo" >"$d/out" &
	reader=$!
	wait "$pid"
	eq "collector exit status says loss" 3 $?
	wait "$reader"
	kept=$(jq -r 'select(.type=="bench.event") | .data.i' "$d/out" | wc -l)
	# dropped_total is cumulative: a loss report dropped itself is counted by the next one.
	dropped=$(jq -s '[.[] | select(.type=="collector.loss") | .data.dropped_total // 0] | max // 0' "$d/out")
	check "some events dropped ($dropped)" test "$dropped" -gt 0
	check "the rest delivered once, in order" test \
		"$(jq -r 'select(.type=="bench.event") | .data.i' "$d/out" | sort -nc && jq -r 'select(.type=="bench.event") | .data.i' "$d/out" | uniq | wc -l)" = "$kept"
	# Dropped records may include the collector's own loss events.
	check "kept + dropped accounts for every event ($kept + $dropped)" \
		test $((kept + dropped)) -ge 40000 -a $((kept + dropped)) -le 40100
	check "the summary counts the drops" grep -q "losses: $dropped dropped by full queues" "$d/err"
	umount "$d/mnt"
	end
fi
