/* Unit tests for the event builder (collector/event_builder.c): punctuation, numbers, misuse. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <collector/event_builder.h>

static int setup(void **state)
{
	*state = event_builder_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	event_builder_free(*state);
	return 0;
}

static void assert_data(struct event_builder *b, const char *want)
{
	struct span data;

	assert_int_equal(event_builder_finish(b, &data), 0);
	assert_int_equal(data.len, strlen(want));
	assert_memory_equal(data.ptr, want, data.len);
}

static void test_members_and_nesting(void **state)
{
	struct event_builder *b = *state;

	event_builder_begin(b);
	event_builder_str(b, "s", "a\"b\n");
	event_builder_str(b, "n", NULL);
	event_builder_strn(b, "z", "x\0y", 3);
	event_builder_int(b, "i", -42);
	event_builder_uint(b, "u", UINT64_MAX);
	event_builder_bool(b, "t", true);
	event_builder_null(b, "nil");
	event_builder_open_array(b, "a");
	event_builder_int(b, NULL, 1);
	event_builder_open_object(b, NULL);
	event_builder_bool(b, "f", false);
	event_builder_close_object(b);
	event_builder_open_array(b, NULL);
	event_builder_close_array(b);
	event_builder_close_array(b);
	event_builder_key(b, "raw");
	event_builder_raw(b, NULL, "{\"k\":[1,2]}", 11);
	event_builder_raw(b, "r2", "true", 4);
	assert_data(b, "{\"s\":\"a\\\"b\\n\",\"n\":null,\"z\":\"x\\u0000y\",\"i\":-42,"
		       "\"u\":18446744073709551615,\"t\":true,\"nil\":null,"
		       "\"a\":[1,{\"f\":false},[]],\"raw\":{\"k\":[1,2]},\"r2\":true}");
}

static void test_empty_and_reuse(void **state)
{
	struct event_builder *b = *state;
	struct span data;

	event_builder_begin(b);
	assert_data(b, "{}");
	/* finish twice: the same object, not closed again */
	assert_data(b, "{}");
	event_builder_begin(b);
	event_builder_int(b, "x", 1);
	assert_data(b, "{\"x\":1}");
	/* A refused call (a value where a key belongs) loses the event. */
	event_builder_begin(b);
	event_builder_int(b, NULL, 1);
	assert_int_equal(event_builder_finish(b, &data), -ENOMEM);
	assert_int_equal(data.len, 0);
	event_builder_begin(b);
	assert_data(b, "{}");
}

static void test_double_format(void **state)
{
	struct event_builder *b = *state;

	event_builder_begin(b);
	event_builder_double(b, "a", 12.5, 2);
	event_builder_double(b, "b", 12.504, 2);
	event_builder_double(b, "c", 3.0, 2);
	event_builder_double(b, "d", 0.0, 2);
	event_builder_double(b, "e", 99.996, 2);
	event_builder_double(b, "f", -1.25, 1);
	event_builder_double(b, "g", 7.7, 0);
	event_builder_double(b, "h", NAN, 2);
	event_builder_double(b, "i", INFINITY, 2);
	event_builder_double(b, "j", 100, 0);
	assert_data(b, "{\"a\":12.5,\"b\":12.5,\"c\":3,\"d\":0,\"e\":100,\"f\":-1.2,\"g\":8,"
		       "\"h\":null,\"i\":null,\"j\":100}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_members_and_nesting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_double_format, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
