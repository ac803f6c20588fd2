/* The machinery of a runner that runs one command (exec, script): lines, timeout, restart, health, grace. */
#ifndef COLLECTOR_RUNNERS_EXEC_CORE_H
#define COLLECTOR_RUNNERS_EXEC_CORE_H

#include <collector/error.h>
#include <collector/event_builder.h>
#include <collector/line_framer.h>
#include <collector/metrics.h>
#include <collector/options.h>
#include <collector/runner.h>

#include "exec_health.h"

/* The options of the machinery, spliced into the option table of each runner that uses it. */
#define EXEC_CORE_OPTIONS                                                                          \
	{ .name = "timeout",                                                                       \
	  .type = OPT_DURATION,                                                                    \
	  .def = "0",                                                                              \
	  .help = "stop the command after this long (0: never)" },                                 \
		{ .name = "format",                                                                \
		  .type = OPT_ENUM,                                                                \
		  .def = "auto",                                                                   \
		  .choices = "auto|json|text",                                                     \
		  .help = "stdout lines: JSON objects, plain text, or auto (JSON when it "         \
			  "parses)" },                                                             \
		{ .name = "restart",                                                               \
		  .type = OPT_ENUM,                                                                \
		  .def = "no",                                                                     \
		  .choices = "no|on-failure|always",                                               \
		  .help = "restart the command when it ends" },                                    \
		{ .name = "max-restarts",                                                          \
		  .type = OPT_INT,                                                                 \
		  .def = "5",                                                                      \
		  .help = "restarts before giving up" },                                           \
		{ .name = "restart-delay",                                                         \
		  .type = OPT_DURATION,                                                            \
		  .def = "200ms",                                                                  \
		  .help = "first restart delay, doubled each time up to 30s" },                    \
		{ .name = "grace",                                                                 \
		  .type = OPT_DURATION,                                                            \
		  .def = "5s",                                                                     \
		  .help = "time between SIGTERM and SIGKILL when stopping" },                      \
		{ .name = "max-line",                                                              \
		  .type = OPT_SIZE,                                                                \
		  .def = "1MiB",                                                                   \
		  .help = "longest line; the rest of a longer one is discarded and reported" },    \
		{ .name = "cwd", .type = OPT_STRING, .help = "working directory of the command" }, \
		{ .name = "env",                                                                   \
		  .type = OPT_STRING,                                                              \
		  .repeat = true,                                                                  \
		  .help = "NAME=VALUE added to the command's environment (repeatable)" },          \
		EXEC_HEALTH_OPTIONS

/* What a runner adds to the machinery's events; every member may be NULL. */
struct exec_core_hooks {
	/* Members of a KIND.stderr event after "line" (the script's file and line). */
	void (*annotate_stderr)(void *arg, struct event_builder *b, const struct line *l);
	/* Members of KIND.exit before "argv". */
	void (*put_exit)(void *arg, struct event_builder *b);
	void *arg;
};

struct exec_core;

/*
 * A core that runs @p argv (kept, not copied) with the EXEC_CORE_OPTIONS of
 * @p opts; its events are KIND.line, KIND.stderr, KIND.event and KIND.exit
 * (and KIND.start on a runtime node: runner_node_id()).
 * @return the core, or NULL with @p err.
 */
struct exec_core *exec_core_create(struct runner_ctx *ctx, const struct options *opts,
				   const char *kind, char *const *argv,
				   const struct exec_core_hooks *hooks, struct error *err);
int exec_core_start(struct exec_core *r, struct error *err);
/* SIGTERM, SIGKILL after the grace; the runner finishes when the command has ended. */
void exec_core_stop(struct exec_core *r);
void exec_core_resume(struct exec_core *r);
void exec_core_metrics(struct exec_core *r, struct metrics_writer *w);
/* NULL is allowed. */
void exec_core_destroy(struct exec_core *r);

#endif
