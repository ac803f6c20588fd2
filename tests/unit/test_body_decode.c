/* Unit tests for runners/body_decode.c: each Content-Encoding, cut bodies, garbage, bombs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include "../../runners/body_decode.h"
#include "../../runners/http_stream.h"

#define TEXT "hello, compressed world\nhello, compressed world\nand a third line\n"

/* @p n bytes of @p in compressed in coding @p c into @p out; @return the compressed size. */
static size_t encode(enum body_coding c, const void *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream z = { 0 };
	size_t len = cap;

	switch (c) {
	case BODY_GZIP:
	case BODY_DEFLATE:
		/* gzip: 16 + 15; deflate as zlib: 15. */
		assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, c == BODY_GZIP ? 31 : 15, 8,
					      Z_DEFAULT_STRATEGY),
				 Z_OK);
		z.next_in = (Bytef *)(uintptr_t)in;
		z.avail_in = (uInt)n;
		z.next_out = out;
		z.avail_out = (uInt)cap;
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		len = cap - z.avail_out;
		deflateEnd(&z);
		return len;
	case BODY_BR:
		assert_true(BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, n, in, &len, out));
		return len;
	case BODY_ZSTD:
		len = ZSTD_compress(out, cap, in, n, 3);
		assert_false(ZSTD_isError(len));
		return len;
	default:
		fail();
	}
	return 0;
}

static const enum body_coding codings[] = { BODY_GZIP, BODY_DEFLATE, BODY_BR, BODY_ZSTD };

static void test_each_coding(void **state)
{
	uint8_t enc[1024];
	struct buffer out = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(codings) / sizeof(codings[0]); i++) {
		size_t n = encode(codings[i], TEXT, strlen(TEXT), enc, sizeof(enc));

		assert_int_equal(body_decode(codings[i], enc, n, &out, 65536), BODY_DECODED_WHOLE);
		assert_int_equal(out.len, strlen(TEXT));
		assert_memory_equal(out.data, TEXT, out.len);
		/* The first half of the body: what it gives, and that it is not all. */
		assert_int_equal(body_decode(codings[i], enc, n / 2, &out, 65536),
				 BODY_DECODED_CUT);
		assert_true(out.len < strlen(TEXT));
		assert_memory_equal(out.data, TEXT, out.len);
	}
	buffer_free(&out);
}

/* 8 MiB of zeros compress to a few KiB: decoding them costs the bound, not 8 MiB. */
static void test_bombs_bounded(void **state)
{
	const size_t big = 8 << 20;
	uint8_t *zeros = calloc(1, big), *enc = malloc(big / 64);
	struct buffer out = { 0 };

	(void)state;
	assert_non_null(zeros);
	assert_non_null(enc);
	for (size_t i = 0; i < sizeof(codings) / sizeof(codings[0]); i++) {
		size_t n = encode(codings[i], zeros, big, enc, big / 64);

		assert_int_equal(body_decode(codings[i], enc, n, &out, 65536), BODY_DECODED_CUT);
		assert_int_equal(out.len, 65536);
		assert_true(out.cap <= 65536 + 16384);
	}
	buffer_free(&out);
	free(zeros);
	free(enc);
}

static void test_garbage(void **state)
{
	const char junk[] = "this is not compressed at all, whatever the header says";
	struct buffer out = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(codings) / sizeof(codings[0]); i++) {
		assert_int_equal(body_decode(codings[i], junk, sizeof(junk), &out, 65536),
				 BODY_DECODED_BAD);
		assert_int_equal(out.len, 0);
	}
	buffer_free(&out);
}

static void test_coding_names(void **state)
{
	(void)state;
	assert_int_equal(body_coding_of(NULL), BODY_IDENTITY);
	assert_int_equal(body_coding_of("identity"), BODY_IDENTITY);
	assert_int_equal(body_coding_of("GZIP"), BODY_GZIP);
	assert_int_equal(body_coding_of(" x-gzip "), BODY_GZIP);
	assert_int_equal(body_coding_of("br"), BODY_BR);
	assert_int_equal(body_coding_of("zstd"), BODY_ZSTD);
	assert_int_equal(body_coding_of("deflate"), BODY_DEFLATE);
	assert_int_equal(body_coding_of("gzip, br"), BODY_UNKNOWN);
	assert_int_equal(body_coding_of("compress"), BODY_UNKNOWN);
	assert_string_equal(body_coding_name(BODY_BR), "br");
}

struct seen {
	char decoded_from[16];
	bool failed, truncated;
	struct buffer body;
};

static void on_message(void *arg, const struct http_message *m)
{
	struct seen *s = arg;

	if (m->request)
		return;
	snprintf(s->decoded_from, sizeof(s->decoded_from), "%s",
		 m->decoded_from ? m->decoded_from : "-");
	s->failed = m->decode_failed;
	s->truncated = m->body_truncated;
	s->body.len = 0;
	buffer_append(&s->body, m->body, m->body_len);
}

/* A response of @p coding with body @p enc (@p n bytes), fed in one call, as the analyzer sees it. */
static void respond(struct seen *seen, const char *coding, const void *enc, size_t n,
		    size_t max_body)
{
	struct http_stream_config cfg = { .max_body = max_body };
	struct http_stream_callbacks cb = { .on_message = on_message };
	struct http_stream *hs = http_stream_new(&cfg, &cb, seen);
	struct buffer wire = { 0 };
	char head[256];
	int len = snprintf(head, sizeof(head),
			   "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %zu\r\n\r\n",
			   coding, n);

	assert_non_null(hs);
	buffer_append(&wire, head, (size_t)len);
	buffer_append(&wire, enc, n);
	assert_int_equal(http_stream_feed(hs, 0, 1, "GET / HTTP/1.1\r\n\r\n", 18), 0);
	assert_int_equal(http_stream_feed(hs, 1, 2, wire.data, wire.len), 0);
	http_stream_free(hs);
	buffer_free(&wire);
}

static void test_http_bodies(void **state)
{
	uint8_t enc[1024];
	struct seen seen = { 0 };
	size_t n = encode(BODY_BR, TEXT, strlen(TEXT), enc, sizeof(enc));

	(void)state;
	respond(&seen, "br", enc, n, 1024);
	assert_string_equal(seen.decoded_from, "br");
	assert_false(seen.truncated);
	assert_int_equal(seen.body.len, strlen(TEXT));
	assert_memory_equal(seen.body.data, TEXT, seen.body.len);
	/* Decoded within --max-body: 20 bytes of the text, and it says so. */
	respond(&seen, "br", enc, n, 20);
	assert_string_equal(seen.decoded_from, "br");
	assert_true(seen.truncated);
	assert_true(seen.body.len <= 20);
	assert_memory_equal(seen.body.data, TEXT, seen.body.len);
	/* Not what it claims: the bytes as sent, and a flag. */
	respond(&seen, "gzip", "plain text", 10, 1024);
	assert_string_equal(seen.decoded_from, "-");
	assert_true(seen.failed);
	assert_int_equal(seen.body.len, 10);
	buffer_free(&seen.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_coding), cmocka_unit_test(test_bombs_bounded),
		cmocka_unit_test(test_garbage),	    cmocka_unit_test(test_coding_names),
		cmocka_unit_test(test_http_bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
