# The container runner against the real daemon (started when absent) and the offline busybox image.

# shellcheck source=/dev/null
. ../lib/docker.sh
K=$WORK/container
mkdir -p "$K"

# Every run here is named $RUN, so its containers carry the label collector.runner=$RUN:
# other users of the same daemon (parallel suites) can't change what this lists. The runner
# creates no networks, and removes anonymous volumes with their container (DELETE ?v=1).
RUN=collector-it-92-${WORK##*.}
docker_leftovers() {
	docker ps -aq --no-trunc --filter "label=collector.runner=$RUN" | sort
}

if ! docker_ensure || ! docker_test_image; then
	skip "container" "no Docker daemon (needs root and docker.io)"
else
	I=$DOCKER_TEST_IMAGE
	docker_leftovers >"$K/before"

	begin "container: output lines, JSON events, stderr, exit code; removed at the end"
	out=$K/basic.jsonl
	"$C" run --name "$RUN" container --image "$I" --network none --env GREETING=hi --volume "$K:/mnt:ro" \
		-- sh -c 'echo "$GREETING $(cat /mnt/before | wc -l)"; echo "{\"type\":\"c.ev\",\"n\":1}"; echo oops >&2; exit 3' >"$out"
	eq "exit status" 1 "$?"
	# stdout and stderr are two pipes inside the container: the daemon reads them apart and
	# its frames order each stream, not the two against each other (as exec's tests assume).
	eq "first and last" "container.start container.exit" "$(jq -r .type "$out" | sed -n '1p;$p' | xargs)"
	eq "stdout in order" "container.line c.ev" "$(jq -r 'select(.type != "container.stderr") | .type' "$out" | sed '1d;$d' | xargs)"
	eq "one stderr line" 1 "$(jq -r 'select(.type == "container.stderr") | .type' "$out" | wc -l | tr -d ' ')"
	eq "env and volume" "hi $(wc -l <"$K/before" | tr -d ' ')" "$(field "$out" container.line .data.line)"
	eq "stderr" oops "$(field "$out" container.stderr .data.line)"
	eq "exit code" 3 "$(field "$out" container.exit .data.exit_code)"
	eq "status" failed "$(field "$out" container.exit .data.status)"
	eq "removed" true "$(field "$out" container.exit .data.removed)"
	check "gone from the daemon" test -z "$(docker ps -aq --filter id="$(field "$out" container.exit .data.id)")"
	end

	begin "container: --keep leaves it, exit 0 for a clean run"
	out=$K/keep.jsonl
	"$C" run --name "$RUN" container --image "$I" --network none --keep -- true >"$out"
	eq "exit status" 0 "$?"
	id=$(field "$out" container.exit .data.id)
	eq "kept" exited "$(docker inspect -f '{{.State.Status}}' "$id" 2>/dev/null)"
	docker rm -f "$id" >/dev/null 2>&1
	end

	begin "container: run --name names the runner, the runner's --name the container"
	out=$K/names.jsonl
	"$C" run --name "$RUN" container --image "$I" --network none --keep --name "$RUN-ct" -- true >"$out"
	eq "exit status" 0 "$?"
	eq "the runner" "$RUN" "$(field "$out" container.exit .runner)"
	id=$(field "$out" container.exit .data.id)
	eq "the container" "/$RUN-ct" "$(docker inspect -f '{{.Name}}' "$id" 2>/dev/null)"
	docker rm -f "$id" >/dev/null 2>&1
	end

	begin "container: killed by its memory limit: OOMKilled and the crash report"
	out=$K/oom.jsonl
	"$C" run --name "$RUN" container --health --crash-dir "$K/crashes" --image "$I" --network none --memory 8MiB \
		-- sh -c 'x=$(head -c 60000000 /dev/zero | tr "\0" a); echo survived' >"$out" 2>/dev/null
	eq "exit status" 1 "$?"
	eq "oom_killed" true "$(field "$out" container.exit .data.oom_killed)"
	eq "signal" SIGKILL "$(field "$out" container.exit .data.signal_name)"
	eq "crash cause" oom_kill "$(field "$out" container.crash .data.cause)"
	eq "crash limit" 8 "$(field "$out" container.crash .data.limits.memory_mb)"
	eq "one report file" 1 "$(find "$K/crashes" -name '*.json' | wc -l | tr -d ' ')"
	check "collector crashes explains it" sh -c "'$C' crashes --dir '$K/crashes' | grep -q 'OOM killer'"
	end

	begin "container: a process forked before the watch and killed inside is named (cgroup)"
	out=$K/child.jsonl
	# sleep 30 starts with the container, before the monitor can know its pid: only the
	# container's cgroup says it is one of its processes.
	"$C" run --name "$RUN" container --health --health-source bpf --no-crash-reports --image "$I" --network none \
		-- sh -c 'sleep 30 & sleep 1; kill -9 $!; wait $!; exit $?' >"$out" 2>"$K/child.err"
	eq "exit status" 1 "$?"
	eq "exit code" 137 "$(field "$out" container.exit .data.exit_code)"
	eq "crash names the killed child" "sleep SIGKILL sh" \
		"$(field "$out" container.crash '.data.killed_processes[] | "\(.comm) \(.signal) \(.killed_by.name)"')"
	end

	begin "container: one that dies before the monitor could watch it still gets its crash report"
	out=$K/early.jsonl
	"$C" run --name "$RUN" container --health --no-crash-reports --image "$I" --network none \
		-- sh -c 'sh -c "kill -9 \$\$"; exit $?' >"$out" 2>/dev/null
	eq "exit status" 1 "$?"
	eq "crash: signal SIGKILL" "signal SIGKILL" "$(field "$out" container.crash '"\(.data.cause) \(.data.signal)"')"
	end

	begin "container: a task ignoring SIGTERM is killed after the grace (timeout)"
	out=$K/term.jsonl
	"$C" run --name "$RUN" container --health --image "$I" --network none --timeout 1s --grace 1s \
		-- sh -c 'trap "" TERM; echo up; sleep 30' >"$out" 2>/dev/null
	eq "exit status" 1 "$?"
	eq "status" timeout "$(field "$out" container.exit .data.status)"
	eq "stop sent" true "$(field "$out" container.exit .data.stop_sent)"
	eq "SIGKILL after the grace" "137 SIGKILL" "$(field "$out" container.exit '"\(.data.exit_code) \(.data.signal_name)"')"
	eq "crash report: timeout, escalated" "timeout true" "$(field "$out" container.crash '"\(.data.cause) \(.data.stop.escalated_to_sigkill)"')"
	end

	begin "container: the collector's stop (--duration) stops it: canceled"
	out=$K/stop.jsonl
	"$C" run --name "$RUN" --duration 1s container --image "$I" --network none --grace 1s -- sh -c 'echo up; sleep 30' >"$out" 2>/dev/null
	eq "status" canceled "$(field "$out" container.exit .data.status)"
	eq "removed" true "$(field "$out" container.exit .data.removed)"
	end

	begin "container: a missing image is the daemon's answer (exit 1); no --image is usage (exit 2)"
	"$C" run --name "$RUN" container --image collector-test/absent:none -- true >"$K/missing.jsonl" 2>"$K/missing.err"
	eq "exit status" 1 "$?"
	check "clear error" grep -q "image collector-test/absent:none: not on the daemon" "$K/missing.err"
	eq "status" error "$(field "$K/missing.jsonl" container.exit .data.status)"
	"$C" run --name "$RUN" container -- true >/dev/null 2>&1
	eq "no image: exit 2" 2 "$?"
	end

	begin "container: the daemon gone (a socket nobody answers): a clear error, exit 1"
	"$C" run --name "$RUN" container --socket "$K/no-daemon.sock" --image "$I" -- true >/dev/null 2>"$K/gone.err"
	eq "exit status" 1 "$?"
	check "clear error" grep -q "cannot reach the Docker daemon at $K/no-daemon.sock" "$K/gone.err"
	end

	begin "container: nothing left behind (this run's containers)"
	docker_leftovers >"$K/after"
	check "same as before" diff "$K/before" "$K/after"
	end
	docker_release
fi
