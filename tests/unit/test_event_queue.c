/* Unit tests for the bounded event queue (collector/event_queue.c): policies, byte limit, growth, refcounts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event_queue.h"

/* An event whose data is a JSON string of @p data_len bytes in all (quotes included). */
static struct event *make_event(size_t data_len, uint64_t id)
{
	char *data = malloc(data_len);
	struct event *ev;

	assert_non_null(data);
	assert_true(data_len >= 2);
	memset(data, 'x', data_len);
	data[0] = data[data_len - 1] = '"';
	ev = event_new(span_str("q.test"), span_str(""), (struct span){ data, data_len });
	free(data);
	assert_non_null(ev);
	assert_int_equal(ev->refs, 1);
	/* the accounted size is the whole allocation, data included */
	assert_int_equal(ev->size, sizeof(struct event) + EVENT_RUNNER_MAX + 6 + data_len);
	ev->seq = id;
	return ev;
}

static void assert_stats(const struct event_queue *q, uint64_t pushed, uint64_t popped,
			 uint64_t dropped_oldest, uint64_t dropped_newest, uint64_t refused)
{
	assert_int_equal(q->stats.pushed, pushed);
	assert_int_equal(q->stats.popped, popped);
	assert_int_equal(q->stats.dropped_oldest, dropped_oldest);
	assert_int_equal(q->stats.dropped_newest, dropped_newest);
	assert_int_equal(q->stats.refused, refused);
}

/* Pop the head and check it is @p ev. */
static void pop_expect(struct event_queue *q, const struct event *ev)
{
	assert_ptr_equal(event_queue_peek(q), ev);
	event_queue_pop(q);
}

static void test_init_errors(void **state)
{
	struct event_queue q;
	struct error err = { 0 };

	(void)state;
	assert_int_equal(event_queue_init(&q, 0, 100, QUEUE_BLOCK, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_int_equal(event_queue_init(&q, 10, 0, QUEUE_BLOCK, &err), -EINVAL);
	assert_int_equal(event_queue_init(&q, (1u << 24) + 1, 100, QUEUE_BLOCK, &err), -EINVAL);
	assert_int_equal(event_queue_init(&q, 1000, 100, QUEUE_BLOCK, &err), 0);
	assert_int_equal(q.max_events, 1000);
	assert_true(q.mask + 1 > 1000);
	event_queue_free(&q);
}

static void test_policy_names(void **state)
{
	enum queue_policy p = QUEUE_BLOCK;

	(void)state;
	assert_int_equal(queue_policy_parse("drop_oldest", &p), 0);
	assert_int_equal(p, QUEUE_DROP_OLDEST);
	assert_int_equal(queue_policy_parse("drop_newest", &p), 0);
	assert_int_equal(p, QUEUE_DROP_NEWEST);
	assert_int_equal(queue_policy_parse("block", &p), 0);
	assert_int_equal(p, QUEUE_BLOCK);
	assert_int_equal(queue_policy_parse("Block", &p), -EINVAL);
	assert_int_equal(queue_policy_parse("", &p), -EINVAL);
	assert_int_equal(queue_policy_parse("drop", &p), -EINVAL);
	assert_int_equal(p, QUEUE_BLOCK);
	assert_string_equal(queue_policy_name(QUEUE_BLOCK), "block");
	assert_string_equal(queue_policy_name(QUEUE_DROP_OLDEST), "drop_oldest");
	assert_string_equal(queue_policy_name(QUEUE_DROP_NEWEST), "drop_newest");
}

static void test_empty_queue(void **state)
{
	struct event_queue q;

	(void)state;
	assert_int_equal(event_queue_init(&q, 4, 1 << 20, QUEUE_BLOCK, NULL), 0);
	assert_null(event_queue_peek(&q));
	assert_int_equal(event_queue_len(&q), 0);
	assert_false(event_queue_full(&q));
	event_queue_pop(&q); /* no-op */
	assert_stats(&q, 0, 0, 0, 0, 0);
	event_queue_free(&q);
}

static void test_block_policy(void **state)
{
	struct event_queue q;
	struct event *ev[5];

	(void)state;
	for (int i = 0; i < 5; i++)
		ev[i] = make_event(10, (uint64_t)i);
	assert_int_equal(event_queue_init(&q, 3, 1 << 20, QUEUE_BLOCK, NULL), 0);
	for (int i = 0; i < 3; i++) {
		assert_false(event_queue_full(&q));
		assert_int_equal(event_queue_push(&q, ev[i], false), QUEUE_PUSHED);
		assert_int_equal(ev[i]->refs, 2);
	}
	assert_true(event_queue_full(&q));
	assert_int_equal(event_queue_push(&q, ev[3], false), QUEUE_REFUSED);
	assert_int_equal(event_queue_push(&q, ev[4], false), QUEUE_REFUSED);
	assert_int_equal(ev[3]->refs, 1);
	assert_int_equal(ev[4]->refs, 1);
	assert_int_equal(event_queue_len(&q), 3);
	assert_stats(&q, 3, 0, 0, 0, 2);

	pop_expect(&q, ev[0]);
	assert_int_equal(ev[0]->refs, 1);
	assert_false(event_queue_full(&q));
	assert_int_equal(event_queue_push(&q, ev[3], false), QUEUE_PUSHED);
	assert_int_equal(event_queue_push(&q, ev[4], false), QUEUE_REFUSED);
	assert_stats(&q, 4, 1, 0, 0, 3);

	pop_expect(&q, ev[1]);
	pop_expect(&q, ev[2]);
	pop_expect(&q, ev[3]);
	assert_null(event_queue_peek(&q));
	assert_int_equal(q.bytes, 0);
	assert_stats(&q, 4, 4, 0, 0, 3);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ev[i]->refs, 1);
		event_unref(ev[i]);
	}
	event_queue_free(&q);
}

