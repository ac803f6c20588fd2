/* Health monitor benchmark workloads: a pipe ping-pong pair, and crash-to-event latency. */
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

static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* N round trips of one byte between this process and a forked partner, both on CPU 0. */
static int pingpong(long n)
{
	int ab[2], ba[2];
	char c = 'x';
	pid_t partner;
	int64_t start, took;

	if (pipe(ab) < 0 || pipe(ba) < 0)
		return 1;
	pin_to(0);
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

/* The run time the kernel counted for the health_switch program with id @p id. */
static int switch_stats(__u32 id, __u64 *run_ns, __u64 *runs)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), rc;

	if (fd < 0)
		return -1;
	rc = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	*run_ns = info.run_time_ns;
	*runs = info.run_cnt;
	return rc;
}

/* The newest loaded program named health_switch: the one this process just loaded. */
static __u32 newest_switch_prog(void)
{
	__u32 id = 0, found = 0;

	while (bpf_prog_get_next_id(id, &id) == 0) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    strcmp(info.name, "health_switch") == 0)
			found = id;
		close(fd);
	}
	return found;
}

/*
 * The sched_switch program's own cost while a watched ping-pong pair runs N round
 * trips (the kernel's BPF run-time statistics, enabled for this run only).
 */
static int switch_cost(long n)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct health_callbacks cb = { 0 };
	struct health_config cfg = { .interval_s = 1, .mode = HEALTH_MODE_BPF };
	struct health_monitor *hm;
	struct health_end end;
	struct error err = { 0 };
	__u64 ns0, runs0, ns1, runs1;
	int stats_fd, ws;
	__u32 id;
	pid_t pid;

	if (health_monitor_new(loop, &cfg, &cb, NULL, &hm, &err) < 0) {
		fprintf(stderr, "health_bench: %s\n", err.msg);
		return 1;
	}
	id = newest_switch_prog();
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (!id || stats_fd < 0 || switch_stats(id, &ns0, &runs0) < 0) {
		fprintf(stderr, "health_bench: no BPF run-time statistics\n");
		return 1;
	}
	health_monitor_adopt_begin(hm);
	pid = fork();
	if (pid == 0)
		_exit(pingpong(n));
	health_monitor_adopt_end(hm);
	if (pid < 0 || health_monitor_watch(hm, pid, NULL, &err) < 0 || waitpid(pid, &ws, 0) != pid)
		return 1;
	switch_stats(id, &ns1, &runs1);
	close(stats_fd);
	health_monitor_reaped(hm, pid, ws, &end);
	health_monitor_free(hm);
	printf("{\"type\":\"bench.switch_cost\",\"data\":{\"calls\":%llu,\"ns_per_call\":%.1f}}\n",
	       (unsigned long long)(runs1 - runs0),
	       runs1 > runs0 ? (double)(ns1 - ns0) / (double)(runs1 - runs0) : 0.);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "pingpong") == 0)
		return pingpong(atol(argv[2]));
	if (argc == 3 && strcmp(argv[1], "crashes") == 0)
		return crashes(atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "switchcost") == 0)
		return switch_cost(atol(argv[2]));
	fprintf(stderr, "usage: health_bench pingpong ROUND_TRIPS | crashes N | switchcost "
			"ROUND_TRIPS\n");
	return 2;
}
