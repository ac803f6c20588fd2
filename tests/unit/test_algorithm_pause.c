/* Unit tests of the algorithm host's backpressure (pause/resume) and breaker reset, with real algo-sim children. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>

#include <collector/algorithm.h>

struct seen {
	int timeouts, restarts, results;
	bool done;
	enum algorithm_code code;
};

static char sim[PATH_MAX];
static char pkg[64];

static void on_event(void *arg, const char *type, pid_t pid, const char *json, size_t len)
{
	struct seen *s = arg;

	(void)pid;
	(void)json;
	(void)len;
	s->timeouts += strcmp(type, "algorithm.timeout") == 0;
	s->restarts += strcmp(type, "algorithm.restart") == 0;
	s->results += strcmp(type, "algorithm.result") == 0;
}

static void on_done(void *arg, const struct algorithm_result *res)
{
	struct seen *s = arg;

	s->done = true;
	s->code = res->code;
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

/* Run the loop for @p secs whatever happens. */
static void run_for(double secs)
{
	struct ev_loop *loop = ev_default_loop(0);
	ev_timer t;

	ev_now_update(loop); /* the loop's time is stale after the slow work before */
	ev_timer_init(&t, on_tick, secs, 0.);
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	ev_timer_stop(loop, &t);
}

/* A package of algo-sim answering after 100 ms, with a 600 ms call timeout and 50 ms heartbeats. */
static int setup(void **state)
{
	char self[PATH_MAX], path[96], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	FILE *f;

	(void)state;
	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	/* build/tests/THIS -> build/tools/algo-sim/algo_sim */
	snprintf(sim, sizeof(sim), "%.*s/../tools/algo-sim/algo_sim", PATH_MAX - 40, self);
	snprintf(pkg, sizeof(pkg), "/tmp/collector-pause.XXXXXX");
	if (!mkdtemp(pkg))
		return -1;
	snprintf(path, sizeof(path), "%s/manifest.json", pkg);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"{\"name\":\"pause\",\"protocol\":1,\"entry_point\":[\"%s\",\"--latency-us\","
		"\"100000\"],\"env\":{\"ASAN_OPTIONS\":\"detect_leaks=0\"},"
		"\"limits\":{\"call_timeout_ms\":600,\"heartbeat_ms\":50,\"grace_ms\":300}}\n",
		sim);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char path[96];

	(void)state;
	snprintf(path, sizeof(path), "%s/manifest.json", pkg);
	unlink(path);
	rmdir(pkg);
	ev_loop_destroy(ev_default_loop(0));
	return 0;
}

static struct algorithm *open_host(struct seen *s)
{
	struct algorithm_options o = { .on_event = on_event, .arg = s };
	struct algorithm *a = NULL;
	struct error err = { 0 };

	if (access(sim, X_OK) != 0)
		return NULL;
	assert_int_equal(algorithm_open(pkg, &o, &a, &err), 0);
	assert_int_equal(algorithm_pre_execute(a, NULL, NULL, &err), ALGORITHM_OK);
	return a;
}

/* The call is in flight, answered after 100 ms, but the host does not read for 1 s. */
static void test_paused_call_does_not_time_out(void **state)
{
	struct seen s = { 0 };
	struct algorithm *a = open_host(&s);

	(void)state;
	if (!a)
		skip();
	algorithm_submit(a, "execute", "{}", NULL, on_done, &s);
	algorithm_pause(a);
	assert_true(algorithm_paused(a));
	run_for(1.0);
	assert_false(s.done);
	assert_int_equal(algorithm_pending(a), 1);
	assert_int_equal(s.timeouts, 0);
	assert_int_equal(s.restarts, 0);
	assert_true(algorithm_paused_ns(a) >= 900000000);
	algorithm_resume(a);
	assert_false(algorithm_paused(a));
	algorithm_drain(a);
	assert_int_equal(s.code, ALGORITHM_OK);
	assert_int_equal(s.timeouts, 0);
	assert_int_equal(s.restarts, 0);
	algorithm_close(a);
}

/* Calls submitted while paused wait in the queue, then each gets one outcome. */
static void test_paused_host_queues_calls(void **state)
{
	struct seen s = { 0 }, done[3] = { 0 };
	struct algorithm *a = open_host(&s);
	int64_t paused;

	(void)state;
	if (!a)
		skip();
	algorithm_pause(a);
	for (int i = 0; i < 3; i++)
		algorithm_submit(a, "execute", "{}", NULL, on_done, &done[i]);
	run_for(0.4);
	for (int i = 0; i < 3; i++)
		assert_false(done[i].done);
	assert_int_equal(s.results, 1); /* the pre_execute only */
	algorithm_resume(a);
	paused = algorithm_paused_ns(a);
	algorithm_drain(a);
	for (int i = 0; i < 3; i++)
		assert_int_equal(done[i].code, ALGORITHM_OK);
	assert_int_equal(s.results, 4);
	assert_int_equal(s.timeouts, 0);
	assert_int_equal(algorithm_paused_ns(a), paused); /* not paused any more */
	assert_int_equal(algorithm_reset(a), 0);	  /* no breaker was open */
	algorithm_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paused_call_does_not_time_out),
		cmocka_unit_test(test_paused_host_queues_calls),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
