/* Unit tests for the JSON line decoder (collector/json_decoder.c): envelope, kept members, errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <collector/json_decoder.h>

#define DEFAULT_TYPE "exec.event"

static int setup(void **state)
{
	struct json_decoder *d = json_decoder_new(DEFAULT_TYPE);

	if (!d)
		return -1;
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	json_decoder_free(*state);
	return 0;
}

/* Exact byte comparison of a span with a C string, with a readable failure. */
static void assert_span_text(struct span sp, const char *want)
{
	size_t n = strlen(want);

	if (sp.len != n || (n && memcmp(sp.ptr, want, n) != 0))
		fail_msg("got '%.*s' (%zu bytes), want '%s' (%zu bytes)", (int)sp.len,
			 sp.ptr ? sp.ptr : "", sp.len, want, n);
}

static struct event *decode_ok(struct json_decoder *d, const char *line)
{
	struct error err = { 0 };
	struct event *ev = json_decoder_decode(d, line, strlen(line), &err);

	if (!ev)
		fail_msg("decoding '%s' failed: %d %s", line, err.code, err.msg);
	assert_int_equal(ev->refs, 1);
	return ev;
}

/* Decode, check type and data, and free. */
static void check(struct json_decoder *d, const char *line, const char *type, const char *data)
{
	struct event *ev = decode_ok(d, line);

	assert_span_text(ev->type, type);
	assert_span_text(ev->data, data);
	event_unref(ev);
}

static void check_error(struct json_decoder *d, const char *line, size_t len, int code)
{
	struct error err = { 0 };
	struct event *ev = json_decoder_decode(d, line, len, &err);

	if (ev) {
		fail_msg("'%.*s' decoded, expected error %d (data %.*s)", (int)len, line, code,
			 (int)ev->data.len, ev->data.ptr);
	}
	assert_int_equal(err.code, code);
	assert_true(err.msg[0] != '\0');
}

/* The line every error test decodes afterwards, checked completely. */
static void check_good_line(struct json_decoder *d)
{
	struct event *ev = decode_ok(d, "{\"type\":\"good.one\",\"pid\":12,\"comm\":\"sh\",\"k\":["
					"1,{\"z\":null}]}");

	assert_span_text(ev->type, "good.one");
	assert_span_text(ev->comm, "sh");
	assert_span_text(ev->data, "{\"k\":[1,{\"z\":null}]}");
	assert_int_equal(ev->flags, EVENT_HAS_PID);
	assert_int_equal(ev->pid, 12);
	event_unref(ev);
}

static void test_envelope_fields(void **state)
{
	struct json_decoder *d = *state;
	struct event *ev;

	ev = decode_ok(d, "{\"type\":\"app.login\",\"pid\":42,\"tid\":43,\"ppid\":1,\"comm\":"
			  "\"bash\",\"user\":\"ann\"}");
	assert_span_text(ev->type, "app.login");
	assert_span_text(ev->comm, "bash");
	assert_span_text(ev->data, "{\"user\":\"ann\"}");
	assert_int_equal(ev->flags, EVENT_HAS_PID | EVENT_HAS_TID | EVENT_HAS_PPID);
	assert_int_equal(ev->pid, 42);
	assert_int_equal(ev->tid, 43);
	assert_int_equal(ev->ppid, 1);
	assert_int_equal(ev->runner.len, 0);
	event_unref(ev);

	/* only some ids; the bounds 0 and INT32_MAX are accepted */
	ev = decode_ok(d, "{\"tid\":2147483647,\"ppid\":0}");
	assert_span_text(ev->type, DEFAULT_TYPE);
	assert_int_equal(ev->flags, EVENT_HAS_TID | EVENT_HAS_PPID);
	assert_int_equal(ev->tid, INT32_MAX);
	assert_int_equal(ev->ppid, 0);
	assert_int_equal(ev->comm.len, 0);
	assert_span_text(ev->data, "{}");
	event_unref(ev);

	/* no envelope fields at all */
	ev = decode_ok(d, "{\"x\":1}");
	assert_int_equal(ev->flags, 0);
	assert_int_equal(ev->comm.len, 0);
	assert_span_text(ev->type, DEFAULT_TYPE);
	assert_span_text(ev->data, "{\"x\":1}");
	event_unref(ev);

	/* type of exactly 128 characters, comm of exactly 64 */
	{
		char line[512], type[129], comm[65];

		memset(type, 't', 128);
		type[128] = '\0';
		memset(comm, 'c', 64);
		comm[64] = '\0';
		snprintf(line, sizeof(line), "{\"comm\":\"%s\",\"type\":\"%s\"}", comm, type);
		ev = decode_ok(d, line);
		assert_span_text(ev->type, type);
		assert_span_text(ev->comm, comm);
		assert_span_text(ev->data, "{}");
		event_unref(ev);
	}
}

