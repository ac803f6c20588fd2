/* Container identity (id and runtime) from a process's cgroup path, for every runtime's naming. */
#ifndef COLLECTOR_RUNNERS_CONTAINER_ID_H
#define COLLECTOR_RUNNERS_CONTAINER_ID_H

#include <stdbool.h>
#include <stddef.h>

#define CONTAINER_ID_LEN 64

struct container_ref {
	char id[CONTAINER_ID_LEN + 1]; /* 64 lowercase hex digits */
	const char *runtime;	       /* "docker", "containerd", "cri-o", "podman", "cri" */
};

/*
 * The innermost container a cgroup path names ("/system.slice/docker-ID.scope",
 * "/docker/ID", "/kubepods/.../cri-containerd-ID.scope", "crio-ID",
 * "libpod-ID", "/kubepods/burstable/podUID/ID"): cgroupfs and systemd drivers.
 * A runtime's monitor (conmon) is not a container.
 * @return false when the path names none.
 */
bool container_from_path(const char *path, size_t len, struct container_ref *out);

/*
 * The container of /proc/PID/cgroup's text: the v2 line ("0::PATH") or, on
 * cgroup v1, the first hierarchy whose path names one.
 */
bool container_from_proc_cgroup(const char *text, size_t len, struct container_ref *out);

/*
 * The container of process @p pid, from /proc/PID/cgroup.
 * @return false when it names none, or the process is gone.
 */
bool container_of_pid(int pid, struct container_ref *out);

/* The cgroup2 mount ("/sys/fs/cgroup/unified" or "/sys/fs/cgroup"), NULL when there is none. */
const char *cgroup2_mount(void);

/*
 * The container of the cgroup v2 id @p cgroup_id (bpf_get_current_cgroup_id()'s), found by
 * opening the cgroup by its id on the cgroup2 mount (root), so that a process gone by now is
 * named too; without that mount, from process @p pid's /proc/PID/cgroup. Remembered per id
 * (per id and pid for the latter), so that a cgroup is looked up once, not at every event;
 * what could not be looked up is not remembered.
 * @return false when it names none.
 */
bool container_of_cgroup(unsigned long long cgroup_id, int pid, struct container_ref *out);

#endif
