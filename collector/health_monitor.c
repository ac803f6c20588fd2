/* The health monitor: samples, warnings and ends of watched children, from BPF or /proc. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ev.h>

#include <collector/clock.h>
#include <collector/health_monitor.h>
#include <collector/log.h>

#include "health.h"
#include "health.skel.h"

/* Samples the RSS trend can be fitted over at most. */
#define GROWTH_MAX 64
/* A sample at this share of the CPU quota counts as pinned. */
#define PINNED_SHARE 0.95

struct watch {
	pid_t pid;
	struct health_limits limits;
	uint64_t last_cpu_ns;
	int64_t last_mono_ns;
	/* RSS history for the trend, a ring of growth_samples entries */
	double rss[GROWTH_MAX];
	double at_s[GROWTH_MAX];
	int nrss;
	int pinned_run;
	bool warned[HEALTH_WARN_MEMORY_ACTION + 1];
	/* the kernel's exit record of the child itself, once seen */
	bool ended;
	struct health_record end;
};

struct health_monitor {
	struct ev_loop *loop;
	struct health_callbacks cb;
	void *arg;
	double interval_s;
	enum health_source source;
	char fallback_reason[256];
	struct health_bpf *skel;
	struct ring_buffer *rb;
	ev_io rb_w;
	/* the threads of watched processes at the last task pass, sorted by tgid */
	struct health_task *tasks;
	size_t ntasks;
	size_t tasks_cap;
	ev_timer tick_w;
	struct watch *watches;
	size_t nwatches;
	size_t cap;
	long page_size;
	long clk_tck;
};

const char *health_source_name(enum health_source s)
{
	return s == HEALTH_SOURCE_BPF ? "bpf" : "procfs";
}

const char *health_warning_name(enum health_warning_kind k)
{
	switch (k) {
	case HEALTH_WARN_MEMORY_HIGH:
		return "memory_high";
	case HEALTH_WARN_CPU_PINNED:
		return "cpu_pinned";
	case HEALTH_WARN_RSS_GROWING:
		return "rss_growing";
	case HEALTH_WARN_MEMORY_ACTION:
		return "memory_action";
	}
	return "unknown";
}

enum health_source health_monitor_source(const struct health_monitor *hm)
{
	return hm->source;
}

const char *health_monitor_fallback_reason(const struct health_monitor *hm)
{
	return hm->fallback_reason;
}

uint64_t health_monitor_lost(const struct health_monitor *hm)
{
	return hm->skel ? __atomic_load_n(&hm->skel->bss->lost, __ATOMIC_RELAXED) : 0;
}

static struct watch *find_watch(struct health_monitor *hm, pid_t pid)
{
	for (size_t i = 0; i < hm->nwatches; i++)
		if (hm->watches[i].pid == pid)
			return &hm->watches[i];
	return NULL;
}

/* ---- /proc ---- */

struct proc_figures {
	uint64_t cpu_ns;
	uint64_t rss_bytes;
	unsigned threads;
};

/* Field @p n (1-based, as proc(5) numbers them) of a stat line; @p rest starts at field 3. */
static int stat_field(const char *rest, int n, unsigned long long *out)
{
	char *end;

	for (int field = 3; field < n; field++) {
		rest = strchr(rest, ' ');
		if (!rest)
			return -EINVAL;
		rest++;
	}
	errno = 0;
	*out = strtoull(rest, &end, 10);
	return errno || end == rest ? -EINVAL : 0;
}

static int read_text(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "re");
	size_t n;

	if (!fp)
		return -errno;
	n = fread(buf, 1, size - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return 0;
}

