/* Unit tests for typed options (collector/options.c): every type, defaults, errors, size/duration parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <collector/options.h>

#define NS_PER_S INT64_C(1000000000)

static const struct option_spec specs[] = {
	{ .name = "name",
	  .short_name = 'n',
	  .type = OPT_STRING,
	  .def = "default-name",
	  .help = "a name" },
	{ .name = "tag", .short_name = 't', .type = OPT_STRING, .help = "tags", .repeat = true },
	{ .name = "count", .short_name = 'c', .type = OPT_INT, .def = "7", .help = "a count" },
	{ .name = "max-bytes", .type = OPT_SIZE, .def = "64KiB", .help = "a size" },
	{ .name = "timeout", .type = OPT_DURATION, .def = "1.5m", .help = "a duration" },
	{ .name = "verbose", .short_name = 'v', .type = OPT_BOOL, .help = "a flag" },
	{ .name = "color", .type = OPT_BOOL, .def = "true", .help = "a flag on by default" },
	{ .name = "format",
	  .short_name = 'f',
	  .type = OPT_ENUM,
	  .def = "auto",
	  .choices = "auto|json|text",
	  .help = "an enum" },
	{ .name = "command", .type = OPT_ARGV, .help = "the command" },
	{ .name = "nodef", .type = OPT_STRING, .help = "no default" },
	{ 0 },
};

static struct options *new_options(const struct option_spec *s)
{
	struct options *o = options_new(s);

	assert_non_null(o);
	assert_ptr_equal(options_specs(o), s);
	return o;
}

static void set_ok(struct options *o, const char *name, const char *value)
{
	struct error err = { 0 };
	int rc = options_set(o, name, value, &err);

	if (rc != 0)
		fail_msg("options_set(%s, %s) = %d: %s", name, value, rc, err.msg);
}

/* A bad value: EINVAL, and the message names the option and the value. */
static void set_bad(struct options *o, const char *name, const char *value)
{
	struct error err = { 0 };

	assert_int_equal(options_set(o, name, value, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	if (!strstr(err.msg, name) || !strstr(err.msg, value))
		fail_msg("message '%s' does not name '%s' and '%s'", err.msg, name, value);
}

static void test_defaults(void **state)
{
	struct options *o = new_options(specs);
	int count = -1;

	(void)state;
	assert_int_equal(options_finish(o, NULL), 0);
	assert_string_equal(options_str(o, "name"), "default-name");
	assert_int_equal(options_int(o, "count"), 7);
	assert_int_equal(options_int(o, "max-bytes"), 64 * 1024);
	assert_int_equal(options_int(o, "timeout"), 90 * NS_PER_S);
	assert_false(options_bool(o, "verbose"));
	assert_true(options_bool(o, "color"));
	assert_string_equal(options_str(o, "format"), "auto");
	assert_null(options_list(o, "command", &count));
	assert_int_equal(count, 0);
	assert_null(options_list(o, "tag", &count));
	assert_int_equal(count, 0);
	assert_null(options_str(o, "nodef"));
	assert_int_equal(options_int(o, "nodef"), 0);
	/* defaults are not "given" */
	for (const struct option_spec *s = specs; s->name; s++)
		assert_false(options_given(o, s->name));
	/* unknown names read as unset */
	assert_null(options_str(o, "nope"));
	assert_int_equal(options_int(o, "nope"), 0);
	assert_false(options_given(o, "nope"));
	assert_null(options_list(o, "nope", &count));
	assert_int_equal(count, 0);
	options_free(o);
	options_free(NULL);
}

static void test_every_type_set(void **state)
{
	struct options *o = new_options(specs);
	char *const *argv;
	int count = 0;

	(void)state;
	set_ok(o, "name", "first");
	set_ok(o, "name", "second"); /* the last value wins */
	set_ok(o, "count", "-42");
	set_ok(o, "max-bytes", "8MiB");
	set_ok(o, "timeout", "250ms");
	set_ok(o, "verbose", "true");
	set_ok(o, "color", "false");
	set_ok(o, "format", "json");
	set_ok(o, "command", "ls");
	set_ok(o, "command", "-l");
	set_ok(o, "command", "");
	set_ok(o, "command", "a b");
	assert_int_equal(options_finish(o, NULL), 0);

	assert_string_equal(options_str(o, "name"), "second");
	assert_int_equal(options_int(o, "count"), -42);
	assert_int_equal(options_int(o, "max-bytes"), 8 * 1024 * 1024);
	assert_int_equal(options_int(o, "timeout"), 250 * 1000 * 1000);
	assert_true(options_bool(o, "verbose"));
	assert_false(options_bool(o, "color"));
	assert_string_equal(options_str(o, "format"), "json");
	argv = options_list(o, "command", &count);
	assert_non_null(argv);
	assert_int_equal(count, 4);
	assert_string_equal(argv[0], "ls");
	assert_string_equal(argv[1], "-l");
	assert_string_equal(argv[2], "");
	assert_string_equal(argv[3], "a b");
	assert_null(argv[4]);
	assert_null(options_list(o, "command", NULL)[4]);
	for (const char *const *n =
		     (const char *const[]){ "name", "count", "max-bytes", "timeout", "verbose",
					    "color", "format", "command", NULL };
	     *n; n++)
		assert_true(options_given(o, *n));
	assert_false(options_given(o, "tag"));
	assert_false(options_given(o, "nodef"));
	options_free(o);
}

static void test_repeatable_string(void **state)
{
	struct options *o = new_options(specs);
	char *const *tags;
	int count = 0;

	(void)state;
	set_ok(o, "tag", "one");
	set_ok(o, "tag", "two");
	set_ok(o, "tag", "one");
	assert_int_equal(options_finish(o, NULL), 0);
	tags = options_list(o, "tag", &count);
	assert_int_equal(count, 3);
	assert_string_equal(tags[0], "one");
	assert_string_equal(tags[1], "two");
	assert_string_equal(tags[2], "one");
	assert_null(tags[3]);
	assert_true(options_given(o, "tag"));
	assert_null(options_str(o, "tag"));
	options_free(o);
}

/* A repeatable option named "path." takes every path.KEY=VALUE as "KEY=VALUE". */
static void test_prefixed_option(void **state)
{
	static const struct option_spec pspecs[] = {
		{ .name = "path.", .type = OPT_STRING, .repeat = true, .help = "per-type paths" },
		{ .name = "plain", .type = OPT_STRING, .help = "not a prefix" },
		{ 0 },
	};
	struct options *o = new_options(pspecs);
	struct error err = { 0 };
	char *const *paths;
	int count = 0;

	(void)state;
	set_ok(o, "path.collector.heartbeat", "/internal/runtime/heartbeat");
	set_ok(o, "path.exec.*", "/x");
	/* Unknown: a prefix of a non-prefix option, no dot. */
	assert_int_equal(options_set(o, "plain.x", "/b", &err), -ENOENT);
	assert_int_equal(options_set(o, "pathx", "/c", &err), -ENOENT);
	paths = options_list(o, "path.", &count);
	assert_int_equal(count, 2);
	assert_string_equal(paths[0], "collector.heartbeat=/internal/runtime/heartbeat");
	assert_string_equal(paths[1], "exec.*=/x");
	assert_true(options_given(o, "path."));
	options_free(o);
}

static void test_int_values(void **state)
{
	struct options *o = new_options(specs);

	(void)state;
	set_ok(o, "count", "0");
	assert_int_equal(options_int(o, "count"), 0);
	set_ok(o, "count", "9223372036854775807");
	assert_int_equal(options_int(o, "count"), INT64_MAX);
	set_ok(o, "count", "-9223372036854775808");
	assert_int_equal(options_int(o, "count"), INT64_MIN);
	set_ok(o, "count", "+5");
	assert_int_equal(options_int(o, "count"), 5);
	set_bad(o, "count", "12abc");
	set_bad(o, "count", "abc");
	set_bad(o, "count", "");
	set_bad(o, "count", "1.5");
	set_bad(o, "count", "1e3");
	set_bad(o, "count", "9223372036854775808");
	set_bad(o, "count", "-9223372036854775809");
	set_bad(o, "count", "5 ");
	options_free(o);
}

static void test_size_values(void **state)
{
	static const struct {
		const char *text;
		int64_t bytes;
	} ok[] = {
		{ "0", 0 },
		{ "4096", 4096 },
		{ "10B", 10 },
		{ "2K", 2048 },
		{ "2KB", 2048 },
		{ "64KiB", 65536 },
		{ "64kib", 65536 },
		{ "1.5K", 1536 },
		{ "3M", 3 << 20 },
		{ "3MB", 3 << 20 },
		{ "8MiB", 8 << 20 },
		{ "1G", INT64_C(1) << 30 },
		{ "1GB", INT64_C(1) << 30 },
		{ "1GiB", INT64_C(1) << 30 },
		{ "4GiB", INT64_C(4) << 30 },
		{ "0.5G", INT64_C(1) << 29 },
	};
	struct options *o = new_options(specs);

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t v = -1;

		assert_int_equal(parse_size(ok[i].text, &v), 0);
		assert_int_equal(v, ok[i].bytes);
		set_ok(o, "max-bytes", ok[i].text);
		assert_int_equal(options_int(o, "max-bytes"), ok[i].bytes);
	}
	set_bad(o, "max-bytes", "-1");
	set_bad(o, "max-bytes", "12Q");
	set_bad(o, "max-bytes", "KiB");
	set_bad(o, "max-bytes", "");
	options_free(o);
}

static void test_parse_size_edges(void **state)
{
	static const char *const bad[] = {
		"",    " ",   "-1",    "-1K",	"-0.5M", "K",
		"MiB", "12Q", "1KiBx", "1 KiB", "1K ",	 "1T",
		"1Ki", "nan", "inf",   "-inf",	"1e30G", "99999999999999999999",
		"abc",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t v = 12345;

		if (parse_size(bad[i], &v) != -EINVAL)
			fail_msg("parse_size(\"%s\") accepted: %lld", bad[i], (long long)v);
		assert_int_equal(v, 12345); /* untouched on error */
	}
}

static void test_duration_values(void **state)
{
	static const struct {
		const char *text;
		int64_t ns;
	} ok[] = {
		{ "250ms", 250 * 1000 * 1000 },
		{ "2s", 2 * NS_PER_S },
		{ "1.5m", 90 * NS_PER_S },
		{ "1m", 60 * NS_PER_S },
		{ "1h", 3600 * NS_PER_S },
		{ "3", 3 * NS_PER_S },
		{ "0.5", NS_PER_S / 2 },
		{ "0", 0 },
		{ "10us", 10 * 1000 },
		{ "7ns", 7 },
		{ "1500ms", 1500 * 1000 * 1000 },
		{ "0.25s", NS_PER_S / 4 },
		{ "2000000h", INT64_C(2000000) * 3600 * NS_PER_S },
	};
	struct options *o = new_options(specs);

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t v = -1;

		assert_int_equal(parse_duration(ok[i].text, &v), 0);
		assert_int_equal(v, ok[i].ns);
		set_ok(o, "timeout", ok[i].text);
		assert_int_equal(options_int(o, "timeout"), ok[i].ns);
	}
	set_bad(o, "timeout", "-1s");
	set_bad(o, "timeout", "5x");
	set_bad(o, "timeout", "s");
	set_bad(o, "timeout", "");
	options_free(o);
}

