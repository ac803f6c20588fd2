/* Unit tests of the attach stream decoder: frames of both streams, however the bytes are cut. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../runners/container/mux.h"

struct sink {
	char out[256], err[256];
	size_t nout, nerr;
};

static void collect(void *arg, bool is_stderr, const char *p, size_t n)
{
	struct sink *s = arg;

	if (is_stderr) {
		memcpy(s->err + s->nerr, p, n);
		s->nerr += n;
	} else {
		memcpy(s->out + s->nout, p, n);
		s->nout += n;
	}
}

/* stdout "hello\n", stderr "oops\n", a stdin frame (dropped), stdout "bye\n". */
static size_t stream(char *buf)
{
	static const unsigned char bytes[] = { 1,   0,	 0,   0,    0,	 0,   0,    6,	 'h', 'e',
					       'l', 'l', 'o', '\n', 2,	 0,   0,    0,	 0,   0,
					       0,   5,	 'o', 'o',  'p', 's', '\n', 0,	 0,   0,
					       0,   0,	 0,   0,    2,	 'i', 'n',  1,	 0,   0,
					       0,   0,	 0,   0,    4,	 'b', 'y',  'e', '\n' };

	memcpy(buf, bytes, sizeof(bytes));
	return sizeof(bytes);
}

static void check(const struct sink *s, const struct mux *m)
{
	assert_int_equal(s->nout, 10);
	assert_memory_equal(s->out, "hello\nbye\n", 10);
	assert_int_equal(s->nerr, 5);
	assert_memory_equal(s->err, "oops\n", 5);
	assert_int_equal(m->bad, 1);
}

static void test_whole(void **state)
{
	char buf[64];
	size_t n = stream(buf);
	struct mux m = { 0 };
	struct sink s = { 0 };

	(void)state;
	mux_feed(&m, buf, n, collect, &s);
	check(&s, &m);
}

/* Every cut point, headers split included: the same bytes come out. */
static void test_every_split(void **state)
{
	char buf[64];
	size_t n = stream(buf);

	(void)state;
	for (size_t cut = 0; cut <= n; cut++) {
		struct mux m = { 0 };
		struct sink s = { 0 };

		mux_feed(&m, buf, cut, collect, &s);
		mux_feed(&m, buf + cut, n - cut, collect, &s);
		check(&s, &m);
	}
}

static void test_byte_by_byte(void **state)
{
	char buf[64];
	size_t n = stream(buf);
	struct mux m = { 0 };
	struct sink s = { 0 };

	(void)state;
	for (size_t i = 0; i < n; i++)
		mux_feed(&m, buf + i, 1, collect, &s);
	check(&s, &m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_byte_by_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
