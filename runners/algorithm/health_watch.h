/* The algorithm runner's health monitor and crash reports: options, health.* and algorithm.crash. */
#ifndef COLLECTOR_RUNNERS_ALGORITHM_CRASH_H
#define COLLECTOR_RUNNERS_ALGORITHM_CRASH_H

#include <stdbool.h>
#include <sys/types.h>

#include <collector/algorithm.h>
#include <collector/error.h>
#include <collector/options.h>
#include <collector/runner.h>

#include "../health_events.h"

/* The algorithm runner's health and crash options, spliced into its option table. */
#define ALGO_CRASH_OPTIONS                                                                   \
	HEALTH_EVENT_OPTIONS,                                                                \
	{                                                                                    \
		.name = "crash-dir", .type = OPT_STRING,                                     \
		.help = "write each algorithm.crash as ID.json here (see collector crashes)" \
	}

struct algo_crash;

/* The monitor for up to @p instances children; *out is the new state. */
int algo_crash_create(struct runner_ctx *ctx, const struct options *opts, const char *package_dir,
		      int instances, struct algo_crash **out, struct error *err);

/* The handle, once algorithm_open() returned it (needed for crash details and restarts). */
void algo_crash_set_host(struct algo_crash *ac, struct algorithm *algo);

/* The algorithm_options hooks. */
void algo_crash_on_forking(struct algo_crash *ac, bool forking);
void algo_crash_on_spawn(struct algo_crash *ac, int instance, pid_t pid);
void algo_crash_on_exit(struct algo_crash *ac, int instance, pid_t pid, int wait_status);

/* Its samples for /metrics (health samples skipped under backpressure). */
void algo_crash_metrics(const struct algo_crash *ac, struct metrics_writer *w);

void algo_crash_free(struct algo_crash *ac);

#endif
