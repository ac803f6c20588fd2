/* Container identity (id and runtime) from a process's cgroup path, for every runtime's naming. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "container_id.h"

/* Processes remembered by container_of_pid_cached(), direct-mapped: a collision forgets one. */
#define PID_CACHE 512

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

bool container_of_pid_cached(int pid, unsigned long long cgroup_id, struct container_ref *out)
{
	static struct {
		int pid; /* 0: empty */
		unsigned long long cgroup_id;
		bool found;
		struct container_ref ref;
	} cache[PID_CACHE];
	unsigned slot = ((unsigned)pid * 2654435761U ^ (unsigned)cgroup_id) % PID_CACHE;
	char path[64];

	if (pid <= 0)
		return false;
	if (cache[slot].pid != pid || cache[slot].cgroup_id != cgroup_id) {
		snprintf(path, sizeof(path), "/proc/%d", pid);
		cache[slot].found = container_of_pid(pid, &cache[slot].ref);
		/* Gone: nothing known, nothing remembered. */
		if (!cache[slot].found && access(path, F_OK) < 0) {
			cache[slot].pid = 0;
			return false;
		}
		cache[slot].pid = pid;
		cache[slot].cgroup_id = cgroup_id;
	}
	if (cache[slot].found)
		*out = cache[slot].ref;
	return cache[slot].found;
}
