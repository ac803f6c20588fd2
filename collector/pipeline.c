/* The collector's core: runners emit into per-sink bounded queues drained on one libev loop. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include <collector/clock.h>
#include <collector/buffer.h>
#include <collector/collector.h>
#include <collector/log.h>
#include <collector/registry.h>

#include "http_endpoint.h"
#include "node.h"
#include "pipeline_state.h"
#include "signal_hold.h"
#include "spool.h"

const double flush_bucket_bounds[FLUSH_BUCKETS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
};

static const char *const status_names[] = {
	"pending", "running", "success", "failed", "timeout", "canceled", "error",
};

const char *runner_status_name(enum runner_status s)
{
	return status_names[s];
}

static void keep_spinning(struct collector *c)
{
	if (!ev_is_active(&c->spin))
		ev_idle_start(c->loop, &c->spin);
}

/* ---- runner side ---- */

struct ev_loop *runner_loop(struct runner_ctx *ctx)
{
	return ctx->c->loop;
}

const char *runner_name(const struct runner_ctx *ctx)
{
	return ctx->name;
}

const char *runner_node_id(const struct runner_ctx *ctx)
{
	return ctx->c->node ? node_id(ctx->c->node) : NULL;
}

bool runner_can_emit(struct runner_ctx *ctx)
{
	for (sink_mask m = ctx->blocking; m; m &= m - 1) {
		struct sink_ctx *s = ctx->c->sinks[__builtin_ctzll(m)];

		if (s->spool ? spool_full(s->spool) : event_queue_full(&s->queue)) {
			ctx->paused = true;
			return false;
		}
	}
	/* spool-fsync=batch: what was taken is on disk before more is taken. */
	for (sink_mask m = ctx->spooled; m; m &= m - 1) {
		struct spool *sp = ctx->c->sinks[__builtin_ctzll(m)]->spool;

		if (sp && spool_syncing(sp)) {
			ctx->paused = true;
			return false;
		}
	}
	return true;
}

/*
 * Into the spool first; the event goes on to the queue too when nothing older
 * waits on disk and the queue has room, else it is read back from disk later.
 */
static void spool_offer(struct sink_ctx *s, struct event *ev)
{
	int rc = spool_append(s->spool, ev, !event_queue_full(&s->queue));

	if (rc == 1) {
		event_queue_push(&s->queue, ev, true);
		return;
	}
	if (rc == 0)
		return;
	s->failed++;
	s->c->stats.failed++;
	s->last_loss_ns = clock_mono_ns();
	log_error("sink %s: spool: %s: lost a %.*s event", s->name,
		  rc == -E2BIG ? "larger than a spool record (64 MiB)" : "out of memory",
		  (int)ev->type.len, ev->type.ptr);
}

static void offer(struct sink_ctx *s, struct event *ev)
{
	if (s->spool) {
		spool_offer(s, ev);
		return;
	}
	switch (event_queue_push(&s->queue, ev, false)) {
	case QUEUE_REFUSED:
		/* The runner ignored runner_can_emit(): overfill by this one. */
		event_queue_push(&s->queue, ev, true);
		break;
	case QUEUE_PUSHED:
	case QUEUE_PUSHED_DROPPED:
	case QUEUE_DROPPED:
		break;
	}
}

/* Whether --where lets @p ev through; the collector's own reports always pass. */
static bool passes_filter(struct collector *c, const struct event *ev)
{
	bool pass;

	if (!c->filter || (ev->type.len > 10 && memcmp(ev->type.ptr, "collector.", 10) == 0))
		return true;
	/* An event the view cannot take (out of memory) passes: a filter never loses one. */
	if (event_view_from_event(&c->filter_view, c->filter_enc, ev, NULL) < 0)
		return true;
	pass = filter_expr_match(c->filter, &c->filter_view);
	event_view_clear(&c->filter_view);
	return pass;
}

void runner_emit(struct runner_ctx *ctx, struct event *ev)
{
	struct collector *c = ctx->c;
	sink_mask m;

	event_set_runner(ev, span_str(ctx->name));
	if (ev->ts_ns == 0)
		ev->ts_ns = clock_wall_ns();
	if (!(ev->flags & EVENT_HAS_ID))
		event_id_new(ev);
	ctx->emitted++;
	c->stats.emitted++;
	if (c->types)
		type_counts_add(c->types, ev->type);
	if (!passes_filter(c, ev)) {
		ctx->filtered++;
		c->stats.filtered++;
		event_unref(ev);
		return;
	}
	/* After the filter: the sequence stays gap-free in the sinks. */
	ev->seq = ctx->seq++;
	m = router_match(c->router, ctx->name, ev->type, c->all_sinks);
	for (; m; m &= m - 1)
		offer(c->sinks[__builtin_ctzll(m)], ev);
	event_unref(ev);
	keep_spinning(c);
}