static void test_drop_newest_policy(void **state)
{
	struct event_queue q;
	struct event *ev[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		ev[i] = make_event(10, (uint64_t)i);
	assert_int_equal(event_queue_init(&q, 2, 1 << 20, QUEUE_DROP_NEWEST, NULL), 0);
	assert_int_equal(event_queue_push(&q, ev[0], false), QUEUE_PUSHED);
	assert_int_equal(event_queue_push(&q, ev[1], false), QUEUE_PUSHED);
	assert_int_equal(event_queue_push(&q, ev[2], false), QUEUE_DROPPED);
	assert_int_equal(event_queue_push(&q, ev[3], false), QUEUE_DROPPED);
	assert_int_equal(ev[2]->refs, 1);
	assert_int_equal(ev[3]->refs, 1);
	assert_int_equal(event_queue_len(&q), 2);
	assert_stats(&q, 2, 0, 0, 2, 0);
	pop_expect(&q, ev[0]);
	assert_int_equal(event_queue_push(&q, ev[2], false), QUEUE_PUSHED);
	pop_expect(&q, ev[1]);
	pop_expect(&q, ev[2]);
	assert_stats(&q, 3, 3, 0, 2, 0);
	for (int i = 0; i < 4; i++)
		event_unref(ev[i]);
	event_queue_free(&q);
}

static void test_drop_oldest_policy(void **state)
{
	struct event_queue q;
	struct event *ev[6];

	(void)state;
	for (int i = 0; i < 6; i++)
		ev[i] = make_event(10, (uint64_t)i);
	assert_int_equal(event_queue_init(&q, 2, 1 << 20, QUEUE_DROP_OLDEST, NULL), 0);
	assert_int_equal(event_queue_push(&q, ev[0], false), QUEUE_PUSHED);
	assert_int_equal(event_queue_push(&q, ev[1], false), QUEUE_PUSHED);
	assert_int_equal(event_queue_push(&q, ev[2], false), QUEUE_PUSHED_DROPPED);
	assert_int_equal(ev[0]->refs, 1); /* the queue let go of it */
	assert_int_equal(ev[2]->refs, 2);
	assert_int_equal(event_queue_len(&q), 2);
	assert_ptr_equal(event_queue_peek(&q), ev[1]);
	assert_stats(&q, 3, 0, 1, 0, 0);
	assert_int_equal(event_queue_push(&q, ev[3], false), QUEUE_PUSHED_DROPPED);
	assert_int_equal(event_queue_push(&q, ev[4], false), QUEUE_PUSHED_DROPPED);
	assert_stats(&q, 5, 0, 3, 0, 0);
	pop_expect(&q, ev[3]);
	assert_int_equal(event_queue_push(&q, ev[5], false), QUEUE_PUSHED);
	pop_expect(&q, ev[4]);
	pop_expect(&q, ev[5]);
	assert_stats(&q, 6, 3, 3, 0, 0);
	assert_int_equal(q.bytes, 0);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(ev[i]->refs, 1);
		event_unref(ev[i]);
	}
	event_queue_free(&q);
}

