/* Container identity (id and runtime) from a process's cgroup path, for every runtime's naming. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "container_id.h"

/* Cgroups remembered by container_of_cgroup(), direct-mapped: a collision forgets one. */
#define CGROUP_CACHE 512
/* include/linux/exportfs.h: a kernfs node's file handle, its 64-bit id (not in the uapi headers). */
#define FILEID_KERNFS 0xfe

/* A path component's prefix and the runtime it names; the id follows, then ".scope" or nothing. */
static const struct {
	const char *prefix;
	const char *runtime;
} prefixes[] = {
	{ "docker-", "docker" },
	{ "cri-containerd-", "containerd" },
	{ "crio-", "cri-o" },
	{ "libpod-", "podman" },
	{ "", NULL }, /* a bare id: its parent says whose */
};

static bool hex_id(const char *p, size_t n)
{
	if (n != CONTAINER_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* A bare id is docker's under "docker", podman's under "libpod_parent", else a CRI pod's. */
static const char *bare_runtime(const char *path, const char *comp)
{
	const char *parent = comp - 1, *start = parent;

	while (start > path && start[-1] != '/')
		start--;
	if (parent - start == 6 && memcmp(start, "docker", 6) == 0)
		return "docker";
	if (parent - start == 13 && memcmp(start, "libpod_parent", 13) == 0)
		return "podman";
	if (strstr(path, "kubepods") && strstr(path, "kubepods") < comp)
		return "cri";
	return NULL;
}

/* Whether one component (without '/') names a container. */
static bool component(const char *path, const char *c, size_t n, struct container_ref *out)
{
	if (n > 6 && memcmp(c + n - 6, ".scope", 6) == 0)
		n -= 6;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t k = strlen(prefixes[i].prefix);
		const char *runtime = prefixes[i].runtime;

		if (n < k || memcmp(c, prefixes[i].prefix, k) != 0 || !hex_id(c + k, n - k))
			continue;
		if (!runtime)
			runtime = c > path ? bare_runtime(path, c) : NULL;
		if (!runtime)
			return false;
		memcpy(out->id, c + k, CONTAINER_ID_LEN);
		out->id[CONTAINER_ID_LEN] = '\0';
		out->runtime = runtime;
		return true;
	}
	return false;
}

bool container_from_path(const char *path, size_t len, struct container_ref *out)
{
	bool found = false;
	size_t i = 0;

	while (i < len) {
		size_t j = i;

		while (j < len && path[j] != '/')
			j++;
		/* The innermost wins: a container inside a container is the inner one. */
		if (j > i && component(path, path + i, j - i, out))
			found = true;
		i = j + 1;
	}
	return found;
}

bool container_from_proc_cgroup(const char *text, size_t len, struct container_ref *out)
{
	const char *end = text + len;

	for (const char *line = text; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *eol = nl ? nl : end;
		/* "HIERARCHY:CONTROLLERS:PATH": the path is after the second colon. */
		const char *c1 = memchr(line, ':', (size_t)(eol - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;

		if (c2 && container_from_path(c2 + 1, (size_t)(eol - c2 - 1), out))
			return true;
		line = eol + 1;
	}
	return false;
}

bool container_of_pid(int pid, struct container_ref *out)
{
	char path[64], text[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	/* One read: the kernel writes the whole file at once when it fits. */
	n = read(fd, text, sizeof(text));
	close(fd);
	return n > 0 && container_from_proc_cgroup(text, (size_t)n, out);
}

const char *cgroup2_mount(void)
{
	/* A hybrid host's cgroup2 hierarchy is "unified"; a v2-only host's is the top. */
	static const char *mounts[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };

	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		struct statfs fs;

		if (statfs(mounts[i], &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
			return mounts[i];
	}
	return NULL;
}

/*
 * The path of cgroup v2 id @p id, by a kernfs file handle (its id is the handle) on the
 * cgroup2 mount, as bpftool and systemd do. @return 0, or -1 when there is no cgroup2
 * mount, no such cgroup (any more), or no CAP_DAC_READ_SEARCH.
 */
static int cgroup_path_of_id(unsigned long long id, char *out, size_t size)
{
	const char *mount = cgroup2_mount();
	struct file_handle *fh = malloc(sizeof(*fh) + sizeof(id));
	int mnt = mount ? open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	int fd = -1, rc = -1;
	char link[64];
	ssize_t n;

	if (fh && mnt >= 0) {
		fh->handle_bytes = sizeof(id);
		fh->handle_type = FILEID_KERNFS;
		memcpy(fh->f_handle, &id, sizeof(id));
		fd = open_by_handle_at(mnt, fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd >= 0) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, out, size - 1);
		if (n > 0) {
			out[n] = '\0';
			rc = 0;
		}
		close(fd);
	}
	if (mnt >= 0)
		close(mnt);
	free(fh);
	return rc;
}

/* One cgroup's answer; by_id: found by the id, so it holds for every process of the cgroup. */
struct cgroup_entry {
	unsigned long long cgroup_id;
	struct container_ref ref;
	int pid;
	bool used, by_id, found;
};

/* Look cgroup @p cgroup_id (of process @p pid) up into @p e. @return false when it could not be. */
static bool look_up(struct cgroup_entry *e, unsigned long long cgroup_id, int pid)
{
	char path[PATH_MAX];

	e->by_id = cgroup_id && cgroup_path_of_id(cgroup_id, path, sizeof(path)) == 0;
	if (e->by_id) {
		e->found = container_from_path(path, strlen(path), &e->ref);
	} else {
		snprintf(path, sizeof(path), "/proc/%d", pid);
		e->found = pid > 0 && container_of_pid(pid, &e->ref);
		/* Gone: nothing known, nothing remembered. */
		if (!e->found && access(path, F_OK) < 0)
			return false;
	}
	e->cgroup_id = cgroup_id;
	e->pid = pid;
	return true;
}

bool container_of_cgroup(unsigned long long cgroup_id, int pid, struct container_ref *out)
{
	static struct cgroup_entry cache[CGROUP_CACHE];
	struct cgroup_entry *e =
		&cache[(unsigned)((cgroup_id * 0x9e3779b97f4a7c15ULL) >> 32) % CGROUP_CACHE];

	if (!e->used || e->cgroup_id != cgroup_id || (!e->by_id && e->pid != pid))
		e->used = look_up(e, cgroup_id, pid);
	if (e->used && e->found)
		*out = e->ref;
	return e->used && e->found;
}
