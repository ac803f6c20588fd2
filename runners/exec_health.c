/* The exec runner's use of the health monitor: options, health.* events, how the child died. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <ev.h>
#include <yajl/yajl_gen.h>

#include <collector/buffer.h>
#include <collector/health_monitor.h>
#include <collector/log.h>

#include "exec_health.h"

struct exec_health {
	struct runner_ctx *ctx;
	struct health_monitor *hm;
	struct health_limits limits;
	exec_health_act_fn act;
	void *act_arg;
	pid_t pid; /* watched, 0 when none */
	struct health_end end;
	bool have_end;
	yajl_gen gen;
	struct buffer buf;
};

static void print_to_buffer(void *ctx, const char *s, size_t len)
{
	buffer_append(ctx, s, len);
}

static yajl_gen begin(struct exec_health *eh)
{
	yajl_gen_reset(eh->gen, NULL);
	eh->buf.len = 0;
	yajl_gen_map_open(eh->gen);
	return eh->gen;
}

static void key(yajl_gen g, const char *k)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
}

static void kstr(yajl_gen g, const char *k, const char *v)
{
	key(g, k);
	yajl_gen_string(g, (const unsigned char *)v, strlen(v));
}

static void kint(yajl_gen g, const char *k, long long v)
{
	key(g, k);
	yajl_gen_integer(g, v);
}

/* Two decimals are all a percentage or a rate needs; yajl would print twenty. */
static void kdouble(yajl_gen g, const char *k, double v)
{
	char num[64];
	int n = snprintf(num, sizeof(num), "%.2f", v);

	while (n > 0 && num[n - 1] == '0')
		n--;
	if (n > 0 && num[n - 1] == '.')
		n--;
	key(g, k);
	yajl_gen_number(g, num, (size_t)n);
}

static void emit(struct exec_health *eh, const char *type, pid_t pid)
{
	struct event *ev;

	yajl_gen_map_close(eh->gen);
	ev = event_new(span_str(type), (struct span){ 0 },
		       (struct span){ eh->buf.data, eh->buf.len });
	if (!ev) {
		runner_emit_failed(eh->ctx, type);
		return;
	}
	if (pid > 0)
		event_set_pid(ev, pid);
	runner_emit(eh->ctx, ev);
}

static void gen_sample(yajl_gen g, const struct health_sample *s)
{
	kdouble(g, "cpu_percent", s->cpu_percent);
	kint(g, "rss_bytes", (long long)s->rss_bytes);
	kint(g, "threads", s->threads);
	kint(g, "processes", s->processes);
	kstr(g, "source", health_source_name(s->source));
}

static void on_sample(void *arg, const struct health_sample *s)
{
	struct exec_health *eh = arg;

	gen_sample(begin(eh), s);
	emit(eh, "health.sample", s->pid);
}

static void gen_warning(yajl_gen g, const struct health_warning *w)
{
	kstr(g, "kind", health_warning_name(w->kind));
	kdouble(g, "value", w->value);
	kdouble(g, "limit", w->limit);
	key(g, "sample");
	yajl_gen_map_open(g);
	gen_sample(g, w->sample);
	yajl_gen_map_close(g);
}

static void on_warning(void *arg, const struct health_warning *w)
{
	struct exec_health *eh = arg;

	gen_warning(begin(eh), w);
	emit(eh, "health.warning", w->pid);
}

static void on_action(void *arg, const struct health_warning *why)
{
	struct exec_health *eh = arg;
	yajl_gen g = begin(eh);

	kstr(g, "action", "restart");
	gen_warning(g, why);
	emit(eh, "health.action", why->pid);
	eh->act(eh->act_arg);
}

static void on_happening(void *arg, const struct health_happening *h)
{
	struct exec_health *eh = arg;
	yajl_gen g;

	if (h->kind != HEALTH_OOM_VICTIM)
		return;
	g = begin(eh);
	kstr(g, "comm", h->comm);
	kint(g, "rss_bytes", (long long)h->rss_bytes);
	kint(g, "root", h->root);
	emit(eh, "health.oom", h->pid);
}

static void exec_health_destroy(struct exec_health *eh)
{
	health_monitor_free(eh->hm);
	if (eh->gen)
		yajl_gen_free(eh->gen);
	buffer_free(&eh->buf);
	free(eh);
}