static void test_unknown_fields_verbatim_in_order(void **state)
{
	struct json_decoder *d = *state;

	check(d,
	      "{\"z\":1,\"type\":\"t\",\"a\":[1, 2],\"m\":{\"k\" : "
	      "\"v\"},\"s\":\"x\\\"y\",\"n\":null,\"b\":true,\"f\":false}",
	      "t",
	      "{\"z\":1,\"a\":[1, 2],\"m\":{\"k\" : "
	      "\"v\"},\"s\":\"x\\\"y\",\"n\":null,\"b\":true,\"f\":false}");
	/* envelope fields in between are removed, the rest keeps its order */
	check(d, "{\"b\":2,\"pid\":3,\"a\":1,\"comm\":\"x\",\"c\":3,\"tid\":4}", DEFAULT_TYPE,
	      "{\"b\":2,\"a\":1,\"c\":3}");
	/* the collector's own envelope names sent by a command stay in data */
	check(d, "{\"type\":\"t\",\"ts\":\"x\",\"seq\":9,\"runner\":\"r\",\"host\":\"h\"}", "t",
	      "{\"ts\":\"x\",\"seq\":9,\"runner\":\"r\",\"host\":\"h\"}");
	/* keys that only look like envelope keys */
	check(d, "{\"Type\":\"a\",\"pids\":1,\"typ\":2}", DEFAULT_TYPE,
	      "{\"Type\":\"a\",\"pids\":1,\"typ\":2}");
	/* envelope names inside nested objects are ordinary members */
	check(d, "{\"o\":{\"type\":\"inner\",\"pid\":5}}", DEFAULT_TYPE,
	      "{\"o\":{\"type\":\"inner\",\"pid\":5}}");
}

static void test_data_only_member(void **state)
{
	struct json_decoder *d = *state;
	struct event *ev;

	check(d, "{\"type\":\"app.tick\",\"data\":{\"k\":\"v\"}}", "app.tick", "{\"k\":\"v\"}");
	check(d, "{\"data\":[1,2,3],\"type\":\"t\"}", "t", "[1,2,3]");
	check(d, "{\"type\":\"t\",\"data\":\"str\"}", "t", "\"str\"");
	check(d, "{\"type\":\"t\",\"data\":12.5e3}", "t", "12.5e3");
	check(d, "{\"type\":\"t\",\"data\":null}", "t", "null");
	check(d, "{\"type\":\"t\",\"data\":{}}", "t", "{}");
	check(d, "{\"data\":{\"nested\":{\"data\":1}}}", DEFAULT_TYPE, "{\"nested\":{\"data\":1}}");
	/* envelope fields around data do not count as other members */
	ev = decode_ok(d, "{\"pid\":5,\"data\":{\"a\":1},\"comm\":\"c\"}");
	assert_span_text(ev->data, "{\"a\":1}");
	assert_span_text(ev->comm, "c");
	assert_int_equal(ev->pid, 5);
	assert_int_equal(ev->flags, EVENT_HAS_PID);
	event_unref(ev);
}

static void test_data_beside_other_fields(void **state)
{
	struct json_decoder *d = *state;

	check(d, "{\"type\":\"a\",\"data\":1,\"extra\":true}", "a", "{\"data\":1,\"extra\":true}");
	check(d, "{\"extra\":true,\"data\":{\"x\":1}}", DEFAULT_TYPE,
	      "{\"extra\":true,\"data\":{\"x\":1}}");
	check(d, "{\"a\":1,\"data\":[2],\"b\":3}", DEFAULT_TYPE, "{\"a\":1,\"data\":[2],\"b\":3}");
	/* a data member given twice is not "the only other member" */
	check(d, "{\"data\":1,\"data\":2}", DEFAULT_TYPE, "{\"data\":1,\"data\":2}");
	/* an envelope field with a wrong type counts as another member */
	check(d, "{\"data\":{\"x\":1},\"pid\":-1}", DEFAULT_TYPE,
	      "{\"data\":{\"x\":1},\"pid\":-1}");
	/* nothing left: empty object */
	check(d, "{\"type\":\"t\"}", "t", "{}");
	check(d, "{}", DEFAULT_TYPE, "{}");
}

