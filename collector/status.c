/* What the collector says about itself: metrics, health with reasons, runner status. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include <collector/clock.h>
#include <collector/log.h>

#include "metrics_writer.h"
#include "pipeline_state.h"
#include "spool.h"

/* A sink that has been unable to take events for this long makes the collector degraded. */
#define SINK_STALL_NS (5LL * 1000000000)
/* A loss keeps the collector degraded this long. */
#define LOSS_MEMORY_NS (60LL * 1000000000)

static void runner_samples(struct runner_ctx *r, struct metrics_writer *w)
{
	metrics_writer_scope(w, "runner", r->name);
	metrics_add(w, METRIC_COUNTER, "collector_runner_events_total", "events the runner emitted",
		    (double)r->emitted);
	metrics_add(w, METRIC_COUNTER, "collector_runner_events_filtered_total",
		    "events --where kept from the sinks (by choice: not a loss)",
		    (double)r->filtered);
	metrics_add(w, METRIC_COUNTER, "collector_runner_events_lost_total",
		    "events the runner could not build (out of memory)", (double)r->lost);
	metrics_add(w, METRIC_GAUGE, "collector_runner_up", "1 while the runner runs",
		    r->started && !r->finished);
	metrics_add(w, METRIC_GAUGE, "collector_runner_paused",
		    "1 while a full sink queue holds the runner back (backpressure)", r->paused);
	metrics_add(w, METRIC_GAUGE, "collector_runner_health",
		    "0 healthy, 1 degraded, 2 failing (see /healthz)", r->health);
	for (int i = 0; i < ERROR_REASONS && r->error_reasons[i].reason; i++)
		metrics_add_labeled(w, METRIC_COUNTER, "collector_runner_errors_total",
				    "errors the runner reported, by reason", "reason",
				    r->error_reasons[i].reason, (double)r->error_reasons[i].count);
	if (r->self && r->ops->metrics)
		r->ops->metrics(r->self, w);
}

/* A spooled sink's disk: what it holds, what came back, what was cut or dropped. */
static void spool_samples(const struct spool *sp, struct metrics_writer *w)
{
	const struct spool_stats *st = spool_stats(sp);

	metrics_add(w, METRIC_GAUGE, "collector_sink_spool_bytes",
		    "bytes the spool's segment files take", (double)spool_disk_bytes(sp));
	metrics_add(w, METRIC_GAUGE, "collector_sink_spool_unsettled_events",
		    "spooled events handed to the sink, not delivered yet",
		    (double)spool_unsettled(sp));
	metrics_add(w, METRIC_COUNTER, "collector_sink_spool_appended_total",
		    "events written to the spool", (double)st->appended);
	metrics_add(w, METRIC_COUNTER, "collector_sink_spool_replayed_total",
		    "events read back from the spool's disk (backlog or a restart)",
		    (double)st->replayed);
	metrics_add_labeled(w, METRIC_COUNTER, "collector_sink_spool_lost_total",
			    "spooled events lost, by reason", "reason", "corrupt",
			    (double)st->corrupt);
	metrics_add_labeled(w, METRIC_COUNTER, "collector_sink_spool_lost_total",
			    "spooled events lost, by reason", "reason", "torn_tail",
			    (double)st->torn);
	metrics_add_labeled(w, METRIC_COUNTER, "collector_sink_spool_lost_total",
			    "spooled events lost, by reason", "reason", "drop_oldest",
			    (double)st->dropped);
	metrics_add(w, METRIC_COUNTER, "collector_sink_spool_write_errors_total",
		    "failed writes to the spool (a full disk), retried", (double)st->write_errors);
}