void runner_emit_failed(struct runner_ctx *ctx, const char *type)
{
	ctx->seq++;
	ctx->lost++;
	ctx->c->stats.lost++;
	log_error("runner %s: out of memory: lost a %s event (seq %llu)", ctx->name, type,
		  (unsigned long long)(ctx->seq - 1));
}

/* Counted per reason for /metrics; reasons beyond the table share its last slot. */
static void count_error_reason(struct runner_ctx *ctx, const char *reason)
{
	int i = 0;

	while (i < ERROR_REASONS - 1 && ctx->error_reasons[i].reason &&
	       strcmp(ctx->error_reasons[i].reason, reason) != 0)
		i++;
	if (!ctx->error_reasons[i].reason)
		ctx->error_reasons[i].reason = i == ERROR_REASONS - 1 ? "other" : reason;
	ctx->error_reasons[i].count++;
}

void runner_set_health(struct runner_ctx *ctx, enum runner_health health, const char *fmt, ...)
{
	char reason[sizeof(ctx->health_reason)] = "";
	va_list ap;

	if (health != RUNNER_HEALTHY) {
		va_start(ap, fmt);
		vsnprintf(reason, sizeof(reason), fmt, ap);
		va_end(ap);
	}
	if (health != ctx->health || strcmp(reason, ctx->health_reason) != 0)
		log_info("runner %s: %s%s%s", ctx->name, runner_health_name(health),
			 reason[0] ? ": " : "", reason);
	memcpy(ctx->health_reason, reason, sizeof(reason));
	ctx->health = health;
}

/* The context's builder, made on first use, with a new data object begun; NULL when out of memory. */
static struct event_builder *ctx_builder(struct runner_ctx *ctx)
{
	if (!ctx->eb)
		ctx->eb = event_builder_new();
	if (ctx->eb)
		event_builder_begin(ctx->eb);
	return ctx->eb;
}

void runner_report_error(struct runner_ctx *ctx, const char *reason, uint64_t line, uint64_t offset,
			 const char *sample, size_t sample_len, const char *fmt, ...)
{
	struct event_builder *b = ctx_builder(ctx);
	char msg[512];
	va_list ap;

	count_error_reason(ctx, reason);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx->errors++;
	log_debug("%s: %s", ctx->name, msg);
	if (!b) {
		runner_emit_failed(ctx, "collector.error");
		return;
	}
	event_builder_str(b, "reason", reason);
	event_builder_str(b, "message", msg);
	if (line)
		event_builder_uint(b, "line", line);
	if (line || offset)
		event_builder_uint(b, "offset", offset);
	if (sample) {
		size_t n = sample_len > 128 ? 128 : sample_len;

		/* Framed lines are valid UTF-8: cut the sample on a character. */
		while (n > 0 && n < sample_len && ((unsigned char)sample[n] & 0xC0) == 0x80)
			n--;
		event_builder_strn(b, "sample", sample, n);
	}
	event_builder_emit(b, ctx, "collector.error", 0);
}

static void begin_end(struct collector *c);

void runner_finished(struct runner_ctx *ctx, enum runner_status status)
{
	struct collector *c = ctx->c;

	if (ctx->finished)
		return;
	ctx->finished = true;
	ctx->status = status;
	ctx->finished_ns = clock_mono_ns();
	c->running--;
	log_debug("runner %s finished: %s", ctx->name, runner_status_name(status));
	if (c->running == 0)
		begin_end(c);
	keep_spinning(c);
}

/* ---- sink side ---- */

struct ev_loop *sink_loop(struct sink_ctx *ctx)
{
	return ctx->c->loop;
}

const char *sink_name(const struct sink_ctx *ctx)
{
	return ctx->name;
}

bool sink_stop_now(const struct sink_ctx *ctx)
{
	struct collector *c = ctx->c;

	if (c->ended && !c->forced)
		c->forced = signal_take(SIGTERM) | signal_take(SIGINT);
	return c->forced;
}

bool sink_blocks(const struct sink_ctx *ctx)
{
	return ctx->queue.policy == QUEUE_BLOCK;
}

void sink_ready(struct sink_ctx *ctx)
{
	ctx->waiting = false;
	keep_spinning(ctx->c);
}

/* Written events settle: @p delivered reached their destination, @p failed are lost for good. */
static void count_settled(struct sink_ctx *s, uint64_t delivered, uint64_t failed)
{
	s->in_flight -= delivered + failed;
	s->delivered += delivered;
	s->c->stats.delivered += delivered;
	s->failed += failed;
	s->c->stats.failed += failed;
	if (failed)
		s->last_loss_ns = clock_mono_ns();
}

/* The oldest events in flight settle (counts from a flush, or a sink's in-order reports). */
static void settle(struct sink_ctx *s, uint64_t delivered, uint64_t failed)
{
	count_settled(s, delivered, failed);
	if (s->spool)
		spool_settle_count(s->spool, delivered + failed);
}

