/* Health monitor benchmark workloads: a pipe ping-pong pair, and crash-to-event latency. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <ev.h>

#include <collector/health_monitor.h>

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * N round trips of one byte between this process and a forked partner, which
 * inherits this one's CPU affinity (the bench pins it to one CPU with taskset).
 */
static int pingpong(long n)
{
	int ab[2], ba[2];
	char c = 'x';
	pid_t partner;
	int64_t start, took;

	if (pipe(ab) < 0 || pipe(ba) < 0)
		return 1;
	partner = fork();
	if (partner < 0)
		return 1;
	if (partner == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(ab[1]);
		close(ba[0]);
		while (read(ab[0], &c, 1) == 1 && write(ba[1], &c, 1) == 1)
			;
		_exit(0);
	}
	start = mono_ns();
	for (long i = 0; i < n; i++)
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			return 1;
	took = mono_ns() - start;
	close(ab[1]);
	waitpid(partner, NULL, 0);
	printf("{\"type\":\"bench.pingpong\",\"data\":{\"round_trips\":%ld,\"ns_per_round_trip\":%."
	       "1f}}\n",
	       n, (double)took / (double)n);
	fflush(stdout);
	return 0;
}

struct crash_run {
	struct ev_loop *loop;
	struct health_monitor *hm;
	volatile int64_t *crashed_at; /* shared with the child */
	pid_t pid;
	int64_t happening_ns; /* the exit happening arrived */
	int64_t reaped_ns;    /* SIGCHLD, waitpid and health_monitor_reaped() done */
	int64_t woke_ns;      /* the floor run's pipe byte arrived */
	bool signal_known;
};

static void on_happening(void *arg, const struct health_happening *h)
{
	struct crash_run *r = arg;

	if (h->kind == HEALTH_EXIT && h->pid == r->pid && !r->happening_ns)
		r->happening_ns = mono_ns();
}

static void on_child(struct ev_loop *loop, ev_child *w, int revents)
{
	struct crash_run *r = w->data;
	struct health_end end;

	(void)revents;
	ev_child_stop(loop, w);
	health_monitor_reaped(r->hm, w->rpid, w->rstatus, &end);
	r->reaped_ns = mono_ns();
	r->signal_known = end.known && end.killer_pid == w->rpid;
	ev_break(loop, EVBREAK_ONE);
}

static void on_pipe(struct ev_loop *loop, ev_io *w, int revents)
{
	struct crash_run *r = w->data;
	char c;

	(void)loop;
	(void)revents;
	if (read(w->fd, &c, 1) == 1 && !r->woke_ns)
		r->woke_ns = mono_ns();
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double pct(int64_t *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	return (double)v[(int)((n - 1) * p)] / 1000.;
}

/*
 * N children that segfault; latency from the crash to the exit happening and to the reap.
 * Between them, N children that write a byte to a pipe and exit: the wake-up floor of
 * the same loop on the same machine at the same time.
 */
static int crashes(int n)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct health_callbacks cb = { .on_happening = on_happening };
	struct health_config cfg = { .interval_s = 1, .mode = HEALTH_MODE_BPF };
	struct crash_run r = { .loop = loop };
	struct error err = { 0 };
	int64_t *to_event = calloc((size_t)n, sizeof(int64_t));
	int64_t *to_reap = calloc((size_t)n, sizeof(int64_t));
	int64_t *floor = calloc((size_t)n, sizeof(int64_t));
	int known = 0, fds[2];
	ev_child cw;
	ev_io pw;

	r.crashed_at = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!to_event || !to_reap || !floor || pipe(fds) < 0 || r.crashed_at == MAP_FAILED ||
	    health_monitor_new(loop, &cfg, &cb, &r, &r.hm, &err) < 0) {
		fprintf(stderr, "health_bench: %s\n", err.msg[0] ? err.msg : strerror(errno));
		return 1;
	}
	ev_io_init(&pw, on_pipe, fds[0], EV_READ);
	pw.data = &r;
	ev_io_start(loop, &pw);
	for (int i = 0; i < n; i++) {
		r.woke_ns = 0;
		r.pid = fork();
		if (r.pid == 0) {
			*r.crashed_at = mono_ns();
			_exit(write(fds[1], "x", 1) == 1 ? 0 : 1);
		}
		ev_child_init(&cw, on_child, r.pid, 0);
		cw.data = &r;
		ev_child_start(loop, &cw);
		ev_run(loop, 0);
		while (!r.woke_ns)
			ev_run(loop, EVRUN_ONCE);
		floor[i] = r.woke_ns - *r.crashed_at;

		r.happening_ns = r.reaped_ns = 0;
		health_monitor_adopt_begin(r.hm);
		r.pid = fork();
		if (r.pid == 0) {
			signal(SIGSEGV, SIG_DFL);
			*r.crashed_at = mono_ns();
			raise(SIGSEGV);
			_exit(1);
		}
		health_monitor_adopt_end(r.hm);
		if (r.pid < 0 || health_monitor_watch(r.hm, r.pid, NULL, &err) < 0)
			return 1;
		ev_child_init(&cw, on_child, r.pid, 0);
		cw.data = &r;
		ev_child_start(loop, &cw);
		ev_run(loop, 0);
		/* The ring buffer's wake-up may lose the race with SIGCHLD: then reaped() read it. */
		to_event[i] = (r.happening_ns ? r.happening_ns : r.reaped_ns) - *r.crashed_at;
		to_reap[i] = r.reaped_ns - *r.crashed_at;
		known += r.signal_known;
	}
	printf("{\"type\":\"bench.crashes\",\"data\":{\"crashes\":%d,\"signal_known\":%d,"
	       "\"event_p50_us\":%.1f,\"event_p99_us\":%.1f,\"reaped_p50_us\":%.1f,"
	       "\"reaped_p99_us\":%.1f,\"floor_p50_us\":%.1f,\"floor_p99_us\":%.1f}}\n",
	       n, known, pct(to_event, n, .5), pct(to_event, n, .99), pct(to_reap, n, .5),
	       pct(to_reap, n, .99), pct(floor, n, .5), pct(floor, n, .99));
	ev_io_stop(loop, &pw);
	close(fds[0]);
	close(fds[1]);
	free(floor);
	health_monitor_free(r.hm);
	free(to_event);
	free(to_reap);
	return 0;
}

