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

#include <collector/buffer.h>
#include <collector/child.h>
#include <collector/health_monitor.h>
#include <collector/log.h>

#include "algorithm_crash.h"
#include "algorithm_package.h"
#include "algorithm_protocol.h"

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
	uint64_t samples_skipped; /* health.sample events not sent while a sink was full */
	struct buffer buf;
};

static void emit(struct algo_crash *ac, const char *type, pid_t pid)
{
	struct event *ev = event_new(span_str(type), (struct span){ 0 },
				     (struct span){ ac->buf.data, ac->buf.len });

	if (!ev) {
		runner_emit_failed(ac->ctx, type);
		return;
	}
	if (pid > 0)
		event_set_pid(ev, pid);
	runner_emit(ac->ctx, ev);
	if (ac->algo && !runner_can_emit(ac->ctx))
		algorithm_pause(ac->algo);
}

static void put(struct buffer *b, const char *s)
{
	buffer_append(b, s, strlen(s));
}

static void put_fmt(struct buffer *b, const char *fmt, double v)
{
	char num[64];
	int n = snprintf(num, sizeof(num), fmt, v);

	buffer_append(b, num, (size_t)n);
}

static void put_key(struct buffer *b, const char *k)
{
	if (b->len && b->data[b->len - 1] != '{' && b->data[b->len - 1] != '[')
		put(b, ",");
	algo_json_string(b, k, strlen(k));
	put(b, ":");
}

static void put_str(struct buffer *b, const char *k, const char *v)
{
	put_key(b, k);
	algo_json_string(b, v, strlen(v));
}

static void put_int(struct buffer *b, const char *k, long long v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", v);

	put_key(b, k);
	buffer_append(b, num, (size_t)n);
}

static void gen_sample(struct buffer *b, const struct health_sample *s)
{
	put_key(b, "cpu_percent");
	put_fmt(b, "%.2f", s->cpu_percent);
	put_int(b, "rss_bytes", (long long)s->rss_bytes);
	put_int(b, "threads", s->threads);
	put_int(b, "processes", s->processes);
	put_str(b, "source", health_source_name(s->source));
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
	/* A periodic reading waits for no one: skipped (and counted) while a sink is full. */
	if (!runner_can_emit(ac->ctx)) {
		ac->samples_skipped++;
		return;
	}
	ac->buf.len = 0;
	put(&ac->buf, "{");
	gen_sample(&ac->buf, s);
	put(&ac->buf, "}");
	emit(ac, "health.sample", s->pid);
}

static void gen_warning(struct buffer *b, const struct health_warning *w)
{
	put_str(b, "kind", health_warning_name(w->kind));
	put_key(b, "value");
	put_fmt(b, "%.2f", w->value);
	put_key(b, "limit");
	put_fmt(b, "%.2f", w->limit);
	put_key(b, "sample");
	put(b, "{");
	gen_sample(b, w->sample);
	put(b, "}");
}

static void on_warning(void *arg, const struct health_warning *w)
{
	struct algo_crash *ac = arg;

	ac->buf.len = 0;
	put(&ac->buf, "{");
	gen_warning(&ac->buf, w);
	put(&ac->buf, "}");
	emit(ac, "health.warning", w->pid);
}

