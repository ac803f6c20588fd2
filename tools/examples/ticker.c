/* An example runner plugin: emits `ticker.tick` events at a fixed interval. */
#include <stdlib.h>

#include <ev.h>

#include <collector/event_builder.h>
#include <collector/registry.h>

struct ticker {
	struct runner_ctx *ctx;
	struct event_builder *eb;
	ev_timer timer;
	int64_t count; /* ticks still to emit */
	int64_t emitted;
};

static const struct option_spec ticker_options[] = {
	{ .name = "count", .type = OPT_INT, .def = "3", .help = "number of ticks" },
	{ .name = "interval", .type = OPT_DURATION, .def = "100ms", .help = "time between ticks" },
	{ 0 },
};

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ticker *t = w->data;

	(void)revents;
	/* A full block-policy sink: skip this tick's turn, the timer comes back. */
	if (!runner_can_emit(t->ctx))
		return;
	event_builder_begin(t->eb);
	event_builder_int(t->eb, "n", ++t->emitted);
	event_builder_emit(t->eb, t->ctx, "ticker.tick", 0);
	if (t->emitted == t->count) {
		ev_timer_stop(loop, w);
		runner_finished(t->ctx, RUNNER_SUCCESS);
	}
}

static void *ticker_create(struct runner_ctx *ctx, const struct options *opts, struct error *err)
{
	struct ticker *t;
	double every = (double)options_int(opts, "interval") / 1e9;

	if (options_int(opts, "count") <= 0) {
		error_set(err, EINVAL, "--count must be positive");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t)
		t->eb = event_builder_new();
	if (!t || !t->eb) {
		free(t);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	t->ctx = ctx;
	t->count = options_int(opts, "count");
	ev_timer_init(&t->timer, on_tick, every, every);
	t->timer.data = t;
	return t;
}

static int ticker_start(void *self, struct error *err)
{
	struct ticker *t = self;

	(void)err;
	ev_timer_start(runner_loop(t->ctx), &t->timer);
	return 0;
}

static void ticker_stop(void *self)
{
	struct ticker *t = self;

	ev_timer_stop(runner_loop(t->ctx), &t->timer);
	runner_finished(t->ctx, RUNNER_CANCELED);
}

static void ticker_destroy(void *self)
{
	struct ticker *t = self;

	ev_timer_stop(runner_loop(t->ctx), &t->timer);
	event_builder_free(t->eb);
	free(t);
}

static const struct runner_ops ticker_ops = {
	.name = "ticker",
	.summary = "example plugin: emits ticker.tick events at an interval",
	.options = ticker_options,
	.create = ticker_create,
	.start = ticker_start,
	.stop = ticker_stop,
	.destroy = ticker_destroy,
};

const int collector_plugin_abi = COLLECTOR_PLUGIN_ABI;

int collector_plugin_init(struct error *err)
{
	return registry_add_runner(&ticker_ops, err);
}