static void test_parse_duration_edges(void **state)
{
	static const char *const bad[] = {
		"",    " ",	 "-1", "-1s", "-0.5ms", "s",	"ms",	"2x",	    "2sec",  "2 s",
		"2s ", "1.5.2s", "1d", "nan", "inf",	"-inf", "infs", "3000000h", "1e300", "abc",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t v = 12345;

		if (parse_duration(bad[i], &v) != -EINVAL)
			fail_msg("parse_duration(\"%s\") accepted: %lld", bad[i], (long long)v);
		assert_int_equal(v, 12345); /* untouched on error */
	}
}

static void test_bool_values(void **state)
{
	struct options *o = new_options(specs);

	(void)state;
	set_ok(o, "verbose", "1");
	assert_true(options_bool(o, "verbose"));
	set_ok(o, "verbose", "false");
	assert_false(options_bool(o, "verbose"));
	set_ok(o, "verbose", "true");
	assert_true(options_bool(o, "verbose"));
	set_ok(o, "verbose", "0");
	assert_false(options_bool(o, "verbose"));
	set_bad(o, "verbose", "yes");
	set_bad(o, "verbose", "TRUE");
	set_bad(o, "verbose", "2");
	set_bad(o, "verbose", "");
	options_free(o);
}

static void test_enum_values(void **state)
{
	struct options *o = new_options(specs);

	(void)state;
	set_ok(o, "format", "text");
	assert_string_equal(options_str(o, "format"), "text");
	set_ok(o, "format", "auto");
	set_ok(o, "format", "json");
	assert_string_equal(options_str(o, "format"), "json");
	set_bad(o, "format", "xml");
	set_bad(o, "format", "jso");
	set_bad(o, "format", "json|text");
	set_bad(o, "format", "JSON");
	set_bad(o, "format", "");
	{
		struct error err = { 0 };

		assert_int_equal(options_set(o, "format", "xml", &err), -EINVAL);
		/* the message lists the choices */
		assert_non_null(strstr(err.msg, "auto|json|text"));
	}
	assert_string_equal(options_str(o, "format"), "json");
	options_free(o);
}