static int read_proc(const struct health_monitor *hm, pid_t pid, struct proc_figures *f)
{
	char path[64], buf[1024], *rest, *end;
	unsigned long long utime, stime, threads, rss_pages;
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((rc = read_text(path, buf, sizeof(buf))) < 0)
		return rc;
	/* The command name may hold spaces and parentheses: fields start after the last ')'. */
	rest = strrchr(buf, ')');
	if (!rest || !rest[1] || stat_field(rest + 2, 14, &utime) < 0 ||
	    stat_field(rest + 2, 15, &stime) < 0 || stat_field(rest + 2, 20, &threads) < 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	if ((rc = read_text(path, buf, sizeof(buf))) < 0)
		return rc;
	rest = strchr(buf, ' ');
	if (!rest)
		return -EINVAL;
	rss_pages = strtoull(rest + 1, &end, 10);
	if (end == rest + 1)
		return -EINVAL;
	f->cpu_ns = (utime + stime) * (1000000000ULL / (unsigned long long)hm->clk_tck);
	f->threads = (unsigned)threads;
	f->rss_bytes = rss_pages * (uint64_t)hm->page_size;
	return 0;
}

/* ---- BPF ---- */

static void happening_from_record(const struct health_monitor *hm, const struct health_record *r,
				  struct health_happening *h)
{
	static const enum health_happening_kind kinds[] = {
		[HEALTH_REC_FORK] = HEALTH_FORK,
		[HEALTH_REC_SIGNAL] = HEALTH_FATAL_SIGNAL,
		[HEALTH_REC_OOM] = HEALTH_OOM_VICTIM,
		[HEALTH_REC_EXIT] = HEALTH_EXIT,
	};

	memset(h, 0, sizeof(*h));
	h->kind = kinds[r->kind];
	h->pid = (pid_t)r->pid;
	h->root = (pid_t)r->root;
	h->child_pid = (pid_t)r->child_pid;
	h->signal = (int)r->signal;
	h->sender_pid = (pid_t)r->sender_pid;
	memcpy(h->sender_comm, r->sender_comm, HEALTH_COMM_LEN);
	h->sender_comm[HEALTH_COMM_LEN - 1] = '\0';
	memcpy(h->comm, r->comm, HEALTH_COMM_LEN);
	h->comm[HEALTH_COMM_LEN - 1] = '\0';
	h->wait_status = (int)r->exit_code;
	h->rss_bytes = r->rss_pages * (uint64_t)hm->page_size;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct health_monitor *hm = ctx;
	const struct health_record *r = data;
	struct health_happening h;
	struct watch *w;

	if (size < sizeof(*r) || r->kind < HEALTH_REC_FORK || r->kind > HEALTH_REC_EXIT)
		return 0;
	if (r->kind == HEALTH_REC_EXIT && r->pid == r->root &&
	    (w = find_watch(hm, (pid_t)r->pid))) {
		w->ended = true;
		w->end = *r;
	}
	if (hm->cb.on_happening) {
		happening_from_record(hm, r, &h);
		hm->cb.on_happening(hm->arg, &h);
	}
	return 0;
}

static void on_ring_readable(struct ev_loop *loop, ev_io *io, int revents)
{
	struct health_monitor *hm = io->data;

	(void)loop;
	(void)revents;
	ring_buffer__consume(hm->rb);
}

static int load_bpf(struct health_monitor *hm)
{
	int err;

	hm->skel = health_bpf__open_and_load();
	if (!hm->skel) {
		err = -errno;
		snprintf(hm->fallback_reason, sizeof(hm->fallback_reason),
			 "cannot load the health BPF program: %s", strerror(errno));
		return err;
	}
	err = health_bpf__attach(hm->skel);
	if (err) {
		snprintf(hm->fallback_reason, sizeof(hm->fallback_reason),
			 "cannot attach the health BPF programs: %s", strerror(-err));
		return err;
	}
	hm->rb = ring_buffer__new(bpf_map__fd(hm->skel->maps.records), on_record, hm, NULL);
	if (!hm->rb) {
		err = -errno;
		snprintf(hm->fallback_reason, sizeof(hm->fallback_reason),
			 "cannot open the health ring buffer: %s", strerror(errno));
		return err;
	}
	ev_io_init(&hm->rb_w, on_ring_readable, ring_buffer__epoll_fd(hm->rb), EV_READ);
	hm->rb_w.data = hm;
	ev_io_start(hm->loop, &hm->rb_w);
	return 0;
}

static void unload_bpf(struct health_monitor *hm)
{
	if (hm->rb) {
		ev_io_stop(hm->loop, &hm->rb_w);
		ring_buffer__free(hm->rb);
		hm->rb = NULL;
	}
	health_bpf__destroy(hm->skel);
	hm->skel = NULL;
}

static int cmp_tgid(const void *a, const void *b)
{
	const struct health_task *x = a, *y = b;

	return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

/* One pass of the task iterator: the threads of all watched processes, now. */
static int read_tasks(struct health_monitor *hm)
{
	int fd = bpf_iter_create(bpf_link__fd(hm->skel->links.health_tasks)), err;
	size_t used = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (hm->tasks_cap * sizeof(*hm->tasks) - used < 4096) {
			size_t cap = hm->tasks_cap ? hm->tasks_cap * 2 : 256;
			struct health_task *nt = realloc(hm->tasks, cap * sizeof(*nt));

			if (!nt) {
				close(fd);
				return -ENOMEM;
			}
			hm->tasks = nt;
			hm->tasks_cap = cap;
		}
		n = read(fd, (char *)hm->tasks + used, hm->tasks_cap * sizeof(*hm->tasks) - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	hm->ntasks = used / sizeof(*hm->tasks);
	qsort(hm->tasks, hm->ntasks, sizeof(*hm->tasks), cmp_tgid);
	return 0;
}

struct bpf_figures {
	uint64_t cpu_ns;
	uint64_t rss_pages;
	unsigned threads;
	unsigned processes;
};

/*
 * Sum @p root and its descendants from the last task pass: each thread's run
 * time, and once per process its ended threads and descendants, its RSS (any
 * thread's that still has the mm) and thread count.
 */
static void read_bpf(const struct health_monitor *hm, pid_t root, struct bpf_figures *f)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < hm->ntasks;) {
		const struct health_task *first = &hm->tasks[i];
		uint64_t rss = 0;

		if (first->root != (unsigned)root) {
			i++;
			continue;
		}
		f->cpu_ns += first->group_ns;
		f->threads += first->threads;
		f->processes++;
		for (; i < hm->ntasks && hm->tasks[i].tgid == first->tgid; i++) {
			f->cpu_ns += hm->tasks[i].runtime_ns;
			if (hm->tasks[i].rss_pages > rss)
				rss = hm->tasks[i].rss_pages;
		}
		f->rss_pages += rss;
	}
}

static void forget_bpf(struct health_monitor *hm, pid_t root)
{
	int stats_fd = bpf_map__fd(hm->skel->maps.stats);
	int watched_fd = bpf_map__fd(hm->skel->maps.watched);
	__u32 key, next, *prev = NULL;
	__u32 doomed[HEALTH_MAX_PROCS];
	size_t n = 0;
	struct health_stats s;

	while (n < HEALTH_MAX_PROCS && bpf_map_get_next_key(stats_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(stats_fd, &key, &s) == 0 && s.root == (unsigned)root)
			doomed[n++] = key;
	}
	for (size_t i = 0; i < n; i++) {
		bpf_map_delete_elem(watched_fd, &doomed[i]);
		bpf_map_delete_elem(stats_fd, &doomed[i]);
	}
}

/* ---- samples and limits ---- */

static void warn(struct health_monitor *hm, struct watch *w, enum health_warning_kind kind,
		 bool crossed, double value, double limit, const struct health_sample *s)
{
	struct health_warning hw = {
		.pid = w->pid, .kind = kind, .value = value, .limit = limit, .sample = s
	};

	if (!crossed) {
		w->warned[kind] = false;
		return;
	}
	if (w->warned[kind])
		return;
	w->warned[kind] = true;
	if (kind == HEALTH_WARN_MEMORY_ACTION) {
		if (hm->cb.on_action)
			hm->cb.on_action(hm->arg, &hw);
	} else if (hm->cb.on_warning) {
		hm->cb.on_warning(hm->arg, &hw);
	}
}

/* Least-squares slope of RSS over time, in bytes per second. */
static double rss_slope(const struct watch *w)
{
	double mt = 0, mr = 0, num = 0, den = 0;
	int n = w->nrss;

	for (int i = 0; i < n; i++) {
		mt += w->at_s[i];
		mr += w->rss[i];
	}
	mt /= n;
	mr /= n;
	for (int i = 0; i < n; i++) {
		num += (w->at_s[i] - mt) * (w->rss[i] - mr);
		den += (w->at_s[i] - mt) * (w->at_s[i] - mt);
	}
	return den > 0 ? num / den : 0;
}

static void check_limits(struct health_monitor *hm, struct watch *w, const struct health_sample *s,
			 int64_t mono)
{
	const struct health_limits *l = &w->limits;
	double quota = l->cpu_quota_percent;

	if (l->memory_high)
		warn(hm, w, HEALTH_WARN_MEMORY_HIGH, s->rss_bytes > l->memory_high,
		     (double)s->rss_bytes, (double)l->memory_high, s);
	if (l->memory_action)
		warn(hm, w, HEALTH_WARN_MEMORY_ACTION, s->rss_bytes > l->memory_action,
		     (double)s->rss_bytes, (double)l->memory_action, s);
	if (quota > 0 && l->cpu_pinned_samples > 0) {
		w->pinned_run = s->cpu_percent >= quota * PINNED_SHARE ? w->pinned_run + 1 : 0;
		warn(hm, w, HEALTH_WARN_CPU_PINNED, w->pinned_run >= l->cpu_pinned_samples,
		     s->cpu_percent, quota, s);
	}
	if (l->growth_bytes_per_s > 0) {
		/* The ring is ordered oldest first once full: shift, the window is small. */
		if (w->nrss == l->growth_samples) {
			memmove(w->rss, w->rss + 1, sizeof(double) * (size_t)(w->nrss - 1));
			memmove(w->at_s, w->at_s + 1, sizeof(double) * (size_t)(w->nrss - 1));
			w->nrss--;
		}
		w->rss[w->nrss] = (double)s->rss_bytes;
		w->at_s[w->nrss] = (double)mono / 1e9;
		w->nrss++;
		if (w->nrss == l->growth_samples) {
			double slope = rss_slope(w);

			warn(hm, w, HEALTH_WARN_RSS_GROWING, slope > l->growth_bytes_per_s, slope,
			     l->growth_bytes_per_s, s);
		}
	}
}

static bool sample_one(struct health_monitor *hm, struct watch *w, struct health_sample *s)
{
	int64_t mono = clock_mono_ns();
	uint64_t cpu_ns;

	memset(s, 0, sizeof(*s));
	s->pid = w->pid;
	s->ts_ns = clock_wall_ns();
	s->mono_ns = mono;
	s->source = hm->source;
	if (hm->source == HEALTH_SOURCE_BPF) {
		struct bpf_figures f = { 0 };

		read_bpf(hm, w->pid, &f);
		if (f.processes == 0)
			return false;
		cpu_ns = f.cpu_ns;
		s->rss_bytes = f.rss_pages * (uint64_t)hm->page_size;
		s->threads = f.threads;
		s->processes = f.processes;
	} else {
		struct proc_figures f = { 0 };

		if (read_proc(hm, w->pid, &f) < 0)
			return false;
		cpu_ns = f.cpu_ns;
		s->rss_bytes = f.rss_bytes;
		s->threads = f.threads;
		s->processes = 1;
	}
	if (mono > w->last_mono_ns && cpu_ns >= w->last_cpu_ns)
		s->cpu_percent =
			(double)(cpu_ns - w->last_cpu_ns) * 100. / (double)(mono - w->last_mono_ns);
	w->last_cpu_ns = cpu_ns;
	w->last_mono_ns = mono;
	return true;
}

static void on_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct health_monitor *hm = t->data;
	struct health_sample s;

	(void)loop;
	(void)revents;
	/* Records first: a child that ended is not sampled as if alive. */
	if (hm->rb)
		ring_buffer__consume(hm->rb);
	/* One pass over the tasks for all watched children; none sampled if it fails. */
	if (hm->skel && read_tasks(hm) < 0)
		hm->ntasks = 0;
	/* Backwards: a callback that unwatches moves only entries already sampled. */
	for (size_t i = hm->nwatches; i-- > 0;) {
		if (i >= hm->nwatches || hm->watches[i].ended ||
		    !sample_one(hm, &hm->watches[i], &s))
			continue;
		if (hm->cb.on_sample)
			hm->cb.on_sample(hm->arg, &s);
		/* The sample first, then what it crossed; unless the callback unwatched it. */
		if (i < hm->nwatches && hm->watches[i].pid == s.pid)
			check_limits(hm, &hm->watches[i], &s, hm->watches[i].last_mono_ns);
	}
}

