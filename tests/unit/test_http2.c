/* Unit tests of the HTTP/2 analyzer: frames made with nghttp2's own deflater, fed whole and cut anywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <nghttp2/nghttp2.h>

#include <collector/buffer.h>

#include "../../runners/http2.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

static const char *const redact[] = { "authorization" };
static const char *const redact_params[] = { "token" };

/* Every message as one line of text, so that runs compare as strings. */
static void log_message(void *arg, const struct http2_message *m)
{
	struct buffer *b = arg;
	char line[4096];
	int n = snprintf(line, sizeof(line), "%s#%u %s %s %s", m->request ? "REQ" : "RES",
			 m->stream_id, m->method ? m->method : "-", m->path ? m->path : "-",
			 m->authority ? m->authority : "-");

	buffer_append(b, line, (size_t)n);
	if (!m->request) {
		n = snprintf(line, sizeof(line), " %d lat=%lld", m->status, m->latency_ns);
		buffer_append(b, line, (size_t)n);
	}
	for (size_t i = 0; i < m->header_count; i++) {
		n = snprintf(line, sizeof(line), " [%s: %s]", m->headers[i].name,
			     m->headers[i].value);
		buffer_append(b, line, (size_t)n);
	}
	n = snprintf(line, sizeof(line), " body=%.*s size=%llu%s%s%s", (int)m->body_len,
		     m->body ? m->body : "", m->body_size, m->body_truncated ? " truncated" : "",
		     m->headers_incomplete ? " headers_incomplete" : "",
		     m->incomplete ? " incomplete" : "");
	buffer_append(b, line, (size_t)n);
	if (m->reset >= 0) {
		n = snprintf(line, sizeof(line), " rst=%lld", m->reset);
		buffer_append(b, line, (size_t)n);
	}
	if (m->grpc.on) {
		n = snprintf(line, sizeof(line), " grpc=%s/%s status=%d msg=%s count=%llu sizes=",
			     m->grpc.service ? m->grpc.service : "-",
			     m->grpc.method ? m->grpc.method : "-", m->grpc.status,
			     m->grpc.message ? m->grpc.message : "-", m->grpc.count);
		buffer_append(b, line, (size_t)n);
		for (size_t i = 0; i < m->grpc.sizes_len; i++) {
			n = snprintf(line, sizeof(line), "%u%s,", m->grpc.sizes[i],
				     i < m->grpc.payloads ? "p" : "");
			buffer_append(b, line, (size_t)n);
		}
	}
	buffer_append(b, "\n", 1);
}

static const struct http2_callbacks callbacks = { log_message };

static void frame(struct buffer *out, unsigned type, unsigned flags, unsigned stream,
		  const void *payload, size_t len)
{
	unsigned char h[9] = { (unsigned char)(len >> 16),
			       (unsigned char)(len >> 8),
			       (unsigned char)len,
			       (unsigned char)type,
			       (unsigned char)flags,
			       (unsigned char)(stream >> 24),
			       (unsigned char)(stream >> 16),
			       (unsigned char)(stream >> 8),
			       (unsigned char)stream };

	assert_int_equal(buffer_append(out, h, sizeof(h)), 0);
	assert_int_equal(buffer_append(out, payload, len), 0);
}

/* A header block of "name", "value", ... pairs, encoded by @p d. */
static size_t encode(nghttp2_hd_deflater *d, unsigned char *out, size_t cap, const char *const *kv)
{
	nghttp2_nv nv[32];
	size_t n = 0;
	ssize_t len;

	for (; kv[2 * n]; n++)
		nv[n] = (nghttp2_nv){ (uint8_t *)kv[2 * n], (uint8_t *)kv[2 * n + 1],
				      strlen(kv[2 * n]), strlen(kv[2 * n + 1]),
				      NGHTTP2_NV_FLAG_NONE };
	len = nghttp2_hd_deflate_hd(d, out, cap, nv, n);
	assert_true(len > 0);
	return (size_t)len;
}

static void headers(struct buffer *out, nghttp2_hd_deflater *d, unsigned stream, unsigned flags,
		    const char *const *kv)
{
	unsigned char block[4096];

	frame(out, 1, flags | 0x4, stream, block, encode(d, block, sizeof(block), kv));
}