static void test_unknown_option(void **state)
{
	struct options *o = new_options(specs);
	struct error err = { 0 };

	(void)state;
	assert_int_equal(options_set(o, "colour", "true", &err), -ENOENT);
	assert_int_equal(err.code, ENOENT);
	assert_non_null(strstr(err.msg, "colour"));
	assert_int_equal(options_set(o, "", "x", &err), -ENOENT);
	assert_int_equal(options_set(o, "Name", "x", &err), -ENOENT);
	assert_int_equal(options_set(o, "n", "x", &err), -ENOENT); /* short names are the CLI's */
	assert_int_equal(options_finish(o, NULL), 0);
	options_free(o);
}

static void test_required(void **state)
{
	static const struct option_spec req[] = {
		{ .name = "path", .type = OPT_STRING, .required = true },
		{ .name = "level", .type = OPT_INT, .def = "3" },
		{ .name = "size", .type = OPT_SIZE, .required = true },
		{ 0 },
	};
	struct options *o = new_options(req);
	struct error err = { 0 };

	(void)state;
	assert_int_equal(options_finish(o, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_non_null(strstr(err.msg, "path"));

	set_ok(o, "path", "/tmp/x");
	memset(&err, 0, sizeof(err));
	assert_int_equal(options_finish(o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "size"));
	assert_null(strstr(err.msg, "path"));

	set_ok(o, "size", "1K");
	memset(&err, 0, sizeof(err));
	assert_int_equal(options_finish(o, &err), 0);
	assert_int_equal(err.code, 0);
	assert_string_equal(options_str(o, "path"), "/tmp/x");
	assert_int_equal(options_int(o, "size"), 1024);
	assert_int_equal(options_int(o, "level"), 3);
	options_free(o);
}

/* A default that does not parse is reported by options_finish. */
static void test_bad_default(void **state)
{
	static const struct option_spec bad_enum[] = {
		{ .name = "mode", .type = OPT_ENUM, .def = "fast", .choices = "slow|safe" },
		{ 0 },
	};
	static const struct option_spec bad_size[] = {
		{ .name = "limit", .type = OPT_SIZE, .def = "lots" },
		{ 0 },
	};
	struct options *o;
	struct error err = { 0 };

	(void)state;
	o = new_options(bad_enum);
	assert_int_equal(options_finish(o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "mode"));
	options_free(o);
	o = new_options(bad_size);
	assert_int_equal(options_finish(o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "limit"));
	options_free(o);
	/* given values are not replaced by the bad default */
	o = new_options(bad_enum);
	set_ok(o, "mode", "safe");
	assert_int_equal(options_finish(o, NULL), 0);
	assert_string_equal(options_str(o, "mode"), "safe");
	options_free(o);
}

static void test_empty_table(void **state)
{
	static const struct option_spec none[] = { { 0 } };
	struct options *o = new_options(none);
	struct error err = { 0 };

	(void)state;
	assert_int_equal(options_set(o, "x", "1", &err), -ENOENT);
	assert_int_equal(options_finish(o, NULL), 0);
	options_free(o);
}

/* A rejected value must leave the option as it was. */
static void test_rejected_value_keeps_previous(void **state)
{
	struct options *o = new_options(specs);
	struct error err = { 0 };

	(void)state;
	/* size, duration, bool and enum: untouched by a rejected value */
	set_ok(o, "max-bytes", "2K");
	set_bad(o, "max-bytes", "3X");
	assert_int_equal(options_int(o, "max-bytes"), 2048);
	set_ok(o, "timeout", "2s");
	set_bad(o, "timeout", "3x");
	assert_int_equal(options_int(o, "timeout"), 2 * NS_PER_S);
	set_ok(o, "verbose", "true");
	set_bad(o, "verbose", "no");
	assert_true(options_bool(o, "verbose"));
	set_ok(o, "format", "text");
	set_bad(o, "format", "xml");
	assert_string_equal(options_str(o, "format"), "text");
	options_free(o);

	o = new_options(specs);
	set_ok(o, "count", "5");
	assert_int_equal(options_set(o, "count", "12abc", &err), -EINVAL);
	assert_int_equal(options_int(o, "count"), 5);
	options_free(o);

	o = new_options(specs);
	assert_int_equal(options_set(o, "count", "99x", &err), -EINVAL);
	assert_false(options_given(o, "count"));
	assert_int_equal(options_int(o, "count"), 0);
	options_free(o);
}

/* What a runner gives its loader as flags, the loader parses back into equal values. */
static void test_argv_round_trip(void **state)
{
	struct options *a = new_options(specs), *b = new_options(specs);
	struct options_table table = { specs, b };
	struct error err = { 0 };
	char *words[16] = { "loader" };
	int n;

	(void)state;
	assert_int_equal(options_set(a, "name", "x y=z", &err), 0);
	assert_int_equal(options_set(a, "tag", "one", &err), 0);
	assert_int_equal(options_set(a, "tag", "two", &err), 0);
	assert_int_equal(options_set(a, "count", "-3", &err), 0);
	assert_int_equal(options_set(a, "max-bytes", "8MiB", &err), 0);
	assert_int_equal(options_set(a, "timeout", "1.5ms", &err), 0);
	assert_int_equal(options_set(a, "verbose", "true", &err), 0);
	assert_int_equal(options_set(a, "format", "json", &err), 0);
	n = options_to_argv(a, words + 1, 15, &err);
	assert_int_equal(n, 8); /* a repeated option once per value; defaults not given */
	assert_string_equal(words[1], "--name=x y=z");
	assert_int_equal(options_parse_argv(n + 1, words, &table, 1, &err), n + 1);
	assert_int_equal(options_finish(b, &err), 0);
	assert_string_equal(options_str(b, "name"), "x y=z");
	assert_int_equal(options_int(b, "count"), -3);
	assert_int_equal(options_int(b, "max-bytes"), 8 << 20);
	assert_int_equal(options_int(b, "timeout"), 1500000);
	assert_true(options_bool(b, "verbose"));
	assert_true(options_bool(b, "color"));
	assert_string_equal(options_str(b, "format"), "json");
	assert_int_equal(options_list(b, "tag", &n)[1][0], 't');
	assert_int_equal(n, 2);
	for (int i = 1; words[i]; i++)
		free(words[i]);
	options_free(a);
	options_free(b);
}

/* A flag cannot say false: a default-true flag turned off has no command-line form. */
static void test_argv_false_flag_refused(void **state)
{
	struct options *a = new_options(specs);
	struct error err = { 0 };
	char *words[4] = { 0 };

	(void)state;
	assert_int_equal(options_set(a, "color", "false", &err), 0);
	assert_int_equal(options_to_argv(a, words, 4, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "--color=false"));
	assert_null(words[0]);
	options_free(a);
}

/* Too little room: an error, and nothing left allocated. */
static void test_argv_no_room(void **state)
{
	struct options *a = new_options(specs);
	struct error err = { 0 };
	char *words[2] = { 0 };

	(void)state;
	assert_int_equal(options_set(a, "tag", "one", &err), 0);
	assert_int_equal(options_set(a, "tag", "two", &err), 0);
	assert_int_equal(options_set(a, "count", "1", &err), 0);
	assert_int_equal(options_to_argv(a, words, 2, &err), -E2BIG);
	options_free(a);
}

/* Unknown flags and missing values are errors that name the word. */
static void test_parse_argv_errors(void **state)
{
	struct options *a = new_options(specs);
	struct options_table table = { specs, a };
	struct error err = { 0 };
	char *unknown[] = { "x", "--bogus", NULL };
	char *missing[] = { "x", "--count", NULL };
	char *bad[] = { "x", "--count=many", NULL };
	char *stop[] = { "x", "-v", "word", "--count=2", NULL };

	(void)state;
	assert_int_equal(options_parse_argv(2, unknown, &table, 1, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown option '--bogus'"));
	assert_int_equal(options_parse_argv(2, missing, &table, 1, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "missing value for '--count'"));
	assert_int_equal(options_parse_argv(2, bad, &table, 1, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not an integer"));
	assert_int_equal(options_parse_argv(4, stop, &table, 1, &err), 2);
	assert_true(options_bool(a, "verbose"));
	assert_false(options_given(a, "count"));
	options_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_type_set),
		cmocka_unit_test(test_repeatable_string),
		cmocka_unit_test(test_prefixed_option),
		cmocka_unit_test(test_int_values),
		cmocka_unit_test(test_size_values),
		cmocka_unit_test(test_parse_size_edges),
		cmocka_unit_test(test_duration_values),
		cmocka_unit_test(test_parse_duration_edges),
		cmocka_unit_test(test_bool_values),
		cmocka_unit_test(test_enum_values),
		cmocka_unit_test(test_unknown_option),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_bad_default),
		cmocka_unit_test(test_empty_table),
		cmocka_unit_test(test_rejected_value_keeps_previous),
		cmocka_unit_test(test_argv_round_trip),
		cmocka_unit_test(test_argv_false_flag_refused),
		cmocka_unit_test(test_argv_no_room),
		cmocka_unit_test(test_parse_argv_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