/* The one event written with @p ticket settles. */
static void settle_ticket(struct sink_ctx *s, uint64_t ticket, bool delivered)
{
	count_settled(s, delivered, !delivered);
	if (s->spool)
		spool_settle_ticket(s->spool, ticket);
}

uint64_t sink_write_ticket(const struct sink_ctx *ctx)
{
	return ctx->ticket;
}

void sink_delivery_settle(struct sink_ctx *ctx, uint64_t ticket, bool delivered)
{
	if (ctx->in_flight == 0)
		return;
	settle_ticket(ctx, ticket, delivered);
	if (ctx->in_flight == 0 && ctx->c->ending && !ctx->c->ended)
		keep_spinning(ctx->c);
}

void sink_reports_deliveries(struct sink_ctx *ctx)
{
	ctx->reports_deliveries = true;
}

void sink_delivery_report(struct sink_ctx *ctx, uint64_t delivered, uint64_t failed)
{
	/* More than was written is a sink's bug: counters stay true to what the core saw. */
	if (delivered + failed > ctx->in_flight)
		return;
	settle(ctx, delivered, failed);
	/* The end waits for in-flight events: look again once the last one settles. */
	if (ctx->in_flight == 0 && ctx->c->ending && !ctx->c->ended)
		keep_spinning(ctx->c);
}

void sink_report_lost(struct sink_ctx *ctx, uint64_t events)
{
	ctx->failed += events;
	ctx->c->stats.failed += events;
	if (events)
		ctx->last_loss_ns = clock_mono_ns();
	keep_spinning(ctx->c);
}

void sink_report_error(struct sink_ctx *ctx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("sink %s: %s", ctx->name, msg);
}

static void start_waiting(struct sink_ctx *s)
{
	if (!s->waiting)
		s->waiting_since_ns = clock_mono_ns();
	s->waiting = true;
}

/* One successful batch into the latency histogram: a clock read per batch, not per event. */
static void observe_flush(struct sink_ctx *s)
{
	double secs = (double)(clock_mono_ns() - s->batch_start_ns) / 1e9;
	int i = 0;

	while (i < FLUSH_BUCKETS && secs > flush_bucket_bounds[i])
		i++;
	s->flush_buckets[i]++;
	s->flush_seconds += secs;
	s->flushes++;
}

static void flush_sink(struct sink_ctx *s)
{
	int rc = s->ops->flush(s->self);

	if (rc == -EAGAIN) {
		start_waiting(s);
		return;
	}
	s->dirty = false;
	if (s->reports_deliveries)
		return;
	if (rc < 0) {
		settle(s, 0, s->in_flight);
	} else {
		settle(s, s->in_flight, 0);
		observe_flush(s);
	}
}

/* Events waiting on disk come back into the queue while it has room, in order. */
static void refill(struct sink_ctx *s)
{
	struct event *ev;

	while (!event_queue_full(&s->queue) && (ev = spool_next(s->spool))) {
		event_queue_push(&s->queue, ev, true);
		event_unref(ev);
	}
}

static void drain_sink(struct sink_ctx *s)
{
	struct event *ev;

	if (s->spool && !s->waiting)
		refill(s);
	while (!s->waiting && (ev = event_queue_peek(&s->queue))) {
		int rc;

		if (!s->dirty)
			s->batch_start_ns = clock_mono_ns();
		rc = s->ops->write(s->self, ev);
		if (rc == -EAGAIN) {
			start_waiting(s);
			break;
		}
		s->in_flight++;
		s->ticket++;
		if (rc < 0 && s->reports_deliveries) {
			settle_ticket(s, s->ticket - 1, false);
		} else if (rc < 0) {
			/* A failed write loses the sink's buffered batch too. */
			settle(s, 0, s->in_flight);
			s->dirty = false;
		} else {
			s->dirty = true;
		}
		event_queue_pop(&s->queue);
	}
	if (s->dirty && !s->waiting)
		flush_sink(s);
}

static bool sink_idle(const struct sink_ctx *s)
{
	return event_queue_len(&s->queue) == 0 && !s->dirty && s->in_flight == 0 && !s->waiting &&
	       !(s->spool && spool_backlog(s->spool));
}

/*
 * Spooled records reach the disk once per loop iteration (one read batch per
 * runner), the ack moves on, delivered segments go; corrupt and torn records
 * found count as failed.
 */
static void flush_spools(struct collector *c)
{
	for (int i = 0; i < c->nsinks; i++) {
		struct sink_ctx *s = c->sinks[i];
		struct error err = { 0 };
		const struct spool_stats *st;

		if (!s->spool)
			continue;
		if (spool_flush(s->spool, &err) < 0)
			log_error("sink %s: %s; held in memory, written when there is room",
				  s->name, err.msg);
		st = spool_stats(s->spool);
		if (st->corrupt + st->torn != s->spool_lost_seen) {
			sink_report_lost(s, st->corrupt + st->torn - s->spool_lost_seen);
			s->spool_lost_seen = st->corrupt + st->torn;
		}
	}
}