/* libbpf's messages go to the collector's log, at debug level: a fallback is not an error. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[512];

	(void)level;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_msg(LOG_DEBUG, "libbpf: %s", msg);
	return 0;
}

int health_monitor_new(struct ev_loop *loop, const struct health_config *cfg,
		       const struct health_callbacks *cb, void *arg, struct health_monitor **out,
		       struct error *err)
{
	struct health_monitor *hm = calloc(1, sizeof(*hm));

	*out = NULL;
	if (!hm)
		return error_set(err, ENOMEM, "out of memory");
	hm->loop = loop;
	hm->cb = *cb;
	hm->arg = arg;
	hm->interval_s = cfg->interval_s > 0 ? cfg->interval_s : 1.;
	hm->page_size = sysconf(_SC_PAGESIZE);
	hm->clk_tck = sysconf(_SC_CLK_TCK);
	hm->source = HEALTH_SOURCE_PROCFS;
	if (cfg->mode == HEALTH_MODE_PROCFS) {
		snprintf(hm->fallback_reason, sizeof(hm->fallback_reason), "/proc was asked for");
	} else {
		libbpf_set_print(libbpf_print);
		if (load_bpf(hm) == 0) {
			hm->source = HEALTH_SOURCE_BPF;
		} else {
			unload_bpf(hm);
			if (cfg->mode == HEALTH_MODE_BPF) {
				error_set(err, EPERM, "health monitor: %s", hm->fallback_reason);
				free(hm);
				return -EPERM;
			}
		}
	}
	ev_timer_init(&hm->tick_w, on_tick, hm->interval_s, hm->interval_s);
	hm->tick_w.data = hm;
	*out = hm;
	return 0;
}

void health_monitor_adopt_begin(struct health_monitor *hm)
{
	struct health_watch self = { .root = 0 };
	__u32 key = (__u32)getpid();

	if (hm->skel)
		bpf_map_update_elem(bpf_map__fd(hm->skel->maps.watched), &key, &self, BPF_ANY);
}

void health_monitor_adopt_end(struct health_monitor *hm)
{
	__u32 key = (__u32)getpid();

	if (hm->skel)
		bpf_map_delete_elem(bpf_map__fd(hm->skel->maps.watched), &key);
}

int health_monitor_watch(struct health_monitor *hm, pid_t pid, const struct health_limits *limits,
			 struct error *err)
{
	struct watch *w;
	struct proc_figures f = { 0 };

	if (find_watch(hm, pid))
		return error_set(err, EEXIST, "pid %d is already watched", (int)pid);
	if (limits && limits->growth_bytes_per_s > 0 &&
	    (limits->growth_samples < 3 || limits->growth_samples > GROWTH_MAX))
		return error_set(err, EINVAL, "the RSS trend needs 3 to %d samples", GROWTH_MAX);
	if (hm->nwatches == hm->cap) {
		size_t cap = hm->cap ? hm->cap * 2 : 4;
		struct watch *nw = realloc(hm->watches, cap * sizeof(*nw));

		if (!nw)
			return error_set(err, ENOMEM, "out of memory");
		hm->watches = nw;
		hm->cap = cap;
	}
	read_proc(hm, pid, &f);
	if (hm->source == HEALTH_SOURCE_BPF) {
		struct health_watch hw = { .root = (unsigned)pid };
		struct health_stats hs = { .root = (unsigned)pid,
					   .rss_pages = f.rss_bytes / (uint64_t)hm->page_size };
		__u32 key = (__u32)pid;
		int stats_fd = bpf_map__fd(hm->skel->maps.stats);

		/* An adopted child is known to the kernel side already: keep what it saw. */
		if (bpf_map_update_elem(stats_fd, &key, &hs, BPF_NOEXIST) < 0 && errno != EEXIST)
			return error_set(err, errno, "cannot watch pid %d: %s", (int)pid,
					 strerror(errno));
		if (bpf_map_lookup_elem(stats_fd, &key, &hs) == 0 && hs.root != (unsigned)pid)
			return error_set(err, EEXIST, "pid %d descends from watched pid %u",
					 (int)pid, hs.root);
		if (bpf_map_update_elem(bpf_map__fd(hm->skel->maps.watched), &key, &hw,
					BPF_NOEXIST) < 0 &&
		    errno != EEXIST) {
			int e = errno;

			bpf_map_delete_elem(stats_fd, &key);
			return error_set(err, e, "cannot watch pid %d: %s", (int)pid, strerror(e));
		}
		/* The baseline from the same counters the samples read; /proc's is in ticks. */
		if (read_tasks(hm) == 0) {
			struct bpf_figures bf;

			read_bpf(hm, pid, &bf);
			f.cpu_ns = bf.cpu_ns;
		}
	}
	w = &hm->watches[hm->nwatches++];
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	if (limits)
		w->limits = *limits;
	w->last_cpu_ns = f.cpu_ns;
	w->last_mono_ns = clock_mono_ns();
	if (!ev_is_active(&hm->tick_w)) {
		/* The loop's clock may be stale (loading BPF took a while): a full first interval. */
		ev_now_update(hm->loop);
		ev_timer_start(hm->loop, &hm->tick_w);
	}
	return 0;
}

