/* Unit tests for sinks that settle their own deliveries: sink_reports_deliveries() and sink_delivery_report(). */
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

#define EVENTS 10

static const struct option_spec no_options[] = { { 0 } };

/* ---- a runner that emits EVENTS events and finishes ---- */

static void *burst_create(struct runner_ctx *ctx, const struct options *opts, struct error *err)
{
	(void)opts;
	(void)err;
	return ctx;
}

static int burst_start(void *self, struct error *err)
{
	struct runner_ctx *ctx = self;

	(void)err;
	for (int i = 0; i < EVENTS; i++) {
		struct event *ev =
			event_new(span_str("test.event"), (struct span){ 0 }, span_str("{}"));

		assert_non_null(ev);
		runner_emit(ctx, ev);
	}
	runner_finished(ctx, RUNNER_SUCCESS);
	return 0;
}

static void burst_destroy(void *self)
{
	(void)self;
}

static const struct runner_ops burst_runner = {
	.name = "burst",
	.summary = "test runner",
	.options = no_options,
	.create = burst_create,
	.start = burst_start,
	.destroy = burst_destroy,
};

/* ---- a sink whose deliveries are settled by a timer, like a broker's acknowledgements ---- */

static struct collector *running;
static bool acknowledge; /* false: the acknowledgements never come */
static uint64_t delivered_before_ack;

struct acker {
	struct sink_ctx *ctx;
	ev_timer ack;
	uint64_t written;
};

static void on_ack(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct acker *a = w->data;
	struct collector_stats stats;

	(void)loop;
	(void)revents;
	collector_get_stats(running, &stats);
	delivered_before_ack = stats.delivered;
	/* More than was written is ignored; then all but one delivered, that one failed. */
	sink_delivery_report(a->ctx, a->written + 1, 0);
	sink_delivery_report(a->ctx, a->written - 1, 1);
}

static void *acker_create(struct sink_ctx *ctx, const struct options *opts, struct error *err)
{
	struct acker *a = calloc(1, sizeof(*a));

	(void)opts;
	(void)err;
	if (!a)
		return NULL;
	a->ctx = ctx;
	ev_timer_init(&a->ack, on_ack, 0.02, 0);
	a->ack.data = a;
	sink_reports_deliveries(ctx);
	return a;
}

static int acker_write(void *self, const struct event *ev)
{
	struct acker *a = self;

	(void)ev;
	a->written++;
	return 0;
}

static int acker_flush(void *self)
{
	struct acker *a = self;

	if (acknowledge && a->written == EVENTS && !ev_is_active(&a->ack))
		ev_timer_start(sink_loop(a->ctx), &a->ack);
	return 0;
}

static void acker_destroy(void *self)
{
	struct acker *a = self;

	ev_timer_stop(sink_loop(a->ctx), &a->ack);
	free(a);
}

static const struct sink_ops acker_sink = {
	.name = "acker",
	.summary = "test sink",
	.options = no_options,
	.create = acker_create,
	.write = acker_write,
	.flush = acker_flush,
	.destroy = acker_destroy,
};

static struct options *finished_options(void)
{
	struct options *o = options_new(no_options);

	assert_non_null(o);
	assert_int_equal(options_finish(o, NULL), 0);
	return o;
}

static int run(struct ev_loop *loop, struct collector_stats *stats)
{
	struct error err = { 0 };
	int rc;

	running = collector_new(loop, &err);
	assert_non_null(running);
	collector_set_shutdown_timeout(running, 200 * 1000000LL);
	assert_int_equal(
		collector_add_sink(running, "acker", "acker", finished_options(), NULL, &err), 0);
	assert_int_equal(collector_add_runner(running, "burst", "burst", finished_options(), &err),
			 0);
	rc = collector_run(running);
	collector_get_stats(running, stats);
	collector_free(running);
	running = NULL;
	return rc;
}

/* Flushed events stay in flight until reported; the end waits for the reports. */
static void test_reports_settle_events(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct collector_stats stats;

	(void)state;
	acknowledge = true;
	delivered_before_ack = 99;
	assert_int_equal(run(loop, &stats), COLLECTOR_EXIT_LOSS);
	assert_int_equal(delivered_before_ack, 0);
	assert_int_equal(stats.emitted, EVENTS);
	assert_int_equal(stats.delivered, EVENTS - 1);
	assert_int_equal(stats.failed, 1);
	assert_int_equal(stats.undelivered, 0);
	ev_loop_destroy(loop);
}

/* Reports that never come: at the shutdown timeout every event in flight is undelivered. */
static void test_missing_reports_are_undelivered(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct collector_stats stats;

	(void)state;
	acknowledge = false;
	assert_int_equal(run(loop, &stats), COLLECTOR_EXIT_LOSS);
	assert_int_equal(stats.delivered, 0);
	assert_int_equal(stats.failed, 0);
	assert_int_equal(stats.undelivered, EVENTS);
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reports_settle_events),
		cmocka_unit_test(test_missing_reports_are_undelivered),
	};

	assert_int_equal(registry_add_runner(&burst_runner, NULL), 0);
	assert_int_equal(registry_add_sink(&acker_sink, NULL), 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
