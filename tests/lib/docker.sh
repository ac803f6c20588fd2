# Shared by the suites that need a Docker daemon: start dockerd when none answers (and
# stop it at exit only if we started it), and build the offline test image from
# busybox-static (no registry is reachable on CI machines).
# Usage: . tests/lib/docker.sh; docker_ensure || skip "..."; docker_test_image
# Sets DOCKER_TEST_IMAGE (default collector-test/busybox:latest).

DOCKER_TEST_IMAGE=${DOCKER_TEST_IMAGE:-collector-test/busybox:latest}
DOCKER_STARTED_PID=

docker_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Returns 0 when a daemon answers; starts one (root only) when none does.
docker_ensure() {
	docker_answers && return 0
	[ "$(id -u)" -eq 0 ] || return 1
	command -v dockerd >/dev/null || return 1
	# A lock so two suites don't both start one.
	exec {docker_lock}>/run/collector-test-dockerd.lock
	flock "$docker_lock"
	if ! docker_answers; then
		dockerd >/tmp/collector-test-dockerd.log 2>&1 &
		DOCKER_STARTED_PID=$!
		for _ in $(seq 1 100); do docker_answers && break; sleep 0.1; done
	fi
	flock -u "$docker_lock"
	docker_answers
}

# Stops the daemon only if this shell started it.
docker_release() {
	[ -n "$DOCKER_STARTED_PID" ] || return 0
	kill "$DOCKER_STARTED_PID" 2>/dev/null
	wait "$DOCKER_STARTED_PID" 2>/dev/null
	DOCKER_STARTED_PID=
}

# Writes a tar of a busybox-static rootfs to stdout (docker import and podman import take it).
busybox_rootfs_tar() {
	local root
	root=$(mktemp -d)
	mkdir -p "$root/bin" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/etc"
	cp /bin/busybox "$root/bin/busybox"
	for app in $("$root/bin/busybox" --list); do
		[ -e "$root/bin/$app" ] || ln -s busybox "$root/bin/$app"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
	echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$root/etc/passwd"
	echo 'root:x:0:' >"$root/etc/group"
	echo 'nogroup:x:65534:' >>"$root/etc/group"
	tar -C "$root" -c .
	local rc=$?
	rm -rf "$root"
	return $rc
}

# Imports the busybox-static rootfs as $DOCKER_TEST_IMAGE once.
docker_test_image() {
	docker image inspect "$DOCKER_TEST_IMAGE" >/dev/null 2>&1 && return 0
	busybox_rootfs_tar | docker import -c 'CMD ["/bin/sh"]' - "$DOCKER_TEST_IMAGE" >/dev/null
}
