/* The algorithm runner's health watch on its children: options, health.* events, a restart on memory, crash report data. */
#ifndef COLLECTOR_RUNNERS_ALGORITHM_HEALTH_WATCH_H
#define COLLECTOR_RUNNERS_ALGORITHM_HEALTH_WATCH_H

#include <stdbool.h>
#include <sys/types.h>

#include <collector/algorithm.h>
#include <collector/error.h>
#include <collector/options.h>
#include <collector/runner.h>

#include "../crash_report.h"
#include "../health_events.h"

/* The algorithm runner's health and crash options, spliced into its option table. */
/* The algorithm runner's health and crash options, spliced into its option table. */
#define ALGO_WATCH_OPTIONS HEALTH_EVENT_OPTIONS, CRASH_REPORT_OPTIONS

struct algo_watch;

/* The monitor for up to @p instances children; *out is the new state. */
int algo_watch_create(struct runner_ctx *ctx, const struct options *opts, const char *package_dir,
		      int instances, struct algo_watch **out, struct error *err);

/* The handle, once algorithm_open() returned it (needed for crash details and restarts). */
void algo_watch_set_host(struct algo_watch *ac, struct algorithm *algo);

/* The algorithm_options hooks. */
void algo_watch_on_forking(struct algo_watch *ac, bool forking);
void algo_watch_on_spawn(struct algo_watch *ac, int instance, pid_t pid);
void algo_watch_on_exit(struct algo_watch *ac, int instance, pid_t pid, int wait_status);

/* Its samples for /metrics (health samples skipped under backpressure). */
void algo_watch_metrics(const struct algo_watch *ac, struct metrics_writer *w);

void algo_watch_free(struct algo_watch *ac);

#endif
