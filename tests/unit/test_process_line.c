/* Unit tests of the process runner's one-pass decoder of loader lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../runners/process_line.h"

static int setup(void **state)
{
	static struct process_line_decoder d;

	assert_int_equal(process_line_decoder_init(&d), 0);
	*state = &d;
	return 0;
}

static int teardown(void **state)
{
	process_line_decoder_free(*state);
	return 0;
}

static const struct process_line *decode(struct process_line_decoder *d, const char *text)
{
	char why[128];

	assert_int_equal(process_line_decode(d, text, strlen(text), why, sizeof(why)), 0);
	assert_int_equal(process_line_close(d), 0);
	return &d->line;
}

static void assert_text(const char *got, size_t len, const char *want)
{
	assert_int_equal(len, strlen(want));
	assert_memory_equal(got, want, len);
}

static void test_exec_line(void **state)
{
	const struct process_line *l = decode(*state, "{\"type\":\"exec\",\"ts_ns\":"
						      "1795437091070940781,\"pid\":12,"
						      "\"tid\":13,\"ppid\":1,\"uid\":0,\"comm\":"
						      "\"s\\\"h\","
						      "\"filename\":\"/bin/"
						      "sh\",\"argv\":[\"sh\",\"-c\",\"a\\nb\"],"
						      "\"args_truncated\":false,\"ratio\":1.50e3}");

	assert_string_equal(l->type, "exec");
	assert_true(l->ts_ns == 1795437091070940781LL);
	assert_true(l->has_pid);
	assert_int_equal(l->pid, 12);
	assert_int_equal(l->tid, 13);
	assert_int_equal(l->ppid, 1);
	assert_true(l->has_comm);
	assert_string_equal(l->comm, "s\"h");
	/* Envelope members left out; the others in order, numbers as written. */
	assert_text(l->data.data, l->data.len,
		    "{\"uid\":0,\"filename\":\"/bin/sh\",\"argv\":[\"sh\",\"-c\",\"a\\nb\"],"
		    "\"args_truncated\":false,\"ratio\":1.50e3}");
	assert_text(l->data.data + l->filename_at, l->filename_len, "\"/bin/sh\"");
	assert_text(l->data.data + l->argv_at, l->argv_len, "[\"sh\",\"-c\",\"a\\nb\"]");
}

/* An exit gets its exec's remembered members added before the object is closed. */
static void test_add_raw_members(void **state)
{
	struct process_line_decoder *d = *state;
	const char *text = "{\"type\":\"exit\",\"pid\":5,\"exit_code\":0}";
	char why[128];

	assert_int_equal(process_line_decode(d, text, strlen(text), why, sizeof(why)), 0);
	process_line_add_raw(d, "filename", "\"/bin/sh\"", 9);
	process_line_add_raw(d, "argv", "[\"sh\"]", 6);
	assert_int_equal(process_line_close(d), 0);
	assert_text(d->line.data.data, d->line.data.len,
		    "{\"exit_code\":0,\"filename\":\"/bin/sh\",\"argv\":[\"sh\"]}");
	text = "{\"type\":\"exit\",\"pid\":5}";
	assert_int_equal(process_line_decode(d, text, strlen(text), why, sizeof(why)), 0);
	process_line_add_raw(d, "argv", "[]", 2);
	assert_int_equal(process_line_close(d), 0);
	assert_text(d->line.data.data, d->line.data.len, "{\"argv\":[]}");
}

static void test_exit_and_loss_lines(void **state)
{
	const struct process_line *l = decode(*state, "{\"type\":\"exit\",\"pid\":5,\"thread\":"
						      "true,\"exit_code\":null}");

	assert_string_equal(l->type, "exit");
	assert_true(l->thread);
	assert_false(l->has_comm);
	assert_int_equal(l->filename_len, 0);
	assert_int_equal(l->argv_len, 0);
	assert_text(l->data.data, l->data.len, "{\"thread\":true,\"exit_code\":null}");

	l = decode(*state, "{\"type\":\"loss\",\"count\":42}");
	assert_string_equal(l->type, "loss");
	assert_false(l->has_pid);
	assert_false(l->thread);
	assert_int_equal(l->count, 42);
	assert_text(l->data.data, l->data.len, "{\"count\":42}");
}

/* Envelope members of the wrong kind are dropped whole; the rest still decodes. */
static void test_odd_envelope_values(void **state)
{
	const struct process_line *l = decode(*state, "{\"pid\":{\"a\":[1,{\"b\":2}]},\"comm\":["
						      "\"x\"],\"tid\":1.5,"
						      "\"type\":7,\"nested\":{\"pid\":3,\"argv\":[]"
						      "}}");

	assert_string_equal(l->type, "");
	assert_true(l->has_pid);
	assert_int_equal(l->pid, 0);
	assert_int_equal(l->tid, 0);
	assert_false(l->has_comm);
	assert_int_equal(l->argv_len, 0);
	assert_text(l->data.data, l->data.len, "{\"nested\":{\"pid\":3,\"argv\":[]}}");
}

static void test_refused_lines(void **state)
{
	static const char *const bad[] = { "",		 "[1,2]", "3",	       "\"exec\"",
					   "{\"type\":", "{} {}", "{\"a\":1}x" };
	char why[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(process_line_decode(*state, bad[i], strlen(bad[i]), why,
						     sizeof(why)),
				 -EBADMSG);
		assert_true(why[0] != '\0');
	}
	/* The decoder is usable again after a refusal. */
	assert_string_equal(decode(*state, "{\"type\":\"fork\",\"child_pid\":9}")->type, "fork");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exec_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_and_loss_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_raw_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_envelope_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_lines, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