static void sink_samples(struct sink_ctx *s, struct metrics_writer *w)
{
	const struct event_queue *q = &s->queue;

	metrics_writer_scope(w, "sink", s->name);
	metrics_add(w, METRIC_GAUGE, "collector_sink_queue_events", "events waiting in the queue",
		    (double)event_queue_len(q));
	metrics_add(w, METRIC_GAUGE, "collector_sink_queue_bytes", "bytes waiting in the queue",
		    (double)q->bytes);
	metrics_add(w, METRIC_GAUGE, "collector_sink_queue_capacity_events",
		    "most events the queue holds", (double)q->max_events);
	metrics_add(w, METRIC_GAUGE, "collector_sink_queue_capacity_bytes",
		    "most bytes the queue holds", (double)q->max_bytes);
	metrics_add(w, METRIC_GAUGE, "collector_sink_in_flight_events",
		    "events written to the sink, neither delivered nor failed yet",
		    (double)s->in_flight);
	metrics_add(w, METRIC_COUNTER, "collector_sink_events_delivered_total",
		    "events the sink delivered (flushed, or acknowledged)", (double)s->delivered);
	metrics_add(w, METRIC_COUNTER, "collector_sink_events_failed_total",
		    "events the sink rejected for good", (double)s->failed);
	metrics_add_labeled(w, METRIC_COUNTER, "collector_sink_events_dropped_total",
			    "events the queue policy dropped, by reason", "reason", "drop_oldest",
			    (double)q->stats.dropped_oldest);
	metrics_add_labeled(w, METRIC_COUNTER, "collector_sink_events_dropped_total",
			    "events the queue policy dropped, by reason", "reason", "drop_newest",
			    (double)q->stats.dropped_newest);
	metrics_add(w, METRIC_COUNTER, "collector_sink_backpressure_total",
		    "times a full queue held a runner back (block policy)",
		    (double)q->stats.refused);
	metrics_add(w, METRIC_GAUGE, "collector_sink_waiting",
		    "1 while the sink cannot take more (its output is slow)", s->waiting);
	metrics_add_histogram(w, "collector_sink_flush_seconds",
			      "time from a batch's first write to its successful flush",
			      flush_bucket_bounds, s->flush_buckets, FLUSH_BUCKETS,
			      s->flush_seconds);
	if (s->spool)
		spool_samples(s->spool, w);
	if (s->self && s->ops->metrics)
		s->ops->metrics(s->self, w);
}

static void collector_samples(struct collector *c, struct metrics_writer *w)
{
	double cpu = 0;
	uint64_t rss = 0;

	metrics_writer_scope(w, NULL, NULL);
	metrics_add_labeled(w, METRIC_GAUGE, "collector_build_info", "the collector's version",
			    "version", COLLECTOR_VERSION, 1);
	metrics_add(w, METRIC_GAUGE, "collector_start_time_seconds",
		    "when the collector started, seconds since the Unix epoch",
		    (double)c->start_ns / 1e9);
	if (proc_usage(getpid(), &cpu, &rss) == 0) {
		metrics_add(w, METRIC_COUNTER, "collector_cpu_seconds_total",
			    "the collector's own CPU time (user and system)", cpu);
		metrics_add(w, METRIC_GAUGE, "collector_resident_memory_bytes",
			    "the collector's own resident memory", (double)rss);
	}
	metrics_add(w, METRIC_GAUGE, "collector_health", "0 ok, 1 degraded, 2 failing",
		    collector_health(c, NULL));
	metrics_add(w, METRIC_COUNTER, "collector_log_lines_dropped_total",
		    "diagnostic lines dropped because stderr did not take them",
		    (double)log_dropped_total());
}

static void gather(struct collector *c, struct metrics_writer *w)
{
	collector_samples(c, w);
	for (int i = 0; i < c->nrunners; i++)
		runner_samples(c->runners[i], w);
	for (int i = 0; i < c->nsinks; i++)
		sink_samples(c->sinks[i], w);
}

int collector_render_metrics(struct collector *c, struct buffer *out)
{
	struct metrics_writer w;
	int rc;

	metrics_writer_init(&w);
	gather(c, &w);
	rc = metrics_render(&w, out);
	metrics_writer_free(&w);
	return rc;
}

static void add_reason(struct buffer *reasons, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_reason(struct buffer *reasons, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n;

	if (!reasons)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(msg))
		n = (int)sizeof(msg) - 1;
	buffer_append(reasons, msg, (size_t)n + 1);
}

static bool runner_failed(const struct runner_ctx *r)
{
	return r->status == RUNNER_FAILED || r->status == RUNNER_TIMEOUT ||
	       r->status == RUNNER_ERROR;
}

enum runner_health collector_health(struct collector *c, struct buffer *reasons)
{
	enum runner_health h = RUNNER_HEALTHY;
	int64_t now = clock_mono_ns();

