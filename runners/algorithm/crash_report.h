/* A child's algorithm.crash: how it ended, the host's account, its last samples; and its copy as ID.json. */
#ifndef COLLECTOR_RUNNERS_ALGORITHM_CRASH_REPORT_H
#define COLLECTOR_RUNNERS_ALGORITHM_CRASH_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <collector/algorithm.h>
#include <collector/event_builder.h>
#include <collector/health_monitor.h>
#include <collector/runner.h>

/* Samples kept per child: 30 s at the shortest sensible interval (200 ms). */
#define SAMPLE_RING 150

/* What the health watch kept of one child for its report. */
struct watched {
	pid_t pid; /* 0 when the instance has no live child */
	struct health_sample ring[SAMPLE_RING];
	int nsamples;	  /* total ever; ring index is nsamples % SAMPLE_RING */
	uint64_t oom_rss; /* RSS when the OOM killer chose it, 0 when it did not */
};

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
