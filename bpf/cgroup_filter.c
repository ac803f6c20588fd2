/* The loaders' --cgroup and --container filters: a cgroup v2 directory whose id the BPF programs compare. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "../runners/container_id.h"
#include "../runners/container_name.h"
#include "cgroup_filter.h"

/*
 * --cgroup: a directory of a cgroup v2 mount, whose inode number is the id the
 * BPF program compares. Anything else would filter on a number that means
 * nothing (a plain directory: no process ever matches) or something else (a
 * cgroup v1 root has the v2 root's number: every process matches).
 */
static int check_cgroup(const char *path, struct error *err)
{
	struct statfs fs;

	if (statfs(path, &fs) < 0)
		return error_set(err, EINVAL, "--cgroup %s: %s", path, strerror(errno));
	if (fs.f_type == CGROUP_SUPER_MAGIC)
		return error_set(err, EINVAL,
				 "--cgroup %s: a cgroup v1 directory; the filter needs a cgroup v2 "
				 "one (a directory of a cgroup2 mount, e.g. under %s)",
				 path, "/sys/fs/cgroup/unified");
	if (fs.f_type != CGROUP2_SUPER_MAGIC)
		return error_set(err, EINVAL,
				 "--cgroup %s: not a cgroup directory; give a directory of a "
				 "cgroup2 mount (mount | grep cgroup2)",
				 path);
	return 0;
}

/* The "0::PATH" line of /proc/PID/cgroup: the process's cgroup v2 path, in @p out. */
static int cgroup2_path(int pid, char *out, size_t size)
{
	char path[64], line[512];
	FILE *f;
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (rc < 0 && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, size, "%s", line + 3);
			rc = 0;
		}
	fclose(f);
	return rc;
}

/*
 * --container ID|NAME: the cgroup v2 directory of that running container, so that the
 * kernel's cgroup filter does the filtering (cgroup v1 hierarchies have no id the
 * BPF program can compare; a hybrid host's "unified" mount has the container's too).
 */
static int check_container(const char *ref, char *dir, size_t size, struct error *err)
{
	struct docker_container c;
	const char *mount = cgroup2_mount();
	char cg[PATH_MAX];

	if (docker_inspect(DOCKER_SOCKET, ref, &c, err) < 0)
		return -EINVAL;
	if (c.pid <= 0)
		return error_set(err, EINVAL,
				 "--container %s: not running; the filter follows a running "
				 "container's cgroup (start it first)",
				 ref);
	if (cgroup2_path(c.pid, cg, sizeof(cg)) < 0)
		return error_set(err, EINVAL,
				 "--container %s: its process %d has no cgroup v2 path (mount "
				 "cgroup2, e.g. at /sys/fs/cgroup/unified)",
				 ref, c.pid);
	if (!mount)
		return error_set(err, EINVAL,
				 "--container %s: no cgroup2 mount (mount | grep cgroup2)", ref);
	snprintf(dir, size, "%s%s", mount, cg);
	return 0;
}

int cgroup_filter_check(const struct options *o, char *dir, size_t size, struct error *err)
{
	const char *cgroup = options_str(o, "cgroup"), *container = options_str(o, "container");

	dir[0] = '\0';
	if (cgroup && container)
		return error_set(err, EINVAL, "--cgroup or --container, not both");
	if (container)
		return check_container(container, dir, size, err);
	if (!cgroup)
		return 0;
	if (check_cgroup(cgroup, err) < 0)
		return -EINVAL;
	snprintf(dir, size, "%s", cgroup);
	return 0;
}

int cgroup_filter_id(const char *dir, unsigned long long *id)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return -errno;
	/* A cgroup v2 directory's inode number is its cgroup id. */
	*id = st.st_ino;
	return 0;
}

int cgroup_filter_load(const char *dir, unsigned long long *id, struct loader_error *lerr)
{
	int rc = dir ? cgroup_filter_id(dir, id) : 0;

	return rc < 0 ? loader_fail(lerr, "cgroup %s: %s", dir, strerror(-rc)) : 0;
}
