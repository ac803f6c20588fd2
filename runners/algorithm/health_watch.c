/* The algorithm runner's health watch on its children: options, health.* events, a restart on memory, and the data of their crash reports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <collector/crash_dir.h>
#include <collector/health_monitor.h>
#include <collector/log.h>

#include "crash_report.h"
#include "health_watch.h"
#include "package.h"
#include "../health_events.h"

struct algo_watch {
	struct runner_ctx *ctx;
	struct algorithm *algo;
	struct health_monitor *hm;
	struct health_limits limits;
	char crash_dir[512]; /* "" when reports are not written */
	struct watched *kids;
	int nkids;
	struct health_events events;
};

/* An event that filled a sink holds the children back, as their own events do. */
static void hold_back(struct algo_watch *ac)
{
	if (ac->algo && !runner_can_emit(ac->ctx))
		algorithm_pause(ac->algo);
}

static struct watched *find(struct algo_watch *ac, pid_t pid, int *instance)
{
	for (int i = 0; i < ac->nkids; i++)
		if (ac->kids[i].pid == pid) {
			if (instance)
				*instance = i;
			return &ac->kids[i];
		}
	return NULL;
}

static void on_sample(void *arg, const struct health_sample *s)
{
	struct algo_watch *ac = arg;
	struct watched *w = find(ac, s->pid, NULL);

	if (w)
		w->ring[w->nsamples++ % SAMPLE_RING] = *s;
	health_events_sample(&ac->events, s);
	hold_back(ac);
}

static void on_warning(void *arg, const struct health_warning *w)
{
	struct algo_watch *ac = arg;

	health_events_warning(&ac->events, w);
	hold_back(ac);
}

static void on_action(void *arg, const struct health_warning *why)
{
	struct algo_watch *ac = arg;
	int instance;

	if (!find(ac, why->pid, &instance))
		return;
	health_events_action(&ac->events, why, instance);
	hold_back(ac);
	algorithm_restart_instance(ac->algo, instance, "memory_restart");
}

static void on_happening(void *arg, const struct health_happening *h)
{
	struct algo_watch *ac = arg;
	struct watched *w = find(ac, h->root, NULL);

	if (w)
		crash_report_note(w, h);
	if (h->kind != HEALTH_OOM_VICTIM)
		return;
	if (w)
		w->oom_rss = h->rss_bytes;
	health_events_happening(&ac->events, h);
	hold_back(ac);
}

int algo_watch_create(struct runner_ctx *ctx, const struct options *opts, const char *package_dir,
		      int instances, struct algo_watch **out, struct error *err)
{
	static const struct health_callbacks cb = {
		.on_sample = on_sample,
		.on_warning = on_warning,
		.on_action = on_action,
		.on_happening = on_happening,
	};
	struct health_config cfg;
	struct health_limits limits;
	struct algo_package pkg = { 0 };
	struct algo_watch *ac;
	int rc;

	*out = NULL;
	rc = health_events_config(opts, &cfg, &limits, err);
	if (rc < 0)
		return rc;
	rc = algo_package_load(&pkg, package_dir, NULL, err);
	if (rc < 0)
		return rc;
	ac = calloc(1, sizeof(*ac));
	if (ac)
		ac->kids = calloc((size_t)instances, sizeof(*ac->kids));
	if (!ac || !ac->kids) {
		free(ac);
		algo_package_free(&pkg);
		return error_set(err, ENOMEM, "out of memory");
	}
	ac->ctx = ctx;
	ac->nkids = instances;
	/* The manifest's limits: 80% of its memory is high, its CPU share the quota. */
	if (!limits.memory_high && pkg.limits.memory_mb > 0)
		limits.memory_high = (uint64_t)pkg.limits.memory_mb * 1024 * 1024 / 10 * 8;
	limits.cpu_quota_percent = (double)pkg.limits.cpu_percent;
	if (pkg.limits.cpu_percent <= 0)
		limits.cpu_pinned_samples = 0;
	ac->limits = limits;
	algo_package_free(&pkg);
	rc = crash_report_dir_choose(ctx, opts, ac->crash_dir, sizeof(ac->crash_dir), err);
	if (rc == 0)
		rc = health_events_init(&ac->events, ctx, err);
	if (rc == 0)
		rc = health_monitor_new(runner_loop(ctx), &cfg, &cb, ac, &ac->hm, err);
	if (rc < 0) {
		algo_watch_free(ac);
		return rc;
	}
	health_events_monitor(&ac->events, ac->hm);
	*out = ac;
	return 0;
}

void algo_watch_set_host(struct algo_watch *ac, struct algorithm *algo)
{
	ac->algo = algo;
}

void algo_watch_on_forking(struct algo_watch *ac, bool forking)
{
	if (forking)
		health_monitor_adopt_begin(ac->hm);
	else
		health_monitor_adopt_end(ac->hm);
}

void algo_watch_on_spawn(struct algo_watch *ac, int instance, pid_t pid)
{
	struct error err = { 0 };

	if (instance < 0 || instance >= ac->nkids)
		return;
	ac->kids[instance].pid = pid;
	ac->kids[instance].nsamples = 0;
	ac->kids[instance].oom_rss = 0;
	ac->kids[instance].nkilled = 0;
	if (health_monitor_watch(ac->hm, pid, &ac->limits, &err) < 0)
		log_warn("%s: cannot watch child %d: %s", runner_name(ac->ctx), (int)pid, err.msg);
}

void algo_watch_on_exit(struct algo_watch *ac, int instance, pid_t pid, int wait_status)
{
	struct health_end end = { 0 };
	struct watched *w;
	char id[64];

	if (instance < 0 || instance >= ac->nkids || ac->kids[instance].pid != pid)
		return;
	w = &ac->kids[instance];
	health_monitor_reaped(ac->hm, pid, wait_status, &end);
	w->pid = 0;
	if (!algo_crash_report_emit(ac->ctx, ac->events.b, ac->algo, instance, pid, wait_status, w,
				    &end, health_source_name(health_monitor_source(ac->hm)), id))
		return;
	hold_back(ac);
	if (ac->crash_dir[0])
		algo_crash_report_write(ac->ctx, ac->events.b, ac->crash_dir, id);
}

void algo_watch_metrics(const struct algo_watch *ac, struct metrics_writer *w)
{
	if (ac)
		health_events_metrics(&ac->events, w);
}

void algo_watch_free(struct algo_watch *ac)
{
	if (!ac)
		return;
	health_monitor_free(ac->hm);
	health_events_release(&ac->events);
	free(ac->kids);
	free(ac);
}