	for (int i = 0; i < c->nrunners; i++) {
		const struct runner_ctx *r = c->runners[i];

		if (r->finished && runner_failed(r)) {
			h = RUNNER_FAILING;
			add_reason(reasons, "runner %s ended: %s", r->name,
				   runner_status_name(r->status));
		} else if (r->health != RUNNER_HEALTHY && !r->finished) {
			if (r->health > h)
				h = r->health;
			add_reason(reasons, "runner %s %s: %s", r->name,
				   r->health == RUNNER_FAILING ? "failing" : "degraded",
				   r->health_reason);
		}
	}
	for (int i = 0; i < c->nsinks; i++) {
		const struct sink_ctx *s = c->sinks[i];

		if (s->waiting && now - s->waiting_since_ns > SINK_STALL_NS) {
			h = h > RUNNER_DEGRADED ? h : RUNNER_DEGRADED;
			add_reason(reasons, "sink %s cannot take events for %.0f s", s->name,
				   (double)(now - s->waiting_since_ns) / 1e9);
		}
		if (s->last_loss_ns && now - s->last_loss_ns < LOSS_MEMORY_NS) {
			h = h > RUNNER_DEGRADED ? h : RUNNER_DEGRADED;
			add_reason(reasons,
				   "sink %s lost events in the last minute (%llu dropped, "
				   "%llu failed in all)",
				   s->name,
				   (unsigned long long)s->queue.stats.dropped_oldest +
					   s->queue.stats.dropped_newest,
				   (unsigned long long)s->failed);
		}
	}
	return h;
}

const char *runner_health_name(enum runner_health h)
{
	return h == RUNNER_HEALTHY ? "ok" : h == RUNNER_DEGRADED ? "degraded" : "failing";
}

static void gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_kstr(yajl_gen g, const char *k, const char *v)
{
	gen_str(g, k);
	gen_str(g, v);
}

/* Millisecond precision: yajl_gen_double would print 17 digits. */
static void gen_knum(yajl_gen g, const char *k, double v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%.3f", v);

	gen_str(g, k);
	yajl_gen_number(g, num, (size_t)n);
}

static void gen_kint(yajl_gen g, const char *k, long long v)
{
	gen_str(g, k);
	yajl_gen_integer(g, v);
}

int collector_render_health(struct collector *c, struct buffer *out, int *health)
{
	struct buffer reasons = { 0 };
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *text;
	size_t len;
	int rc;

	if (!g)
		return -ENOMEM;
	*health = (int)collector_health(c, &reasons);
	yajl_gen_map_open(g);
	gen_kstr(g, "status", runner_health_name((enum runner_health) * health));
	gen_str(g, "reasons");
	yajl_gen_array_open(g);
	for (size_t off = 0; off < reasons.len; off += strlen(reasons.data + off) + 1)
		gen_str(g, reasons.data + off);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &text, &len);
	rc = buffer_append(out, text, len);
	yajl_gen_free(g);
	buffer_free(&reasons);
	return rc;
}

