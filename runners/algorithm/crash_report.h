/* A child's algorithm.crash: the shared report (../crash_report.h) with the host's account of the instance. */
#ifndef COLLECTOR_RUNNERS_ALGORITHM_CRASH_REPORT_H
#define COLLECTOR_RUNNERS_ALGORITHM_CRASH_REPORT_H

#include <stdbool.h>
#include <sys/types.h>

#include <collector/algorithm.h>
#include <collector/event_builder.h>
#include <collector/health_monitor.h>
#include <collector/runner.h>

#include "../crash_report.h"

/*
 * Build algorithm.crash in @p b for @p instance's child @p pid, ended with
 * @p wait_status, and emit it; nothing when the host calls the end normal.
 * @p id receives the report's id. @return whether it was emitted.
 */
bool algo_crash_report_emit(struct runner_ctx *ctx, struct event_builder *b,
			    const struct algorithm *algo, int instance, pid_t pid, int wait_status,
			    const struct watched *w, const struct health_end *end,
			    const char *health_source, char id[64]);

/* The report just emitted, still in @p b, as @p dir/ID.json (crash_dir_write()). */
void algo_crash_report_write(struct runner_ctx *ctx, struct event_builder *b, const char *dir,
			     const char *id);

#endif
