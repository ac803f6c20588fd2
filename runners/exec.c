/* The exec runner: runs a command, turns its output lines into events, reports its end. */
#include <errno.h>
#include <stddef.h>

#include <collector/runner.h>

#include "exec_core.h"

static const struct option_spec exec_options[] = {
	{ .name = "command",
	  .type = OPT_ARGV,
	  .required = true,
	  .help = "the command and its arguments (no shell)" },
	EXEC_CORE_OPTIONS,
	{ 0 },
};

static void *exec_create(struct runner_ctx *ctx, const struct options *opts, struct error *err)
{
	int argc;
	char *const *argv = options_list(opts, "command", &argc);

	if (!argv || argc == 0) {
		error_set(err, EINVAL,
			  "no command given (collector run exec [OPTIONS] -- CMD ARGS...)");
		return NULL;
	}
	return exec_core_create(ctx, opts, "exec", argv, NULL, err);
}

static int exec_start(void *self, struct error *err)
{
	return exec_core_start(self, err);
}

static void exec_stop(void *self)
{
	exec_core_stop(self);
}

static void exec_resume(void *self)
{
	exec_core_resume(self);
}

static void exec_destroy(void *self)
{
	exec_core_destroy(self);
}

static void exec_metrics(void *self, struct metrics_writer *w)
{
	exec_core_metrics(self, w);
}

const struct runner_ops exec_runner_ops = {
	.name = "exec",
	.summary = "runs a command; its JSON or text lines become events",
	.options = exec_options,
	.create = exec_create,
	.start = exec_start,
	.stop = exec_stop,
	.resume = exec_resume,
	.destroy = exec_destroy,
	.metrics = exec_metrics,
};
