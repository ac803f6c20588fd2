/* Unit tests for rotated file names (sinks/rotated_name.c) and the torn-tail search (sinks/line_tail.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../sinks/line_tail.h"
#include "../../sinks/rotated_name.h"

static void check_ok(const char *pattern)
{
	struct error err = { 0 };

	assert_int_equal(rotated_name_check(pattern, &err), 0);
}

static void check_bad(const char *pattern, const char *why)
{
	struct error err = { 0 };

	assert_int_equal(rotated_name_check(pattern, &err), -EINVAL);
	assert_non_null(strstr(err.msg, why));
}

static void test_check(void **state)
{
	(void)state;
	check_ok("{path}.{seq}");
	check_ok("/archive/{time}-{seq}.jsonl");
	check_bad("{path}", "{seq} exactly once");
	check_bad("{path}.{seq}.{seq}", "{seq} exactly once");
	check_bad("{path}.{n}", "unknown placeholder");
	check_bad("/a/{seq}/x", "not a directory");
}

static void test_format(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(rotated_name_format("{path}.{seq}", "/v/e.jsonl", 7, 0, out, sizeof(out)),
			 0);
	assert_string_equal(out, "/v/e.jsonl.000007");
	assert_int_equal(rotated_name_format("{path}-{time}-{seq}", "/v/e", 1234567, 86400 + 3661,
					     out, sizeof(out)),
			 0);
	assert_string_equal(out, "/v/e-19700102T010101Z-1234567");
	assert_int_equal(rotated_name_format("{path}.{seq}", "/v/e.jsonl", 7, 0, out, 10),
			 -ENAMETOOLONG);
}

static void test_parse(void **state)
{
	uint64_t seq = 0;
	int gz = -1;

	(void)state;
	assert_int_equal(rotated_name_parse("{path}.{seq}", "/v/e", "/v/e.000042", &seq, &gz), 0);
	assert_int_equal(seq, 42);
	assert_int_equal(gz, 0);
	assert_int_equal(rotated_name_parse("{path}.{seq}", "/v/e", "/v/e.000043.gz", &seq, &gz),
			 0);
	assert_int_equal(seq, 43);
	assert_int_equal(gz, 1);
	assert_int_equal(rotated_name_parse("{path}-{time}-{seq}", "/v/e",
					    "/v/e-19700102T010101Z-000009", &seq, &gz),
			 0);
	assert_int_equal(seq, 9);
	/* Not rotated files: the live file, temporary .gz, other suffixes, bad times. */
	assert_int_equal(rotated_name_parse("{path}.{seq}", "/v/e", "/v/e", &seq, &gz), -ENOENT);
	assert_int_equal(rotated_name_parse("{path}.{seq}", "/v/e", "/v/e.000001.gz.tmp", &seq,
					    &gz),
			 -ENOENT);
	assert_int_equal(rotated_name_parse("{path}.{seq}", "/v/e", "/v/e.x", &seq, &gz), -ENOENT);
	assert_int_equal(rotated_name_parse("{path}-{time}-{seq}", "/v/e",
					    "/v/e-1970010xT010101Z-000009", &seq, &gz),
			 -ENOENT);
}

static void test_dir(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(rotated_name_dir("{path}.{seq}", "/v/e", out, sizeof(out)), 0);
	assert_string_equal(out, "/v");
	assert_int_equal(rotated_name_dir("/{seq}", "/v/e", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(rotated_name_dir("{seq}", "e", out, sizeof(out)), 0);
	assert_string_equal(out, ".");
}

static void tail_of(const char *content, size_t len, off_t want_whole)
{
	char path[] = "/tmp/collector-tail.XXXXXX";
	int fd = mkstemp(path);
	off_t whole = -1, end = -1;

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	assert_int_equal(line_tail_find(fd, &whole, &end), 0);
	assert_int_equal(end, (off_t)len);
	assert_int_equal(whole, want_whole);
	close(fd);
}

static void test_line_tail(void **state)
{
	static char big[10000];

	(void)state;
	tail_of("", 0, 0);
	tail_of("a\nb\n", 4, 4);
	tail_of("a\n{\"torn", 8, 2);
	tail_of("no newline", 10, 0);
	/* The last newline lies more than one read block before the end. */
	memset(big, 'x', sizeof(big));
	big[100] = '\n';
	tail_of(big, sizeof(big), 101);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),	  cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse),	  cmocka_unit_test(test_dir),
		cmocka_unit_test(test_line_tail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
