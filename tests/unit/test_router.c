/* Unit tests for the event router (collector/router.c): globs, runner rules, mask unions, the cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "router.h"

#define ALL ((sink_mask)0xFF)

static sink_mask match(struct router *r, const char *runner, const char *type, sink_mask all)
{
	return router_match(r, runner, span_str(type), all);
}

static struct router *new_router(void)
{
	struct router *r = router_new();

	assert_non_null(r);
	return r;
}

static void add(struct router *r, const char *runner, const char *glob, sink_mask sinks)
{
	struct error err = { 0 };

	assert_int_equal(router_add(r, runner, glob, sinks, &err), 0);
	assert_int_equal(err.code, 0);
}

static void test_no_rules_all_sinks(void **state)
{
	struct router *r = new_router();

	(void)state;
	assert_int_equal(router_rules(r), 0);
	assert_int_equal(match(r, "exec", "exec.line", ALL), ALL);
	assert_int_equal(match(r, "other", "x", 0x5), 0x5);
	assert_int_equal(match(r, "exec", "", ~(sink_mask)0), ~(sink_mask)0);
	assert_int_equal(match(r, "exec", "exec.line", 0), 0);
	assert_int_equal(router_reachable(r, "exec", ALL), ALL);
	assert_int_equal(router_reachable(r, "any", 0x3), 0x3);
	router_free(r);
	router_free(NULL);
}

static void test_glob_rules(void **state)
{
	struct router *r = new_router();

	(void)state;
	add(r, NULL, "exec.*", 0x1);
	add(r, NULL, "*.exit", 0x2);
	add(r, NULL, "app.login", 0x4);
	add(r, NULL, "app.?", 0x8);
	add(r, NULL, "[xy].z", 0x10);
	assert_int_equal(router_rules(r), 5);

	assert_int_equal(match(r, "exec", "exec.line", ALL), 0x1);
	assert_int_equal(match(r, "exec", "exec.stderr", ALL), 0x1);
	assert_int_equal(match(r, "exec", "exec.exit", ALL), 0x1 | 0x2);
	assert_int_equal(match(r, "exec", "app.exit", ALL), 0x2);
	assert_int_equal(match(r, "exec", "app.login", ALL), 0x4);
	assert_int_equal(match(r, "exec", "app.a", ALL), 0x8);
	assert_int_equal(match(r, "exec", "x.z", ALL), 0x10);
	assert_int_equal(match(r, "exec", "y.z", ALL), 0x10);
	/* near misses */
	assert_int_equal(match(r, "exec", "z.z", ALL), 0);
	assert_int_equal(match(r, "exec", "app.ab", ALL), 0);
	assert_int_equal(match(r, "exec", "exec", ALL), 0);
	assert_int_equal(match(r, "exec", "execx.line", ALL), 0);
	assert_int_equal(match(r, "exec", "app.login.x", ALL), 0);
	assert_int_equal(match(r, "exec", "app.logi", ALL), 0);
	assert_int_equal(match(r, "exec", "APP.LOGIN", ALL), 0);
	assert_int_equal(match(r, "exec", "exit", ALL), 0);
	assert_int_equal(match(r, "exec", "", ALL), 0);
	/* "*" crosses dots (fnmatch without FNM_PATHNAME/PERIOD) */
	assert_int_equal(match(r, "exec", "exec.a.b.c", ALL), 0x1);
	assert_int_equal(match(r, "exec", "a.b.exit", ALL), 0x2);
	/* the answer is limited to the sinks that exist */
	assert_int_equal(match(r, "exec", "exec.exit", 0x2), 0x2);
	assert_int_equal(match(r, "exec", "app.login", 0x3), 0);
	router_free(r);
}

