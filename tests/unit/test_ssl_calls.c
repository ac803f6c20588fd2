/* Unit tests for bpf/ssl_calls.c: TLS calls put back together from their ring-buffer records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ssl_calls.h"

struct got {
	int calls;
	unsigned kind;
	unsigned tid;
	size_t captured;
	bool incomplete;
	unsigned char data[4 * SSL_CHUNK];
	bool stop; /* what the callback answers: stop after this call */
};

static bool on_call(void *arg, const struct ssl_record *head, const void *data, size_t captured,
		    bool incomplete)
{
	struct got *g = arg;

	g->calls++;
	g->kind = head->kind;
	g->tid = head->tid;
	g->captured = captured;
	g->incomplete = incomplete;
	if (data)
		memcpy(g->data, data, captured);
	return !g->stop;
}

/* Record @i of a call of @total captured bytes by thread @tid, its bytes all @fill. */
static struct ssl_record *record(unsigned tid, unsigned long long ts, unsigned total, unsigned i,
				 char fill)
{
	static struct ssl_record r;
	unsigned left = total - i * SSL_CHUNK;

	memset(&r, 0, sizeof(r));
	r.kind = SSL_RECORD_DATA;
	r.tid = tid;
	r.pid = 1;
	r.ts_ns = ts;
	r.conn = 0x1000;
	r.len = total;
	r.captured = total;
	r.offset = i * SSL_CHUNK;
	r.chunk_len = left < SSL_CHUNK ? left : SSL_CHUNK;
	memset(r.data, fill, r.chunk_len);
	return &r;
}

static void test_one_record_call(void **state)
{
	struct ssl_calls c;
	struct got g = { 0 };

	(void)state;
	ssl_calls_init(&c, 4 * SSL_CHUNK, on_call, &g);
	assert_true(ssl_calls_add(&c, record(7, 1, 100, 0, 'a'), sizeof(struct ssl_record)));
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.captured, 100);
	assert_false(g.incomplete);
	assert_int_equal(g.data[99], 'a');
	ssl_calls_free(&c);
}

/* Two threads' calls of three records each, interleaved: each comes out whole, in order. */
static void test_interleaved_calls(void **state)
{
	struct ssl_calls c;
	struct got g = { 0 };
	unsigned total = 2 * SSL_CHUNK + 10;

	(void)state;
	ssl_calls_init(&c, 4 * SSL_CHUNK, on_call, &g);
	for (unsigned i = 0; i < 3; i++) {
		ssl_calls_add(&c, record(1, 10, total, i, (char)('a' + i)),
			      sizeof(struct ssl_record));
		ssl_calls_add(&c, record(2, 20, total, i, (char)('x' + i)),
			      sizeof(struct ssl_record));
	}
	assert_int_equal(g.calls, 2);
	assert_int_equal(g.tid, 2);
	assert_int_equal(g.captured, total);
	assert_false(g.incomplete);
	assert_int_equal(g.data[0], 'x');
	assert_int_equal(g.data[SSL_CHUNK], 'y');
	assert_int_equal(g.data[total - 1], 'z');
	assert_int_equal(c.incomplete, 0);
	ssl_calls_free(&c);
}

/* A lost middle record: the call comes out incomplete, with what arrived in order. */
static void test_lost_record(void **state)
{
	struct ssl_calls c;
	struct got g = { 0 };
	unsigned total = 2 * SSL_CHUNK + 10;

	(void)state;
	ssl_calls_init(&c, 4 * SSL_CHUNK, on_call, &g);
	ssl_calls_add(&c, record(1, 10, total, 0, 'a'), sizeof(struct ssl_record));
	ssl_calls_add(&c, record(1, 10, total, 2, 'c'), sizeof(struct ssl_record));
	assert_int_equal(g.calls, 1);
	assert_true(g.incomplete);
	assert_int_equal(g.captured, SSL_CHUNK);
	assert_int_equal(c.incomplete, 1);
	ssl_calls_free(&c);
}

/* The thread's next call begins before the last one ended: the last one is given up. */
static void test_thread_moved_on(void **state)
{
	struct ssl_calls c;
	struct got g = { 0 };

	(void)state;
	ssl_calls_init(&c, 4 * SSL_CHUNK, on_call, &g);
	ssl_calls_add(&c, record(1, 10, 2 * SSL_CHUNK, 0, 'a'), sizeof(struct ssl_record));
	ssl_calls_add(&c, record(1, 11, 2 * SSL_CHUNK, 0, 'b'), sizeof(struct ssl_record));
	assert_int_equal(g.calls, 1);
	assert_true(g.incomplete);
	assert_int_equal(g.data[0], 'a');
	/* What is still waiting at the end comes out incomplete too. */
	assert_true(ssl_calls_flush(&c));
	assert_int_equal(g.calls, 2);
	assert_true(g.incomplete);
	assert_int_equal(g.data[0], 'b');
	assert_int_equal(c.incomplete, 2);
	ssl_calls_free(&c);
}

/* Handshakes pass straight through; short records and unknown kinds are ignored. */
static void test_other_records(void **state)
{
	struct ssl_calls c;
	struct got g = { .stop = true };
	struct ssl_record r = { .kind = SSL_RECORD_HANDSHAKE, .ret = 1 };

	(void)state;
	ssl_calls_init(&c, SSL_CHUNK, on_call, &g);
	assert_false(ssl_calls_add(&c, &r, sizeof(r)));
	assert_int_equal(g.kind, SSL_RECORD_HANDSHAKE);
	assert_true(ssl_calls_add(&c, &r, 8));
	r.kind = 99;
	assert_true(ssl_calls_add(&c, &r, sizeof(r)));
	assert_int_equal(g.calls, 1);
	ssl_calls_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_record_call), cmocka_unit_test(test_interleaved_calls),
		cmocka_unit_test(test_lost_record),	cmocka_unit_test(test_thread_moved_on),
		cmocka_unit_test(test_other_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