static void settings_table_size(struct buffer *out, uint32_t size)
{
	unsigned char p[6] = { 0,
			       1,
			       (unsigned char)(size >> 24),
			       (unsigned char)(size >> 16),
			       (unsigned char)(size >> 8),
			       (unsigned char)size };

	frame(out, 4, 0, 0, p, sizeof(p));
}

struct conv {
	struct buffer c2s, s2c; /* client to server (direction 0), server to client */
	nghttp2_hd_deflater *cd, *sd;
};

static void conv_init(struct conv *v, bool preface)
{
	memset(v, 0, sizeof(*v));
	assert_int_equal(nghttp2_hd_deflate_new(&v->cd, 4096), 0);
	assert_int_equal(nghttp2_hd_deflate_new(&v->sd, 4096), 0);
	if (preface)
		buffer_append(&v->c2s, PREFACE, strlen(PREFACE));
}

static void conv_free(struct conv *v)
{
	buffer_free(&v->c2s);
	buffer_free(&v->s2c);
	nghttp2_hd_deflate_del(v->cd);
	nghttp2_hd_deflate_del(v->sd);
}

/* Feed the client's bytes then the server's, each in pieces of @p piece bytes; return the log. */
static void run(struct buffer *log, const struct conv *v, int preface_dir, size_t piece,
		size_t max_body)
{
	struct http_stream_config cfg = { .max_body = max_body,
					  .redact = redact,
					  .redact_count = 1,
					  .redact_params = redact_params,
					  .redact_param_count = 1 };
	struct http2_stream *s = http2_stream_new(&cfg, &callbacks, log, preface_dir);
	const struct buffer *dirs[2] = { &v->c2s, &v->s2c };

	assert_non_null(s);
	for (int d = 0; d < 2; d++)
		for (size_t off = 0; off < dirs[d]->len; off += piece) {
			size_t n = dirs[d]->len - off < piece ? dirs[d]->len - off : piece;

			assert_int_equal(
				http2_stream_feed(s, d, 100 + 100 * d, dirs[d]->data + off, n), 0);
		}
	http2_stream_finish(s);
	http2_stream_free(s);
}

/* The same log whether the bytes come whole or in pieces of any size up to 64. */
static void check_every_split(const struct conv *v, int preface_dir, size_t max_body,
			      const char *expected)
{
	for (size_t piece = 1; piece <= 65; piece = piece < 64 ? piece + 1 : 1u << 20) {
		struct buffer log = { 0 };

		run(&log, v, preface_dir, piece, max_body);
		buffer_append(&log, "", 1);
		assert_string_equal(log.data, expected);
		buffer_free(&log);
	}
}

static void test_get(void **state)
{
	struct conv v;
	const char *const req[] = {
		":method",	 "GET",	     ":path",	   "/a?token=s3cret&x=1",
		":scheme",	 "https",    ":authority", "example.org",
		"authorization", "Bearer x", NULL
	};
	const char *const res[] = { ":status", "200", "content-type", "text/plain", NULL };

	(void)state;
	conv_init(&v, true);
	frame(&v.c2s, 4, 0, 0, NULL, 0);
	headers(&v.c2s, v.cd, 1, 0x1, req);
	frame(&v.s2c, 4, 0, 0, NULL, 0);
	frame(&v.s2c, 4, 1, 0, NULL, 0);
	headers(&v.s2c, v.sd, 1, 0, res);
	frame(&v.s2c, 0, 0, 1, "hel", 3);
	frame(&v.s2c, 0, 1, 1, "lo", 2);
	check_every_split(&v, 0, 1024,
			  "REQ#1 GET /a?token=[REDACTED]&x=1 example.org [authorization: "
			  "[REDACTED]] body= size=0\n"
			  "RES#1 GET /a?token=[REDACTED]&x=1 example.org 200 lat=100 "
			  "[content-type: text/plain] body=hello size=5\n");
	/* The body bound holds. */
	check_every_split(&v, 0, 2,
			  "REQ#1 GET /a?token=[REDACTED]&x=1 example.org [authorization: "
			  "[REDACTED]] body= size=0\n"
			  "RES#1 GET /a?token=[REDACTED]&x=1 example.org 200 lat=100 "
			  "[content-type: text/plain] body=he size=5 truncated\n");
	conv_free(&v);
}