static void resume_runners(struct collector *c)
{
	for (int i = 0; i < c->nrunners; i++) {
		struct runner_ctx *r = c->runners[i];

		if (r->paused && !r->finished && runner_can_emit(r)) {
			r->paused = false;
			if (r->ops->resume)
				r->ops->resume(r->self);
		}
	}
}

static void on_drain(struct ev_loop *loop, ev_check *w, int revents)
{
	struct collector *c = w->data;
	bool busy = false;

	(void)revents;
	for (int i = 0; i < c->nsinks; i++)
		drain_sink(c->sinks[i]);
	flush_spools(c);
	resume_runners(c);
	for (int i = 0; i < c->nsinks; i++) {
		struct sink_ctx *s = c->sinks[i];

		if (!s->waiting && (event_queue_len(&s->queue) || s->dirty ||
				    (s->spool && spool_backlog(s->spool))))
			busy = true;
	}
	if (!busy)
		ev_idle_stop(loop, &c->spin);
	if (c->ending) {
		for (int i = 0; i < c->nsinks; i++)
			if (!sink_idle(c->sinks[i]))
				return;
		ev_break(loop, EVBREAK_ONE);
	}
}

/* Waking the loop is all it takes: on_drain runs each iteration and sees the sync's end. */
static void on_spool_synced(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

/* On a spool's sync thread. */
static void spool_synced(void *arg)
{
	struct collector *c = arg;

	ev_async_send(c->loop, &c->spool_synced);
}

static void on_spin(struct ev_loop *loop, ev_idle *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static uint64_t sink_drops(const struct sink_ctx *s)
{
	return s->queue.stats.dropped_newest + s->queue.stats.dropped_oldest +
	       (s->spool ? spool_stats(s->spool)->dropped : s->spool_dropped);
}

/* A collector.loss event from the collector's own context into @p s's queue; false when out of memory. */
static bool push_loss(struct collector *c, struct sink_ctx *s, struct event_builder *b)
{
	struct event *ev = event_builder_event(b, "collector.loss", (struct span){ 0 });

	if (!ev)
		return false;
	event_set_runner(ev, span_str(c->self_ctx.name));
	ev->seq = c->self_ctx.seq++;
	ev->ts_ns = clock_wall_ns();
	event_id_new(ev);
	if (s->spool)
		spool_offer(s, ev);
	else
		event_queue_push(&s->queue, ev, true);
	event_unref(ev);
	s->last_loss_ns = clock_mono_ns();
	keep_spinning(c);
	return true;
}

/* Tell the sink's readers how many events its policy dropped since last time. */
static void report_drops(struct collector *c, struct sink_ctx *s)
{
	uint64_t total = sink_drops(s);
	struct event_builder *b;

	if (total == s->drops_reported || !(b = ctx_builder(&c->self_ctx)))
		return;
	event_builder_str(b, "sink", s->name);
	event_builder_str(b, "policy",
			  s->spool ? (s->spool_blocks ? "spool block" : "spool drop_oldest") :
				     queue_policy_name(s->queue.policy));
	event_builder_uint(b, "dropped", total - s->drops_reported);
	event_builder_uint(b, "dropped_total", total);
	if (!push_loss(c, s, b))
		return;
	log_warn("sink %s: dropped %llu events (policy %s)", s->name,
		 (unsigned long long)(total - s->drops_reported),
		 s->spool ? "spool-full=drop_oldest" : queue_policy_name(s->queue.policy));
	s->drops_reported = total;
}

/*
 * Tell the sink's readers how many events failed in it, once it works again
 * (delivered something since): a report into a sink that fails everything
 * would only fail too. The sink itself logged each failure's cause.
 */
static void report_failures(struct collector *c, struct sink_ctx *s)
{
	struct event_builder *b;

	if (s->failed == s->failures_reported) {
		s->delivered_seen = s->delivered;
		return;
	}
	if (s->delivered == s->delivered_seen || !(b = ctx_builder(&c->self_ctx)))
		return;
	event_builder_str(b, "sink", s->name);
	event_builder_str(b, "reason", "failed");
	event_builder_uint(b, "failed", s->failed - s->failures_reported);
	event_builder_uint(b, "failed_total", s->failed);
	if (!push_loss(c, s, b))
		return;
	s->failures_reported = s->failed;
	s->delivered_seen = s->delivered;
}

static void report_losses(struct collector *c)
{
	for (int i = 0; i < c->nsinks; i++) {
		report_drops(c, c->sinks[i]);
		report_failures(c, c->sinks[i]);
	}
}

static void on_loss_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct collector *c = w->data;

	(void)loop;
	(void)revents;
	/* A full disk frees no event: try the held spool records again, then the runners. */
	flush_spools(c);
	resume_runners(c);
	report_losses(c);
}

/* ---- lifecycle ---- */

static void on_shutdown_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct collector *c = w->data;

	(void)revents;
	log_warn("shutdown timed out after %.1fs; giving up on what is left",
		 (double)c->shutdown_timeout_ns / 1e9);
	c->timed_out = true;
	ev_break(loop, EVBREAK_ONE);
}