static void test_byte_limit(void **state)
{
	struct event_queue q;
	struct event *big[3], *small[2];
	size_t bs, ss;

	(void)state;
	for (int i = 0; i < 3; i++)
		big[i] = make_event(1000, (uint64_t)i);
	for (int i = 0; i < 2; i++)
		small[i] = make_event(2, (uint64_t)(10 + i));
	bs = big[0]->size;
	ss = small[0]->size;
	assert_true(bs > 2 * ss);

	/* room for two big events and one small one, by bytes; plenty by count */
	assert_int_equal(event_queue_init(&q, 100, 2 * bs + ss, QUEUE_BLOCK, NULL), 0);
	assert_int_equal(event_queue_push(&q, big[0], false), QUEUE_PUSHED);
	assert_int_equal(event_queue_push(&q, big[1], false), QUEUE_PUSHED);
	assert_int_equal(q.bytes, 2 * bs);
	assert_int_equal(event_queue_push(&q, big[2], false), QUEUE_REFUSED);
	assert_int_equal(event_queue_push(&q, small[0], false), QUEUE_PUSHED); /* exactly fits */
	assert_int_equal(q.bytes, 2 * bs + ss);
	assert_true(event_queue_full(&q));
	assert_int_equal(event_queue_push(&q, small[1], false), QUEUE_REFUSED);
	assert_stats(&q, 3, 0, 0, 0, 2);
	pop_expect(&q, big[0]);
	assert_int_equal(q.bytes, bs + ss);
	assert_int_equal(event_queue_push(&q, big[2], false), QUEUE_PUSHED);
	assert_int_equal(event_queue_push(&q, small[1], false), QUEUE_REFUSED);
	event_queue_free(&q);
	for (int i = 0; i < 3; i++)
		assert_int_equal(big[i]->refs, 1);

	/* drop_oldest by bytes: a big event evicts as many as needed */
	assert_int_equal(event_queue_init(&q, 100, 2 * bs, QUEUE_DROP_OLDEST, NULL), 0);
	assert_int_equal(event_queue_push(&q, small[0], false), QUEUE_PUSHED);
	assert_int_equal(event_queue_push(&q, small[1], false), QUEUE_PUSHED);
	assert_int_equal(event_queue_push(&q, big[0], false), QUEUE_PUSHED);
	assert_int_equal(q.bytes, 2 * ss + bs);
	assert_int_equal(event_queue_push(&q, big[1], false), QUEUE_PUSHED_DROPPED);
	assert_stats(&q, 4, 0, 2, 0, 0);
	assert_int_equal(q.bytes, 2 * bs);
	pop_expect(&q, big[0]);
	pop_expect(&q, big[1]);
	assert_stats(&q, 4, 2, 2, 0, 0);
	event_queue_free(&q);

	/* drop_newest by bytes */
	assert_int_equal(event_queue_init(&q, 100, bs + ss, QUEUE_DROP_NEWEST, NULL), 0);
	assert_int_equal(event_queue_push(&q, big[0], false), QUEUE_PUSHED);
	assert_int_equal(event_queue_push(&q, big[1], false), QUEUE_DROPPED);
	assert_int_equal(event_queue_push(&q, small[0], false), QUEUE_PUSHED);
	assert_stats(&q, 2, 0, 0, 1, 0);
	event_queue_free(&q);

	for (int i = 0; i < 3; i++) {
		assert_int_equal(big[i]->refs, 1);
		event_unref(big[i]);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(small[i]->refs, 1);
		event_unref(small[i]);
	}
}