/* HEADERS with PADDED and PRIORITY, the block cut into CONTINUATION frames; padded DATA. */
static void test_continuation_padding(void **state)
{
	struct conv v;
	const char *const req[] = { ":method",	  "POST",
				    ":path",	  "/up",
				    ":authority", "h",
				    "x-long",	  "0123456789012345678901234567890123456789",
				    NULL };
	const char *const res[] = { ":status", "201", NULL };
	unsigned char block[512], payload[600];
	size_t len;

	(void)state;
	conv_init(&v, true);
	len = encode(v.cd, block, sizeof(block), req);
	/* HEADERS: pad length 3, priority (5 bytes), the first 10 bytes of the block, padding. */
	payload[0] = 3;
	memset(payload + 1, 0, 5);
	memcpy(payload + 6, block, 10);
	memset(payload + 16, 0, 3);
	frame(&v.c2s, 1, 0x8 | 0x20, 3, payload, 19);
	frame(&v.c2s, 9, 0, 3, block + 10, 5);
	frame(&v.c2s, 9, 0x4, 3, block + 15, len - 15);
	payload[0] = 2;
	memcpy(payload + 1, "data", 4);
	memset(payload + 5, 0, 2);
	frame(&v.c2s, 0, 0x8 | 0x1, 3, payload, 7);
	headers(&v.s2c, v.sd, 3, 0x1, res);
	check_every_split(&v, 0, 100,
			  "REQ#3 POST /up h [x-long: 0123456789012345678901234567890123456789] "
			  "body=data size=4\n"
			  "RES#3 POST /up h 201 lat=100 body= size=0\n");
	conv_free(&v);
}

/*
 * The client's SETTINGS_HEADER_TABLE_SIZE (8192) bounds the server's encoder:
 * the response direction's decoder must take it, or the table size update
 * the server then sends does not decode. The second request reuses the
 * client's dynamic table.
 */
static void test_table_size_direction(void **state)
{
	struct conv v;
	const char *const req[] = { ":method", "GET",	   ":path",	      "/1", ":authority",
				    "h",       "x-custom", "same-every-time", NULL };
	const char *const req2[] = { ":method", "GET",	    ":path",	       "/2", ":authority",
				     "h",	"x-custom", "same-every-time", NULL };
	const char *const res[] = { ":status", "204", "x-server", "long-enough-to-be-indexed",
				    NULL };

	(void)state;
	conv_init(&v, true);
	settings_table_size(&v.c2s, 8192);
	assert_int_equal(nghttp2_hd_deflate_change_table_size(v.sd, 8192), 0);
	headers(&v.c2s, v.cd, 1, 0x1, req);
	headers(&v.c2s, v.cd, 3, 0x1, req2);
	headers(&v.s2c, v.sd, 1, 0x1, res);
	headers(&v.s2c, v.sd, 3, 0x1, res);
	check_every_split(&v, 0, 100,
			  "REQ#1 GET /1 h [x-custom: same-every-time] body= size=0\n"
			  "REQ#3 GET /2 h [x-custom: same-every-time] body= size=0\n"
			  "RES#1 GET /1 h 204 lat=100 [x-server: long-enough-to-be-indexed] body= "
			  "size=0\n"
			  "RES#3 GET /2 h 204 lat=100 [x-server: long-enough-to-be-indexed] body= "
			  "size=0\n");
	conv_free(&v);
}