static void test_runner_specific_rules(void **state)
{
	struct router *r = new_router();

	(void)state;
	add(r, "a", NULL, 0x1);	  /* everything from runner a */
	add(r, "b", "x.*", 0x2);  /* x.* from runner b */
	add(r, NULL, "x.y", 0x4); /* x.y from anyone */
	add(r, "c", "never", 0x8);

	assert_int_equal(match(r, "a", "x.y", ALL), 0x1 | 0x4);
	assert_int_equal(match(r, "a", "anything", ALL), 0x1);
	assert_int_equal(match(r, "b", "x.y", ALL), 0x2 | 0x4);
	assert_int_equal(match(r, "b", "x.q", ALL), 0x2);
	assert_int_equal(match(r, "b", "z", ALL), 0);
	assert_int_equal(match(r, "c", "x.y", ALL), 0x4);
	assert_int_equal(match(r, "c", "never", ALL), 0x8);
	assert_int_equal(match(r, "d", "x.y", ALL), 0x4);
	assert_int_equal(match(r, "d", "x.q", ALL), 0);
	/* runner names match exactly */
	assert_int_equal(match(r, "aa", "anything", ALL), 0);
	assert_int_equal(match(r, "A", "anything", ALL), 0);
	assert_int_equal(match(r, "", "anything", ALL), 0);
	router_free(r);
}

static void test_union_of_masks(void **state)
{
	struct router *r = new_router();

	(void)state;
	add(r, NULL, "*", 0x1);
	add(r, NULL, "app.*", 0x2 | 0x4);
	add(r, NULL, "app.login", 0x4 | 0x8);
	add(r, "web", "app.*", 0x10);
	add(r, "web", NULL, 0x20);
	add(r, NULL, NULL, 0x40);
	assert_int_equal(match(r, "web", "app.login", ALL), 0x7F);
	assert_int_equal(match(r, "cli", "app.login", ALL), 0x1 | 0x2 | 0x4 | 0x8 | 0x40);
	assert_int_equal(match(r, "cli", "app.other", ALL), 0x1 | 0x2 | 0x4 | 0x40);
	assert_int_equal(match(r, "cli", "sys.boot", ALL), 0x1 | 0x40);
	assert_int_equal(match(r, "web", "sys.boot", ALL), 0x1 | 0x20 | 0x40);
	/* high sink indexes */
	add(r, NULL, "big", (sink_mask)1 << 63);
	assert_int_equal(match(r, "cli", "big", ~(sink_mask)0), ((sink_mask)1 << 63) | 0x1 | 0x40);
	assert_int_equal(match(r, "cli", "big", ALL), 0x1 | 0x40);
	router_free(r);
}

/* The cached last answer must never leak into a different question. */
static void test_cache_alternating(void **state)
{
	struct router *r = new_router();
	static const struct {
		const char *runner;
		const char *type;
		sink_mask all;
		sink_mask want;
	} q[] = {
		{ "a", "exec.line", ALL, 0x1 }, { "a", "exec.line", ALL, 0x1 },
		{ "a", "app.login", ALL, 0x4 }, { "a", "exec.line", ALL, 0x1 },
		{ "a", "exec.exit", ALL, 0x3 }, { "b", "exec.exit", ALL, 0x3 | 0x8 },
		{ "a", "exec.exit", ALL, 0x3 }, { "a", "exec.exit", 0x1, 0x1 },
		{ "a", "exec.exit", ALL, 0x3 }, { "a", "exec.lin", ALL, 0x1 },
		{ "a", "exec.l", ALL, 0x1 },	{ "a", "exec.", ALL, 0x1 },
		{ "a", "exec", ALL, 0 },	{ "a", "", ALL, 0 },
		{ "b", "", ALL, 0x8 },		{ "", "", ALL, 0 },
		{ "a", "app.login", ALL, 0x4 }, { "a", "app.logins", ALL, 0 },
	};

	(void)state;
	add(r, NULL, "exec.*", 0x1);
	add(r, NULL, "*.exit", 0x2);
	add(r, NULL, "app.login", 0x4);
	add(r, "b", NULL, 0x8);
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
			size_t k = round % 2 ? sizeof(q) / sizeof(q[0]) - 1 - i : i;

			assert_int_equal(match(r, q[k].runner, q[k].type, q[k].all), q[k].want);
		}
	}
	router_free(r);
}