static void test_nesting_depth_50(void **state)
{
	struct json_decoder *d = *state;
	char value[512], line[600], data[600];
	size_t n = 0;
	const int levels = 49; /* plus the top-level object: depth 50 */

	(void)state;
	for (int i = 0; i < levels; i++) {
		const char *open = i % 2 ? "[" : "{\"k\":";

		memcpy(value + n, open, strlen(open));
		n += strlen(open);
	}
	value[n++] = '7';
	for (int i = levels - 1; i >= 0; i--)
		value[n++] = i % 2 ? ']' : '}';
	value[n] = '\0';
	snprintf(line, sizeof(line), "{\"type\":\"deep\",\"x\":%s}", value);
	snprintf(data, sizeof(data), "{\"x\":%s}", value);
	check(d, line, "deep", data);
	snprintf(line, sizeof(line), "{\"type\":\"deep\",\"data\":%s}", value);
	check(d, line, "deep", value);
	check_good_line(d);
}

static void test_big_numbers_byte_exact(void **state)
{
	struct json_decoder *d = *state;
	struct event *ev;

	check(d,
	      "{\"type\":\"n\",\"a\":18446744073709551615,\"b\":-9223372036854775808,\"c\":1e400,"
	      "\"d\":123456789012345678901234567890,\"e\":-0.0000000000000000000001E-999,\"f\":1."
	      "50}",
	      "n",
	      "{\"a\":18446744073709551615,\"b\":-9223372036854775808,\"c\":1e400,"
	      "\"d\":123456789012345678901234567890,\"e\":-0.0000000000000000000001E-999,\"f\":1."
	      "50}");
	check(d, "{\"data\":18446744073709551615}", DEFAULT_TYPE, "18446744073709551615");
	check(d, "{\"data\":[1e400,-9223372036854775808]}", DEFAULT_TYPE,
	      "[1e400,-9223372036854775808]");
	/* numbers as the last member before '}' and before whitespace */
	check(d, "{\"x\":123456789012345678901234567890 }", DEFAULT_TYPE,
	      "{\"x\":123456789012345678901234567890}");

	/* an id that does not fit stays in data, byte for byte */
	ev = decode_ok(d, "{\"pid\":18446744073709551615,\"tid\":-9223372036854775808,\"ppid\":"
			  "1e400}");
	assert_int_equal(ev->flags, 0);
	assert_span_text(ev->data, "{\"pid\":18446744073709551615,\"tid\":-9223372036854775808,"
				   "\"ppid\":1e400}");
	event_unref(ev);
}

static void test_unicode_escapes_kept(void **state)
{
	struct json_decoder *d = *state;
	struct event *ev;

	check(d,
	      "{\"type\":\"u\",\"s\":\"caf\\u00e9\",\"e\":\"\\ud83d\\ude00\",\"t\":\"\\\"\\\\\\/"
	      "\\n\\t\\u0000\"}",
	      "u",
	      "{\"s\":\"caf\\u00e9\",\"e\":\"\\ud83d\\ude00\",\"t\":\"\\\"\\\\\\/\\n\\t\\u0000\"}");
	check(d, "{\"data\":\"\\ud83d\\ude00 \\u00E9\"}", DEFAULT_TYPE,
	      "\"\\ud83d\\ude00 \\u00E9\"");
	/* raw UTF-8 passes unchanged too */
	check(d, "{\"s\":\"\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80\"}", DEFAULT_TYPE,
	      "{\"s\":\"\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80\"}");
	/* escaped keys are kept as written as well */
	check(d, "{\"k\\u0065y\":1}", DEFAULT_TYPE, "{\"k\\u0065y\":1}");

	/* the envelope strings themselves are unescaped */
	ev = decode_ok(d, "{\"type\":\"caf\\u00e9.\\ud83d\\ude00\",\"comm\":\"a\\\"b\"}");
	assert_span_text(ev->type, "caf\xC3\xA9.\xF0\x9F\x98\x80");
	assert_span_text(ev->comm, "a\"b");
	assert_span_text(ev->data, "{}");
	event_unref(ev);
}

static void test_whitespace_around_tokens(void **state)
{
	struct json_decoder *d = *state;
	struct event *ev;

	ev = decode_ok(d, " \t{  \"type\" : \"w\" ,\t\"pid\" :\t7 , \"a\" : 1 ,\"b\":[ 1 , 2 ] "
			  ",\r\n \"c\" : { } } \t ");
	assert_span_text(ev->type, "w");
	assert_int_equal(ev->flags, EVENT_HAS_PID);
	assert_int_equal(ev->pid, 7);
	assert_span_text(ev->data, "{\"a\" : 1,\"b\":[ 1 , 2 ],\"c\" : { }}");
	event_unref(ev);

	check(d, "{ \"data\" :  {\"k\":1} , \"type\":\"t\" }", "t", "{\"k\":1}");
	check(d, "{\"data\"\t:\t\"s\"\t}", DEFAULT_TYPE, "\"s\"");
	check(d, "{ }", DEFAULT_TYPE, "{}");
}

