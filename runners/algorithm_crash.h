/* The algorithm runner's health monitor and crash reports: options, health.* and algorithm.crash. */
#ifndef COLLECTOR_RUNNERS_ALGORITHM_CRASH_H
#define COLLECTOR_RUNNERS_ALGORITHM_CRASH_H

#include <stdbool.h>
#include <sys/types.h>

#include <collector/algorithm.h>
#include <collector/error.h>
#include <collector/options.h>
#include <collector/runner.h>

/* The algorithm runner's health and crash options, spliced into its option table. */
#define ALGO_CRASH_OPTIONS                                                                        \
	{ .name = "health-interval",                                                              \
	  .type = OPT_DURATION,                                                                   \
	  .def = "1s",                                                                            \
	  .help = "time between health.sample events per child" },                                \
		{ .name = "health-source",                                                        \
		  .type = OPT_ENUM,                                                               \
		  .def = "auto",                                                                  \
		  .choices = "auto|bpf|procfs",                                                   \
		  .help = "the built-in BPF program, /proc polling, or BPF when it loads" },      \
		{ .name = "memory-high",                                                          \
		  .type = OPT_SIZE,                                                               \
		  .def = "0",                                                                     \
		  .help = "health.warning above this RSS (0: 80% of the manifest's memory_mb)" }, \
		{ .name = "memory-restart",                                                       \
		  .type = OPT_SIZE,                                                               \
		  .def = "0",                                                                     \
		  .help = "restart a child whose RSS passes this, before the OOM killer does "    \
			  "(0: never)" },                                                         \
		{ .name = "cpu-pinned-samples",                                                   \
		  .type = OPT_INT,                                                                \
		  .def = "5",                                                                     \
		  .help = "samples at the manifest's cpu_percent before a cpu_pinned warning "    \
			  "(0: never)" },                                                         \
		{ .name = "rss-growth",                                                           \
		  .type = OPT_SIZE,                                                               \
		  .def = "0",                                                                     \
		  .help = "health.warning when RSS grows faster than this per second (0: "        \
			  "never)" },                                                             \
		{ .name = "rss-growth-samples",                                                   \
		  .type = OPT_INT,                                                                \
		  .def = "10",                                                                    \
		  .help = "samples the RSS growth is fitted over (3..64)" },                      \
	{                                                                                         \
		.name = "crash-dir", .type = OPT_STRING,                                          \
		.help = "write each algorithm.crash as ID.json here (see collector crashes)"      \
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
