/* Regression tests for what the fuzz targets (tests/fuzz/) found, one test per bug. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>

#include <collector/algorithm.h>
#include <collector/event_view.h>
#include <collector/render.h>

#include "../../runners/algorithm/protocol.h"
#include "../../runners/sse.h"

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/collector-ut.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	fclose(f);
}

static void keep_retry(void *arg, const struct sse_message *m)
{
	long long *retry = arg;

	*retry = m->retry_ms;
}

/* A retry field is read from its own bytes, not from what an earlier, longer line left behind. */
static void test_sse_retry_reads_only_its_value(void **state)
{
	const char *stream = "data: 1234567\n\nretry: 5\ndata: x\n\n";
	struct sse_parser p;
	long long retry = 0;

	(void)state;
	sse_parser_init(&p, 64, keep_retry, &retry);
	assert_int_equal(sse_parser_feed(&p, stream, strlen(stream)), 0);
	assert_int_equal(retry, 5);
	sse_parser_free(&p);
}

static void count_too_deep(void *arg, const char *type, pid_t pid, const char *json, size_t len)
{
	int *too_deep = arg;

	(void)pid;
	if (strcmp(type, "algorithm.protocol_error") == 0 &&
	    memmem(json, len, "\"reason\":\"too_deep\"", 18))
		(*too_deep)++;
}

/*
 * A result nested 200 deep used to come back "ok" with data yajl_gen could not
 * write (it stops at 128 levels): broken JSON in the result and its event.
 * Now the line is a protocol error, and the unanswered call times out.
 */
static void test_algorithm_rejects_deep_nesting(void **state)
{
	struct algorithm_options opts = { .on_event = count_too_deep };
	struct algorithm *a;
	struct error err = { 0 };
	char *json = NULL;
	int too_deep = 0;

	(void)state;
	opts.arg = &too_deep;
	write_file("manifest.json", "{\"name\":\"deep\",\"protocol\":1,"
				    "\"entry_point\":[\"sh\",\"child.sh\"],"
				    "\"limits\":{\"call_timeout_ms\":300}}");
	write_file("child.sh", "echo '{\"type\":\"hello\",\"protocol\":1}'\n"
			       "read -r hello; read -r call\n"
			       "o=; c=; i=0\n"
			       "while [ $i -lt 200 ]; do o=\"$o[\"; c=\"$c]\"; i=$((i + 1)); done\n"
			       "echo \"{\\\"type\\\":\\\"result\\\",\\\"id\\\":1,\\\"ok\\\":true,"
			       "\\\"data\\\":$o$c}\"\n"
			       "read -r rest\n");
	assert_int_equal(algorithm_open(dir, &opts, &a, &err), 0);
	assert_int_equal(algorithm_execute(a, "{}", NULL, &json, &err), ALGORITHM_TIMEOUT);
	assert_null(json);
	assert_int_equal(too_deep, 1);
	algorithm_close(a);
}

static void check_ready(void *arg, const char *type, pid_t pid, const char *json, size_t len)
{
	int *ready = arg;

	(void)pid;
	if (strcmp(type, "algorithm.ready") == 0)
		*ready = algo_json_valid(json, len) && memmem(json, len, "\"hello\":{", 9) ? 1 : -1;
}

/* A hello with a comment (yajl_tree_parse() allows them) used to be copied into algorithm.ready as is. */
static void test_algorithm_ready_event_is_json(void **state)
{
	struct algorithm_options opts = { .on_event = check_ready };
	struct algorithm *a;
	struct error err = { 0 };
	int ready = 0;

	(void)state;
	opts.arg = &ready;
	write_file("manifest.json", "{\"name\":\"comment\",\"protocol\":1,"
				    "\"entry_point\":[\"sh\",\"child.sh\"]}");
	write_file("child.sh", "echo '{\"type\":\"hello\",\"protocol\":1} // ready'\n"
			       "read -r hello; read -r call\n"
			       "echo '{\"type\":\"result\",\"id\":1,\"ok\":true}'\n"
			       "read -r rest\n");
	assert_int_equal(algorithm_open(dir, &opts, &a, &err), 0);
	assert_int_equal(algorithm_execute(a, "{}", NULL, NULL, &err), ALGORITHM_OK);
	assert_int_equal(ready, 1);
	algorithm_close(a);
}

struct utf8_check {
	int invalid, protocol_errors, exits;
};

static void check_events(void *arg, const char *type, pid_t pid, const char *json, size_t len)
{
	struct utf8_check *c = arg;

	(void)pid;
	c->invalid += !algo_json_valid(json, len);
	c->protocol_errors += strcmp(type, "algorithm.protocol_error") == 0;
	c->exits += strcmp(type, "algorithm.exit") == 0;
}

