# The container runner against Podman's Docker-compatible socket (podman system service).

# shellcheck source=/dev/null
. ../lib/docker.sh
PM=$WORK/podman
SOCK=$PM/podman.sock
IMG=collector-test/busybox:latest

if [ "$(id -u)" -ne 0 ]; then
	skip "container on podman" "needs root (podman's rootful service)"
elif ! command -v podman >/dev/null; then
	skip "container on podman" "podman is not installed (make deps installs it)"
else
	mkdir -p "$PM"
	# A store of its own under $WORK: no state shared with other users of podman, and all
	# of it goes with the work dir. vfs needs no overlay mounts.
	podman_() {
		podman --root "$PM/root" --runroot "$PM/run" --storage-driver vfs \
			--cgroup-manager cgroupfs --events-backend file "$@"
	}
	# Podman (unlike dockerd) puts RLIMIT_NOFILE 1048576 and RLIMIT_NPROC in every container's
	# spec; where the collector's own hard limits are lower, runc fails with "error setting
	# rlimit type 7: operation not permitted". Limits the service may set avoid that.
	cat >"$PM/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
	EOF
	busybox_rootfs_tar | podman_ import -c 'CMD ["/bin/sh"]' - "$IMG" >/dev/null 2>"$PM/import.err"
	# exec: $! is then podman itself, not a subshell running the function.
	(CONTAINERS_CONF=$PM/containers.conf exec podman --root "$PM/root" --runroot "$PM/run" \
		--storage-driver vfs --cgroup-manager cgroupfs --events-backend file \
		system service --time=0 "unix://$SOCK" >/dev/null 2>"$PM/service.err") &
	service=$!
	for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done

	begin "container on podman: output lines, stderr, exit code; removed at the end"
	out=$PM/basic.jsonl
	"$C" run container --socket "$SOCK" --image "$IMG" --network none --env GREETING=hi \
		-- sh -c 'echo "$GREETING"; echo oops >&2; exit 3' >"$out" 2>"$PM/basic.err"
	eq "exit status" 1 "$?"
	eq "line" hi "$(field "$out" container.line .data.line)"
	eq "stderr" oops "$(field "$out" container.stderr .data.line)"
	eq "exit code" 3 "$(field "$out" container.exit .data.exit_code)"
	eq "removed" true "$(field "$out" container.exit .data.removed)"
	end

	begin "container on podman: the collector's stop (--duration) stops it: canceled"
	out=$PM/stop.jsonl
	"$C" run --duration 1s container --socket "$SOCK" --image "$IMG" --network none --grace 1s \
		-- sh -c 'echo up; sleep 30' >"$out" 2>/dev/null
	eq "status" canceled "$(field "$out" container.exit .data.status)"
	eq "removed" true "$(field "$out" container.exit .data.removed)"
	end

	begin "container on podman: nothing left behind"
	eq "containers" "" "$(podman_ ps -aq)"
	end

	kill "$service" 2>/dev/null
	wait "$service" 2>/dev/null
fi