static void arm_shutdown_timer(struct collector *c)
{
	if (ev_is_active(&c->shutdown_timer))
		return;
	ev_timer_set(&c->shutdown_timer, (double)c->shutdown_timeout_ns / 1e9, 0.);
	ev_timer_start(c->loop, &c->shutdown_timer);
}

static void begin_end(struct collector *c)
{
	if (c->node)
		node_stopping(c->node);
	c->ending = true;
	report_losses(c);
	arm_shutdown_timer(c);
}

void collector_stop(struct collector *c)
{
	if (c->stopping)
		return;
	c->stopping = true;
	if (c->node)
		node_stopping(c->node);
	arm_shutdown_timer(c);
	for (int i = 0; i < c->nrunners; i++) {
		struct runner_ctx *r = c->runners[i];

		if (r->started && !r->finished && r->ops->stop)
			r->ops->stop(r->self);
	}
}

static void on_stop_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct collector *c = w->data;

	(void)revents;
	if (++c->signals > 1) {
		log_warn("second signal: stopping now");
		c->timed_out = true;
		ev_break(loop, EVBREAK_ONE);
		return;
	}
	log_info("received %s: stopping (again to force)",
		 w->signum == SIGINT ? "SIGINT" : "SIGTERM");
	collector_stop(c);
}

static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct collector *c = w->data;

	(void)loop;
	(void)revents;
	log_info("SIGHUP: reopening sink files");
	for (int i = 0; i < c->nsinks; i++)
		if (c->sinks[i]->ops->reopen)
			c->sinks[i]->ops->reopen(c->sinks[i]->self);
	if (c->reload)
		c->reload(c->reload_arg);
}

static void on_usr1(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	collector_log_status(w->data);
}

static void on_duration(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	collector_stop(w->data);
}

struct collector *collector_new(struct ev_loop *loop, struct error *err)
{
	struct collector *c = calloc(1, sizeof(*c));

	if (!c || !(c->router = router_new())) {
		free(c);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	c->loop = loop;
	c->shutdown_timeout_ns = 10LL * 1000000000;
	c->self_ctx.c = c;
	c->self_ctx.name = "collector";
	ev_check_init(&c->drain, on_drain);
	c->drain.data = c;
	ev_idle_init(&c->spin, on_spin);
	ev_async_init(&c->spool_synced, on_spool_synced);
	ev_signal_init(&c->sig_int, on_stop_signal, SIGINT);
	ev_signal_init(&c->sig_term, on_stop_signal, SIGTERM);
	ev_signal_init(&c->sig_hup, on_hup, SIGHUP);
	ev_signal_init(&c->sig_usr1, on_usr1, SIGUSR1);
	c->sig_int.data = c->sig_term.data = c->sig_hup.data = c->sig_usr1.data = c;
	c->start_ns = clock_wall_ns();
	c->start_mono_ns = clock_mono_ns();
	ev_init(&c->shutdown_timer, on_shutdown_timeout);
	c->shutdown_timer.data = c;
	ev_timer_init(&c->loss_timer, on_loss_timer, 1., 1.);
	ev_init(&c->duration_timer, on_duration);
	c->duration_timer.data = c;
	c->loss_timer.data = c;
	return c;
}

static struct sink_ctx *find_sink(struct collector *c, const char *name)
{
	for (int i = 0; i < c->nsinks; i++)
		if (strcmp(c->sinks[i]->name, name) == 0)
			return c->sinks[i];
	return NULL;
}

static struct runner_ctx *find_runner(struct collector *c, const char *name)
{
	for (int i = 0; i < c->nrunners; i++)
		if (strcmp(c->runners[i]->name, name) == 0)
			return c->runners[i];
	return NULL;
}

static void free_sink(struct sink_ctx *s)
{
	if (s->self)
		s->ops->destroy(s->self);
	spool_close(s->spool);
	options_free(s->opts);
	event_queue_free(&s->queue);
	free(s->name);
	free(s);
}

/* spool=DIR: the spool takes the place of the queue's full policy (its queue only holds what is read). */
static int open_spool(struct sink_ctx *s, const struct options *opts, struct error *err)
{
	const char *fsync = options_str(opts, "spool-fsync");
	struct spool_config cfg = {
		.dir = options_str(opts, "spool"),
		.max_bytes = (uint64_t)options_int(opts, "spool-size"),
		.drop_oldest = strcmp(options_str(opts, "spool-full"), "drop_oldest") == 0,
		.fsync = strcmp(fsync, "none") == 0  ? SPOOL_FSYNC_NONE :
			 strcmp(fsync, "batch") == 0 ? SPOOL_FSYNC_BATCH :
						       SPOOL_FSYNC_INTERVAL,
		.fsync_interval_ns = 1000000000LL,
		.on_synced = spool_synced,
		.on_synced_arg = s->c,
	};

	if (!*cfg.dir)
		return error_set(err, EINVAL, "sink %s: spool= needs a directory", s->name);
	s->spool = spool_open(&cfg, err);
	if (!s->spool)
		return error_prefix(err, "sink %s: ", s->name);
	s->spool_blocks = !cfg.drop_oldest;
	return 0;
}

int collector_add_sink(struct collector *c, const char *name, const char *type,
		       struct options *opts, const struct queue_limits *limits, struct error *err)
{
	const struct sink_ops *ops = registry_sink(type);
	enum queue_policy policy = QUEUE_BLOCK;
	struct sink_ctx *s = NULL;
	int rc;

