/* Unit tests for the JSON lines encoder (collector/event_encoder.c): envelope, escaping, timestamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <regex.h>
#include <unistd.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include <collector/event_encoder.h>

#define TS_1 INT64_C(1700000000123456789)
#define TS_1_TEXT "2023-11-14T22:13:20.123456789Z"

static char host_name[256];

static int group_setup(void **state)
{
	(void)state;
	if (gethostname(host_name, sizeof(host_name) - 1) < 0)
		strcpy(host_name, "localhost");
	host_name[sizeof(host_name) - 1] = '\0';
	return 0;
}

static int setup(void **state)
{
	struct event_encoder *enc = event_encoder_new();

	if (!enc)
		return -1;
	*state = enc;
	return 0;
}

static int teardown(void **state)
{
	event_encoder_free(*state);
	return 0;
}

static struct event *make(const char *type, const char *comm, const char *data, const char *runner,
			  uint64_t seq, int64_t ts_ns)
{
	struct event *ev = event_new(span_str(type), span_str(comm), span_str(data));

	assert_non_null(ev);
	event_set_runner(ev, span_str(runner));
	ev->seq = seq;
	ev->ts_ns = ts_ns;
	return ev;
}

/* Encode @p ev alone; returns the line as a NUL-terminated heap string (with its '\n'). */
static char *encode(struct event_encoder *enc, const struct event *ev)
{
	struct buffer out = { 0 };
	char *line;

	assert_int_equal(event_encoder_write(enc, ev, &out), 0);
	assert_true(out.len > 0);
	line = malloc(out.len + 1);
	assert_non_null(line);
	memcpy(line, out.data, out.len);
	line[out.len] = '\0';
	/* exactly one line: one '\n', at the end, and no raw control bytes */
	assert_int_equal(line[out.len - 1], '\n');
	assert_ptr_equal(strchr(line, '\n'), line + out.len - 1);
	for (size_t i = 0; i + 1 < out.len; i++)
		assert_true((unsigned char)line[i] >= 0x20);
	buffer_free(&out);
	return line;
}

static yajl_val parse(const char *line)
{
	char errbuf[256];
	yajl_val v = yajl_tree_parse(line, errbuf, sizeof(errbuf));

	if (!v)
		fail_msg("encoded line does not parse: %s\n%s", errbuf, line);
	assert_true(YAJL_IS_OBJECT(v));
	return v;
}