static void test_oversized_event_fits_empty_queue(void **state)
{
	struct event_queue q;
	struct event *a = make_event(500, 1), *b = make_event(500, 2), *c = make_event(2, 3);

	(void)state;
	assert_true(a->size > 100);
	assert_int_equal(event_queue_init(&q, 10, 100, QUEUE_BLOCK, NULL), 0);
	assert_false(event_queue_full(&q));
	assert_int_equal(event_queue_push(&q, a, false), QUEUE_PUSHED);
	assert_true(event_queue_full(&q));
	assert_int_equal(event_queue_push(&q, b, false), QUEUE_REFUSED);
	assert_int_equal(event_queue_push(&q, c, false), QUEUE_REFUSED);
	pop_expect(&q, a);
	assert_int_equal(event_queue_push(&q, b, false), QUEUE_PUSHED);
	assert_stats(&q, 2, 1, 0, 0, 2);
	event_queue_free(&q);

	/* under drop_oldest an oversized event replaces everything queued */
	assert_int_equal(event_queue_init(&q, 10, a->size + c->size, QUEUE_DROP_OLDEST, NULL), 0);
	assert_int_equal(event_queue_push(&q, a, false), QUEUE_PUSHED);
	assert_int_equal(event_queue_push(&q, c, false), QUEUE_PUSHED);
	{
		struct event *huge = make_event(4000, 4);

		assert_int_equal(event_queue_push(&q, huge, false), QUEUE_PUSHED_DROPPED);
		assert_int_equal(event_queue_len(&q), 1);
		assert_stats(&q, 3, 0, 2, 0, 0);
		pop_expect(&q, huge);
		event_unref(huge);
	}
	event_queue_free(&q);

	assert_int_equal(a->refs, 1);
	assert_int_equal(b->refs, 1);
	assert_int_equal(c->refs, 1);
	event_unref(a);
	event_unref(b);
	event_unref(c);
}

static void test_force_push_grows_and_keeps_order(void **state)
{
	enum { FORCED = 100 };
	struct event_queue q;
	struct event *ev[4 + 2 + FORCED];
	size_t n = 0, next = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++)
		ev[i] = make_event(8, i);
	assert_int_equal(event_queue_init(&q, 4, 1 << 20, QUEUE_BLOCK, NULL), 0);
	/* move the head off index 0 so that growth has to unwrap the ring */
	for (int i = 0; i < 4; i++)
		assert_int_equal(event_queue_push(&q, ev[n++], false), QUEUE_PUSHED);
	pop_expect(&q, ev[next++]);
	pop_expect(&q, ev[next++]);
	for (int i = 0; i < 2; i++)
		assert_int_equal(event_queue_push(&q, ev[n++], false), QUEUE_PUSHED);
	assert_int_equal(event_queue_push(&q, ev[n], false), QUEUE_REFUSED);
	for (int i = 0; i < FORCED; i++) {
		assert_int_equal(event_queue_push(&q, ev[n++], true), QUEUE_PUSHED);
		assert_true(event_queue_full(&q));
	}
	assert_int_equal(event_queue_len(&q), 4 + FORCED);
	assert_int_equal(q.bytes, (4 + FORCED) * ev[0]->size);
	/* still refuses unforced pushes until below the limit */
	{
		struct event *extra = make_event(8, 999);

		assert_int_equal(event_queue_push(&q, extra, false), QUEUE_REFUSED);
		event_unref(extra);
	}
	while (next < n) {
		assert_int_equal(event_queue_peek(&q)->seq, next);
		pop_expect(&q, ev[next++]);
	}
	assert_null(event_queue_peek(&q));
	assert_stats(&q, n, n, 0, 0, 2);
	for (size_t i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
		assert_int_equal(ev[i]->refs, 1);
		event_unref(ev[i]);
	}
	event_queue_free(&q);
}

