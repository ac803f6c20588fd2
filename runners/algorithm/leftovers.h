/* What an algorithm host killed before its cleanup left behind: found by its pid, removed at the next start. */
#ifndef COLLECTOR_ALGORITHM_LEFTOVERS_H
#define COLLECTOR_ALGORITHM_LEFTOVERS_H

/* Temporary directories ("/tmp/collector-algo.<pid>.<instance>.XXXXXX") and cgroup leaves. */
#define ALGO_LEFTOVER_PREFIX "collector-algo."
#define ALGO_TMP_ROOT "/tmp"

/* Remove @p path and everything beneath it without ever following a symlink. */
void algo_remove_tree(const char *path);

/*
 * Remove the shared-memory pools, temporary directories and cgroups (killing
 * what is still inside) of algorithm hosts that are no longer running.
 */
void algo_remove_leftovers(void);

#endif