static yajl_val field(yajl_val obj, const char *key)
{
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

/* The object's keys, in order, are exactly @p keys (NULL-terminated). */
static void assert_keys(yajl_val obj, const char *const *keys)
{
	size_t n = 0;

	while (keys[n])
		n++;
	assert_int_equal(obj->u.object.len, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(obj->u.object.keys[i], keys[i]);
}

static void assert_str_field(yajl_val obj, const char *key, const char *want, size_t want_len)
{
	yajl_val v = field(obj, key);

	assert_non_null(v);
	assert_true(YAJL_IS_STRING(v));
	/* yajl_tree strings are NUL-terminated: compare what fits */
	assert_int_equal(strlen(v->u.string), want_len);
	assert_memory_equal(v->u.string, want, want_len);
}

static void assert_int_field(yajl_val obj, const char *key, long long want)
{
	yajl_val v = field(obj, key);

	assert_non_null(v);
	assert_true(YAJL_IS_INTEGER(v));
	assert_int_equal(YAJL_GET_INTEGER(v), want);
}

static void assert_rfc3339(const char *ts)
{
	regex_t re;

	assert_int_equal(regcomp(&re,
				 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}"
				 "Z$",
				 REG_EXTENDED | REG_NOSUB),
			 0);
	if (regexec(&re, ts, 0, NULL, 0) != 0) {
		regfree(&re);
		fail_msg("'%s' is not RFC 3339 with 9 fractional digits", ts);
	}
	regfree(&re);
}

/* The line ends with "data":<raw>}\n, the raw bytes untouched. */
static void assert_raw_data(const char *line, const char *raw)
{
	char tail[1024];
	size_t n = (size_t)snprintf(tail, sizeof(tail), ",\"data\":%s}\n", raw);
	size_t len = strlen(line);

	assert_true(n < sizeof(tail));
	assert_true(len >= n);
	if (memcmp(line + len - n, tail, n) != 0)
		fail_msg("line does not end with '%s': %s", tail, line);
}

static void test_full_envelope(void **state)
{
	struct event_encoder *enc = *state;
	static const char data[] = "{\"user\":\"ann\",\"n\":18446744073709551615,\"e\":\"\\u00e9\","
				   "\"f\":1e400}";
	struct event *ev = make("app.login", "bash", data, "exec", 5, TS_1);
	const char *const keys[] = { "type", "ts",  "ts_ns", "runner", "seq",
				     "host", "pid", "comm",  "data",   NULL };
	char *line;
	yajl_val v, d;

	(void)state;
	event_set_pid(ev, 42);
	line = encode(enc, ev);
	v = parse(line);
	assert_keys(v, keys);
	assert_str_field(v, "type", "app.login", 9);
	assert_str_field(v, "ts", TS_1_TEXT, strlen(TS_1_TEXT));
	assert_int_field(v, "ts_ns", TS_1);
	assert_str_field(v, "runner", "exec", 4);
	assert_int_field(v, "seq", 5);
	assert_str_field(v, "host", host_name, strlen(host_name));
	assert_int_field(v, "pid", 42);
	assert_str_field(v, "comm", "bash", 4);
	d = field(v, "data");
	assert_true(YAJL_IS_OBJECT(d));
	assert_str_field(d, "user", "ann", 3);
	assert_str_field(d, "e", "\xC3\xA9", 2);
	assert_raw_data(line, data);
	/* the whole line, byte for byte */
	{
		char want[1024];

		snprintf(want, sizeof(want),
			 "{\"type\":\"app.login\",\"ts\":\"" TS_1_TEXT "\",\"ts_ns\":"
			 "1700000000123456789,"
			 "\"runner\":\"exec\",\"seq\":5,\"host\":\"%s\",\"pid\":42,\"comm\":"
			 "\"bash\",\"data\":%s}\n",
			 host_name, data);
		if (!strpbrk(host_name, "\"\\"))
			assert_string_equal(line, want);
	}
	yajl_tree_free(v);
	free(line);
	event_unref(ev);
}

static void test_optional_fields_absent(void **state)
{
	struct event_encoder *enc = *state;
	struct event *ev = make("t", "", "[1,2]", "r", 0, 0);
	const char *const keys[] = { "type", "ts", "ts_ns", "runner", "seq", "host", "data", NULL };
	char *line;
	yajl_val v;

	(void)state;
	line = encode(enc, ev);
	v = parse(line);
	assert_keys(v, keys);
	assert_str_field(v, "ts", "1970-01-01T00:00:00.000000000Z", 30);
	assert_int_field(v, "ts_ns", 0);
	assert_int_field(v, "seq", 0);
	assert_true(YAJL_IS_ARRAY(field(v, "data")));
	assert_raw_data(line, "[1,2]");
	yajl_tree_free(v);
	free(line);
	event_unref(ev);
}

/* Elements of a JSON array: "[" first, "," between, no newlines, "]" at the end. */
static void test_array_elements(void **state)
{
	struct event_encoder *enc = *state;
	struct event *a = make("t.a", "", "{\"x\":1}", "r", 0, TS_1);
	struct event *b = make("t.b", "", "[2]", "r", 1, TS_1);
	struct buffer out = { 0 };
	char errbuf[256];
	yajl_val v;

	assert_int_equal(event_encoder_write_element(enc, a, &out), 0);
	assert_int_equal(event_encoder_write_element(enc, b, &out), 0);
	assert_int_equal(event_encoder_end_array(&out), 0);
	assert_int_equal(buffer_append(&out, "", 1), 0);
	assert_null(strchr(out.data, '\n'));
	v = yajl_tree_parse(out.data, errbuf, sizeof(errbuf));
	if (!v)
		fail_msg("the array does not parse: %s\n%s", errbuf, out.data);
	assert_true(YAJL_IS_ARRAY(v));
	assert_int_equal(v->u.array.len, 2);
	assert_string_equal(YAJL_GET_STRING(field(v->u.array.values[1], "type")), "t.b");
	yajl_tree_free(v);
	buffer_free(&out);
	event_unref(a);
	event_unref(b);
}

static void test_tid_ppid_and_pid_zero(void **state)
{
	struct event_encoder *enc = *state;
	struct event *ev = make("t", "c", "{}", "r", UINT64_C(9007199254740993), TS_1);
	const char *const keys[] = { "type", "ts",  "ts_ns", "runner", "seq",  "host",
				     "pid",  "tid", "ppid",  "comm",   "data", NULL };
	const char *const keys2[] = { "type", "ts",   "ts_ns", "runner", "seq",
				      "host", "ppid", "data",  NULL };
	char *line;
	yajl_val v;

	(void)state;
	event_set_pid(ev, 0);
	ev->tid = INT32_MAX;
	ev->ppid = 1;
	ev->flags |= EVENT_HAS_TID | EVENT_HAS_PPID;
	line = encode(enc, ev);
	v = parse(line);
	assert_keys(v, keys);
	assert_int_field(v, "pid", 0);
	assert_int_field(v, "tid", INT32_MAX);
	assert_int_field(v, "ppid", 1);
	assert_int_field(v, "seq", 9007199254740993LL);
	assert_non_null(strstr(line, "\"seq\":9007199254740993,"));
	assert_raw_data(line, "{}");
	yajl_tree_free(v);
	free(line);
	event_unref(ev);

	/* only ppid; an empty comm is left out */
	ev = make("t", "", "{}", "r", 1, TS_1);
	ev->pid = 77; /* not flagged: not written */
	ev->ppid = -5;
	ev->flags = EVENT_HAS_PPID;
	line = encode(enc, ev);
	v = parse(line);
	assert_keys(v, keys2);
	assert_int_field(v, "ppid", -5);
	assert_null(strstr(line, "\"pid\""));
	yajl_tree_free(v);
	free(line);
	event_unref(ev);
}

static void test_data_variants(void **state)
{
	struct event_encoder *enc = *state;
	static const char *const datas[] = {
		"{}",
		"[]",
		"\"str\"",
		"5",
		"-0.5e-10",
		"null",
		"true",
		"123456789012345678901234567890",
		"{\"a\":{\"b\":[1,{\"c\":\"\\ud83d\\ude00\"}]},\"s\":\"x\\\"y\\\\z\"}",
		"{ \"spaced\" : [ 1 , 2 ] }",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(datas) / sizeof(datas[0]); i++) {
		struct event *ev = make("d", "", datas[i], "r", i, TS_1);
		char *line = encode(enc, ev);
		yajl_val v = parse(line);

		assert_non_null(field(v, "data"));
		assert_raw_data(line, datas[i]);
		yajl_tree_free(v);
		free(line);
		event_unref(ev);
	}
	/* an empty data span stands for {} */
	{
		struct event *ev = event_new(span_str("d"), span_str(""), (struct span){ NULL, 0 });
		char *line;

		assert_non_null(ev);
		line = encode(enc, ev);
		assert_raw_data(line, "{}");
		free(line);
		event_unref(ev);
	}
}

static void test_escaping(void **state)
{
	struct event_encoder *enc = *state;
	static const char type[] = "we\"ird\\type/\xC3\xA9";
	static const char runner[] = "run\"ner\\\n\t\x01\x1f";
	static const char comm[] = "co\"mm\\\r\b\f";
	struct event *ev = make(type, comm, "{\"k\":\"v\"}", runner, 3, TS_1);
	char *line;
	yajl_val v;

	(void)state;
	line = encode(enc, ev);
	v = parse(line);
	assert_str_field(v, "type", type, strlen(type));
	assert_str_field(v, "runner", runner, strlen(runner));
	assert_str_field(v, "comm", comm, strlen(comm));
	assert_non_null(strstr(line, "\"type\":\"we\\\"ird\\\\type/\xC3\xA9\""));
	/* yajl spells \u escapes with upper-case hex; either case is valid JSON */
	assert_true(strstr(line, "\"runner\":\"run\\\"ner\\\\\\n\\t\\u0001\\u001F\"") ||
		    strstr(line, "\"runner\":\"run\\\"ner\\\\\\n\\t\\u0001\\u001f\""));
	assert_non_null(strstr(line, "\"comm\":\"co\\\"mm\\\\\\r\\b\\f\""));
	assert_raw_data(line, "{\"k\":\"v\"}");
	yajl_tree_free(v);
	free(line);
	event_unref(ev);

	/* a NUL inside comm (event_new copies by length) is escaped, not cut */
	ev = event_new(span_str("t"), (struct span){ "a\0b", 3 }, span_str("{}"));
	assert_non_null(ev);
	line = encode(enc, ev);
	assert_non_null(strstr(line, "\"comm\":\"a\\u0000b\""));
	free(line);
	event_unref(ev);
}

/* Type and runner literals are cached: alternating values must not leak into each other. */
static void test_literal_cache_alternating(void **state)
{
	struct event_encoder *enc = *state;
	char long_type[201];
	const char *types[4];
	static const char *const runners[] = { "a", "b\"q", "a", "" };

	(void)state;
	memset(long_type, 'L', 200);
	long_type[200] = '\0';
	types[0] = "exec.line";
	types[1] = long_type;
	types[2] = "exec.lin";
	types[3] = "exec.line\"";
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 4; i++) {
			for (int j = 0; j < 4; j++) {
				struct event *ev = make(types[i], "", "{}", runners[j],
							(uint64_t)(i * 4 + j), TS_1);
				char *line = encode(enc, ev);
				yajl_val v = parse(line);

				assert_str_field(v, "type", types[i], strlen(types[i]));
				assert_str_field(v, "runner", runners[j], strlen(runners[j]));
				assert_int_field(v, "seq", i * 4 + j);
				yajl_tree_free(v);
				free(line);
				event_unref(ev);
			}
		}
	}
}

