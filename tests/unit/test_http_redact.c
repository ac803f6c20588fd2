/* Unit tests of the redactor: listed headers and parameters hidden in raw bytes, however they are cut. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <collector/buffer.h>

#include "../../runners/http_redact.h"
#include "../../runners/http_stream.h"

static const char *const headers[] = { "Authorization", "X-Auth-Token", "Cookie" };
static const char *const params[] = { "access_token", "password", "token" };
static const struct http_redact lists = { headers, 3, params, 3 };

/* @in redacted in one piece, as a NUL-terminated string in @out; @return the count. */
static int redact_whole(const struct http_redact *r, const char *in, struct buffer *out)
{
	struct http_redact_state st = { 0 };
	int n;

	out->len = 0;
	n = http_redact_bytes(r, &st, in, strlen(in), out);
	buffer_append(out, "", 1);
	return n;
}

static void test_headers_and_parameters(void **state)
{
	struct buffer out = { 0 };

	(void)state;
	assert_int_equal(redact_whole(&lists,
				      "GET /a?access_token=abc&x=1&token=t#f HTTP/1.1\r\n"
				      "Authorization: Bearer t0\r\nx-auth-token:\t zz\r\n"
				      "Host: h\r\nCOOKIE:a=b\r\n\r\npassword=p1&user=u",
				      &out),
			 6);
	assert_string_equal(out.data, "GET /a?access_token=[REDACTED]&x=1&token=[REDACTED]#f "
				      "HTTP/1.1\r\n"
				      "Authorization: [REDACTED]\r\nx-auth-token:\t [REDACTED]\r\n"
				      "Host: "
				      "h\r\nCOOKIE:[REDACTED]\r\n\r\npassword=[REDACTED]&user=u");
	/* Only whole names, a header at a line's start, a parameter after a separator. */
	assert_int_equal(redact_whole(&lists,
				      "xAuthorization: v\r\n X-Auth-Token: v\r\nAuthorizations: "
				      "v\r\n"
				      "/p?mytoken=1&tokens=2&token\r\nsay password is x",
				      &out),
			 0);
	assert_string_equal(out.data, "xAuthorization: v\r\n X-Auth-Token: v\r\nAuthorizations: "
				      "v\r\n"
				      "/p?mytoken=1&tokens=2&token\r\nsay password is x");
	/* Empty values, a value at the very end, ';' separators. */
	assert_int_equal(redact_whole(&lists, "/p?token=&password=;token=end", &out), 3);
	assert_string_equal(out.data, "/p?token=[REDACTED]&password=[REDACTED];token=[REDACTED]");
	/* No lists: the bytes as they were. */
	assert_int_equal(redact_whole(&(struct http_redact){ 0 }, "Authorization: x", &out), 0);
	assert_string_equal(out.data, "Authorization: x");
	buffer_free(&out);
}

/* A secret cut between two calls at any byte after its header's colon is still hidden. */
static void test_value_cut_between_calls(void **state)
{
	static const char in[] = "POST / HTTP/1.1\r\nAuthorization: Bearer QZQZQZ\r\nHost: "
				 "h\r\n\r\n";
	size_t colon = (size_t)(strstr(in, "Bearer") - in) - 1;
	struct buffer out = { 0 };

	(void)state;
	for (size_t k = colon; k <= sizeof(in) - 1; k++) {
		struct http_redact_state st = { 0 };

		out.len = 0;
		assert_true(http_redact_bytes(&lists, &st, in, k, &out) >= 0);
		assert_true(http_redact_bytes(&lists, &st, in + k, sizeof(in) - 1 - k, &out) >= 0);
		buffer_append(&out, "", 1);
		assert_null(strchr(out.data, 'Q'));
		assert_null(strchr(out.data, 'Z'));
		assert_non_null(strstr(out.data, "\r\nHost: h\r\n\r\n"));
		assert_false(st.in_secret);
	}
	/* A header at the start of the next call, after a line end. */
	{
		struct http_redact_state st = { 0 };

		out.len = 0;
		http_redact_bytes(&lists, &st, "Host: h\r\n", 9, &out);
		assert_int_equal(http_redact_bytes(&lists, &st, "Cookie: c=QZ\r\n", 14, &out), 1);
		buffer_append(&out, "", 1);
		assert_string_equal(out.data, "Host: h\r\nCookie: [REDACTED]\r\n");
	}
	buffer_free(&out);
}

static void keep_message(void *arg, const struct http_message *m)
{
	struct buffer *b = arg;

	buffer_append(b, m->path, strlen(m->path));
	buffer_append(b, " ", 1);
	buffer_append(b, m->body, m->body_len);
	buffer_append(b, "", 1);
}

/* http.request's path and a urlencoded body hide the listed parameters. */
static void test_stream_path_and_form(void **state)
{
	static const char req[] = "POST /login?access_token=QZ&next=/home HTTP/1.1\r\n"
				  "Content-Type: application/x-www-form-urlencoded\r\n"
				  "Content-Length: 23\r\n\r\nuser=me&password=QZQZQZ";
	struct http_stream_config cfg = { .max_body = 1024,
					  .redact = headers,
					  .redact_count = 3,
					  .redact_params = params,
					  .redact_param_count = 3 };
	struct http_stream_callbacks cb = { .on_message = keep_message };
	struct buffer got = { 0 };
	struct http_stream *s = http_stream_new(&cfg, &cb, &got);

	(void)state;
	assert_non_null(s);
	assert_int_equal(http_stream_feed(s, 0, 1, req, sizeof(req) - 1), 0);
	assert_string_equal(got.data, "/login?access_token=[REDACTED]&next=/home "
				      "user=me&password=[REDACTED]");
	http_stream_free(s);
	buffer_free(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers_and_parameters),
		cmocka_unit_test(test_value_cut_between_calls),
		cmocka_unit_test(test_stream_path_and_form),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