/* Types are spans: only @c len bytes count, whatever follows them in memory. */
static void test_cache_with_spans(void **state)
{
	struct router *r = new_router();
	static const char buf[] = "exec.linexyz";

	(void)state;
	add(r, NULL, "exec.line", 0x1);
	add(r, NULL, "exec.linex", 0x2);
	add(r, NULL, "exec.lin", 0x4);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(router_match(r, "a", (struct span){ buf, 9 }, ALL), 0x1);
		assert_int_equal(router_match(r, "a", (struct span){ buf, 10 }, ALL), 0x2);
		assert_int_equal(router_match(r, "a", (struct span){ buf, 8 }, ALL), 0x4);
		assert_int_equal(router_match(r, "a", (struct span){ buf, 9 }, ALL), 0x1);
		assert_int_equal(router_match(r, "a", (struct span){ buf, 12 }, ALL), 0);
	}
	router_free(r);
}

/* Adding a rule after a cached decision must change the answer. */
static void test_cache_invalidated_by_add(void **state)
{
	struct router *r = new_router();

	(void)state;
	add(r, NULL, "x", 0x1);
	assert_int_equal(match(r, "a", "t", ALL), 0);
	assert_int_equal(match(r, "a", "t", ALL), 0);
	add(r, NULL, "t", 0x8);
	assert_int_equal(match(r, "a", "t", ALL), 0x8);
	add(r, "a", NULL, 0x10);
	assert_int_equal(match(r, "a", "t", ALL), 0x18);
	assert_int_equal(router_rules(r), 3);
	router_free(r);
}

/* Long runner names that share a long prefix are still told apart. */
static void test_cache_long_runner_names(void **state)
{
	struct router *r = new_router();
	char a[100], b[100];

	(void)state;
	memset(a, 'r', 90);
	memcpy(b, a, 90);
	a[90] = b[90] = '\0';
	a[85] = 'A';
	b[85] = 'B';
	add(r, a, NULL, 0x1);
	add(r, b, NULL, 0x2);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(match(r, a, "t", ALL), 0x1);
		assert_int_equal(match(r, a, "t", ALL), 0x1);
		assert_int_equal(match(r, b, "t", ALL), 0x2);
	}
	/* names up to the runner limit, differing only in the last character */
	a[64] = b[64] = '\0';
	a[63] = 'A';
	b[63] = 'B';
	add(r, a, "t", 0x4);
	assert_int_equal(match(r, a, "t", ALL), 0x4);
	assert_int_equal(match(r, b, "t", ALL), 0);
	assert_int_equal(match(r, a, "t", ALL), 0x4);
	router_free(r);
}

static void test_reachable(void **state)
{
	struct router *r = new_router();

	(void)state;
	add(r, "a", "*", 0x1);
	add(r, NULL, "x.*", 0x2);
	add(r, "b", "y", 0x4);
	add(r, "b", NULL, 0x8);
	assert_int_equal(router_reachable(r, "a", ALL), 0x1 | 0x2);
	assert_int_equal(router_reachable(r, "b", ALL), 0x2 | 0x4 | 0x8);
	assert_int_equal(router_reachable(r, "c", ALL), 0x2);
	assert_int_equal(router_reachable(r, "b", 0x6), 0x6);
	assert_int_equal(router_reachable(r, "a", 0x4), 0);
	router_free(r);

	/* a runner no rule names reaches nothing */
	r = new_router();
	add(r, "a", NULL, 0x1);
	assert_int_equal(router_reachable(r, "z", ALL), 0);
	assert_int_equal(router_reachable(r, "a", ALL), 0x1);
	router_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_rules_all_sinks),
		cmocka_unit_test(test_glob_rules),
		cmocka_unit_test(test_runner_specific_rules),
		cmocka_unit_test(test_union_of_masks),
		cmocka_unit_test(test_cache_alternating),
		cmocka_unit_test(test_cache_with_spans),
		cmocka_unit_test(test_cache_invalidated_by_add),
		cmocka_unit_test(test_cache_long_runner_names),
		cmocka_unit_test(test_reachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