/*
 * The sample of a bad line (128 bytes) and the stderr lines kept for the exit
 * report (199 bytes) used to be cut inside a UTF-8 character: invalid JSON.
 */
static void test_algorithm_cuts_whole_characters(void **state)
{
	struct algorithm_options opts = { .on_event = check_events };
	struct utf8_check check = { 0 };
	struct algorithm *a;
	struct error err = { 0 };

	(void)state;
	opts.arg = &check;
	write_file("manifest.json", "{\"name\":\"utf8\",\"protocol\":1,"
				    "\"entry_point\":[\"sh\",\"child.sh\"]}");
	write_file("child.sh", "x=; i=0\n"
			       "while [ $i -lt 127 ]; do x=\"${x}x\"; i=$((i + 1)); done\n"
			       "printf '%s\\303\\251 is not JSON\\n' \"$x\"\n"
			       "y=$x; while [ ${#y} -lt 198 ]; do y=\"${y}y\"; done\n"
			       "printf '%s\\303\\251\\n' \"$y\" >&2\n"
			       "echo '{\"type\":\"hello\",\"protocol\":1}'\n"
			       "read -r hello; read -r call\n"
			       "echo '{\"type\":\"result\",\"id\":1,\"ok\":true}'\n"
			       "read -r rest\n");
	assert_int_equal(algorithm_open(dir, &opts, &a, &err), 0);
	assert_int_equal(algorithm_execute(a, "{}", NULL, NULL, &err), ALGORITHM_OK);
	algorithm_close(a);
	assert_int_equal(check.protocol_errors, 1);
	assert_int_equal(check.exits, 1);
	assert_int_equal(check.invalid, 0);
}

/* A failed call's error message, kept to 199 bytes, used to be cut inside a UTF-8 character. */
static void test_algorithm_error_message_cuts_whole_characters(void **state)
{
	struct algorithm_options opts = { .on_event = check_events };
	struct utf8_check check = { 0 };
	struct algorithm *a;
	struct error err = { 0 };

	(void)state;
	opts.arg = &check;
	write_file("manifest.json", "{\"name\":\"utf8\",\"protocol\":1,"
				    "\"entry_point\":[\"sh\",\"child.sh\"]}");
	write_file("child.sh", "x=; while [ ${#x} -lt 198 ]; do x=\"${x}x\"; done\n"
			       "echo '{\"type\":\"hello\",\"protocol\":1}'\n"
			       "read -r hello; read -r call\n"
			       "printf '{\"type\":\"result\",\"id\":1,\"ok\":false,'\n"
			       "printf "
			       "'\"error\":{\"code\":\"E\",\"message\":\"%s\\303\\251\"}}\\n' "
			       "\"$x\"\n"
			       "read -r rest\n");
	assert_int_equal(algorithm_open(dir, &opts, &a, &err), 0);
	assert_int_equal(algorithm_execute(a, "{}", NULL, NULL, &err), ALGORITHM_FAILED);
	algorithm_close(a);
	assert_int_equal(check.protocol_errors, 0);
	assert_int_equal(check.invalid, 0);
}

/* Pretty-printed params used to be sent as they were, splitting the call over several lines. */
static void test_algorithm_call_is_one_line(void **state)
{
	struct algorithm *a;
	struct error err = { 0 };

	(void)state;
	write_file("manifest.json", "{\"name\":\"lines\",\"protocol\":1,"
				    "\"entry_point\":[\"sh\",\"child.sh\"]}");
	write_file("child.sh", "echo '{\"type\":\"hello\",\"protocol\":1}'\n"
			       "read -r hello; read -r call\n"
			       "case \"$call\" in\n"
			       "*'\"params\":{ \"a\": [1,  2] }}') ok=true ;;\n"
			       "*) ok=false ;;\n"
			       "esac\n"
			       "echo "
			       "\"{\\\"type\\\":\\\"result\\\",\\\"id\\\":1,\\\"ok\\\":$ok}\"\n"
			       "read -r rest\n");
	assert_int_equal(algorithm_open(dir, NULL, &a, &err), 0);
	assert_int_equal(algorithm_execute(a, "{\n\"a\": [1,\r\n2]\n}", NULL, NULL, &err),
			 ALGORITHM_OK);
	algorithm_close(a);
}

static void check_report(void *arg, int instance, pid_t pid, int wait_status)
{
	struct algorithm **a = arg;
	struct event_builder *report = event_builder_new();
	const char *kill_reason;
	struct span text;

	(void)pid;
	assert_non_null(report);
	event_builder_begin(report);
	assert_true(algorithm_describe_exit(*a, instance, wait_status, report, &kill_reason));
	assert_int_equal(event_builder_finish(report, &text), 0);
	assert_true(algo_json_valid(text.ptr, text.len));
	assert_non_null(memmem(text.ptr, text.len, "\"params_truncated\":true", 23));
	event_builder_free(report);
}

