/* Unit tests for the kafka sink's URL parser (sinks/kafka_url.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../sinks/kafka_url.h"

static void test_full(void **state)
{
	struct kafka_url u;
	struct error err = { 0 };

	(void)state;
	assert_int_equal(kafka_url_parse("kafka://a:9092,b:9093/"
					 "events?key=pid&headers=type,runner&acks=all&compression="
					 "zstd",
					 &u, &err),
			 0);
	assert_string_equal(u.brokers, "a:9092,b:9093");
	assert_string_equal(u.topic, "events");
	assert_string_equal(u.key, "pid");
	assert_string_equal(u.headers, "type,runner");
	assert_string_equal(u.acks, "all");
	assert_string_equal(u.compression, "zstd");
	kafka_url_free(&u);
}

static void test_cli_form(void **state)
{
	struct kafka_url u;
	struct error err = { 0 };

	(void)state;
	/* `--sink kafka://h:1/t` leaves "//h:1/t" after the type. */
	assert_int_equal(kafka_url_parse("//h:1/t", &u, &err), 0);
	assert_string_equal(u.brokers, "h:1");
	assert_string_equal(u.topic, "t");
	assert_null(u.key);
	assert_null(u.headers);
	assert_null(u.acks);
	kafka_url_free(&u);
}

static void bad(const char *text, const char *why)
{
	struct kafka_url u;
	struct error err = { 0 };

	assert_int_equal(kafka_url_parse(text, &u, &err), -EINVAL);
	assert_non_null(strstr(err.msg, why));
	assert_null(u.brokers);
	assert_null(u.topic);
}

static void test_errors(void **state)
{
	(void)state;
	bad("h:1/t", "expected kafka://");
	bad("kafka://h:1", "HOST:PORT");
	bad("kafka:///t", "HOST:PORT");
	bad("kafka://h:1/", "no topic");
	bad("kafka://h:1/?key=a", "no topic");
	bad("kafka://h:1/t?linger=5", "unknown parameter 'linger'");
	bad("kafka://h:1/t?key", "NAME=VALUE");
	bad("kafka://h:1/t?key=", "NAME=VALUE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_cli_form),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