static void test_format_rfc3339_ns(void **state)
{
	static const struct {
		int64_t ns;
		const char *text;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00.000000000Z" },
		{ TS_1, TS_1_TEXT },
		{ 1, "1970-01-01T00:00:00.000000001Z" },
		{ 999999999, "1970-01-01T00:00:00.999999999Z" },
		{ 1000000000, "1970-01-01T00:00:01.000000000Z" },
		{ INT64_C(951782400000000000), "2000-02-29T00:00:00.000000000Z" },
		{ INT64_C(1704067199999999999), "2023-12-31T23:59:59.999999999Z" },
		{ INT64_C(4102444800000000000), "2100-01-01T00:00:00.000000000Z" },
		{ INT64_MAX, "2262-04-11T23:47:16.854775807Z" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64];

		memset(buf, 'X', sizeof(buf));
		assert_int_equal(format_rfc3339_ns(cases[i].ns, buf), 30);
		assert_string_equal(buf, cases[i].text);
		assert_rfc3339(buf);
	}
}

/* Timestamps before the epoch are valid int64 values too. */
static void test_format_rfc3339_ns_negative(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(format_rfc3339_ns(-1, buf), 30);
	assert_string_equal(buf, "1969-12-31T23:59:59.999999999Z");
	assert_int_equal(format_rfc3339_ns(-INT64_C(1500000000), buf), 30);
	assert_string_equal(buf, "1969-12-31T23:59:58.500000000Z");
}

