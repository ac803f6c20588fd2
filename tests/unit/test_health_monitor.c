/* Unit tests of the health monitor with real children: /proc samples, limits, BPF ends. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>
#include <valgrind/valgrind.h>

#include <collector/health_monitor.h>

struct seen {
	int samples;
	struct health_sample last;
	double best_cpu;
	/* CPU seconds over all samples, from when sampling began (since_ns, realtime) */
	double cpu_s;
	int64_t since_ns;
	int warnings[HEALTH_WARN_MEMORY_ACTION + 1];
	int actions;
	int exits;
};

static void on_sample(void *arg, const struct health_sample *s)
{
	struct seen *seen = arg;

	seen->samples++;
	seen->last = *s;
	if (s->cpu_percent > seen->best_cpu)
		seen->best_cpu = s->cpu_percent;
	if (seen->since_ns)
		seen->cpu_s += s->cpu_percent / 100. * (double)(s->ts_ns - seen->since_ns) / 1e9;
	seen->since_ns = s->ts_ns;
}

static void on_warning(void *arg, const struct health_warning *w)
{
	struct seen *seen = arg;

	seen->warnings[w->kind]++;
}

static void on_action(void *arg, const struct health_warning *why)
{
	struct seen *seen = arg;

	assert_int_equal(why->kind, HEALTH_WARN_MEMORY_ACTION);
	seen->actions++;
}

static void on_happening(void *arg, const struct health_happening *h)
{
	struct seen *seen = arg;

	if (h->kind == HEALTH_EXIT)
		seen->exits++;
}

static const struct health_callbacks callbacks = {
	.on_sample = on_sample,
	.on_warning = on_warning,
	.on_action = on_action,
	.on_happening = on_happening,
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A child that spins for @p secs, or waits to be killed when @p secs is 0. */
static pid_t spawn_child(double secs)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		double end = now_s() + secs;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (secs == 0)
			for (;;)
				pause();
		while (now_s() < end)
			;
		_exit(0);
	}
	return pid;
}

