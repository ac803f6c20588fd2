/* Health events of a runner's children, shared by exec and algorithm: options, health.*, exit members. */
#include <errno.h>

#include <collector/log.h>

#include "health_events.h"

int health_events_config(const struct options *opts, struct health_config *cfg,
			 struct health_limits *limits, struct error *err)
{
	int samples = (int)options_int(opts, "rss-growth-samples");

	*cfg = (struct health_config){
		.interval_s = (double)options_int(opts, "health-interval") / 1e9,
		.mode = health_mode_parse(options_str(opts, "health-source")),
	};
	if (cfg->interval_s <= 0 || options_int(opts, "cpu-pinned-samples") < 0 || samples < 3 ||
	    samples > 64)
		return error_set(err, EINVAL,
				 "--health-interval must be positive, --cpu-pinned-samples >= 0, "
				 "--rss-growth-samples 3..64");
	*limits = (struct health_limits){
		.memory_high = (uint64_t)options_int(opts, "memory-high"),
		.memory_action = (uint64_t)options_int(opts, "memory-restart"),
		.cpu_pinned_samples = (int)options_int(opts, "cpu-pinned-samples"),
		.growth_bytes_per_s = (double)options_int(opts, "rss-growth"),
		.growth_samples = samples,
	};
	return 0;
}

int health_events_init(struct health_events *he, struct runner_ctx *ctx, struct error *err)
{
	*he = (struct health_events){ .ctx = ctx, .b = event_builder_new() };
	return he->b ? 0 : error_set(err, ENOMEM, "out of memory");
}

void health_events_release(struct health_events *he)
{
	event_builder_free(he->b);
	he->b = NULL;
}

void health_events_monitor(struct health_events *he, const struct health_monitor *hm)
{
	const char *source = health_source_name(health_monitor_source(hm));
	const char *why = health_monitor_fallback_reason(hm);

	event_builder_begin(he->b);
	event_builder_str(he->b, "source", source);
	event_builder_str(he->b, "fallback_reason", why[0] ? why : NULL);
	event_builder_emit(he->b, he->ctx, "health.monitor", 0);
	log_info("%s: health monitor source: %s%s%s", runner_name(he->ctx), source,
		 why[0] ? ": " : "", why);
}

void health_events_put_sample(struct event_builder *b, const struct health_sample *s)
{
	event_builder_double(b, "cpu_percent", s->cpu_percent, HEALTH_EVENTS_DECIMALS);
	event_builder_uint(b, "rss_bytes", s->rss_bytes);
	event_builder_uint(b, "threads", s->threads);
	event_builder_uint(b, "processes", s->processes);
	event_builder_str(b, "source", health_source_name(s->source));
}

void health_events_sample(struct health_events *he, const struct health_sample *s)
{
	if (!runner_can_emit(he->ctx)) {
		he->samples_skipped++;
		return;
	}
	event_builder_begin(he->b);
	health_events_put_sample(he->b, s);
	event_builder_emit(he->b, he->ctx, "health.sample", s->pid);
}

static void put_warning(struct event_builder *b, const struct health_warning *w)
{
	event_builder_str(b, "kind", health_warning_name(w->kind));
	event_builder_double(b, "value", w->value, HEALTH_EVENTS_DECIMALS);
	event_builder_double(b, "limit", w->limit, HEALTH_EVENTS_DECIMALS);
	event_builder_open_object(b, "sample");
	health_events_put_sample(b, w->sample);
	event_builder_close_object(b);
}

void health_events_warning(struct health_events *he, const struct health_warning *w)
{
	event_builder_begin(he->b);
	put_warning(he->b, w);
	event_builder_emit(he->b, he->ctx, "health.warning", w->pid);
}

void health_events_action(struct health_events *he, const struct health_warning *why, int instance)
{
	event_builder_begin(he->b);
	event_builder_str(he->b, "action", "restart");
	if (instance >= 0)
		event_builder_int(he->b, "instance", instance);
	put_warning(he->b, why);
	event_builder_emit(he->b, he->ctx, "health.action", why->pid);
}

void health_events_happening(struct health_events *he, const struct health_happening *h)
{
	if (h->kind != HEALTH_OOM_VICTIM)
		return;
	event_builder_begin(he->b);
	event_builder_str(he->b, "comm", h->comm);
	event_builder_uint(he->b, "rss_bytes", h->rss_bytes);
	event_builder_int(he->b, "root", h->root);
	event_builder_emit(he->b, he->ctx, "health.oom", h->pid);
}

void health_events_put_exit(struct event_builder *b, const struct health_end *end, pid_t self)
{
	bool known = end && end->known;

	if (known && end->oom_killed) {
		event_builder_open_object(b, "killed_by");
		event_builder_str(b, "name", "OOM killer");
		event_builder_null(b, "pid");
		event_builder_close_object(b);
	} else if (known && end->killer_pid > 0 && end->killer_pid != self) {
		event_builder_open_object(b, "killed_by");
		event_builder_str(b, "name", end->killer_comm);
		event_builder_int(b, "pid", end->killer_pid);
		event_builder_close_object(b);
	} else {
		event_builder_null(b, "killed_by");
	}
	if (known)
		event_builder_bool(b, "oom_killed", end->oom_killed);
	else
		event_builder_null(b, "oom_killed");
}

void health_events_metrics(const struct health_events *he, struct metrics_writer *w)
{
	metrics_add(w, METRIC_COUNTER, "collector_runner_health_samples_skipped_total",
		    "health.sample events not sent while a sink was full",
		    (double)he->samples_skipped);
}
