/* The algorithm runner's health monitor and crash reports: options, health.* and algorithm.crash. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <collector/child.h>
#include <collector/health_monitor.h>
#include <collector/log.h>

#include "health_watch.h"
#include "package.h"
#include "../health_events.h"

/* Samples kept per child: 30 s at the shortest sensible interval (200 ms). */
#define SAMPLE_RING 150
#define REPORT_WINDOW_NS (30LL * 1000000000)

struct watched {
	pid_t pid; /* 0 when the instance has no live child */
	struct health_sample ring[SAMPLE_RING];
	int nsamples;	  /* total ever; ring index is nsamples % SAMPLE_RING */
	uint64_t oom_rss; /* RSS when the OOM killer chose it, 0 when it did not */
};

struct algo_crash {
	struct runner_ctx *ctx;
	struct algorithm *algo;
	struct health_monitor *hm;
	struct health_limits limits;
	const char *crash_dir;
	struct watched *kids;
	int nkids;
	struct health_events events;
};

/* An event that filled a sink holds the children back, as their own events do. */
static void hold_back(struct algo_crash *ac)
{
	if (ac->algo && !runner_can_emit(ac->ctx))
		algorithm_pause(ac->algo);
}

static struct watched *find(struct algo_crash *ac, pid_t pid, int *instance)
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
	struct algo_crash *ac = arg;
	struct watched *w = find(ac, s->pid, NULL);

	if (w)
		w->ring[w->nsamples++ % SAMPLE_RING] = *s;
	health_events_sample(&ac->events, s);
	hold_back(ac);
}

static void on_warning(void *arg, const struct health_warning *w)
{
	struct algo_crash *ac = arg;

	health_events_warning(&ac->events, w);
	hold_back(ac);
}

static void on_action(void *arg, const struct health_warning *why)
{
	struct algo_crash *ac = arg;
	int instance;

	if (!find(ac, why->pid, &instance))
		return;
	health_events_action(&ac->events, why, instance);
	hold_back(ac);
	algorithm_restart_instance(ac->algo, instance, "memory_restart");
}

static void on_happening(void *arg, const struct health_happening *h)
{
	struct algo_crash *ac = arg;
	struct watched *w;

	if (h->kind != HEALTH_OOM_VICTIM)
		return;
	w = find(ac, h->root, NULL);
	if (w)
		w->oom_rss = h->rss_bytes;
	health_events_happening(&ac->events, h);
	hold_back(ac);
}

int algo_crash_create(struct runner_ctx *ctx, const struct options *opts, const char *package_dir,
		      int instances, struct algo_crash **out, struct error *err)
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
	struct algo_crash *ac;
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
	ac->crash_dir = options_str(opts, "crash-dir");
	/* The manifest's limits: 80% of its memory is high, its CPU share the quota. */
	if (!limits.memory_high && pkg.limits.memory_mb > 0)
		limits.memory_high = (uint64_t)pkg.limits.memory_mb * 1024 * 1024 / 10 * 8;
	limits.cpu_quota_percent = (double)pkg.limits.cpu_percent;
	if (pkg.limits.cpu_percent <= 0)
		limits.cpu_pinned_samples = 0;
	ac->limits = limits;
	algo_package_free(&pkg);
	if (ac->crash_dir && mkdir(ac->crash_dir, 0750) < 0 && errno != EEXIST) {
		rc = error_set(err, errno, "--crash-dir %s: %s", ac->crash_dir, strerror(errno));
		algo_crash_free(ac);
		return rc;
	}
	rc = health_events_init(&ac->events, ctx, err);
	if (rc == 0)
		rc = health_monitor_new(runner_loop(ctx), &cfg, &cb, ac, &ac->hm, err);
	if (rc < 0) {
		algo_crash_free(ac);
		return rc;
	}
	health_events_monitor(&ac->events, ac->hm);
	*out = ac;
	return 0;
}

void algo_crash_set_host(struct algo_crash *ac, struct algorithm *algo)
{
	ac->algo = algo;
}

void algo_crash_on_forking(struct algo_crash *ac, bool forking)
{
	if (forking)
		health_monitor_adopt_begin(ac->hm);
	else
		health_monitor_adopt_end(ac->hm);
}

void algo_crash_on_spawn(struct algo_crash *ac, int instance, pid_t pid)
{
	struct error err = { 0 };

	if (instance < 0 || instance >= ac->nkids)
		return;
	ac->kids[instance].pid = pid;
	ac->kids[instance].nsamples = 0;
	ac->kids[instance].oom_rss = 0;
	if (health_monitor_watch(ac->hm, pid, &ac->limits, &err) < 0)
		log_warn("%s: cannot watch child %d: %s", runner_name(ac->ctx), (int)pid, err.msg);
}

static const char *cause_of(const struct health_end *end, const char *kill_reason, int status)
{
	if (end->known && end->oom_killed)
		return "oom_kill";
	if (kill_reason && strcmp(kill_reason, "call_timeout") == 0)
		return "timeout";
	if (kill_reason)
		return kill_reason;
	return WIFSIGNALED(status) ? "signal" : "exit";
}