/* gRPC: service and method from :path, two length-prefixed messages, status from the trailers. */
static void test_grpc(void **state)
{
	struct conv v;
	const char *const req[] = { ":method",
				    "POST",
				    ":path",
				    "/pkg.Greeter/SayHello",
				    ":authority",
				    "h",
				    "content-type",
				    "application/grpc",
				    "te",
				    "trailers",
				    NULL };
	const char *const res[] = { ":status", "200", "content-type", "application/grpc", NULL };
	const char *const trailers[] = { "grpc-status", "5", "grpc-message", "not found", NULL };
	const unsigned char msgs[] = { 0, 0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0, 1, 'z' };

	(void)state;
	conv_init(&v, true);
	headers(&v.c2s, v.cd, 1, 0, req);
	frame(&v.c2s, 0, 0, 1, msgs, 6);
	frame(&v.c2s, 0, 0x1, 1, msgs + 6, sizeof(msgs) - 6);
	headers(&v.s2c, v.sd, 1, 0, res);
	headers(&v.s2c, v.sd, 1, 0x1, trailers);
	check_every_split(&v, 0, 1000,
			  "REQ#1 POST /pkg.Greeter/SayHello h [content-type: application/grpc] "
			  "[te: "
			  "trailers] body= size=14 grpc=pkg.Greeter/SayHello status=-1 msg=- "
			  "count=2 sizes=3p,1p,\n"
			  "RES#1 POST /pkg.Greeter/SayHello h 200 lat=100 [content-type: "
			  "application/grpc] [grpc-status: 5] [grpc-message: not found] body= "
			  "size=0 grpc=pkg.Greeter/SayHello status=5 msg=not found count=0 "
			  "sizes=\n");
	conv_free(&v);
}

/*
 * Started mid-connection: the block that refers to table entries made
 * before the capture says headers_incomplete (no garbage); a block of
 * literals after it decodes.
 */
static void test_mid_connection(void **state)
{
	struct conv v;
	struct buffer missed = { 0 };
	const char *const req[] = { ":method",	  "GET",	  ":path", "/seen-before",
				    ":authority", "host.example", NULL };
	const char *const fresh[] = { ":method",    "GET",	     ":path", "/new-one",
				      ":authority", "other.example", NULL };
	const char *const res[] = { ":status", "200", NULL };

	(void)state;
	conv_init(&v, false);
	headers(&missed, v.cd, 1, 0x1, req); /* before the capture began */
	headers(&v.c2s, v.cd, 3, 0x1, req);
	headers(&v.c2s, v.cd, 5, 0x1, fresh);
	headers(&v.s2c, v.sd, 3, 0x1, res);
	assert_true(http2_frames_like(v.c2s.data, v.c2s.len));
	assert_false(http2_frames_like("GET / HTTP/1.1\r\n", 16));
	check_every_split(&v, -1, 100,
			  "REQ#3 - - - body= size=0 headers_incomplete\n"
			  "REQ#5 GET /new-one other.example body= size=0\n"
			  "RES#3 - - - 200 lat=100 body= size=0\n");
	buffer_free(&missed);
	conv_free(&v);
}

/* RST_STREAM and GOAWAY end streams that never finished; the connection's end ends the rest. */
static void test_reset_goaway(void **state)
{
	struct conv v;
	const char *const req[] = { ":method", "GET", ":path", "/x", ":authority", "h", NULL };
	const char *const res[] = { ":status", "200", NULL };
	const unsigned char rst[4] = { 0, 0, 0, 8 }, away[8] = { 0, 0, 0, 3, 0, 0, 0, 0 };

	(void)state;
	conv_init(&v, true);
	headers(&v.c2s, v.cd, 1, 0x1, req);
	headers(&v.c2s, v.cd, 3, 0x1, req);
	headers(&v.c2s, v.cd, 5, 0x1, req);
	headers(&v.c2s, v.cd, 7, 0x1, req);
	headers(&v.s2c, v.sd, 1, 0, res);
	frame(&v.s2c, 0, 0, 1, "part", 4);
	frame(&v.s2c, 3, 0, 1, rst, sizeof(rst));
	headers(&v.s2c, v.sd, 5, 0, res);
	frame(&v.s2c, 7, 0, 0, away, sizeof(away));
	headers(&v.s2c, v.sd, 3, 0, res);
	check_every_split(&v, 0, 100,
			  "REQ#1 GET /x h body= size=0\n"
			  "REQ#3 GET /x h body= size=0\n"
			  "REQ#5 GET /x h body= size=0\n"
			  "REQ#7 GET /x h body= size=0\n"
			  "RES#1 GET /x h 200 lat=100 body=part size=4 incomplete rst=8\n"
			  "RES#5 GET /x h 200 lat=100 body= size=0 incomplete\n"
			  "RES#3 GET /x h 200 lat=100 body= size=0 incomplete\n");
	conv_free(&v);
}