static void on_action(void *arg, const struct health_warning *why)
{
	struct algo_crash *ac = arg;
	int instance;

	if (!find(ac, why->pid, &instance))
		return;
	ac->buf.len = 0;
	put(&ac->buf, "{");
	put_str(&ac->buf, "action", "restart");
	put_int(&ac->buf, "instance", instance);
	gen_warning(&ac->buf, why);
	put(&ac->buf, "}");
	emit(ac, "health.action", why->pid);
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
	ac->buf.len = 0;
	put(&ac->buf, "{");
	put_str(&ac->buf, "comm", h->comm);
	put_int(&ac->buf, "rss_bytes", (long long)h->rss_bytes);
	put_int(&ac->buf, "root", h->root);
	put(&ac->buf, "}");
	emit(ac, "health.oom", h->pid);
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
	struct health_config cfg = {
		.interval_s = (double)options_int(opts, "health-interval") / 1e9,
		.mode = health_mode_parse(options_str(opts, "health-source")),
	};
	int samples = (int)options_int(opts, "rss-growth-samples");
	struct algo_package pkg = { 0 };
	struct algo_crash *ac;
	uint64_t high = (uint64_t)options_int(opts, "memory-high");
	const char *why;
	int rc;

	*out = NULL;
	if (cfg.interval_s <= 0 || options_int(opts, "cpu-pinned-samples") < 0 || samples < 3 ||
	    samples > 64)
		return error_set(err, EINVAL,
				 "--health-interval must be positive, --cpu-pinned-samples >= 0, "
				 "--rss-growth-samples 3..64");
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
	if (!high && pkg.limits.memory_mb > 0)
		high = (uint64_t)pkg.limits.memory_mb * 1024 * 1024 / 10 * 8;
	ac->limits = (struct health_limits){
		.memory_high = high,
		.memory_action = (uint64_t)options_int(opts, "memory-restart"),
		.cpu_quota_percent = (double)pkg.limits.cpu_percent,
		.cpu_pinned_samples = pkg.limits.cpu_percent > 0 ? (int)options_int(opts, "cpu-"
											  "pinned-"
											  "sample"
											  "s") :
								   0,
		.growth_bytes_per_s = (double)options_int(opts, "rss-growth"),
		.growth_samples = samples,
	};
	algo_package_free(&pkg);
	if (ac->crash_dir && mkdir(ac->crash_dir, 0750) < 0 && errno != EEXIST) {
		rc = error_set(err, errno, "--crash-dir %s: %s", ac->crash_dir, strerror(errno));
		algo_crash_free(ac);
		return rc;
	}
	rc = health_monitor_new(runner_loop(ctx), &cfg, &cb, ac, &ac->hm, err);
	if (rc < 0) {
		algo_crash_free(ac);
		return rc;
	}
	why = health_monitor_fallback_reason(ac->hm);
	ac->buf.len = 0;
	put(&ac->buf, "{");
	put_str(&ac->buf, "source", health_source_name(health_monitor_source(ac->hm)));
	put_key(&ac->buf, "fallback_reason");
	if (why[0])
		algo_json_string(&ac->buf, why, strlen(why));
	else
		put(&ac->buf, "null");
	put(&ac->buf, "}");
	emit(ac, "health.monitor", 0);
	log_info("%s: health monitor source: %s%s%s", runner_name(ctx),
		 health_source_name(health_monitor_source(ac->hm)), why[0] ? ": " : "", why);
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

static void gen_samples(struct buffer *b, const struct watched *w, int64_t now_ns)
{
	int first = w->nsamples > SAMPLE_RING ? w->nsamples - SAMPLE_RING : 0;
	bool any = false;

	put_key(b, "samples");
	put(b, "[");
	for (int i = first; i < w->nsamples; i++) {
		const struct health_sample *s = &w->ring[i % SAMPLE_RING];

		if (now_ns - s->ts_ns > REPORT_WINDOW_NS)
			continue;
		if (any)
			put(b, ",");
		any = true;
		put(b, "{");
		put_int(b, "ts_ns", s->ts_ns);
		gen_sample(b, s);
		put(b, "}");
	}
	put(b, "]");
}

/* tmp + rename: a reader never sees half a report. */
static void write_report(struct algo_crash *ac, const char *id)
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
	n = write(fd, ac->buf.data, ac->buf.len);
	ok = n == (ssize_t)ac->buf.len && write(fd, "\n", 1) == 1;
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
	struct buffer *b = &ac->buf;
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
	b->len = 0;
	put(b, "{");
	put_str(b, "id", id);
	snprintf(stamp, sizeof(stamp), "%s.%03ldZ", when, ts.tv_nsec / 1000000);
	put_str(b, "time", stamp);
	put_int(b, "pid", pid);
	abnormal = algorithm_describe_exit(ac->algo, instance, wait_status, b, &kill_reason);
	if (!abnormal)
		return;
	put_str(b, "cause", cause_of(&end, kill_reason, wait_status));
	put_key(b, "exit_code");
	if (WIFEXITED(wait_status))
		put_fmt(b, "%.0f", (double)WEXITSTATUS(wait_status));
	else
		put(b, "null");
	put_key(b, "signal");
	if (WIFSIGNALED(wait_status)) {
		algo_json_string(b, signal_name(WTERMSIG(wait_status), sig),
				 strlen(signal_name(WTERMSIG(wait_status), sig)));
		put_int(b, "signal_number", WTERMSIG(wait_status));
	} else {
		put(b, "null");
	}
	put_key(b, "core_dumped");
	put(b, WIFSIGNALED(wait_status) && WCOREDUMP(wait_status) ? "true" : "false");
	put_key(b, "killed_by");
	if (end.known && end.oom_killed) {
		put(b, "{\"name\":\"OOM killer\",\"pid\":null}");
	} else if (end.known && end.killer_pid > 0 && end.killer_pid != pid) {
		/* A fault (SIGSEGV, abort()) is raised by the child itself: no sender to name. */
		put(b, "{");
		put_str(b, "name", end.killer_comm);
		put_int(b, "pid", end.killer_pid);
		put(b, "}");
	} else {
		put(b, "null");
	}
	put_key(b, "oom_killed");
	put(b, !end.known ? "null" : end.oom_killed ? "true" : "false");
	put_key(b, "oom_rss_bytes");
	if (w->oom_rss)
		put_fmt(b, "%.0f", (double)w->oom_rss);
	else
		put(b, "null");
	put_str(b, "health_source", health_source_name(health_monitor_source(ac->hm)));
	gen_samples(b, w, now_ns);
	put(b, "}");
	emit(ac, "algorithm.crash", pid);
	if (ac->crash_dir)
		write_report(ac, id);
}

void algo_crash_metrics(const struct algo_crash *ac, struct metrics_writer *w)
{
	if (ac)
		metrics_add(w, METRIC_COUNTER, "collector_runner_health_samples_skipped_total",
			    "algorithm: health.sample events not sent while a sink was full",
			    (double)ac->samples_skipped);
}

void algo_crash_free(struct algo_crash *ac)
{
	if (!ac)
		return;
	health_monitor_free(ac->hm);
	buffer_free(&ac->buf);
	free(ac->kids);
	free(ac);
}
