/* A runner's BPF loader as a child process: its stdout lines handed over, its stderr kept for the error. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <collector/child.h>
#include <collector/event.h>
#include <collector/event_builder.h>
#include <collector/log.h>

#include "loader_child.h"
#include "loader_util.h"

/* SIGTERM to SIGKILL when a loader is stopped. */
#define LOADER_GRACE_NS (2LL * 1000000000)

static bool can_take(void *arg)
{
	struct loader_child *lc = arg;

	return runner_can_emit(lc->ctx);
}

/*
 * The loader's stderr: libbpf's own lines only at --log-level debug; the loader's
 * verdict ("error: CAUSE: FIX") kept as the one line that says why it ended; other
 * lines logged and the last kept, for a loader that ends without a verdict.
 */
static void keep_stderr(struct loader_child *lc, const struct line *l)
{
	size_t prefix = strlen(LOADER_ERROR_PREFIX);
	int i;

	if (l->len >= 8 && memcmp(l->ptr, "libbpf: ", 8) == 0) {
		log_debug("%s: %.*s", runner_name(lc->ctx), (int)l->len, l->ptr);
		return;
	}
	if (l->len > prefix && memcmp(l->ptr, LOADER_ERROR_PREFIX, prefix) == 0) {
		snprintf(lc->verdict, sizeof(lc->verdict), "%.*s", (int)(l->len - prefix),
			 l->ptr + prefix);
		return;
	}
	i = lc->stderr_count++ % LOADER_STDERR_KEEP;
	snprintf(lc->stderr_tail[i], sizeof(lc->stderr_tail[i]), "%.*s", (int)l->len, l->ptr);
	log_info("%s: %.*s", runner_name(lc->ctx), (int)l->len, l->ptr);
}

static void on_line(void *arg, bool is_stderr, const struct line *l)
{
	struct loader_child *lc = arg;

	if (is_stderr)
		keep_stderr(lc, l);
	else
		lc->on_record(lc->arg, l);
}

static void on_read_error(void *arg, bool is_stderr, int err)
{
	struct loader_child *lc = arg;

	runner_report_error(lc->ctx, "read_failed", 0, 0, NULL, 0, "reading the loader's %s: %s",
			    is_stderr ? "stderr" : "stdout", strerror(-err));
}

/* A loader ends only when stopped; any other end is the runner's error, with the reason. */
static void on_end(void *arg)
{
	struct loader_child *lc = arg;
	int st = lc->pc.wait_status;
	char why[128], tail[LOADER_STDERR_KEEP * 202] = "", sig[16];
	int first = lc->stderr_count > LOADER_STDERR_KEEP ? lc->stderr_count - LOADER_STDERR_KEEP :
							    0;

	if (lc->on_exit)
		lc->on_exit(lc->arg);
	if (lc->stopping) {
		runner_finished(lc->ctx, lc->done ? RUNNER_SUCCESS : RUNNER_CANCELED);
		return;
	}
	if (lc->verdict[0]) {
		runner_report_error(lc->ctx, "loader_exited", 0, 0, NULL, 0, "%s", lc->verdict);
		log_error("%s: %s", runner_name(lc->ctx), lc->verdict);
		runner_finished(lc->ctx, RUNNER_ERROR);
		return;
	}
	if (WIFSIGNALED(st))
		snprintf(why, sizeof(why), "was killed by %s", signal_name(WTERMSIG(st), sig));
	else
		snprintf(why, sizeof(why), "exited with status %d", WEXITSTATUS(st));
	for (int i = first; i < lc->stderr_count; i++) {
		strncat(tail, i > first ? "; " : ": ", sizeof(tail) - strlen(tail) - 1);
		strncat(tail, lc->stderr_tail[i % LOADER_STDERR_KEEP],
			sizeof(tail) - strlen(tail) - 1);
	}
	runner_report_error(lc->ctx, "loader_exited", 0, 0, NULL, 0, "the %s loader %s%s", lc->name,
			    why, tail);
	log_error("%s: the %s loader %s%s", runner_name(lc->ctx), lc->name, why, tail);
	runner_finished(lc->ctx, RUNNER_ERROR);
}

