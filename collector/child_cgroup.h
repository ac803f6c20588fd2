/* A child's own cgroup, with limits or only to hold its tree: v2 first, v1 controllers as fallback. */
#ifndef COLLECTOR_CHILD_CGROUP_H
#define COLLECTOR_CHILD_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <collector/error.h>

#define CHILD_CGROUP_MAX_DIRS 2

struct child_cgroup {
	char dirs[CHILD_CGROUP_MAX_DIRS]
		 [512]; /* created directories (one for v2, up to two for v1) */
	int ndirs;
	int procs_fds[CHILD_CGROUP_MAX_DIRS]; /* cgroup.procs of each, open for the child to join */
	const char *version;		      /* "v2", "v1" or "none" */
};

/*
 * Create @p leaf beneath the collector's own cgroup with the limits (0: none).
 * Without any limit nothing is created. Returns 0 or a negative errno with @p err.
 */
int child_cgroup_create(struct child_cgroup *cg, const char *leaf, int64_t memory_mb,
			int64_t cpu_percent, struct error *err);

/*
 * Create @p leaf with no limits, only to hold a command's whole tree (a
 * process that leaves its process group stays inside): v2, else v1's pids
 * hierarchy. Returns 0 or a negative errno with @p err.
 */
int child_cgroup_create_tree(struct child_cgroup *cg, const char *leaf, struct error *err);

/* Send @p sig to every process inside; returns how many there were. */
int child_cgroup_signal(const struct child_cgroup *cg, int sig);

/* In the forked child, before exec: join every directory (async-signal-safe). */
int child_cgroup_join_self(const struct child_cgroup *cg);

/* Close the procs fds (the parent does this once the child has been spawned). */
void child_cgroup_close_fds(struct child_cgroup *cg);

/* SIGKILL whatever is still inside, then remove the directories. */
void child_cgroup_destroy(struct child_cgroup *cg);

/* Whether @p name is @p prefix, a pid and a dot, and that process no longer runs. */
bool name_of_dead_collector(const char *name, const char *prefix);

/*
 * Destroy the leaves beneath the collector's own cgroups (v2; v1 memory, cpu, pids) named
 * @p prefix "PID." of a collector no longer running.
 */
void child_cgroup_remove_stale(const char *prefix);

#endif
