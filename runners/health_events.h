/* Health events of a runner's children, shared by exec and algorithm: options, health.*, exit members. */
#ifndef COLLECTOR_RUNNERS_HEALTH_EVENTS_H
#define COLLECTOR_RUNNERS_HEALTH_EVENTS_H

#include <stdint.h>
#include <sys/types.h>

#include <collector/error.h>
#include <collector/event_builder.h>
#include <collector/health_monitor.h>
#include <collector/metrics.h>
#include <collector/options.h>
#include <collector/runner.h>

/* Decimals of cpu_percent, value and limit: a percentage or a rate needs no more. */
#define HEALTH_EVENTS_DECIMALS 2

/* The health options every runner that watches children has, spliced into its option table. */
#define HEALTH_EVENT_OPTIONS                                                                   \
	{ .name = "health-interval",                                                           \
	  .type = OPT_DURATION,                                                                \
	  .def = "1s",                                                                         \
	  .help = "time between health.sample events (per child)" },                           \
		{ .name = "health-source",                                                     \
		  .type = OPT_ENUM,                                                            \
		  .def = "auto",                                                               \
		  .choices = "auto|bpf|procfs",                                                \
		  .help = "the built-in BPF program, /proc polling, or BPF when it loads" },   \
		{ .name = "memory-high",                                                       \
		  .type = OPT_SIZE,                                                            \
		  .def = "0",                                                                  \
		  .help = "health.warning when a child's RSS goes above this (0: never; "      \
			  "algorithm: 80% of the manifest's memory_mb)" },                     \
		{ .name = "memory-restart",                                                    \
		  .type = OPT_SIZE,                                                            \
		  .def = "0",                                                                  \
		  .help = "restart a child whose RSS passes this, before the OOM killer does " \
			  "(0: never)" },                                                      \
		{ .name = "cpu-pinned-samples",                                                \
		  .type = OPT_INT,                                                             \
		  .def = "5",                                                                  \
		  .help = "samples at the CPU quota before a cpu_pinned warning (0: never)" }, \
		{ .name = "rss-growth",                                                        \
		  .type = OPT_SIZE,                                                            \
		  .def = "0",                                                                  \
		  .help = "health.warning when RSS grows faster than this per second (0: "     \
			  "never)" },                                                          \
	{                                                                                      \
		.name = "rss-growth-samples", .type = OPT_INT, .def = "10",                    \
		.help = "samples the RSS growth is fitted over (3..64)"                        \
	}

/* Emits a runner's health.* events; one per runner instance. */
struct health_events {
	struct runner_ctx *ctx;
	struct event_builder *b;
	uint64_t samples_skipped; /* health.sample events not sent while a sink was full */
};

/*
 * Read and check the shared options into @p cfg and @p limits (the CPU quota
 * is the caller's). Returns 0, or -EINVAL with @p err.
 */
int health_events_config(const struct options *opts, struct health_config *cfg,
			 struct health_limits *limits, struct error *err);

/* Returns 0, or -ENOMEM with @p err. */
int health_events_init(struct health_events *he, struct runner_ctx *ctx, struct error *err);
void health_events_release(struct health_events *he);

/* health.monitor: which source @p hm uses and why; logged too. */
void health_events_monitor(struct health_events *he, const struct health_monitor *hm);

/* health.sample; a periodic reading waits for no one: skipped and counted while a sink is full. */
void health_events_sample(struct health_events *he, const struct health_sample *s);
void health_events_warning(struct health_events *he, const struct health_warning *w);
/* health.action (a restart) for @p why; @p instance < 0 when the runner has one child. */
void health_events_action(struct health_events *he, const struct health_warning *why, int instance);
/* health.oom when the OOM killer chose a watched process (other happenings: nothing). */
void health_events_happening(struct health_events *he, const struct health_happening *h);

/* A sample's members, for events that carry samples (crash reports). */
void health_events_put_sample(struct event_builder *b, const struct health_sample *s);

/*
 * killed_by and oom_killed of a child's end; @p end NULL when unknown. A
 * signal sent by @p self (a fault it raised) names no sender; 0: any sender is named.
 */
void health_events_put_exit(struct event_builder *b, const struct health_end *end, pid_t self);

/* collector_runner_health_samples_skipped_total. */
void health_events_metrics(const struct health_events *he, struct metrics_writer *w);

#endif