	if (!ops) {
		rc = error_set(err, ENOENT, "sink %s: unknown sink type '%s'", name, type);
		goto out;
	}
	if (strlen(name) > EVENT_RUNNER_MAX) {
		rc = error_set(err, EINVAL, "sink %.16s...: the name is longer than %d bytes", name,
			       EVENT_RUNNER_MAX);
		goto out;
	}
	if (find_sink(c, name)) {
		rc = error_set(err, EEXIST, "sink %s: the name is already used", name);
		goto out;
	}
	if (c->nsinks == ROUTER_MAX_SINKS) {
		rc = error_set(err, ENOSPC, "sink %s: at most %d sinks", name, ROUTER_MAX_SINKS);
		goto out;
	}
	if (limits && limits->policy && queue_policy_parse(limits->policy, &policy) < 0) {
		rc = error_set(err, EINVAL,
			       "sink %s: policy '%s' is not block, drop_oldest or drop_newest",
			       name, limits->policy);
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(name))) {
		rc = error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	s->c = c;
	s->index = c->nsinks;
	s->ops = ops;
	if (options_str(opts, "spool") && (rc = open_spool(s, opts, err)) < 0)
		goto out;
	rc = event_queue_init(
		&s->queue, limits && limits->max_events ? limits->max_events : QUEUE_DEFAULT_EVENTS,
		limits && limits->max_bytes ? limits->max_bytes : QUEUE_DEFAULT_BYTES,
		s->spool ? QUEUE_BLOCK : policy, err);
	if (rc < 0)
		goto out;
	s->opts = opts;
	opts = NULL;
	s->self = ops->create(s, s->opts, err);
	if (!s->self) {
		rc = error_prefix(err, "sink %s: ", name);
		goto out;
	}
	c->sinks[c->nsinks++] = s;
	c->all_sinks |= (sink_mask)1 << s->index;
	s = NULL;
	rc = 0;
out:
	options_free(opts);
	if (s)
		free_sink(s);
	return rc;
}

static void free_runner(struct runner_ctx *r)
{
	if (r->self)
		r->ops->destroy(r->self);
	options_free(r->opts);
	event_builder_free(r->eb);
	free(r->name);
	free(r);
}

int collector_add_runner(struct collector *c, const char *name, const char *type,
			 struct options *opts, struct error *err)
{
	const struct runner_ops *ops = registry_runner(type);
	struct runner_ctx *r, **list;

