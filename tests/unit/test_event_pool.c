/* Unit tests for the event pool (collector/event_pool.c): blocks recycled, bounded, freed after the owner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <collector/json_decoder.h>

#include "event_pool.h"

static struct event *make(struct event_pool *p, size_t data_len)
{
	char *data = malloc(data_len);
	struct event *ev;

	assert_non_null(data);
	memset(data, '1', data_len);
	ev = event_pool_event(p, span_str("pool.test"), span_str("comm"),
			      (struct span){ data, data_len });
	free(data);
	assert_non_null(ev);
	/* Queues account the same bytes as for event_new(). */
	assert_int_equal(ev->size, sizeof(struct event) + EVENT_RUNNER_MAX + 9 + 4 + data_len);
	assert_int_equal(ev->refs, 1);
	assert_int_equal(ev->data.len, data_len);
	return ev;
}

static void test_block_recycled_within_its_class(void **state)
{
	struct event_pool *p = event_pool_new(1 << 20);
	struct event *a, *b;

	(void)state;
	assert_non_null(p);
	a = make(p, 100);
	event_unref(a);
	/* 100 and 101 data bytes round to the same 16-byte class: the same block again. */
	b = make(p, 101);
	assert_ptr_equal(a, b);
	assert_memory_equal(b->type.ptr, "pool.test", 9);
	event_unref(b);
	event_pool_release(p);
}

static void test_limit_zero_keeps_nothing(void **state)
{
	struct event_pool *p = event_pool_new(0);
	struct event *a;

	(void)state;
	assert_non_null(p);
	a = make(p, 50);
	event_unref(a); /* freed at once: the sanitizers see no block held */
	event_pool_release(p);
}

static void test_big_events_bypass_the_pool(void **state)
{
	struct event_pool *p = event_pool_new(1 << 20);
	struct event *big;

	(void)state;
	assert_non_null(p);
	big = make(p, 3 * EVENT_POOL_BLOCK_MAX);
	event_unref(big);
	event_pool_release(p);
}

static void test_events_outlive_the_owner(void **state)
{
	struct event_pool *p = event_pool_new(1 << 20);
	struct event *held, *spare;

	(void)state;
	assert_non_null(p);
	spare = make(p, 10);
	held = make(p, 20);
	event_unref(spare); /* a free block when the owner lets go */
	event_ref(held);
	event_pool_release(p);
	/* Still a whole event in a sink's queue: its bytes, its references. */
	assert_int_equal(held->data.len, 20);
	event_unref(held);
	assert_int_equal(held->refs, 1);
	event_unref(held); /* the last event frees the pool (valgrind/ASan check it) */
}

static void test_decoder_events_outlive_the_decoder(void **state)
{
	struct json_decoder *d = json_decoder_new("x.event");
	struct error err = { 0 };
	const char line[] = "{\"type\":\"a.b\",\"k\":1,\"data\":{\"z\":[1,2]}}";
	struct event *ev;

	(void)state;
	assert_non_null(d);
	ev = json_decoder_decode(d, line, strlen(line), &err);
	assert_non_null(ev);
	json_decoder_free(d);
	assert_int_equal(ev->data.len, strlen("{\"k\":1,\"data\":{\"z\":[1,2]}}"));
	assert_memory_equal(ev->data.ptr, "{\"k\":1,\"data\":{\"z\":[1,2]}}", ev->data.len);
	event_unref(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_recycled_within_its_class),
		cmocka_unit_test(test_limit_zero_keeps_nothing),
		cmocka_unit_test(test_big_events_bypass_the_pool),
		cmocka_unit_test(test_events_outlive_the_owner),
		cmocka_unit_test(test_decoder_events_outlive_the_decoder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