static void test_default_type(void **state)
{
	struct json_decoder *d = *state;
	struct json_decoder *other = json_decoder_new("my.default");

	(void)state;
	assert_non_null(other);
	check(d, "{\"a\":1}", DEFAULT_TYPE, "{\"a\":1}");
	check(other, "{\"a\":1}", "my.default", "{\"a\":1}");
	check(other, "{\"type\":\"given\"}", "given", "{}");
	check(other, "{\"b\":2}", "my.default", "{\"b\":2}");
	json_decoder_free(other);
	json_decoder_free(NULL);
}

/* "type" must be a string; with another JSON type the member is kept in data. */
static void test_wrong_typed_type_kept_in_data(void **state)
{
	struct json_decoder *d = *state;

	check(d, "{\"type\":5,\"a\":1}", DEFAULT_TYPE, "{\"type\":5,\"a\":1}");
	check(d, "{\"type\":null}", DEFAULT_TYPE, "{\"type\":null}");
	check(d, "{\"type\":true}", DEFAULT_TYPE, "{\"type\":true}");
	check(d, "{\"type\":[\"x\"]}", DEFAULT_TYPE, "{\"type\":[\"x\"]}");
	check(d, "{\"type\":{\"name\":\"x\"}}", DEFAULT_TYPE, "{\"type\":{\"name\":\"x\"}}");
	/* beside data, the kept type is another member */
	check(d, "{\"type\":5,\"data\":{}}", DEFAULT_TYPE, "{\"type\":5,\"data\":{}}");
	check_good_line(d);
}

static void test_errors_then_recovery(void **state)
{
	struct json_decoder *d = *state;
	char long_type[300];
	const char *const bad[] = {
		"garbage",
		"nul",
		"[1,2]",
		"[]",
		"5",
		"5 ",
		"\"str\"",
		"true",
		"null",
		"{}{}",
		"{\"a\":1}{\"b\":2}",
		"{\"a\":1} 5",
		"{\"a\":1} x",
		"{\"a\":1} \"s\"",
		"{\"a\":1} [",
		"{\"a\":1} -",
		"{\"a\":1},",
		"{\"a\":",
		"{\"a\":1",
		"{\"a\"",
		"{",
		"{\"a\":1,}",
		"{\"a\":01}",
		"{'a':1}",
		"{\"a\":\"unterminated}",
		"{\"type\":\"\"}",
		"{\"type\":\"a\\u0001b\"}",
		"{\"type\":\"tab\\there\"}",
		"{\"type\":\"del\x7f\"}",
		long_type,
	};

	snprintf(long_type, sizeof(long_type), "{\"type\":\"%0200d\"}", 0);
	assert_int_equal(strlen(long_type), 200 + 11);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		check_error(d, bad[i], strlen(bad[i]), EBADMSG);
		check_good_line(d);
	}
	/* 129 characters is one too many */
	{
		char line[200], type[130];

		memset(type, 'a', 129);
		type[129] = '\0';
		snprintf(line, sizeof(line), "{\"type\":\"%s\"}", type);
		check_error(d, line, strlen(line), EBADMSG);
		check_good_line(d);
	}
	/* several errors in a row, then good lines in a row */
	check_error(d, "{\"a\":", 5, EBADMSG);
	check_error(d, "[", 1, EBADMSG);
	check_error(d, "{\"a\":1} 5", 9, EBADMSG);
	check_good_line(d);
	check_good_line(d);
}

static void test_empty_line_enodata(void **state)
{
	struct json_decoder *d = *state;
	static const char *const blank[] = { "", " ", "   ", "\t", " \t \r " };

	for (size_t i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
		check_error(d, blank[i], strlen(blank[i]), ENODATA);
		check_good_line(d);
	}
	/* the length is what counts, not a terminating NUL */
	check_error(d, "{\"a\":1}", 0, ENODATA);
	check_good_line(d);
}

