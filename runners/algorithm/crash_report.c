/* A child's algorithm.crash: the shared report (../crash_report.h) with the host's account of the instance. */
#include "crash_report.h"

struct algo_end {
	const struct algorithm *algo;
	int instance;
	int wait_status;
};

static bool describe(void *arg, struct event_builder *b, const char **kill_reason)
{
	const struct algo_end *e = arg;

	return algorithm_describe_exit(e->algo, e->instance, e->wait_status, b, kill_reason);
}

bool algo_crash_report_emit(struct runner_ctx *ctx, struct event_builder *b,
			    const struct algorithm *algo, int instance, pid_t pid, int wait_status,
			    const struct watched *w, const struct health_end *end,
			    const char *health_source, char id[64])
{
	struct algo_end e = { algo, instance, wait_status };
	struct crash_end c = { "algorithm.crash", pid,	    wait_status, w, end,
			       health_source,	  describe, &e };

	return crash_report_emit(ctx, b, &c, id);
}

void algo_crash_report_write(struct runner_ctx *ctx, struct event_builder *b, const char *dir,
			     const char *id)
{
	crash_report_write(ctx, b, dir, id);
}