/* A crash report used to cut the params of a call in flight inside a UTF-8 character. */
static void test_algorithm_report_cuts_whole_characters(void **state)
{
	struct algorithm *a = NULL;
	struct algorithm_options opts = { .on_exit = check_report, .arg = &a };
	struct error err = { 0 };
	char params[160];

	(void)state;
	write_file("manifest.json", "{\"name\":\"crash\",\"protocol\":1,"
				    "\"entry_point\":[\"sh\",\"child.sh\"]}");
	write_file("child.sh", "echo '{\"type\":\"hello\",\"protocol\":1}'\n"
			       "read -r hello; read -r call\n"
			       "exit 3\n");
	/* A JSON string whose 120th byte is the second of a two-byte character. */
	memset(params, 'x', sizeof(params));
	params[0] = '"';
	memcpy(params + 119, "\xc3\xa9", 2);
	memcpy(params + 150, "\"", 2);
	assert_int_equal(algorithm_open(dir, &opts, &a, &err), 0);
	assert_int_equal(algorithm_execute(a, params, NULL, NULL, &err), ALGORITHM_CRASHED);
	algorithm_close(a);
}

/* yajl accepts a value followed by an unterminated string: such params went to the child as they were. */
static void test_algorithm_refuses_trailing_string(void **state)
{
	struct algorithm *a;
	struct error err = { 0 };

	(void)state;
	assert_false(algo_json_valid("{}\"", 3));
	assert_false(algo_json_valid("[1] \"a\\\"b", 9));
	assert_true(algo_json_valid("[\"a\\\\\"] ", 8));
	write_file("manifest.json", "{\"name\":\"garbage\",\"protocol\":1,"
				    "\"entry_point\":[\"sh\",\"child.sh\"]}");
	write_file("child.sh", "echo '{\"type\":\"hello\",\"protocol\":1}'\n"
			       "read -r hello\n"
			       "while read -r call; do\n"
			       "  echo '{\"type\":\"result\",\"id\":1,\"ok\":true}'\n"
			       "done\n");
	assert_int_equal(algorithm_open(dir, NULL, &a, &err), 0);
	assert_int_equal(algorithm_execute(a, "{} \"x", NULL, NULL, &err), ALGORITHM_BAD_INPUT);
	algorithm_close(a);
}

static void test_nesting_skips_strings(void **state)
{
	(void)state;
	assert_true(algo_json_nesting_ok("{\"a\":[[1]]}", 11, 3));
	assert_false(algo_json_nesting_ok("{\"a\":[[1]]}", 11, 2));
	assert_true(algo_json_nesting_ok("[\"[[[\\\"[[\"]", 11, 1));
}

/* fuzz_filter_expr: a control character in a member name reached the terminal through the view. */
static void test_view_escapes_member_names(void **state)
{
	static const char line[] = "{\"type\":\"th.sale\",\"data\":{\"cp pidptt "
				   ">'^c\\brss_ytes\":90}}";
	struct render_opts o = { .width = 0 };
	struct renderer *r = renderer_new(&o);
	struct event_view v = { 0 };
	struct buffer out = { 0 };

	(void)state;
	assert_int_equal(event_view_parse(&v, line, strlen(line), NULL), 0);
	assert_true(renderer_row(r, &v, &out) >= 0);
	for (size_t i = 0; i + 1 < out.len; i++)
		assert_true((unsigned char)out.data[i] >= 0x20 || out.data[i] == '\n');
	buffer_append(&out, "", 1);
	assert_non_null(strstr(out.data, "\\x08rss_ytes=90"));
	buffer_free(&out);
	event_view_free(&v);
	renderer_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sse_retry_reads_only_its_value),
		cmocka_unit_test_setup_teardown(test_algorithm_rejects_deep_nesting, make_dir,
						remove_dir),
		cmocka_unit_test(test_nesting_skips_strings),
		cmocka_unit_test_setup_teardown(test_algorithm_ready_event_is_json, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_algorithm_cuts_whole_characters, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_algorithm_error_message_cuts_whole_characters,
						make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_algorithm_call_is_one_line, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_algorithm_report_cuts_whole_characters,
						make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_algorithm_refuses_trailing_string, make_dir,
						remove_dir),
		cmocka_unit_test(test_view_escapes_member_names),
	};

	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	/* The hosts ran on libev's default loop: release it, so valgrind finds nothing left. */
	ev_loop_destroy(ev_default_loop(0));
	return failed;
}