/* ts in a line always matches ts_ns, across the encoder's per-second date cache. */
static void test_ts_matches_ts_ns(void **state)
{
	struct event_encoder *enc = *state;
	static const int64_t stamps[] = {
		TS_1,
		TS_1 + 1,
		INT64_C(1700000000999999999),
		INT64_C(1700000001000000000),
		TS_1,
		0,
		INT64_C(1700000060000000007),
		INT64_C(1795423743514838401),
		INT64_C(1795423743514838401),
		999999999,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(stamps) / sizeof(stamps[0]); i++) {
		struct event *ev = make("t", "", "{}", "r", i, stamps[i]);
		char *line = encode(enc, ev);
		yajl_val v = parse(line);
		char want[64];
		yajl_val ts = field(v, "ts");

		format_rfc3339_ns(stamps[i], want);
		assert_non_null(ts);
		assert_true(YAJL_IS_STRING(ts));
		assert_rfc3339(ts->u.string);
		assert_string_equal(ts->u.string, want);
		assert_int_field(v, "ts_ns", stamps[i]);
		yajl_tree_free(v);
		free(line);
		event_unref(ev);
	}
}

/* Lines are appended to what the buffer already holds. */
static void test_appends_lines(void **state)
{
	struct event_encoder *enc = *state;
	struct buffer out = { 0 };
	struct event *a = make("a", "", "{\"i\":1}", "r", 1, TS_1);
	struct event *b = make("b", "", "{\"i\":2}", "r", 2, TS_1);
	char *first, *nl;
	size_t first_len;

	(void)state;
	assert_int_equal(buffer_append(&out, "prefix|", 7), 0);
	assert_int_equal(event_encoder_write(enc, a, &out), 0);
	first_len = out.len - 7;
	assert_int_equal(event_encoder_write(enc, b, &out), 0);
	assert_memory_equal(out.data, "prefix|", 7);
	first = malloc(out.len + 1);
	assert_non_null(first);
	memcpy(first, out.data, out.len);
	first[out.len] = '\0';
	nl = strchr(first + 7, '\n');
	assert_non_null(nl);
	assert_int_equal((size_t)(nl - (first + 7)) + 1, first_len);
	assert_int_equal(first[out.len - 1], '\n');
	*nl = '\0';
	{
		yajl_val v1 = parse(first + 7), v2;

		assert_str_field(v1, "type", "a", 1);
		first[out.len - 1] = '\0';
		v2 = parse(nl + 1);
		assert_str_field(v2, "type", "b", 1);
		assert_int_field(v2, "seq", 2);
		yajl_tree_free(v1);
		yajl_tree_free(v2);
	}
	free(first);
	buffer_free(&out);
	event_unref(a);
	event_unref(b);
	event_encoder_free(NULL);
}

