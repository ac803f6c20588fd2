/* A command's output lines as events (exec, script, container): JSON or text, forged types renamed, stderr's tail kept. */
#ifndef COLLECTOR_RUNNERS_EXEC_LINES_H
#define COLLECTOR_RUNNERS_EXEC_LINES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <collector/error.h>
#include <collector/event_builder.h>
#include <collector/line_framer.h>
#include <collector/options.h>
#include <collector/runner.h>

/* Stderr lines a crash report shows. */
#define EXEC_LINES_TAIL 10

enum line_format { FORMAT_AUTO, FORMAT_JSON, FORMAT_TEXT };

struct run_counters {
	uint64_t stdout_lines;
	uint64_t stderr_lines;
	uint64_t events;
	uint64_t errors;
	uint64_t truncated;
	uint64_t invalid_utf8;
	uint64_t forged;
};

/* Members a runner adds to a KIND.stderr event after "line" (a script's file and line). */
typedef void (*exec_lines_annotate_fn)(void *arg, struct event_builder *b, const struct line *l);

/* One per runner instance; fields are read-only for the owner except annotate. */
struct exec_lines {
	struct runner_ctx *ctx;
	struct event_builder *eb; /* also the owner's, for its other events */
	struct json_decoder *decoder;
	const char *kind;
	char type_line[32], type_stderr[32], type_event[32];
	enum line_format format;
	size_t max_line;
	pid_t pid; /* of the run; events without one get it */
	struct run_counters n;
	char *stderr_tail[EXEC_LINES_TAIL];
	int stderr_count; /* total kept; ring index is stderr_count % EXEC_LINES_TAIL */
	exec_lines_annotate_fn annotate;
	void *annotate_arg;
};

/* With the "format" and "max-line" options of @p opts; 0 or -ENOMEM with @p err. */
int exec_lines_init(struct exec_lines *r, struct runner_ctx *ctx, const struct options *opts,
		    const char *kind, struct error *err);
/* A new run of @p pid: counters and the stderr tail start again. */
void exec_lines_new_run(struct exec_lines *r, pid_t pid);
/* One line of stdout or stderr, as an event. */
void exec_lines_take(struct exec_lines *r, bool is_stderr, const struct line *l);
/* The stderr tail as the array "stderr". */
void exec_lines_put_tail(const struct exec_lines *r, struct event_builder *b);
void exec_lines_release(struct exec_lines *r);

#endif
