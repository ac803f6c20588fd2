/* Unit tests of the process runner's bounded pid table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../runners/process_table.h"

static void put(struct process_table *t, pid_t pid, const char *json)
{
	assert_int_equal(process_table_put(t, pid, json, strlen(json)), 0);
}

static void assert_entry(struct process_table *t, pid_t pid, const char *json)
{
	size_t len = 0;
	const char *got = process_table_get(t, pid, &len);

	if (!json) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_int_equal(len, strlen(json));
	assert_memory_equal(got, json, len);
}

static void test_put_get_replace_remove(void **state)
{
	struct process_table *t = process_table_new(4);

	(void)state;
	put(t, 10, "\"a\":1");
	put(t, 26, "\"b\":2"); /* same bucket as 10 in a 16-bucket table */
	assert_entry(t, 10, "\"a\":1");
	assert_entry(t, 26, "\"b\":2");
	put(t, 10, "\"a\":3");
	assert_entry(t, 10, "\"a\":3");
	assert_int_equal(process_table_count(t), 2);
	process_table_remove(t, 10);
	assert_entry(t, 10, NULL);
	assert_entry(t, 26, "\"b\":2");
	process_table_remove(t, 99);
	assert_int_equal(process_table_count(t), 1);
	process_table_free(t);
}

static void test_evicts_oldest(void **state)
{
	struct process_table *t = process_table_new(3);

	(void)state;
	put(t, 1, "1");
	put(t, 2, "2");
	put(t, 3, "3");
	put(t, 1, "1b"); /* a replacement makes 1 the newest */
	put(t, 4, "4");	 /* evicts 2, the oldest */
	assert_entry(t, 2, NULL);
	assert_entry(t, 1, "1b");
	assert_entry(t, 3, "3");
	assert_entry(t, 4, "4");
	assert_int_equal(process_table_count(t), 3);
	assert_int_equal(process_table_evicted(t), 1);
	for (pid_t p = 100; p < 1100; p++)
		put(t, p, "x");
	assert_int_equal(process_table_count(t), 3);
	assert_int_equal(process_table_evicted(t), 1001);
	assert_entry(t, 1099, "x");
	assert_entry(t, 1096, NULL);
	process_table_free(t);
}

static void test_zero_capacity_is_refused(void **state)
{
	(void)state;
	assert_null(process_table_new(0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_replace_remove),
		cmocka_unit_test(test_evicts_oldest),
		cmocka_unit_test(test_zero_capacity_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
