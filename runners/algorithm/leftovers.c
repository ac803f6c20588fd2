/* Leftovers of dead algorithm hosts: pools, temporary directories, cgroups named by their pid. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <collector/child_cgroup.h>

#include "leftovers.h"
#include "shm_pool.h"

/* Deeper trees are left in place: each level holds a descriptor. */
#define MAX_TREE_DEPTH 64

/*
 * Relative to directory descriptors opened with O_NOFOLLOW, so that a symlink
 * planted anywhere in the tree (it may belong to the child's user) is removed,
 * never followed out of it.
 */
static void remove_at(int at, const char *name, int depth)
{
	int fd;
	DIR *d;
	struct dirent *e;

	if (unlinkat(at, name, 0) == 0 || errno != EISDIR || depth > MAX_TREE_DEPTH)
		return;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			remove_at(dirfd(d), e->d_name, depth + 1);
	closedir(d);
	unlinkat(at, name, AT_REMOVEDIR);
}

void algo_remove_tree(const char *path)
{
	remove_at(AT_FDCWD, path, 0);
}

static void remove_dead_in(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (name_of_dead_collector(e->d_name, prefix))
			remove_at(dirfd(d), e->d_name, 0);
	closedir(d);
}

void algo_remove_leftovers(void)
{
	/* shm_open() names live in /dev/shm on Linux. */
	remove_dead_in("/dev/shm", SHM_POOL_PREFIX);
	remove_dead_in(ALGO_TMP_ROOT, ALGO_LEFTOVER_PREFIX);
	child_cgroup_remove_stale(ALGO_LEFTOVER_PREFIX);
}
