/* Unit tests for events a runner could not build: runner_emit_failed() skips a seq and counts a loss. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ev.h>

#include <collector/collector.h>
#include <collector/event.h>
#include <collector/options.h>
#include <collector/registry.h>
#include <collector/runner.h>
#include <collector/sink.h>

static const struct option_spec no_options[] = { { 0 } };

/* ---- a runner that emits seq 0, fails to build the next event, emits one more ---- */

struct lossy {
	struct runner_ctx *ctx;
};

static void *lossy_create(struct runner_ctx *ctx, const struct options *opts, struct error *err)
{
	struct lossy *l = calloc(1, sizeof(*l));

	(void)opts;
	(void)err;
	if (l)
		l->ctx = ctx;
	return l;
}

static void emit_one(struct lossy *l)
{
	struct event *ev = event_new(span_str("test.event"), (struct span){ 0 }, span_str("{}"));

	assert_non_null(ev);
	runner_emit(l->ctx, ev);
}

static int lossy_start(void *self, struct error *err)
{
	struct lossy *l = self;

	(void)err;
	emit_one(l);
	runner_emit_failed(l->ctx, "test.event");
	emit_one(l);
	runner_finished(l->ctx, RUNNER_SUCCESS);
	return 0;
}

static void lossy_destroy(void *self)
{
	free(self);
}

static const struct runner_ops lossy_runner = {
	.name = "lossy",
	.summary = "test runner",
	.options = no_options,
	.create = lossy_create,
	.start = lossy_start,
	.destroy = lossy_destroy,
};

/* ---- a sink that keeps the seq numbers it is given ---- */

static uint64_t seen[8];
static int nseen;

static void *seqs_create(struct sink_ctx *ctx, const struct options *opts, struct error *err)
{
	(void)ctx;
	(void)opts;
	(void)err;
	nseen = 0;
	return &nseen;
}

static int seqs_write(void *self, const struct event *ev)
{
	(void)self;
	if (nseen < 8)
		seen[nseen++] = ev->seq;
	return 0;
}

static int seqs_flush(void *self)
{
	(void)self;
	return 0;
}

static void seqs_destroy(void *self)
{
	(void)self;
}

static const struct sink_ops seqs_sink = {
	.name = "seqs",
	.summary = "test sink",
	.options = no_options,
	.create = seqs_create,
	.write = seqs_write,
	.flush = seqs_flush,
	.destroy = seqs_destroy,
};

static struct options *finished_options(void)
{
	struct options *o = options_new(no_options);

	assert_non_null(o);
	assert_int_equal(options_finish(o, NULL), 0);
	return o;
}

static void test_lost_event_skips_seq_and_counts(void **state)
{
	struct error err = { 0 };
	struct collector_stats stats;
	struct ev_loop *loop = ev_loop_new(0);
	struct collector *c = collector_new(loop, &err);

	(void)state;
	assert_non_null(c);
	assert_int_equal(collector_add_sink(c, "seqs", "seqs", finished_options(), NULL, &err), 0);
	assert_int_equal(collector_add_runner(c, "lossy", "lossy", finished_options(), &err), 0);
	assert_int_equal(collector_run(c), COLLECTOR_EXIT_LOSS);
	collector_get_stats(c, &stats);
	assert_int_equal(stats.lost, 1);
	assert_int_equal(stats.emitted, 2);
	assert_int_equal(stats.delivered, 2);
	assert_int_equal(nseen, 2);
	assert_int_equal(seen[0], 0);
	assert_int_equal(seen[1], 2); /* seq 1 was the lost event: the gap shows it */
	collector_free(c);
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost_event_skips_seq_and_counts),
	};

	assert_int_equal(registry_add_runner(&lossy_runner, NULL), 0);
	assert_int_equal(registry_add_sink(&seqs_sink, NULL), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