/* The id's text is where event_encoder_id_offset() says, in a buffer that had bytes before. */
static void test_id_offset(void **state)
{
	struct event_encoder *enc = *state;
	struct buffer out = { 0 };
	struct event *ev = make("a", "", "{}", "r", 1, TS_1);
	char id[EVENT_ID_TEXT + 1];
	size_t at;

	assert_int_equal(buffer_append(&out, "prefix|", 7), 0);
	assert_int_equal(event_encoder_write(enc, ev, &out), 0);
	assert_int_equal(event_encoder_id_offset(enc), SIZE_MAX);
	event_id_new(ev);
	event_id_text(ev, id);
	assert_int_equal(event_encoder_write(enc, ev, &out), 0);
	at = event_encoder_id_offset(enc);
	assert_true(at > 7 && at + EVENT_ID_TEXT < out.len);
	assert_memory_equal(out.data + at, id, EVENT_ID_TEXT);
	assert_memory_equal(out.data + at - 6, "\"id\":\"", 6);
	assert_int_equal(out.data[at + EVENT_ID_TEXT], '"');
	buffer_free(&out);
	event_unref(ev);
}

/* The ULID text read back as 128 bits (Crockford base32, 26 digits, most significant first). */
static void ulid_bytes(const char *text, uint8_t out[16])
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	unsigned __int128 v = 0;

	for (int i = 0; i < EVENT_ID_TEXT; i++) {
		const char *d = strchr(alphabet, text[i]);

		assert_non_null(d);
		assert_true(text[i] != '\0');
		v = v << 5 | (unsigned)(d - alphabet);
	}
	for (int i = 15; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

/* Each of the 128 bits alone, and the extremes, reads back to the same id. */
static void test_id_text_every_bit(void **state)
{
	struct event *ev = make("a", "", "{}", "r", 1, TS_1);
	char text[EVENT_ID_TEXT + 1];
	uint8_t back[16];

	(void)state;
	memset(ev->id, 0xff, sizeof(ev->id));
	event_id_text(ev, text);
	assert_string_equal(text, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
	for (int bit = 0; bit < 128; bit++) {
		memset(ev->id, 0, sizeof(ev->id));
		ev->id[bit / 8] = (uint8_t)(0x80 >> bit % 8);
		event_id_text(ev, text);
		assert_int_equal(strlen(text), EVENT_ID_TEXT);
		ulid_bytes(text, back);
		assert_memory_equal(back, ev->id, 16);
	}
	event_unref(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_envelope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optional_fields_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tid_ppid_and_pid_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_array_elements, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_literal_cache_alternating, setup, teardown),
		cmocka_unit_test(test_format_rfc3339_ns),
		cmocka_unit_test(test_format_rfc3339_ns_negative),
		cmocka_unit_test_setup_teardown(test_ts_matches_ts_ns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_appends_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_offset, setup, teardown),
		cmocka_unit_test(test_id_text_every_bit),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