int health_monitor_follow(struct health_monitor *hm, pid_t root, pid_t pid)
{
	struct health_watch hw = { .root = (unsigned)root };
	struct health_stats hs = { .root = (unsigned)root };
	__u32 key = (__u32)pid;

	if (!find_watch(hm, root))
		return -ENOENT;
	if (!hm->skel || pid == root)
		return 0;
	/* Already known: forked by a watched process since, which is the same root. */
	if (bpf_map_update_elem(bpf_map__fd(hm->skel->maps.stats), &key, &hs, BPF_NOEXIST) < 0)
		return errno == EEXIST ? 0 : -errno;
	if (bpf_map_update_elem(bpf_map__fd(hm->skel->maps.watched), &key, &hw, BPF_ANY) < 0) {
		int e = -errno;

		bpf_map_delete_elem(bpf_map__fd(hm->skel->maps.stats), &key);
		return e;
	}
	return 0;
}

void health_monitor_unwatch(struct health_monitor *hm, pid_t pid)
{
	struct watch *w = find_watch(hm, pid);

	if (!w)
		return;
	if (hm->skel)
		forget_bpf(hm, pid);
	*w = hm->watches[--hm->nwatches];
	if (hm->nwatches == 0)
		ev_timer_stop(hm->loop, &hm->tick_w);
}