static const struct piped_child_ops loader_ops = {
	.can_take = can_take,
	.on_line = on_line,
	.on_read_error = on_read_error,
	.on_end = on_end,
};

int loader_child_init(struct loader_child *lc, struct runner_ctx *ctx, const char *name,
		      size_t max_line, void (*on_record)(void *arg, const struct line *l),
		      void *arg, struct error *err)
{
	memset(lc, 0, sizeof(*lc));
	lc->ctx = ctx;
	lc->name = name;
	lc->on_record = on_record;
	lc->arg = arg;
	return piped_child_init(&lc->pc, runner_loop(ctx), max_line, &loader_ops, lc, err);
}

/* The loader program: the `loader` option, or this binary's hidden `loader NAME`. */
static int add_program(struct loader_child *lc, const struct options *opts, struct error *err)
{
	const char *program = options_str(opts, "loader");
	char self[PATH_MAX];
	ssize_t len;

	if (!program) {
		len = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (len <= 0)
			return error_set(err, errno, "cannot find this binary: %s",
					 strerror(errno));
		self[len] = '\0';
		program = self;
	}
	if (!(lc->argv[lc->argc++] = strdup(program)))
		return error_set(err, ENOMEM, "out of memory");
	if (options_str(opts, "loader"))
		return 0;
	if (!(lc->argv[lc->argc++] = strdup("loader")) ||
	    !(lc->argv[lc->argc++] = strdup(lc->name)))
		return error_set(err, ENOMEM, "out of memory");
	return 0;
}

int loader_child_argv(struct loader_child *lc, const struct options *opts, const char *const *extra,
		      struct error *err)
{
	int n;

	if (add_program(lc, opts, err) < 0)
		return -1;
	/* The loader parses these with the runner's own option table. */
	n = options_to_argv(opts, lc->argv + lc->argc, LOADER_MAX_ARGS - 1 - lc->argc, err);
	if (n < 0)
		return -1;
	lc->argc += n;
	for (; extra && *extra; extra++) {
		if (lc->argc == LOADER_MAX_ARGS - 1)
			return error_set(err, E2BIG, "the %s loader: more than %d arguments",
					 lc->name, LOADER_MAX_ARGS - 1);
		if (!(lc->argv[lc->argc++] = strdup(*extra)))
			return error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

int loader_child_start(struct loader_child *lc, struct error *err)
{
	struct child_spec spec = { .argv = lc->argv };

	return piped_child_start(&lc->pc, &spec, 0, LOADER_GRACE_NS, err);
}

void loader_child_stop(struct loader_child *lc)
{
	lc->stopping = true;
	piped_child_terminate(&lc->pc);
}

void loader_child_end(struct loader_child *lc)
{
	lc->done = true;
	loader_child_stop(lc);
}

void loader_child_resume(struct loader_child *lc)
{
	piped_child_resume(&lc->pc);
}

void loader_child_report_loss(struct loader_child *lc, unsigned long long lost_total)
{
	struct event_builder *b;
	char source[64];

	if (lost_total <= lc->lost_reported)
		return;
	b = event_builder_new();
	if (b) {
		snprintf(source, sizeof(source), "%s ring buffer", lc->name);
		event_builder_begin(b);
		event_builder_str(b, "source", source);
		event_builder_uint(b, "dropped", lost_total - lc->lost_reported);
		event_builder_uint(b, "dropped_total", lost_total);
		event_builder_emit(b, lc->ctx, "collector.loss", 0);
		event_builder_free(b);
	} else {
		runner_emit_failed(lc->ctx, "collector.loss");
	}
	lc->lost_reported = lost_total;
}

void loader_child_metrics(struct loader_child *lc, struct metrics_writer *w)
{
	if (lc->pc.alive)
		metrics_add_child(w, lc->pc.child.pid, "loader");
}

void loader_child_free(struct loader_child *lc)
{
	piped_child_free(&lc->pc);
	while (lc->argc > 0)
		free(lc->argv[--lc->argc]);
}
