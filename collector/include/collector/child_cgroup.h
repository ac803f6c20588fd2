/**
 * @file
 * A child's own cgroup, with limits or only to hold its whole tree: v2 first,
 * v1 controllers as fallback, always beneath the collector's own cgroup.
 */
#ifndef COLLECTOR_CHILD_CGROUP_H
#define COLLECTOR_CHILD_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <collector/error.h>

/** Directories one cgroup may take: one for v2, up to two v1 hierarchies. */
#define CHILD_CGROUP_MAX_DIRS 2

/** A cgroup made for one child; zero it before use. */
struct child_cgroup {
	char dirs[CHILD_CGROUP_MAX_DIRS][512]; /**< the directories created */
	int ndirs;			       /**< how many */
	int procs_fds[CHILD_CGROUP_MAX_DIRS];  /**< cgroup.procs of each, for the child to join */
	const char *version;		       /**< "v2", "v1" or "none" */
};

/**
 * Create @p leaf beneath the collector's own cgroup with limits; without any
 * limit nothing is created.
 * @param cg filled
 * @param leaf the directory's name; "PREFIX.PID." leaves of dead collectors
 *        with the same prefix are removed first
 * @param memory_mb memory limit, 0 for none
 * @param cpu_percent CPU limit in percent of one CPU, 0 for none
 * @param err filled on failure
 * @return 0 or a negative errno with @p err.
 */
int child_cgroup_create(struct child_cgroup *cg, const char *leaf, int64_t memory_mb,
			int64_t cpu_percent, struct error *err);

/**
 * Create @p leaf with no limits, only to hold a command's whole tree (a
 * process that leaves its process group stays inside): v2, else v1's pids
 * hierarchy.
 * @param cg filled
 * @param leaf the directory's name
 * @param err filled on failure
 * @return 0 or a negative errno with @p err.
 */
int child_cgroup_create_tree(struct child_cgroup *cg, const char *leaf, struct error *err);

/**
 * Send a signal to every process inside.
 * @param cg the cgroup
 * @param sig the signal
 * @return how many processes there were.
 */
int child_cgroup_signal(const struct child_cgroup *cg, int sig);

/**
 * Join every directory, in the forked child before exec (async-signal-safe).
 * @param cg the cgroup
 * @return 0 or -errno.
 */
int child_cgroup_join_self(const struct child_cgroup *cg);

/**
 * Close the procs descriptors (the parent does once the child has started).
 * @param cg the cgroup
 */
void child_cgroup_close_fds(struct child_cgroup *cg);

/**
 * SIGKILL whatever is still inside, then remove the directories.
 * @param cg the cgroup
 */
void child_cgroup_destroy(struct child_cgroup *cg);

/**
 * Whether a leftover's name is @p prefix, a pid and a dot, and that process
 * no longer runs (a collector killed with -9).
 * @param name the leftover's name
 * @param prefix what its names begin with, e.g. "collector-algo."
 * @return true when it is a dead collector's.
 */
bool name_of_dead_collector(const char *name, const char *prefix);

/**
 * Destroy the leaves beneath the collector's own cgroups (v2; v1 memory, cpu,
 * pids) named @p prefix "PID." of a collector no longer running.
 * @param prefix what their names begin with
 */
void child_cgroup_remove_stale(const char *prefix);

#endif