static void gen_samples(struct event_builder *b, const struct watched *w, int64_t now_ns)
{
	int first = w->nsamples > SAMPLE_RING ? w->nsamples - SAMPLE_RING : 0;

	event_builder_open_array(b, "samples");
	for (int i = first; i < w->nsamples; i++) {
		const struct health_sample *s = &w->ring[i % SAMPLE_RING];

		if (now_ns - s->ts_ns > REPORT_WINDOW_NS)
			continue;
		event_builder_open_object(b, NULL);
		event_builder_int(b, "ts_ns", s->ts_ns);
		health_events_put_sample(b, s);
		event_builder_close_object(b);
	}
	event_builder_close_array(b);
}

/* tmp + rename: a reader never sees half a report. */
static void write_report(struct algo_crash *ac, const char *id, struct span report)
{
	char tmp[4096], path[4096];
	int fd;
	ssize_t n;
	bool ok;

	snprintf(tmp, sizeof(tmp), "%s/.%s.json.tmp", ac->crash_dir, id);
	snprintf(path, sizeof(path), "%s/%s.json", ac->crash_dir, id);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_warn("%s: crash report %s: %s", runner_name(ac->ctx), tmp, strerror(errno));
		return;
	}
	fchmod(fd, 0640);
	errno = 0;
	n = write(fd, report.ptr, report.len);
	ok = n == (ssize_t)report.len && write(fd, "\n", 1) == 1;
	if (close(fd) < 0)
		ok = false;
	if (!ok || rename(tmp, path) < 0) {
		log_warn("%s: crash report %s: %s", runner_name(ac->ctx), path,
			 errno ? strerror(errno) : "short write");
		unlink(tmp);
	}
}

void algo_crash_on_exit(struct algo_crash *ac, int instance, pid_t pid, int wait_status)
{
	struct health_end end = { 0 };
	struct watched *w;
	struct event_builder *b = ac->events.b;
	struct span report;
	const char *kill_reason = NULL;
	struct timespec ts;
	struct tm tm;
	char id[64], when[32], stamp[48], sig[16];
	int64_t now_ns;
	bool abnormal;

	if (instance < 0 || instance >= ac->nkids || ac->kids[instance].pid != pid)
		return;
	w = &ac->kids[instance];
	health_monitor_reaped(ac->hm, pid, wait_status, &end);
	w->pid = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	now_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/* 2026-11-23T11:30:12 -> 20261123-113012-PID: names sort by time. */
	snprintf(id, sizeof(id), "%.4s%.2s%.2s-%.2s%.2s%.2s-%d", when, when + 5, when + 8,
		 when + 11, when + 14, when + 17, (int)pid);
	event_builder_begin(b);
	event_builder_str(b, "id", id);
	snprintf(stamp, sizeof(stamp), "%s.%03ldZ", when, ts.tv_nsec / 1000000);
	event_builder_str(b, "time", stamp);
	event_builder_int(b, "pid", pid);
	abnormal = algorithm_describe_exit(ac->algo, instance, wait_status, b, &kill_reason);
	if (!abnormal)
		return;
	event_builder_str(b, "cause", cause_of(&end, kill_reason, wait_status));
	if (WIFEXITED(wait_status))
		event_builder_int(b, "exit_code", WEXITSTATUS(wait_status));
	else
		event_builder_null(b, "exit_code");
	if (WIFSIGNALED(wait_status)) {
		event_builder_str(b, "signal", signal_name(WTERMSIG(wait_status), sig));
		event_builder_int(b, "signal_number", WTERMSIG(wait_status));
	} else {
		event_builder_null(b, "signal");
	}
	event_builder_bool(b, "core_dumped", WIFSIGNALED(wait_status) && WCOREDUMP(wait_status));
	/* A fault (SIGSEGV, abort()) is raised by the child itself: no sender to name. */
	health_events_put_exit(b, &end, pid);
	if (w->oom_rss)
		event_builder_uint(b, "oom_rss_bytes", w->oom_rss);
	else
		event_builder_null(b, "oom_rss_bytes");
	event_builder_str(b, "health_source", health_source_name(health_monitor_source(ac->hm)));
	gen_samples(b, w, now_ns);
	event_builder_emit(b, ac->ctx, "algorithm.crash", pid);
	hold_back(ac);
	if (ac->crash_dir && event_builder_finish(b, &report) == 0)
		write_report(ac, id, report);
}

void algo_crash_metrics(const struct algo_crash *ac, struct metrics_writer *w)
{
	if (ac)
		health_events_metrics(&ac->events, w);
}

void algo_crash_free(struct algo_crash *ac)
{
	if (!ac)
		return;
	health_monitor_free(ac->hm);
	health_events_release(&ac->events);
	free(ac->kids);
	free(ac);
}
