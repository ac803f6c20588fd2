/* A child's crash report, one format for every runner: how it ended, who killed it, its last samples; and its copy as ID.json. */
#ifndef COLLECTOR_RUNNERS_CRASH_REPORT_H
#define COLLECTOR_RUNNERS_CRASH_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <collector/error.h>
#include <collector/event_builder.h>
#include <collector/health_monitor.h>
#include <collector/options.h>
#include <collector/runner.h>

/* Where a runner's crash reports go: spliced into its option table. */
#define CRASH_REPORT_OPTIONS                                                          \
	{ .name = "crash-dir",                                                        \
	  .type = OPT_STRING,                                                         \
	  .help = "write each crash report as ID.json here (default: "                \
		  "/var/lib/collector/crashes as root, else "                         \
		  "$XDG_STATE_HOME/collector/crashes; see collector crashes)" },      \
	{                                                                             \
		.name = "no-crash-reports", .type = OPT_BOOL,                         \
		.help = "write no crash report files (the crash events still go out)" \
	}

/* Samples kept per child: 30 s at the shortest sensible interval (200 ms). */
#define SAMPLE_RING 150

/* Other processes of one run (its descendants, a container's) that a report names. */
#define CRASH_KILLED_MAX 8

/* One of them that died of a fatal signal or the OOM killer. */
struct killed_process {
	pid_t pid;
	char comm[HEALTH_COMM_LEN];
	int signal;	  /* the signal it died of, 0 when not seen yet */
	bool oom;	  /* chosen by the OOM killer */
	pid_t sender_pid; /* who generated the signal, 0 when unknown */
	char sender_comm[HEALTH_COMM_LEN];
};

/* What the health watch kept of one child for its report. */
struct watched {
	pid_t pid; /* 0 when the instance has no live child */
	struct health_sample ring[SAMPLE_RING];
	int nsamples;	  /* total ever; ring index is nsamples % SAMPLE_RING */
	uint64_t oom_rss; /* RSS when the OOM killer chose it, 0 when it did not */
	struct killed_process killed[CRASH_KILLED_MAX];
	int nkilled; /* the first CRASH_KILLED_MAX are kept */
};

/* Note a happening of one of @p w's other processes: a fatal signal's end or an OOM choice. */
void crash_report_note(struct watched *w, const struct health_happening *h);

/*
 * The runner's own members of the report (an algorithm's instance and calls,
 * a command's argv and stderr); returns whether the end is abnormal (a
 * report) and sets @p kill_reason when the runner killed it for a reason.
 */
typedef bool (*crash_describe_fn)(void *arg, struct event_builder *b, const char **kill_reason);

/* One child's end. */
struct crash_end {
	const char *type; /* the event: "algorithm.crash", "exec.crash" */
	pid_t pid;
	int wait_status;
	const struct watched *w;
	const struct health_end *end;
	const char *health_source;
	crash_describe_fn describe;
	void *arg;
};

/*
 * Build the report in @p b and emit it; nothing when describe() calls the end
 * normal. @p id receives the report's id. @return whether it was emitted.
 */
bool crash_report_emit(struct runner_ctx *ctx, struct event_builder *b, const struct crash_end *c,
		       char id[64]);

/*
 * The directory for the runner's reports into @p dir (empty: none): --crash-dir,
 * else the default state directory. One given on purpose must work (error);
 * the default is a convenience: when it cannot be made, a warning and no files.
 */
int crash_report_dir_choose(struct runner_ctx *ctx, const struct options *opts, char *dir,
			    size_t size, struct error *err);

/* The report just emitted, still in @p b, as @p dir/ID.json (crash_dir_write()). */
void crash_report_write(struct runner_ctx *ctx, struct event_builder *b, const char *dir,
			const char *id);

#endif
