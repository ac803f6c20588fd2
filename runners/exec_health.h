/* The exec runner's use of the health monitor: options, health.* events, how the child died. */
#ifndef COLLECTOR_RUNNERS_EXEC_HEALTH_H
#define COLLECTOR_RUNNERS_EXEC_HEALTH_H

#include <stdbool.h>
#include <sys/types.h>

#include <yajl/yajl_gen.h>

#include <collector/error.h>
#include <collector/options.h>
#include <collector/runner.h>

/* The exec runner's health options, spliced into its option table. */
#define EXEC_HEALTH_OPTIONS                                                                      \
	{ .name = "health",                                                                      \
	  .type = OPT_BOOL,                                                                      \
	  .help = "watch the command's CPU, memory, threads and end (health.* events)" },        \
		{ .name = "health-interval",                                                     \
		  .type = OPT_DURATION,                                                          \
		  .def = "1s",                                                                   \
		  .help = "time between health.sample events" },                                 \
		{ .name = "health-source",                                                       \
		  .type = OPT_ENUM,                                                              \
		  .def = "auto",                                                                 \
		  .choices = "auto|bpf|procfs",                                                  \
		  .help = "the built-in BPF program, /proc polling, or BPF when it loads" },     \
		{ .name = "memory-high",                                                         \
		  .type = OPT_SIZE,                                                              \
		  .def = "0",                                                                    \
		  .help = "health.warning when the command's RSS goes above this (0: never)" },  \
		{ .name = "memory-restart",                                                      \
		  .type = OPT_SIZE,                                                              \
		  .def = "0",                                                                    \
		  .help = "stop the command (then --restart applies) when its RSS passes this, " \
			  "before the OOM killer does (0: never)" },                             \
		{ .name = "cpu-quota",                                                           \
		  .type = OPT_INT,                                                               \
		  .def = "100",                                                                  \
		  .help = "CPU percent the command may use (100: one core), for cpu_pinned" },   \
		{ .name = "cpu-pinned-samples",                                                  \
		  .type = OPT_INT,                                                               \
		  .def = "5",                                                                    \
		  .help = "samples at the CPU quota before a cpu_pinned warning (0: never)" },   \
		{ .name = "rss-growth",                                                          \
		  .type = OPT_SIZE,                                                              \
		  .def = "0",                                                                    \
		  .help = "health.warning when RSS grows faster than this per second (0: "       \
			  "never)" },                                                            \
	{                                                                                        \
		.name = "rss-growth-samples", .type = OPT_INT, .def = "10",                      \
		.help = "samples the RSS growth is fitted over (3..64)"                          \
	}

struct exec_health;

/* Stops the command when the monitor asks for a restart. */
typedef void (*exec_health_act_fn)(void *arg);

/* NULL in *out (and 0) when --health is not given. */
int exec_health_create(struct runner_ctx *ctx, const struct options *opts, exec_health_act_fn act,
		       void *act_arg, struct exec_health **out, struct error *err);

/* Emit health.monitor: which source the monitor uses and why. */
void exec_health_started(struct exec_health *eh);

/* Around the spawn: the child is followed from its first moment (see health_monitor.h). */
void exec_health_spawning(struct exec_health *eh, bool spawning);

int exec_health_watch(struct exec_health *eh, pid_t pid, struct error *err);

/* The run's child was reaped: remember how it died, stop watching it. */
void exec_health_reaped(struct exec_health *eh, pid_t pid, int wait_status);

/* Add killed_by and oom_killed to exec.exit's data. */
void exec_health_gen_exit(const struct exec_health *eh, yajl_gen g);

void exec_health_free(struct exec_health *eh);

#endif
