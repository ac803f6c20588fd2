/* The health monitor for runners with one child (exec, script, container): options, health.* events, how it died, its crash report. */
#ifndef COLLECTOR_RUNNERS_EXEC_HEALTH_H
#define COLLECTOR_RUNNERS_EXEC_HEALTH_H

#include <stdbool.h>
#include <sys/types.h>

#include <collector/error.h>
#include <collector/options.h>
#include <collector/runner.h>

#include "crash_report.h"
#include "health_events.h"

/* The exec runner's health options, spliced into its option table. */
#define EXEC_HEALTH_OPTIONS                                                               \
	{ .name = "health",                                                               \
	  .type = OPT_BOOL,                                                               \
	  .help = "watch the command's CPU, memory, threads and end (health.* events)" }, \
		HEALTH_EVENT_OPTIONS,                                                     \
		{ .name = "cpu-quota",                                                    \
		  .type = OPT_INT,                                                        \
		  .def = "100",                                                           \
		  .help = "CPU percent the command may use (100: one core), for "         \
			  "cpu_pinned" },                                                 \
		CRASH_REPORT_OPTIONS

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

/*
 * Watch @p pid and every process of its cgroup now (a container's): those
 * that started before the watch are followed too, as are their forks.
 */
int exec_health_watch_cgroup(struct exec_health *eh, pid_t pid, struct error *err);

/* The run's child was reaped: remember how it died, stop watching it. */
void exec_health_reaped(struct exec_health *eh, pid_t pid, int wait_status);

/* Add killed_by and oom_killed to exec.exit's data. */
void exec_health_put_exit(const struct exec_health *eh, struct event_builder *b);

/* What the runner knows of a run's end, for its crash report. */
struct exec_crash {
	const char *type;	    /* the event: "exec.crash", "container.crash" */
	int wait_status;	    /* as waitpid() says, or made from a container's exit code */
	bool oom_killed;	    /* the runner's own word (the daemon's OOMKilled) */
	bool requested_stop;	    /* stop() ended it: not a crash, unless the OOM killer did */
	const char *kill_reason;    /* "timeout", "memory_restart" or NULL */
	crash_describe_fn describe; /* the runner's members (argv, stderr, the stop's escalation) */
	void *arg;
};

/*
 * After exec_health_reaped(): a run that died of a signal or the OOM killer
 * gets the crash report, emitted and written to --crash-dir.
 */
void exec_health_crash(struct exec_health *eh, pid_t pid, const struct exec_crash *c);

/* Its samples for /metrics; nothing without --health. */
void exec_health_metrics(const struct exec_health *eh, struct metrics_writer *w);

void exec_health_free(struct exec_health *eh);

#endif