static void stop_loop(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

static void run_for(struct ev_loop *loop, double secs)
{
	ev_timer t;

	ev_timer_init(&t, stop_loop, secs, 0.);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
}

static void test_procfs_samples_and_end(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct health_config cfg = { .interval_s = 0.05, .mode = HEALTH_MODE_PROCFS };
	struct health_monitor *hm;
	struct error err = { 0 };
	struct seen seen = { 0 };
	struct health_end end;
	pid_t pid;
	int ws;

	(void)state;
	assert_int_equal(health_monitor_new(loop, &cfg, &callbacks, &seen, &hm, &err), 0);
	assert_int_equal(health_monitor_source(hm), HEALTH_SOURCE_PROCFS);
	assert_string_equal(health_monitor_fallback_reason(hm), "/proc was asked for");
	pid = spawn_child(0.4);
	assert_int_equal(health_monitor_watch(hm, pid, NULL, &err), 0);
	assert_int_equal(health_monitor_watch(hm, pid, NULL, &err), -EEXIST);
	run_for(loop, 0.28);
	assert_true(seen.samples >= 3);
	assert_int_equal(seen.last.pid, pid);
	assert_int_equal(seen.last.source, HEALTH_SOURCE_PROCFS);
	assert_int_equal(seen.last.threads, 1);
	assert_true(seen.last.rss_bytes > 0);
	assert_true(seen.best_cpu > 0);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	health_monitor_reaped(hm, pid, ws, &end);
	assert_int_equal(end.wait_status, ws);
	assert_false(end.known);
	assert_int_equal(seen.exits, 0);
	health_monitor_free(hm);
	ev_loop_destroy(loop);
}

static void test_limits_warn_once(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct health_config cfg = { .interval_s = 0.03, .mode = HEALTH_MODE_PROCFS };
	struct health_limits limits = { .memory_high = 1, .memory_action = 2 };
	struct health_limits bad = { .growth_bytes_per_s = 1, .growth_samples = 2 };
	struct health_monitor *hm;
	struct error err = { 0 };
	struct seen seen = { 0 };
	pid_t pid;

	(void)state;
	assert_int_equal(health_monitor_new(loop, &cfg, &callbacks, &seen, &hm, &err), 0);
	pid = spawn_child(0);
	assert_int_equal(health_monitor_watch(hm, pid, &bad, &err), -EINVAL);
	assert_int_equal(health_monitor_watch(hm, pid, &limits, &err), 0);
	run_for(loop, 0.2);
	assert_true(seen.samples >= 3);
	assert_int_equal(seen.warnings[HEALTH_WARN_MEMORY_HIGH], 1);
	assert_int_equal(seen.actions, 1);
	assert_int_equal(seen.warnings[HEALTH_WARN_CPU_PINNED], 0);
	health_monitor_unwatch(hm, pid);
	seen.samples = 0;
	run_for(loop, 0.1);
	assert_int_equal(seen.samples, 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	health_monitor_free(hm);
	ev_loop_destroy(loop);
}

/* BPF (root): a child killed by this process names it; a fast exit is not missed. */
static void test_bpf_ends(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct health_config cfg = { .interval_s = 0.05, .mode = HEALTH_MODE_BPF };
	struct health_monitor *hm;
	struct error err = { 0 };
	struct seen seen = { 0 };
	struct health_end end;
	char comm[HEALTH_COMM_LEN] = "";
	pid_t pid;
	int ws;

	(void)state;
	/* Valgrind does not model the bpf(2) commands; `make asan` checks this path. */
	if (RUNNING_ON_VALGRIND || geteuid() != 0 ||
	    health_monitor_new(loop, &cfg, &callbacks, &seen, &hm, &err) < 0) {
		ev_loop_destroy(loop);
		skip();
	}
	prctl(PR_GET_NAME, comm);
	pid = spawn_child(0);
	assert_int_equal(health_monitor_watch(hm, pid, NULL, &err), 0);
	run_for(loop, 0.12);
	assert_true(seen.samples >= 1);
	assert_int_equal(seen.last.source, HEALTH_SOURCE_BPF);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	health_monitor_reaped(hm, pid, ws, &end);
	assert_true(end.known);
	assert_false(end.oom_killed);
	assert_int_equal(end.killer_pid, getpid());
	assert_string_equal(end.killer_comm, comm);
	assert_int_equal(seen.exits, 1);

	/* Ends before it is watched: adopted from its fork on. */
	health_monitor_adopt_begin(hm);
	pid = fork();
	if (pid == 0)
		_exit(3);
	health_monitor_adopt_end(hm);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_int_equal(health_monitor_watch(hm, pid, NULL, &err), 0);
	health_monitor_reaped(hm, pid, ws, &end);
	assert_true(end.known);
	assert_int_equal(end.killer_pid, 0);
	assert_true(WIFEXITED(end.wait_status) && WEXITSTATUS(end.wait_status) == 3);
	assert_int_equal(health_monitor_lost(hm), 0);
	health_monitor_free(hm);
	ev_loop_destroy(loop);
}

static double process_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define GRANDCHILD_CPU_S 0.1

static void *spin_thread(void *arg)
{
	(void)arg;
	while (process_cpu_s() < GRANDCHILD_CPU_S)
		;
	return NULL;
}

/*
 * BPF (root): CPU time comes from the kernel's accounting of every thread, and
 * a descendant's stays with its root after it ends: a child whose grandchild
 * spins 0.1 s of CPU on two threads and ends shows 0.1 s in all, whatever the
 * machine's load. The interval is long so that the grandchild usually ends
 * within the first one: that sample must count what it ran.
 */
static void test_bpf_cpu_of_threads_and_descendants(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct health_config cfg = { .interval_s = 1, .mode = HEALTH_MODE_BPF };
	struct health_monitor *hm;
	struct error err = { 0 };
	struct seen seen = { 0 };
	struct timespec ts;
	double deadline;
	pid_t pid;

	(void)state;
	if (RUNNING_ON_VALGRIND || geteuid() != 0 ||
	    health_monitor_new(loop, &cfg, &callbacks, &seen, &hm, &err) < 0) {
		ev_loop_destroy(loop);
		skip();
	}
	health_monitor_adopt_begin(hm);
	pid = fork();
	if (pid == 0) {
		pid_t grandchild;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		grandchild = fork();
		if (grandchild == 0) {
			pthread_t t;

			if (pthread_create(&t, NULL, spin_thread, NULL) != 0)
				_exit(1);
			spin_thread(NULL);
			pthread_join(t, NULL);
			_exit(0);
		}
		waitpid(grandchild, NULL, 0);
		for (;;)
			pause();
	}
	health_monitor_adopt_end(hm);
	assert_true(pid > 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	seen.since_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	assert_int_equal(health_monitor_watch(hm, pid, NULL, &err), 0);
	deadline = now_s() + 10;
	/* Until the grandchild has come and gone, and a sample after that. */
	while ((seen.cpu_s < GRANDCHILD_CPU_S * 0.9 || seen.last.processes != 1) &&
	       now_s() < deadline)
		run_for(loop, 0.05);
	assert_int_equal(seen.last.source, HEALTH_SOURCE_BPF);
	assert_int_equal(seen.last.processes, 1);
	assert_int_equal(seen.last.threads, 1);
	assert_true(seen.cpu_s > GRANDCHILD_CPU_S * 0.9 && seen.cpu_s < GRANDCHILD_CPU_S * 1.3);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	health_monitor_free(hm);
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_procfs_samples_and_end),
		cmocka_unit_test(test_limits_warn_once),
		cmocka_unit_test(test_bpf_ends),
		cmocka_unit_test(test_bpf_cpu_of_threads_and_descendants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