	if (!ops) {
		options_free(opts);
		return error_set(err, ENOENT, "runner %s: unknown runner type '%s'", name, type);
	}
	if (strlen(name) > EVENT_RUNNER_MAX) {
		options_free(opts);
		return error_set(err, EINVAL, "runner %.16s...: the name is longer than %d bytes",
				 name, EVENT_RUNNER_MAX);
	}
	if (find_runner(c, name) || strcmp(name, "collector") == 0) {
		options_free(opts);
		return error_set(err, EEXIST, "runner %s: the name is already used", name);
	}
	r = calloc(1, sizeof(*r));
	list = realloc(c->runners, sizeof(struct runner_ctx *) * ((size_t)c->nrunners + 1));
	if (list)
		c->runners = list;
	if (!r || !list || !(r->name = strdup(name))) {
		free(r);
		options_free(opts);
		return error_set(err, ENOMEM, "out of memory");
	}
	r->c = c;
	r->ops = ops;
	r->opts = opts;
	r->self = ops->create(r, opts, err);
	if (!r->self) {
		int rc = error_prefix(err, "runner %s: ", name);

		free_runner(r);
		return rc;
	}
	c->runners[c->nrunners++] = r;
	return 0;
}

int collector_add_route(struct collector *c, const char *runner, const char *type_glob,
			char *const *sinks, int nsinks, struct error *err)
{
	sink_mask m = 0;

	if (runner && !find_runner(c, runner))
		return error_set(err, ENOENT, "route: no runner named '%s'", runner);
	for (int i = 0; i < nsinks; i++) {
		struct sink_ctx *s = find_sink(c, sinks[i]);

		if (!s)
			return error_set(err, ENOENT, "route: no sink named '%s'", sinks[i]);
		m |= (sink_mask)1 << s->index;
	}
	return router_add(c->router, runner, type_glob, m, err);
}

void collector_set_duration(struct collector *c, int64_t ns)
{
	c->duration_ns = ns;
}

void collector_set_shutdown_timeout(struct collector *c, int64_t ns)
{
	c->shutdown_timeout_ns = ns;
}

void collector_on_reload(struct collector *c, void (*fn)(void *arg), void *arg)
{
	c->reload = fn;
	c->reload_arg = arg;
}

int collector_serve_http(struct collector *c, const char *addr, struct error *err)
{
	if (c->http)
		return error_set(err, EEXIST, "already serving on %s",
				 http_endpoint_address(c->http));
	c->http = http_endpoint_start(c, c->loop, addr, c->http_public, err);
	return c->http ? 0 : -err->code;
}

void collector_set_http_public(struct collector *c, bool allow_public)
{
	c->http_public = allow_public;
}

const char *collector_http_address(const struct collector *c)
{
	return c->http ? http_endpoint_address(c->http) : NULL;
}

/* The loop takes the signals over from signal_hold(), and those that came before it. */
static void start_signals(struct collector *c)
{
	ev_signal *all[] = { &c->sig_int, &c->sig_term, &c->sig_hup, &c->sig_usr1 };
	sigset_t old;

	signal_block(&old);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ev_signal_start(c->loop, all[i]);
	signal_unblock(&old);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (signal_take(all[i]->signum))
			ev_feed_signal_event(c->loop, all[i]->signum);
}

/*
 * ev_signal_stop() gives the default action back (the end of the process):
 * signal_hold() takes over with no gap, and what comes after the loop (the
 * sinks' last flushes, the gzip wait) is no longer interrupted.
 */
static void stop_signals(struct collector *c)
{
	ev_signal *all[] = { &c->sig_int, &c->sig_term, &c->sig_hup, &c->sig_usr1 };
	sigset_t old;

	signal_block(&old);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ev_signal_stop(c->loop, all[i]);
	signal_hold();
	signal_unblock(&old);
}

static void start_watchers(struct collector *c)
{
	ev_check_start(c->loop, &c->drain);
	ev_async_start(c->loop, &c->spool_synced);
	start_signals(c);
	log_attach_loop(c->loop);
	ev_timer_start(c->loop, &c->loss_timer);
	if (c->duration_ns > 0) {
		/* Start-up (BPF loads, spawns) may have left the loop's clock behind. */
		ev_now_update(c->loop);
		ev_timer_set(&c->duration_timer, (double)c->duration_ns / 1e9, 0.);
		ev_timer_start(c->loop, &c->duration_timer);
	}
}

static void stop_watchers(struct collector *c)
{
	ev_check_stop(c->loop, &c->drain);
	ev_idle_stop(c->loop, &c->spin);
	ev_async_stop(c->loop, &c->spool_synced);
	stop_signals(c);
	log_detach_loop();
	ev_timer_stop(c->loop, &c->loss_timer);
	http_endpoint_free(c->http);
	c->http = NULL;
	ev_timer_stop(c->loop, &c->shutdown_timer);
	ev_timer_stop(c->loop, &c->duration_timer);
}

static void start_runners(struct collector *c)
{
	for (int i = 0; i < c->nrunners; i++) {
		struct runner_ctx *r = c->runners[i];
		sink_mask reach = router_reachable(c->router, r->name, c->all_sinks);
		struct error err = { 0 };

		for (int j = 0; j < c->nsinks; j++) {
			const struct sink_ctx *s = c->sinks[j];

			if (!(reach >> j & 1))
				continue;
			if (s->spool ? s->spool_blocks : s->queue.policy == QUEUE_BLOCK)
				r->blocking |= (sink_mask)1 << j;
			if (s->spool)
				r->spooled |= (sink_mask)1 << j;
		}
		r->status = RUNNER_RUNNING;
		r->started = true;
		r->started_ns = clock_mono_ns();
		c->running++;
		if (r->ops->start(r->self, &err) < 0) {
			log_error("runner %s: %s", r->name, err.msg);
			runner_report_error(r, "start_failed", 0, 0, NULL, 0, "%s", err.msg);
			runner_finished(r, RUNNER_ERROR);
		}
	}
}

/* Last chance for what is still queued: one more drain and a blocking-free flush. */
static void final_flush(struct collector *c)
{
	for (int i = 0; i < c->nsinks; i++) {
		struct sink_ctx *s = c->sinks[i];

		s->waiting = false;
		drain_sink(s);
		if (s->dirty && !s->waiting)
			flush_sink(s);
	}
}

/*
 * What a spooled sink did not deliver is on disk for the next run, not lost:
 * only records that could not be written count, and those drop_oldest dropped.
 */
static void keep_spooled(struct sink_ctx *s)
{
	struct error err = { 0 };
	uint64_t left = event_queue_len(&s->queue) + s->in_flight;

	spool_flush(s->spool, &err);
	s->c->stats.undelivered += spool_held_records(s->spool);
	s->spool_dropped = spool_stats(s->spool)->dropped;
	if (left || spool_backlog(s->spool))
		log_warn("sink %s: %llu events in memory and %llu bytes on disk kept in the spool "
			 "%s "
			 "for the next run",
			 s->name, (unsigned long long)left,
			 (unsigned long long)spool_disk_bytes(s->spool), spool_dir(s->spool));
	spool_close(s->spool);
	s->spool = NULL;
}

/*
 * Destroy the sinks (their own last waits: a broker's delivery reports, a
 * gzip) and only then count what is still not delivered: an event a sink
 * delivers in its last flush is not a loss.
 */
static void end_sinks(struct collector *c)
{
	for (int i = 0; i < c->nsinks; i++) {
		struct sink_ctx *s = c->sinks[i];

		if (s->self) {
			s->ops->destroy(s->self);
			s->self = NULL;
		}
		if (s->spool) {
			keep_spooled(s);
			continue;
		}
		c->stats.undelivered += event_queue_len(&s->queue) + s->in_flight;
	}
}

int collector_run(struct collector *c)
{
	bool failed = false;

	start_watchers(c);
	if (c->node)
		node_start(c->node);
	start_runners(c);
	if (c->nrunners == 0)
		begin_end(c);
	ev_run(c->loop, 0);
	if (!c->ending)
		report_losses(c);
	if (c->timed_out)
		for (int i = 0; i < c->nrunners; i++)
			if (c->runners[i]->started && !c->runners[i]->finished)
				c->runners[i]->status = RUNNER_CANCELED;
	/* Destroying runners kills what still runs; their last events are queued. */
	for (int i = 0; i < c->nrunners; i++) {
		struct runner_ctx *r = c->runners[i];

		if (r->self) {
			r->ops->destroy(r->self);
			r->self = NULL;
		}
		if (r->status == RUNNER_FAILED || r->status == RUNNER_TIMEOUT ||
		    r->status == RUNNER_ERROR)
			failed = true;
	}
	final_flush(c);
	c->ended = true;
	stop_watchers(c);
	end_sinks(c);
	c->end_mono_ns = clock_mono_ns();
	for (int i = 0; i < c->nsinks; i++)
		c->stats.dropped += sink_drops(c->sinks[i]);
	if (c->stats.undelivered)
		log_warn("%llu events were not delivered",
			 (unsigned long long)c->stats.undelivered);
	if (c->stats.failed)
		log_warn("%llu events failed in sinks", (unsigned long long)c->stats.failed);
	if (c->stats.lost)
		log_warn("%llu events were lost: out of memory", (unsigned long long)c->stats.lost);
	if (c->stats.dropped || c->stats.failed || c->stats.undelivered || c->stats.lost)
		return COLLECTOR_EXIT_LOSS;
	return failed ? COLLECTOR_EXIT_FAILED : COLLECTOR_EXIT_OK;
}

int collector_set_filter(struct collector *c, struct filter_expr *f)
{
	filter_expr_free(c->filter);
	c->filter = f;
	if (!c->filter_enc && !(c->filter_enc = event_encoder_new())) {
		filter_expr_free(c->filter);
		c->filter = NULL;
		return -ENOMEM;
	}
	return 0;
}

int collector_count_types(struct collector *c)
{
	if (!c->types && !(c->types = type_counts_new()))
		return -ENOMEM;
	return 0;
}

void collector_get_stats(const struct collector *c, struct collector_stats *out)
{
	*out = c->stats;
}

void collector_free(struct collector *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nrunners; i++)
		free_runner(c->runners[i]);
	free(c->runners);
	for (int i = 0; i < c->nsinks; i++)
		free_sink(c->sinks[i]);
	event_builder_free(c->self_ctx.eb);
	node_free(c->node);
	router_free(c->router);
	filter_expr_free(c->filter);
	event_encoder_free(c->filter_enc);
	event_view_free(&c->filter_view);
	type_counts_free(c->types);
	http_endpoint_free(c->http);
	free(c);
}