/* More streams than the bound: the oldest is given (incomplete) to make room. */
static void test_stream_bound(void **state)
{
	struct conv v;
	struct buffer log = { 0 };
	const char *const req[] = { ":method", "GET", ":path", "/x", ":authority", "h", NULL };
	size_t lines = 0;

	(void)state;
	conv_init(&v, true);
	for (unsigned i = 0; i < HTTP2_MAX_STREAMS + 3; i++)
		headers(&v.c2s, v.cd, 2 * i + 1, 0, req);
	run(&log, &v, 0, 1u << 20, 10);
	for (size_t i = 0; i < log.len; i++)
		lines += log.data[i] == '\n';
	assert_int_equal(lines, HTTP2_MAX_STREAMS + 3);
	buffer_free(&log);
	conv_free(&v);
}

/* A frame larger than the bound stops the direction with a reason. */
static void test_frame_bound(void **state)
{
	struct http_stream_config cfg = { .max_body = 10 };
	struct buffer log = { 0 };
	struct http2_stream *s = http2_stream_new(&cfg, &callbacks, &log, 0);
	const unsigned char big[9] = { 0x7f, 0xff, 0xff, 0, 0, 0, 0, 0, 1 };

	(void)state;
	assert_int_equal(http2_stream_feed(s, 0, 1, PREFACE, strlen(PREFACE)), 0);
	assert_int_equal(http2_stream_feed(s, 0, 1, (const char *)big, sizeof(big)), -1);
	assert_string_equal(http2_stream_error(s, 0), "frame_too_large");
	assert_null(http2_stream_error(s, 1));
	assert_int_equal(http2_stream_feed(s, 1, 1, "x", 1), 0);
	assert_int_equal(http2_stream_feed(s, 1, 1, "", 0), 0);
	http2_stream_free(s);
	buffer_free(&log);
}

/*
 * The server's SETTINGS seen before the client's preface (they race: a
 * server need not wait for it): the connection is still rebuilt whole.
 */
static void test_settings_before_preface(void **state)
{
	struct http_stream_config cfg = { .max_body = 100 };
	struct buffer log = { 0 };
	struct conv v;
	const char *const req[] = { ":method", "GET", ":path", "/", ":authority", "h", NULL };
	const char *const res[] = { ":status", "200", NULL };
	struct http2_stream *s;

	(void)state;
	conv_init(&v, true);
	frame(&v.s2c, 4, 0, 0, NULL, 0);
	assert_true(http2_frames_like(v.s2c.data, v.s2c.len));
	headers(&v.c2s, v.cd, 1, 0x1, req);
	s = http2_stream_new(&cfg, &callbacks, &log, -1);
	assert_non_null(s);
	assert_int_equal(http2_stream_feed(s, 1, 100, v.s2c.data, v.s2c.len), 0);
	for (size_t i = 0; i < v.c2s.len; i++) /* the preface byte by byte */
		assert_int_equal(http2_stream_feed(s, 0, 100, v.c2s.data + i, 1), 0);
	v.s2c.len = 0;
	headers(&v.s2c, v.sd, 1, 0x1, res);
	assert_int_equal(http2_stream_feed(s, 1, 200, v.s2c.data, v.s2c.len), 0);
	http2_stream_free(s);
	buffer_append(&log, "", 1);
	assert_string_equal(log.data, "REQ#1 GET / h body= size=0\nRES#1 GET / h 200 lat=100 body= "
				      "size=0\n");
	buffer_free(&log);
	conv_free(&v);
}

/* Fuzz finding: an empty header block and an empty read (UBSan: arithmetic on a null pointer). */
static void test_empty_block(void **state)
{
	struct conv v;

	(void)state;
	conv_init(&v, true);
	frame(&v.c2s, 1, 0x4 | 0x1, 1, NULL, 0);
	check_every_split(&v, 0, 10, "REQ#1 - - - body= size=0\n");
	conv_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_continuation_padding),
		cmocka_unit_test(test_table_size_direction),
		cmocka_unit_test(test_grpc),
		cmocka_unit_test(test_mid_connection),
		cmocka_unit_test(test_reset_goaway),
		cmocka_unit_test(test_stream_bound),
		cmocka_unit_test(test_frame_bound),
		cmocka_unit_test(test_empty_block),
		cmocka_unit_test(test_settings_before_preface),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