/* Found by fuzz_json_decoder: yajl takes \v and \f as whitespace, JSON does not. */
static void test_vertical_tab_and_form_feed_refused(void **state)
{
	struct json_decoder *d = *state;
	static const char *const lines[] = {
		"{\"a\":12,\v\t,\"b\":\"\"}",
		"{\"a\":1,\v\"b\":2}",
		"{\"a\":[1,\f2]}",
		"\f{\"a\":1}",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		check_error(d, lines[i], strlen(lines[i]), EBADMSG);
		check_good_line(d);
	}
}

static void test_ids_out_of_range_stay_in_data(void **state)
{
	struct json_decoder *d = *state;
	static const char *const lines[] = {
		"{\"pid\":1.5}", "{\"pid\":-1}",	  "{\"pid\":2147483648}",
		"{\"pid\":1e3}", "{\"pid\":\"12\"}",	  "{\"pid\":null}",
		"{\"pid\":[1]}", "{\"tid\":-2147483648}", "{\"ppid\":99999999999}",
		"{\"comm\":5}",	 "{\"comm\":\"\"}",	  "{\"comm\":\"ctl\\u0007\"}",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		/* a good line first, so that stale envelope values would show */
		check_good_line(d);
		{
			struct event *ev = decode_ok(d, lines[i]);

			assert_int_equal(ev->flags, 0);
			assert_int_equal(ev->comm.len, 0);
			assert_span_text(ev->type, DEFAULT_TYPE);
			assert_span_text(ev->data, lines[i]);
			event_unref(ev);
		}
	}

	/* a comm over 64 characters stays in data */
	{
		char line[200], comm[66];
		struct event *ev;

		memset(comm, 'c', 65);
		comm[65] = '\0';
		snprintf(line, sizeof(line), "{\"comm\":\"%s\",\"type\":\"t\"}", comm);
		ev = decode_ok(d, line);
		assert_int_equal(ev->comm.len, 0);
		assert_span_text(ev->type, "t");
		snprintf(line, sizeof(line), "{\"comm\":\"%s\"}", comm);
		assert_span_text(ev->data, line);
		event_unref(ev);
	}
}

/* The line is used by length only: bytes after it are never read. */
static void test_line_not_nul_terminated(void **state)
{
	struct json_decoder *d = *state;
	static const char buf[] = "{\"type\":\"t\",\"a\":1}{\"b\":2}garbage";
	struct error err = { 0 };
	struct event *ev = json_decoder_decode(d, buf, 18, &err);

	assert_non_null(ev);
	assert_span_text(ev->type, "t");
	assert_span_text(ev->data, "{\"a\":1}");
	event_unref(ev);
	/* the event owns its bytes */
	{
		char line[] = "{\"type\":\"own\",\"data\":[1]}";

		ev = json_decoder_decode(d, line, strlen(line), &err);
		assert_non_null(ev);
		memset(line, 'X', strlen(line));
		assert_span_text(ev->type, "own");
		assert_span_text(ev->data, "[1]");
		event_unref(ev);
	}
}

/*
 * yajl checks the bytes of strings unless told the lines were checked
 * already (exec_lines: the line framer's lines). Decoders made without that
 * promise keep refusing invalid UTF-8; escaped lone surrogates are repaired
 * either way, and the promise outlives the handle a failed line replaces.
 */
static void test_utf8_checked_only_when_promised(void **state)
{
	struct json_decoder *d = *state;
	static const char raw[] = "{\"data\":{\"s\":\"a\xff\"}}";
	struct error err = { 0 };
	struct event *ev;

	assert_null(json_decoder_decode(d, raw, strlen(raw), &err));
	assert_int_equal(err.code, EBADMSG);
	assert_non_null(strstr(err.msg, "UTF8"));
	assert_int_equal(json_decoder_utf8_checked(d), 0);
	ev = decode_ok(d, raw);
	assert_span_text(ev->data, "{\"s\":\"a\xff\"}");
	event_unref(ev);
	assert_null(json_decoder_decode(d, "{", 1, &err));
	ev = decode_ok(d, "{\"data\":{\"s\":\"\\ud800\"}}");
	assert_true(json_decoder_repaired(d));
	assert_span_text(ev->data, "{\"s\":\"\\ufffd\"}");
	event_unref(ev);
	ev = decode_ok(d, raw);
	assert_false(json_decoder_repaired(d));
	event_unref(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_envelope_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_fields_verbatim_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_data_only_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_beside_other_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nesting_depth_50, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_numbers_byte_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unicode_escapes_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whitespace_around_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_typed_type_kept_in_data, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_errors_then_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_line_enodata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_out_of_range_stay_in_data, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_line_not_nul_terminated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vertical_tab_and_form_feed_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_utf8_checked_only_when_promised, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
