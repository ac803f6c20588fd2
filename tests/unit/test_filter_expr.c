/* Unit tests of --where expressions: what matches, and where a bad one is wrong. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <collector/event_view.h>

#include "filter_expr.h"

static const char *const event_line =
	"{\"type\":\"http.response\",\"ts_ns\":1000,\"runner\":\"ssl\",\"pid\":42,"
	"\"comm\":\"curl\",\"data\":{\"status\":503,\"method\":\"GET\",\"path\":\"/api/v1\","
	"\"ok\":false,\"none\":null,\"big\":18446744073709551615,\"lat\":1.5,"
	"\"argv\":[\"python3\",\"-c\",\"x\"],\"req\":{\"host\":\"example.org\"}}}";

/* Whether @p expr matches the event above (it must parse). */
static bool matches(const char *expr)
{
	struct event_view v = { 0 };
	struct error err = { 0 };
	struct filter_expr *f = filter_expr_parse(expr, &err);
	bool m;

	if (!f)
		fail_msg("'%s' did not parse: %s", expr, err.msg);
	assert_int_equal(event_view_parse(&v, event_line, strlen(event_line), NULL), 0);
	m = filter_expr_match(f, &v);
	filter_expr_free(f);
	event_view_free(&v);
	return m;
}

static void test_comparisons(void **state)
{
	(void)state;
	assert_true(matches("data.status >= 500 and comm == \"curl\""));
	assert_false(matches("data.status >= 500 and comm == \"wget\""));
	assert_true(matches("data.status == 503"));
	assert_true(matches("data.status != 200"));
	assert_true(matches("data.status > 502.5 and data.status < 504"));
	assert_true(matches("data.status <= 503 && pid >= 42"));
	assert_false(matches("pid < 42"));
	assert_true(matches("data.lat == 1.5"));
	assert_true(matches("data.big > 1e19"));
	assert_true(matches("comm < 'd' and comm > 'c'"));
	assert_true(matches("data.req.host == \"example.org\""));
	assert_true(matches("data.ok == false and data.none == null"));
	assert_false(matches("data.ok == true"));
	/* A string and a number are never equal; ordering across types is false. */
	assert_false(matches("data.status == \"503\""));
	assert_false(matches("comm > 1"));
}

static void test_globs_and_arrays(void **state)
{
	(void)state;
	assert_true(matches("type ~ \"http.*\""));
	assert_true(matches("type == \"http.*\""));
	assert_false(matches("type != \"http.*\""));
	assert_true(matches("data.path !~ \"/admin*\""));
	assert_true(matches("pid ~ \"4?\""));
	assert_true(matches("data.argv == \"python3\""));
	assert_true(matches("data.argv ~ \"-*\""));
	assert_false(matches("data.argv == \"ruby\""));
}

static void test_logic_and_missing(void **state)
{
	(void)state;
	assert_true(matches("not comm == \"wget\""));
	assert_true(matches("!(pid == 1) and (pid == 42 or pid == 43)"));
	assert_true(matches("pid == 1 or pid == 2 or comm == \"curl\""));
	assert_false(matches("pid == 1 or (pid == 42 and not comm ~ 'c*')"));
	/* A missing field makes every comparison false, != included. */
	assert_false(matches("data.nothing == 1"));
	assert_false(matches("data.nothing != 1"));
	assert_true(matches("not data.nothing"));
	assert_true(matches("data.status and data.req"));
	assert_false(matches("data.ok or data.none"));
}

/* @p expr fails to parse with a message containing @p want. */
static void parse_fails(const char *expr, const char *want)
{
	struct error err = { 0 };
	struct filter_expr *f = filter_expr_parse(expr, &err);

	assert_null(f);
	assert_int_equal(err.code, EINVAL);
	if (!strstr(err.msg, want))
		fail_msg("'%s': expected '%s' in '%s'", expr, want, err.msg);
}

static void test_errors_say_where(void **state)
{
	char deep[300] = "";

	(void)state;
	parse_fails("", "column 1: empty");
	parse_fails("data.status >=", "column 15: expected a value after '>='");
	parse_fails("(a == 1", "column 8: expected ')'");
	parse_fails("a == \"x", "column 6: the string has no closing \"");
	parse_fails("a == 1 b", "column 8: expected 'and', 'or' or the end, found 'b'");
	parse_fails("a $ 1", "column 3: unexpected character '$'");
	parse_fails("a == 12abc", "column 6: the word there is not a number");
	parse_fails("data. == 1", "column 5: a field name ends in '.'");
	parse_fails(") or a", "column 1: expected a field");
	parse_fails("a and", "column 6: expected a field");
	for (int i = 0; i < 70; i++)
		strcat(deep, "(");
	parse_fails(deep, "nested too deep");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comparisons),
		cmocka_unit_test(test_globs_and_arrays),
		cmocka_unit_test(test_logic_and_missing),
		cmocka_unit_test(test_errors_say_where),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