static void gen_children(yajl_gen g, const struct metrics_writer *w)
{
	gen_str(g, "children");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < w->nchildren; i++) {
		const struct metrics_child *ch = &w->children[i];

		yajl_gen_map_open(g);
		gen_kint(g, "pid", ch->pid);
		gen_kstr(g, "state", ch->state);
		if (ch->measured) {
			gen_knum(g, "cpu_seconds", ch->cpu_seconds);
			gen_kint(g, "rss_bytes", (long long)ch->rss_bytes);
		}
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static void gen_runner(yajl_gen g, struct runner_ctx *r, bool detailed)
{
	struct metrics_writer w;

	yajl_gen_map_open(g);
	gen_kstr(g, "name", r->name);
	gen_kstr(g, "type", r->ops->name);
	gen_kstr(g, "status", runner_status_name(r->status));
	gen_kstr(g, "health", runner_health_name(r->health));
	gen_kstr(g, "reason", r->health == RUNNER_HEALTHY ? "" : r->health_reason);
	gen_kint(g, "events", (long long)r->emitted);
	gen_kint(g, "errors", (long long)r->errors);
	gen_str(g, "paused");
	yajl_gen_bool(g, r->paused);
	if (r->started_ns)
		gen_knum(
			g, "uptime_seconds",
			(double)((r->finished ? r->finished_ns : clock_mono_ns()) - r->started_ns) /
				1e9);
	if (detailed) {
		metrics_writer_init(&w);
		metrics_writer_scope(&w, "runner", r->name);
		if (r->self && r->ops->metrics)
			r->ops->metrics(r->self, &w);
		gen_children(g, &w);
		metrics_writer_free(&w);
	}
	yajl_gen_map_close(g);
}

static void gen_sink(yajl_gen g, const struct sink_ctx *s)
{
	yajl_gen_map_open(g);
	gen_kstr(g, "name", s->name);
	gen_kstr(g, "type", s->ops->name);
	gen_kstr(g, "policy", queue_policy_name(s->queue.policy));
	gen_kint(g, "queued", (long long)event_queue_len(&s->queue));
	gen_kint(g, "queued_bytes", (long long)s->queue.bytes);
	gen_kint(g, "delivered", (long long)s->delivered);
	gen_kint(g, "failed", (long long)s->failed);
	gen_kint(g, "dropped",
		 (long long)s->queue.stats.dropped_oldest +
			 (long long)s->queue.stats.dropped_newest);
	gen_str(g, "waiting");
	yajl_gen_bool(g, s->waiting);
	yajl_gen_map_close(g);
}

int collector_render_status(struct collector *c, struct buffer *out)
{
	return collector_render_status_view(c, out, true);
}

int collector_render_status_view(struct collector *c, struct buffer *out, bool detailed)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *text;
	size_t len;
	int rc;

	if (!g)
		return -ENOMEM;
	yajl_gen_map_open(g);
	gen_str(g, "collector");
	yajl_gen_map_open(g);
	gen_kstr(g, "version", COLLECTOR_VERSION);
	if (detailed)
		gen_kint(g, "pid", getpid());
	gen_knum(g, "uptime_seconds", (double)(clock_mono_ns() - c->start_mono_ns) / 1e9);
	gen_kstr(g, "health", runner_health_name(collector_health(c, NULL)));
	gen_kint(g, "emitted", (long long)c->stats.emitted);
	gen_kint(g, "delivered", (long long)c->stats.delivered);
	yajl_gen_map_close(g);
	gen_str(g, "runners");
	yajl_gen_array_open(g);
	for (int i = 0; i < c->nrunners; i++)
		gen_runner(g, c->runners[i], detailed);
	yajl_gen_array_close(g);
	gen_str(g, "sinks");
	yajl_gen_array_open(g);
	for (int i = 0; i < c->nsinks; i++)
		gen_sink(g, c->sinks[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &text, &len);
	rc = buffer_append(out, text, len);
	yajl_gen_free(g);
	return rc;
}

void collector_log_status(struct collector *c)
{
	struct buffer reasons = { 0 };
	enum runner_health h = collector_health(c, &reasons);

	log_info("status: %s; %llu events emitted, %llu delivered", runner_health_name(h),
		 (unsigned long long)c->stats.emitted, (unsigned long long)c->stats.delivered);
	for (size_t off = 0; off < reasons.len; off += strlen(reasons.data + off) + 1)
		log_info("status: %s", reasons.data + off);
	for (int i = 0; i < c->nrunners; i++) {
		const struct runner_ctx *r = c->runners[i];

		log_info("status: runner %s (%s): %s, %s, %llu events, %llu errors%s", r->name,
			 r->ops->name, runner_status_name(r->status), runner_health_name(r->health),
			 (unsigned long long)r->emitted, (unsigned long long)r->errors,
			 r->paused ? ", held back by a full sink" : "");
	}
	for (int i = 0; i < c->nsinks; i++) {
		const struct sink_ctx *s = c->sinks[i];

		log_info("status: sink %s (%s): %zu queued, %llu delivered, %llu failed, %llu "
			 "dropped%s",
			 s->name, s->ops->name, event_queue_len(&s->queue),
			 (unsigned long long)s->delivered, (unsigned long long)s->failed,
			 (unsigned long long)s->queue.stats.dropped_oldest +
				 s->queue.stats.dropped_newest,
			 s->waiting ? ", waiting on its output" : "");
	}
	buffer_free(&reasons);
}
