/* Unit tests of the HTTP and SSE analyzers: the same messages whatever way the bytes are split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <collector/buffer.h>
#include <collector/codec.h>

#include "../../runners/http_stream.h"
#include "../../runners/sse.h"

static const char *const redact[] = { "Authorization", "Cookie", "Set-Cookie" };

/* Every message as one line of text, so that runs compare as strings. */
static void log_message(void *arg, const struct http_message *m)
{
	struct buffer *b = arg;
	char line[8192];
	int n;

	if (m->request)
		n = snprintf(line, sizeof(line), "REQ#%llu %s %s HTTP/%u.%u", m->seq, m->method,
			     m->path, m->version_major, m->version_minor);
	else
		n = snprintf(line, sizeof(line), "RES#%llu %d %s for %s %s lat=%lld%s", m->seq,
			     m->status, m->reason, m->method ? m->method : "-",
			     m->path ? m->path : "-", m->latency_ns, m->event_stream ? " sse" : "");
	buffer_append(arg, line, (size_t)n);
	for (size_t i = 0; i < m->header_count; i++) {
		n = snprintf(line, sizeof(line), " [%s: %s]", m->headers[i].name,
			     m->headers[i].value);
		buffer_append(b, line, (size_t)n);
	}
	n = snprintf(line, sizeof(line), " body=%.*s size=%llu%s%s\n", (int)m->body_len,
		     m->body ? m->body : "", m->body_size, m->body_truncated ? " truncated" : "",
		     m->chunked ? " chunked" : "");
	buffer_append(b, line, (size_t)n);
}

static void log_sse(void *arg, const struct sse_message *m, long long ts_ns, unsigned long long seq)
{
	char line[8192];
	int n = snprintf(line, sizeof(line), "SSE#%llu@%lld %s id=%s retry=%lld data=%s%s\n", seq,
			 ts_ns, m->event, m->id ? m->id : "-", m->retry_ms, m->data,
			 m->data_truncated ? " truncated" : "");

	buffer_append(arg, line, (size_t)n);
}

static const struct http_stream_callbacks callbacks = { log_message, log_sse };

/* Feed @p out (direction 0) then @p in (direction 1), each cut at @p cut; return the log. */
static void run(struct buffer *log, const char *out, const char *in, size_t cut, size_t max_body)
{
	struct http_stream_config cfg = {
		.max_body = max_body, .redact = redact, .redact_count = 3, .sse = true
	};
	struct http_stream *s = http_stream_new(&cfg, &callbacks, log);
	size_t olen = strlen(out), ilen = strlen(in);
	size_t oc = cut < olen ? cut : olen, ic = cut < ilen ? cut : ilen;

	assert_non_null(s);
	assert_int_equal(http_stream_feed(s, 0, 100, out, oc), 0);
	assert_int_equal(http_stream_feed(s, 0, 100, out + oc, olen - oc), 0);
	assert_int_equal(http_stream_feed(s, 1, 250, in, ic), 0);
	assert_int_equal(http_stream_feed(s, 1, 250, in + ic, ilen - ic), 0);
	http_stream_free(s);
}

static void check_every_split(const char *out, const char *in, size_t max_body,
			      const char *expected)
{
	size_t longest = strlen(out) > strlen(in) ? strlen(out) : strlen(in);

	for (size_t cut = 0; cut <= longest; cut++) {
		struct buffer log = { 0 };

		run(&log, out, in, cut, max_body);
		buffer_append(&log, "", 1);
		if (strcmp(log.data, expected) != 0)
			fail_msg("split at %zu:\n got: %s\nwant: %s", cut, log.data, expected);
		buffer_free(&log);
	}
}

static void test_keep_alive_pipeline_and_redaction(void **state)
{
	(void)state;
	check_every_split("GET /a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n\r\n"
			  "POST /b?q=1 HTTP/1.1\r\nContent-Length: 5\r\nCookie: id=7\r\n\r\nhello",
			  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: k=v\r\n\r\nhi"
			  "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
			  1024,
			  "REQ#1 GET /a HTTP/1.1 [Host: x] [Authorization: [REDACTED]] body= "
			  "size=0\n"
			  "REQ#2 POST /b?q=1 HTTP/1.1 [Content-Length: 5] [Cookie: [REDACTED]] "
			  "body=hello "
			  "size=5\n"
			  "RES#1 200 OK for GET /a lat=150 [Content-Length: 2] [Set-Cookie: "
			  "[REDACTED]] "
			  "body=hi size=2\n"
			  "RES#2 404 Not Found for POST /b?q=1 lat=150 [Content-Length: 0] body= "
			  "size=0\n");
}

static void test_chunked_and_bounded_body(void **state)
{
	(void)state;
	check_every_split("GET /c HTTP/1.1\r\n\r\n",
			  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n",
			  8,
			  "REQ#1 GET /c HTTP/1.1 body= size=0\n"
			  "RES#1 200 OK for GET /c lat=150 [Transfer-Encoding: chunked] "
			  "[X-Trailer: t] body=hello, w size=12 truncated chunked\n");
}