/* The kernel's run-time statistics of one program: calls and ns, and its name. */
struct prog_stats {
	__u32 id;
	char name[BPF_OBJ_NAME_LEN];
	__u64 run_ns;
	__u64 runs;
};

/*
 * The programs this process holds (its monitor's; other processes on the
 * machine may load the same ones): up to @p max, from /proc/self/fdinfo.
 */
static int own_progs(struct prog_stats *out, int max)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return 0;
	while (n < max && (de = readdir(dir))) {
		char path[300], target[64], line[128];
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		ssize_t tl;
		FILE *fp;
		int fd;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		tl = readlink(path, target, sizeof(target) - 1);
		if (tl < 0)
			continue;
		target[tl] = '\0';
		if (strcmp(target, "anon_inode:bpf-prog") != 0)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", de->d_name);
		if (!(fp = fopen(path, "re")))
			continue;
		out[n].id = 0;
		while (fgets(line, sizeof(line), fp))
			if (sscanf(line, "prog_id: %u", &out[n].id) == 1)
				break;
		fclose(fp);
		fd = out[n].id ? bpf_prog_get_fd_by_id(out[n].id) : -1;
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    strncmp(info.name, "health_", 7) == 0) {
			memcpy(out[n].name, info.name, sizeof(out[n].name));
			out[n].run_ns = info.run_time_ns;
			out[n].runs = info.run_cnt;
			n++;
		}
		close(fd);
	}
	closedir(dir);
	return n;
}

struct cost_run {
	struct health_monitor *hm;
	int samples;
};

static void on_cost_sample(void *arg, const struct health_sample *s)
{
	struct cost_run *r = arg;

	(void)s;
	r->samples++;
}

static void on_cost_child(struct ev_loop *loop, ev_child *w, int revents)
{
	struct cost_run *r = w->data;
	struct health_end end;

	(void)revents;
	ev_child_stop(loop, w);
	health_monitor_reaped(r->hm, w->rpid, w->rstatus, &end);
	ev_break(loop, EVBREAK_ONE);
}

#define MAX_PROGS 16

/*
 * The monitor's programs' own cost while a watched ping-pong pair runs N round
 * trips, sampled every 100 ms (the kernel's BPF run-time statistics, enabled
 * for this run only).
 */
static int prog_cost(long n)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct health_callbacks cb = { .on_sample = on_cost_sample };
	struct health_config cfg = { .interval_s = .1, .mode = HEALTH_MODE_BPF };
	struct cost_run r = { 0 };
	struct prog_stats before[MAX_PROGS], after[MAX_PROGS];
	struct error err = { 0 };
	int stats_fd, nprogs;
	ev_child cw;
	pid_t pid;

	if (health_monitor_new(loop, &cfg, &cb, &r, &r.hm, &err) < 0) {
		fprintf(stderr, "health_bench: %s\n", err.msg);
		return 1;
	}
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	nprogs = own_progs(before, MAX_PROGS);
	if (stats_fd < 0 || nprogs == 0) {
		fprintf(stderr, "health_bench: no BPF run-time statistics\n");
		return 1;
	}
	health_monitor_adopt_begin(r.hm);
	pid = fork();
	if (pid == 0)
		_exit(pingpong(n));
	health_monitor_adopt_end(r.hm);
	if (pid < 0 || health_monitor_watch(r.hm, pid, NULL, &err) < 0)
		return 1;
	ev_child_init(&cw, on_cost_child, pid, 0);
	cw.data = &r;
	ev_child_start(loop, &cw);
	ev_run(loop, 0);
	if (own_progs(after, MAX_PROGS) != nprogs)
		return 1;
	/* fds are listed in order, and the monitor's programs stay open: the same ones. */
	for (int i = 0; i < nprogs; i++)
		if (after[i].id != before[i].id)
			return 1;
	close(stats_fd);
	health_monitor_free(r.hm);
	printf("{\"type\":\"bench.prog_cost\",\"data\":{\"round_trips\":%ld,\"samples\":%d,"
	       "\"programs\":[",
	       n, r.samples);
	for (int i = 0; i < nprogs; i++) {
		__u64 calls = after[i].runs - before[i].runs;

		printf("%s{\"name\":\"%s\",\"calls\":%llu,\"ns_per_call\":%.1f}", i ? "," : "",
		       after[i].name, (unsigned long long)calls,
		       calls ? (double)(after[i].run_ns - before[i].run_ns) / (double)calls : 0.);
	}
	printf("]}}\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "pingpong") == 0)
		return pingpong(atol(argv[2]));
	if (argc == 3 && strcmp(argv[1], "crashes") == 0)
		return crashes(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "progcost") == 0)
		return prog_cost(atol(argv[2]));
	fprintf(stderr, "usage: health_bench pingpong ROUND_TRIPS | crashes N | progcost "
			"ROUND_TRIPS\n");
	return 2;
}
