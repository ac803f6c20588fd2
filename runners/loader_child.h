/* A runner's BPF loader as a child process: its stdout lines handed over, its stderr kept for the error. */
#ifndef RUNNERS_LOADER_CHILD_H
#define RUNNERS_LOADER_CHILD_H

#include <stdbool.h>

#include <collector/piped_child.h>
#include <collector/runner.h>

/* Last stderr lines of the loader kept to say why it ended. */
#define LOADER_STDERR_KEEP 8
/* Words of a loader's command line, its terminating NULL included. */
#define LOADER_MAX_ARGS 320

struct loader_child {
	struct piped_child pc;
	struct runner_ctx *ctx;
	const char *name; /* "process", "ssl": for messages */
	void (*on_record)(void *arg, const struct line *l);
	void *arg;
	/* Called with @arg when the loader has ended, before the run finishes. May be NULL. */
	void (*on_exit)(void *arg);
	bool stopping;
	bool done; /* stopped because the runner's work is done: it ends as success */
	unsigned long long lost_reported; /* records lost as of the last collector.loss */
	char stderr_tail[LOADER_STDERR_KEEP][200];
	char verdict[256]; /* the loader's one-line "error: " verdict, empty until it says one */
	int stderr_count;
	char *argv[LOADER_MAX_ARGS]; /* owned: the loader's command line */
	int argc;
};

/*
 * Prepare @lc; @on_record gets every stdout line of the loader.
 * @return 0 or a negative code with @err.
 */
int loader_child_init(struct loader_child *lc, struct runner_ctx *ctx, const char *name,
		      size_t max_line, void (*on_record)(void *arg, const struct line *l),
		      void *arg, struct error *err);

/*
 * Build the loader's command line: the `loader` option's program, or this binary's
 * hidden `loader NAME`; then the options the user gave in @opts as flags, which the
 * loader parses with the same option table; then @extra (NULL-terminated, may be NULL).
 * @return 0 or a negative code with @err.
 */
int loader_child_argv(struct loader_child *lc, const struct options *opts, const char *const *extra,
		      struct error *err);

/* Start the loader built by loader_child_argv(). @return 0 or a negative code with @err. */
int loader_child_start(struct loader_child *lc, struct error *err);

/* Stop it (SIGTERM, SIGKILL after 2 s); the runner then ends as canceled. */
void loader_child_stop(struct loader_child *lc);

/* Stop it because the work is done (a traced command ended): the runner then ends as success. */
void loader_child_end(struct loader_child *lc);

/* Read again after backpressure. */
void loader_child_resume(struct loader_child *lc);

/*
 * Emit a collector.loss ("<name> ring buffer") when @lost_total, the records lost since the
 * loader started, grew since the last report.
 */
void loader_child_report_loss(struct loader_child *lc, unsigned long long lost_total);

/* Report the loader as a child of the runner in /metrics and /runners. */
void loader_child_metrics(struct loader_child *lc, struct metrics_writer *w);

/* Kill and reap it if it runs; free everything. */
void loader_child_free(struct loader_child *lc);

#endif
