/* Unit tests for "did you mean" (collector/suggest.c): which name is close enough to offer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "suggest.h"

static const char *nearest(const char *word, const char *const *names)
{
	static char out[128];
	struct suggestion s;

	suggest_begin(&s, word);
	for (; *names; names++)
		suggest_offer(&s, *names);
	return suggest_text(&s, "--", out, sizeof(out));
}

static void test_nearest(void **state)
{
	static const char *const names[] = { "metrics", "metrics-public", "policy", "pid", NULL };

	(void)state;
	assert_string_equal(nearest("metric", names), " (did you mean '--metrics'?)");
	assert_string_equal(nearest("polcy", names), " (did you mean '--policy'?)");
	/* A swap of two letters is one edit. */
	assert_string_equal(nearest("plociy", names), " (did you mean '--policy'?)");
	/* The start of a name. */
	assert_string_equal(nearest("metrics-pub", names), " (did you mean '--metrics-public'?)");
}

static void test_nothing_far(void **state)
{
	static const char *const names[] = { "process", "exec", "ssl", NULL };

	(void)state;
	assert_string_equal(nearest("zzzzzzzz", names), "");
	/* A short word allows one edit only. */
	assert_string_equal(nearest("abc", names), "");
	/* The word itself is not a suggestion. */
	assert_string_equal(nearest("exec", names), "");
	/* Longer than the comparison takes: nothing, and no overflow. */
	assert_string_equal(nearest("processprocessprocessprocessprocessprocessprocessprocessproces"
				    "s"
				    "processprocess",
				    names),
			    "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nearest),
		cmocka_unit_test(test_nothing_far),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
