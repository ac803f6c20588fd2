/* The loaders' --cgroup and --container filters: a cgroup v2 directory whose id the BPF programs compare. */
#ifndef COLLECTOR_BPF_CGROUP_FILTER_H
#define COLLECTOR_BPF_CGROUP_FILTER_H

#include <stddef.h>

#include <collector/error.h>
#include <collector/options.h>

#include "loader_util.h"

/* The two options, for the option table of a runner whose loader filters by cgroup. */
#define CGROUP_FILTER_OPTIONS                                                                      \
	{ .name = "cgroup",                                                                        \
	  .type = OPT_STRING,                                                                      \
	  .help = "only processes in this cgroup v2 directory (a directory of a cgroup2 mount)" }, \
	{                                                                                          \
		.name = "container", .type = OPT_STRING,                                           \
		.help = "only processes of this running Docker container (an id or a name): its "  \
			"cgroup, filtered in the kernel"                                           \
	}

/*
 * Check --cgroup DIR and --container ID|NAME of @p o (at most one of them) and put in
 * @p dir the cgroup v2 directory to filter on: DIR itself, or the directory of that
 * running Docker container's cgroup; "" when neither is given.
 * @return 0, or -EINVAL with one line in @p err (cause and fix).
 */
int cgroup_filter_check(const struct options *o, char *dir, size_t size, struct error *err);

/*
 * The id bpf_get_current_cgroup_id() gives the processes of cgroup v2 directory @p dir
 * (its inode number), in @p id. @return 0 or -errno.
 */
int cgroup_filter_id(const char *dir, unsigned long long *id);

/*
 * A loader's --cgroup: @p dir's id into @p id (untouched when @p dir is NULL).
 * @return 0, or the loader's failure (loader_fail()) naming @p dir.
 */
int cgroup_filter_load(const char *dir, unsigned long long *id, struct loader_error *lerr);

#endif
