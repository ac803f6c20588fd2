/* HTTP/2 decoder alone: a capture made with nghttp2's deflater replayed through runners/http2.c on one core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nghttp2/nghttp2.h>

#include <collector/buffer.h>

#include "../../runners/http2.h"

/*
 * The capture: a browser-like connection of STREAMS requests, each a HEADERS
 * frame from the client and, from the server, a HEADERS frame and two DATA
 * frames of 1 KiB; settings and window updates between. Each direction goes
 * in 16 KiB reads, as SSL_read hands them over.
 */
#define STREAMS 1000
#define READ_SIZE 16384

struct capture {
	struct buffer dir[2];
	unsigned long long frames;
};

static void frame(struct capture *c, int d, unsigned type, unsigned flags, unsigned stream,
		  const void *p, size_t len)
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

	if (buffer_append(&c->dir[d], h, sizeof(h)) < 0 || buffer_append(&c->dir[d], p, len) < 0)
		exit(1);
	c->frames++;
}

static void headers(struct capture *c, int d, nghttp2_hd_deflater *def, unsigned stream,
		    unsigned flags, const nghttp2_nv *nv, size_t n)
{
	unsigned char block[4096];
	ssize_t len = nghttp2_hd_deflate_hd(def, block, sizeof(block), nv, n);

	if (len < 0)
		exit(1);
	frame(c, d, 1, flags | 0x4, stream, block, (size_t)len);
}

#define NV(n, v)                                                                \
	{                                                                       \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, 0 \
	}

static void make_capture(struct capture *c)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	static unsigned char body[1024], window[4] = { 0, 0, 0x40, 0 };
	nghttp2_nv req[] = { NV(":method", "GET"),
			     NV(":path", "/assets/app.js?v=123"),
			     NV(":scheme", "https"),
			     NV(":authority", "example.org"),
			     NV("user-agent", "Mozilla/5.0 (X11; Linux x86_64) bench"),
			     NV("accept", "*/*"),
			     NV("authorization", "Bearer abcdef"),
			     NV("cookie", "session=0123456789abcdef") };
	nghttp2_nv res[] = { NV(":status", "200"), NV("content-type", "application/javascript"),
			     NV("cache-control", "max-age=3600"), NV("server", "bench") };
	nghttp2_hd_deflater *cd, *sd;

	memset(body, 'x', sizeof(body));
	if (nghttp2_hd_deflate_new(&cd, 4096) || nghttp2_hd_deflate_new(&sd, 4096))
		exit(1);
	buffer_append(&c->dir[0], preface, sizeof(preface) - 1);
	frame(c, 0, 4, 0, 0, NULL, 0);
	frame(c, 1, 4, 0, 0, NULL, 0);
	frame(c, 1, 4, 1, 0, NULL, 0);
	for (unsigned i = 0; i < STREAMS; i++) {
		unsigned id = 2 * i + 1;

		headers(c, 0, cd, id, 0x1, req, sizeof(req) / sizeof(req[0]));
		headers(c, 1, sd, id, 0, res, sizeof(res) / sizeof(res[0]));
		frame(c, 1, 0, 0, id, body, sizeof(body));
		frame(c, 1, 0, 1, id, body, sizeof(body));
		if (i % 16 == 15)
			frame(c, 0, 8, 0, 0, window, sizeof(window));
	}
	nghttp2_hd_deflate_del(cd);
	nghttp2_hd_deflate_del(sd);
}

static void count(void *arg, const struct http2_message *m)
{
	unsigned long long *n = arg;

	*n += !m->request;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const char *const redact[] = { "authorization", "cookie" };
	static const struct http2_callbacks cb = { count };
	struct http_stream_config cfg = { .max_body = 4096, .redact = redact, .redact_count = 2 };
	int rounds = argc > 1 ? atoi(argv[1]) : 50;
	struct capture c = { 0 };
	unsigned long long streams = 0;
	double t0, t;

	make_capture(&c);
	t0 = now();
	for (int r = 0; r < rounds; r++) {
		struct http2_stream *s = http2_stream_new(&cfg, &cb, &streams, 0);

		for (int d = 0; d < 2; d++)
			for (size_t off = 0; off < c.dir[d].len; off += READ_SIZE) {
				size_t n = c.dir[d].len - off < READ_SIZE ? c.dir[d].len - off :
									    READ_SIZE;

				if (!s || http2_stream_feed(s, d, 1, c.dir[d].data + off, n) < 0) {
					fprintf(stderr, "h2_decode: the capture did not decode\n");
					return 1;
				}
			}
		http2_stream_free(s);
	}
	t = now() - t0;
	if (streams != (unsigned long long)rounds * STREAMS) {
		fprintf(stderr, "h2_decode: %llu of %llu streams rebuilt\n", streams,
			(unsigned long long)rounds * STREAMS);
		return 1;
	}
	printf("%.0f frames/s %.0f streams/s %.1f MB/s (%llu frames, %llu streams, %.2f s)\n",
	       c.frames * rounds / t, streams / t,
	       (c.dir[0].len + c.dir[1].len) * (double)rounds / t / 1e6, c.frames * rounds, streams,
	       t);
	buffer_free(&c.dir[0]);
	buffer_free(&c.dir[1]);
	return 0;
}