static void test_head_and_continue(void **state)
{
	(void)state;
	check_every_split("HEAD /h HTTP/1.1\r\n\r\nGET /g HTTP/1.1\r\n\r\n",
			  "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
			  "HTTP/1.1 100 Continue\r\n\r\n"
			  "HTTP/1.1 204 No Content\r\n\r\n",
			  64,
			  "REQ#1 HEAD /h HTTP/1.1 body= size=0\n"
			  "REQ#2 GET /g HTTP/1.1 body= size=0\n"
			  "RES#1 200 OK for HEAD /h lat=150 [Content-Length: 10] body= size=0\n"
			  "RES#2 100 Continue for GET /g lat=150 body= size=0\n"
			  "RES#2 204 No Content for GET /g lat=150 body= size=0\n");
}

static void test_event_stream(void **state)
{
	(void)state;
	check_every_split("GET /events HTTP/1.1\r\n\r\n",
			  "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
			  ": comment\n"
			  "data: one\n\n"
			  "event: update\r\nid: 7\r\nretry: 500\r\ndata: two\r\ndata:three\r\n\r\n"
			  "event: empty\n\n"
			  "data\rdata: x\r\r",
			  64,
			  "REQ#1 GET /events HTTP/1.1 body= size=0\n"
			  "RES#1 200 OK for GET /events lat=150 sse [Content-Type: "
			  "text/event-stream] "
			  "body= size=0\n"
			  "SSE#1@250 message id=- retry=-1 data=one\n"
			  "SSE#1@250 update id=7 retry=500 data=two\nthree\n"
			  "SSE#1@250 message id=7 retry=-1 data=\nx\n");
}

static void test_server_side_and_not_http(void **state)
{
	struct http_stream_config cfg = { .max_body = 16 };
	struct buffer log = { 0 };
	struct http_stream *s = http_stream_new(&cfg, &callbacks, &log);
	const char *req = "PUT /p HTTP/1.0\r\nContent-Length: 1\r\n\r\nz";
	const char *res = "HTTP/1.0 201 Created\r\nContent-Length: 0\r\n\r\n";

	(void)state;
	assert_true(http_looks_like("GE", 2));
	assert_true(http_looks_like("HTTP/1.1 200", 12));
	assert_false(http_looks_like("\x16\x03\x01", 3));
	/* A server reads requests (direction 1) and writes responses (direction 0). */
	assert_int_equal(http_stream_feed(s, 1, 10, req, strlen(req)), 0);
	assert_int_equal(http_stream_feed(s, 0, 40, res, strlen(res)), 0);
	assert_int_equal(http_stream_feed(s, 1, 50, "\x01\x02garbage", 9), -1);
	assert_non_null(http_stream_error(s, 1));
	assert_null(http_stream_error(s, 0));
	buffer_append(&log, "", 1);
	assert_string_equal(log.data, "REQ#1 PUT /p HTTP/1.0 [Content-Length: 1] body=z size=1\n"
				      "RES#1 201 Created for PUT /p lat=30 [Content-Length: 0] "
				      "body= size=0\n");
	http_stream_free(s);
	buffer_free(&log);
}

static void test_body_to_the_end(void **state)
{
	struct http_stream_config cfg = { .max_body = 64 };
	struct buffer log = { 0 };
	struct http_stream *s = http_stream_new(&cfg, &callbacks, &log);
	const char *req = "GET /old HTTP/1.0\r\n\r\n";
	const char *res = "HTTP/1.0 200 ok\r\nContent-type: text/html\r\n\r\nuntil close";

	(void)state;
	assert_int_equal(http_stream_feed(s, 0, 10, req, strlen(req)), 0);
	assert_int_equal(http_stream_feed(s, 1, 30, res, strlen(res)), 0);
	http_stream_finish(s);
	buffer_append(&log, "", 1);
	assert_string_equal(log.data, "REQ#1 GET /old HTTP/1.0 body= size=0\n"
				      "RES#1 200 ok for GET /old lat=20 [Content-type: text/html] "
				      "body=until close size=11\n");
	http_stream_free(s);
	buffer_free(&log);
}

static void test_codec(void **state)
{
	char enc[64];
	unsigned char dec[64];
	size_t n, dn;

	(void)state;
	for (size_t len = 0; len <= 7; len++) {
		n = base64_encode("foobarb", len, enc);
		assert_int_equal(n, base64_encoded_len(len));
		assert_int_equal(base64_decode(enc, n, dec, &dn), 0);
		assert_int_equal(dn, len);
		assert_memory_equal(dec, "foobarb", len);
	}
	n = base64_encode("foob", 4, enc);
	assert_memory_equal(enc, "Zm9vYg==", n);
	assert_int_equal(base64_decode("Zm9v!", 5, dec, &dn), -EINVAL);
	assert_true(utf8_text("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15));
	assert_false(utf8_text("a\0b", 3));
	assert_false(utf8_text("\xc3", 1));
	assert_false(utf8_text("\xc0\xaf", 2));
	assert_false(utf8_text("\xed\xa0\x80", 3));
	assert_false(utf8_text("\xff", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_alive_pipeline_and_redaction),
		cmocka_unit_test(test_chunked_and_bounded_body),
		cmocka_unit_test(test_head_and_continue),
		cmocka_unit_test(test_event_stream),
		cmocka_unit_test(test_server_side_and_not_http),
		cmocka_unit_test(test_body_to_the_end),
		cmocka_unit_test(test_codec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