void health_monitor_reaped(struct health_monitor *hm, pid_t pid, int wait_status,
			   struct health_end *end)
{
	struct watch *w;

	memset(end, 0, sizeof(*end));
	end->wait_status = wait_status;
	/* The kernel submits the exit record before the parent can reap: it is there. */
	if (hm->rb)
		ring_buffer__consume(hm->rb);
	w = find_watch(hm, pid);
	if (w && w->ended) {
		int sig = (int)(w->end.exit_code & 0x7f);

		end->known = true;
		end->oom_killed = w->end.oom_victim != 0;
		if (sig && (int)w->end.signal == sig && !end->oom_killed) {
			end->killer_pid = (pid_t)w->end.sender_pid;
			memcpy(end->killer_comm, w->end.sender_comm, HEALTH_COMM_LEN);
			end->killer_comm[HEALTH_COMM_LEN - 1] = '\0';
		}
	}
	health_monitor_unwatch(hm, pid);
}

void health_monitor_free(struct health_monitor *hm)
{
	if (!hm)
		return;
	while (hm->nwatches)
		health_monitor_unwatch(hm, hm->watches[0].pid);
	ev_timer_stop(hm->loop, &hm->tick_w);
	unload_bpf(hm);
	free(hm->tasks);
	free(hm->watches);
	free(hm);
}

enum health_mode health_mode_parse(const char *name)
{
	if (strcmp(name, "bpf") == 0)
		return HEALTH_MODE_BPF;
	return strcmp(name, "procfs") == 0 ? HEALTH_MODE_PROCFS : HEALTH_MODE_AUTO;
}