int exec_health_create(struct runner_ctx *ctx, const struct options *opts, exec_health_act_fn act,
		       void *act_arg, struct exec_health **out, struct error *err)
{
	static const struct health_callbacks cb = {
		.on_sample = on_sample,
		.on_warning = on_warning,
		.on_action = on_action,
		.on_happening = on_happening,
	};
	struct health_config cfg = {
		.interval_s = (double)options_int(opts, "health-interval") / 1e9,
		.mode = health_mode_parse(options_str(opts, "health-source")),
	};
	struct exec_health *eh;
	int samples = (int)options_int(opts, "rss-growth-samples");
	int rc;

	static const char *const needs_health[] = {
		"health-interval", "health-source",	 "memory-high", "memory-restart",
		"cpu-quota",	   "cpu-pinned-samples", "rss-growth",	"rss-growth-samples",
	};

	*out = NULL;
	if (!options_bool(opts, "health")) {
		for (size_t i = 0; i < sizeof(needs_health) / sizeof(needs_health[0]); i++)
			if (options_given(opts, needs_health[i]))
				return error_set(err, EINVAL, "--%s needs --health",
						 needs_health[i]);
		return 0;
	}
	if (cfg.interval_s <= 0 || options_int(opts, "cpu-quota") < 0 ||
	    options_int(opts, "cpu-pinned-samples") < 0 || samples < 3 || samples > 64)
		return error_set(err, EINVAL,
				 "--health-interval must be positive, --cpu-quota and "
				 "--cpu-pinned-samples >= 0, --rss-growth-samples 3..64");
	eh = calloc(1, sizeof(*eh));
	if (!eh)
		return error_set(err, ENOMEM, "out of memory");
	eh->ctx = ctx;
	eh->act = act;
	eh->act_arg = act_arg;
	eh->limits = (struct health_limits){
		.memory_high = (uint64_t)options_int(opts, "memory-high"),
		.memory_action = (uint64_t)options_int(opts, "memory-restart"),
		.cpu_quota_percent = (double)options_int(opts, "cpu-quota"),
		.cpu_pinned_samples = (int)options_int(opts, "cpu-pinned-samples"),
		.growth_bytes_per_s = (double)options_int(opts, "rss-growth"),
		.growth_samples = samples,
	};
	eh->gen = yajl_gen_alloc(NULL);
	if (!eh->gen) {
		exec_health_destroy(eh);
		return error_set(err, ENOMEM, "out of memory");
	}
	yajl_gen_config(eh->gen, yajl_gen_print_callback, print_to_buffer, &eh->buf);
	rc = health_monitor_new(runner_loop(ctx), &cfg, &cb, eh, &eh->hm, err);
	if (rc < 0) {
		exec_health_destroy(eh);
		return rc;
	}
	*out = eh;
	return 0;
}

void exec_health_started(struct exec_health *eh)
{
	yajl_gen g;
	const char *why;

	if (!eh)
		return;
	why = health_monitor_fallback_reason(eh->hm);
	g = begin(eh);
	kstr(g, "source", health_source_name(health_monitor_source(eh->hm)));
	key(g, "fallback_reason");
	if (why[0])
		yajl_gen_string(g, (const unsigned char *)why, strlen(why));
	else
		yajl_gen_null(g);
	emit(eh, "health.monitor", 0);
	log_info("%s: health monitor source: %s%s%s", runner_name(eh->ctx),
		 health_source_name(health_monitor_source(eh->hm)), why[0] ? ": " : "", why);
}

void exec_health_spawning(struct exec_health *eh, bool spawning)
{
	if (!eh)
		return;
	if (spawning)
		health_monitor_adopt_begin(eh->hm);
	else
		health_monitor_adopt_end(eh->hm);
}

int exec_health_watch(struct exec_health *eh, pid_t pid, struct error *err)
{
	int rc;

	if (!eh)
		return 0;
	eh->have_end = false;
	rc = health_monitor_watch(eh->hm, pid, &eh->limits, err);
	if (rc == 0)
		eh->pid = pid;
	return rc;
}

void exec_health_reaped(struct exec_health *eh, pid_t pid, int wait_status)
{
	if (!eh || eh->pid != pid)
		return;
	health_monitor_reaped(eh->hm, pid, wait_status, &eh->end);
	eh->have_end = true;
	eh->pid = 0;
}

void exec_health_gen_exit(const struct exec_health *eh, yajl_gen g)
{
	const struct health_end *e;
	bool known;

	if (!eh)
		return;
	e = &eh->end;
	known = eh->have_end && e->known;
	key(g, "killed_by");
	if (known && e->oom_killed) {
		yajl_gen_map_open(g);
		kstr(g, "name", "OOM killer");
		key(g, "pid");
		yajl_gen_null(g);
		yajl_gen_map_close(g);
	} else if (known && e->killer_pid > 0) {
		yajl_gen_map_open(g);
		kstr(g, "name", e->killer_comm);
		kint(g, "pid", e->killer_pid);
		yajl_gen_map_close(g);
	} else {
		yajl_gen_null(g);
	}
	key(g, "oom_killed");
	if (known)
		yajl_gen_bool(g, e->oom_killed);
	else
		yajl_gen_null(g);
}

void exec_health_free(struct exec_health *eh)
{
	if (eh)
		exec_health_destroy(eh);
}