/* Forced pushes ignore the policy too: nothing is dropped under drop_oldest. */
static void test_force_push_drop_oldest(void **state)
{
	struct event_queue q;
	struct event *ev[40];

	(void)state;
	for (int i = 0; i < 40; i++)
		ev[i] = make_event(8, (uint64_t)i);
	assert_int_equal(event_queue_init(&q, 2, 1 << 20, QUEUE_DROP_OLDEST, NULL), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(event_queue_push(&q, ev[i], true), QUEUE_PUSHED);
	assert_int_equal(event_queue_len(&q), 40);
	assert_stats(&q, 40, 0, 0, 0, 0);
	/* an unforced push now drops everything older to get under the limit */
	{
		struct event *last = make_event(8, 40);

		assert_int_equal(event_queue_push(&q, last, false), QUEUE_PUSHED_DROPPED);
		assert_int_equal(event_queue_len(&q), 2);
		assert_stats(&q, 41, 0, 39, 0, 0);
		pop_expect(&q, ev[39]);
		pop_expect(&q, last);
		event_unref(last);
	}
	for (int i = 0; i < 40; i++) {
		assert_int_equal(ev[i]->refs, 1);
		event_unref(ev[i]);
	}
	event_queue_free(&q);
}

static void test_wrap_around_keeps_order(void **state)
{
	struct event_queue q;
	uint64_t next_in = 0, next_out = 0;

	(void)state;
	assert_int_equal(event_queue_init(&q, 5, 1 << 20, QUEUE_BLOCK, NULL), 0);
	for (int cycle = 0; cycle < 2000; cycle++) {
		int pushes = 1 + cycle % 5, pops = 1 + (cycle * 7) % 5;

		for (int i = 0; i < pushes; i++) {
			struct event *ev = make_event(4, next_in);
			enum queue_push_result r = event_queue_push(&q, ev, false);

			if (event_queue_len(&q) == 5 && r == QUEUE_REFUSED) {
				event_unref(ev);
				continue;
			}
			assert_int_equal(r, QUEUE_PUSHED);
			event_unref(ev); /* the queue holds the only reference now */
			next_in++;
		}
		for (int i = 0; i < pops && event_queue_len(&q) > 0; i++) {
			struct event *head = event_queue_peek(&q);

			assert_int_equal(head->seq, next_out);
			assert_int_equal(head->refs, 1);
			event_queue_pop(&q);
			next_out++;
		}
		assert_int_equal(event_queue_len(&q), next_in - next_out);
		assert_true(event_queue_len(&q) <= 5);
	}
	assert_true(next_in > 1000);
	assert_int_equal(q.stats.pushed, next_in);
	assert_int_equal(q.stats.popped, next_out);
	/* whatever is left is freed with the queue (valgrind checks) */
	event_queue_free(&q);
	assert_null(q.ring);
}

static void test_refcount_two_queues(void **state)
{
	struct event_queue q1, q2;
	struct event *ev = make_event(16, 7);

	(void)state;
	assert_int_equal(event_queue_init(&q1, 4, 1 << 20, QUEUE_BLOCK, NULL), 0);
	assert_int_equal(event_queue_init(&q2, 4, 1 << 20, QUEUE_DROP_OLDEST, NULL), 0);
	assert_int_equal(event_queue_push(&q1, ev, false), QUEUE_PUSHED);
	assert_int_equal(event_queue_push(&q2, ev, false), QUEUE_PUSHED);
	assert_int_equal(ev->refs, 3);
	event_unref(ev); /* the producer lets go */
	assert_int_equal(ev->refs, 2);
	event_queue_pop(&q1);
	/* still alive: q2 holds it (valgrind would flag a read after free) */
	assert_int_equal(ev->refs, 1);
	assert_ptr_equal(event_queue_peek(&q2), ev);
	assert_int_equal(event_queue_peek(&q2)->seq, 7);
	event_queue_pop(&q2); /* the last reference: freed here */
	assert_null(event_queue_peek(&q2));

	/* the same through event_queue_free of non-empty queues */
	ev = make_event(16, 8);
	assert_int_equal(event_queue_push(&q1, ev, false), QUEUE_PUSHED);
	assert_int_equal(event_queue_push(&q2, ev, false), QUEUE_PUSHED);
	event_unref(ev);
	event_queue_free(&q1);
	assert_int_equal(ev->refs, 1);
	assert_int_equal(event_queue_peek(&q2)->seq, 8);
	event_queue_free(&q2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_policy_names),
		cmocka_unit_test(test_empty_queue),
		cmocka_unit_test(test_block_policy),
		cmocka_unit_test(test_drop_newest_policy),
		cmocka_unit_test(test_drop_oldest_policy),
		cmocka_unit_test(test_byte_limit),
		cmocka_unit_test(test_oversized_event_fits_empty_queue),
		cmocka_unit_test(test_force_push_grows_and_keeps_order),
		cmocka_unit_test(test_force_push_drop_oldest),
		cmocka_unit_test(test_wrap_around_keeps_order),
		cmocka_unit_test(test_refcount_two_queues),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
