/* Fuzz target: HTTP/2 frames + HPACK of two interleaved byte streams keep their bounds and their word. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/allocator_interface.h>

#include "../../runners/http2.h"

/*
 * Input: a flags byte, a body-bound byte, four bytes seeding the split points,
 * then the bytes of direction 0, the separator below, and the bytes of
 * direction 1, fed alternately in pieces the seed sizes.
 * Flags: 1 redaction, bits 1-3 the largest piece, 0x10 FINISH, bits 5-6 the
 * preface's direction (0, 1, or mid-connection), 0x80 the preface prepended
 * to that direction so the fuzzer need not find it.
 */
#define FINISH 0x10
#define ADD_PREFACE 0x80
static const char separator[] = "\n--8<--\n";
static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
static const size_t piece_limits[] = { 1, 2, 3, 9, 16, 61, 512, 4096 };
static const size_t body_limits[] = { 0, 1, 5, 64, 1000, 4096, 65536, 1 << 20 };
static const char *const redact[] = { "authorization", "cookie" };
static const char *const redact_params[] = { "token", "t" };

/*
 * Per direction: a frame being gathered (up to twice its size as it grows)
 * and a header block; HPACK's table. Per stream side: its fields and body
 * (twice each as they grow). The scrubbed path (six times a field bound).
 */
static size_t memory_bound(size_t max_body)
{
	size_t direction = 2 * (HTTP2_MAX_FRAME + 9 + 4096 + sizeof(preface)) +
			   2 * HTTP2_MAX_HEADER_BLOCK + 4 * HTTP2_MAX_HEADER_BLOCK;
	size_t side = 2 * (HTTP2_MAX_HEADER_BLOCK + 1024) + 2 * max_body;

	return 2 * direction + HTTP2_MAX_STREAMS * 2 * side + 6 * HTTP2_MAX_HEADER_BLOCK + 65536;
}

static size_t bounded_strlen(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max)
		abort();
	return n;
}

static void on_message(void *arg, const struct http2_message *m)
{
	size_t max_body = *(const size_t *)arg;
	const struct http2_grpc *g = &m->grpc;
	const char *const strs[] = { m->method,	 m->path,   m->authority, m->scheme,
				     g->service, g->method, g->message };

	if (m->stream_id == 0 || m->stream_id > 0x7fffffffu)
		abort();
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strs[i])
			bounded_strlen(strs[i], 6 * HTTP2_MAX_HEADER_BLOCK);
	if (m->header_count > HTTP_MAX_HEADERS)
		abort();
	for (size_t i = 0; i < m->header_count; i++) {
		const struct http_header *h = &m->headers[i];

		if (!h->name || !h->value || (h->redacted && strcmp(h->value, "[REDACTED]")))
			abort();
		bounded_strlen(h->name, HTTP2_MAX_HEADER_BLOCK);
		bounded_strlen(h->value, HTTP2_MAX_HEADER_BLOCK);
	}
	if (m->body_len > max_body || m->body_len > m->body_size ||
	    m->body_truncated != (m->body_size > m->body_len) || (m->body_len && !m->body))
		abort();
	if (g->sizes_len > HTTP2_GRPC_SIZES || g->payloads > g->sizes_len ||
	    g->sizes_len > g->count)
		abort();
	for (size_t i = 0; i < g->payloads; i++)
		if (g->payload_off[i] + g->payload_len[i] > m->body_len ||
		    g->payload_len[i] > g->sizes[i])
			abort();
}

static uint32_t next_random(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct http2_callbacks cb = { on_message };
	struct http_stream_config cfg = { 0 };
	const char *stream[2], *sep;
	size_t len[2], off[2] = { 0, 0 }, max_piece, baseline, max_body;
	struct http2_stream *s;
	uint32_t rnd;
	int preface_dir;
	uint8_t flags;

	if (size < 6)
		return 0;
	flags = data[0];
	if (flags & 1) {
		cfg.redact = redact;
		cfg.redact_count = 2;
		cfg.redact_params = redact_params;
		cfg.redact_param_count = 2;
	}
	max_piece = piece_limits[(flags >> 1) & 7];
	preface_dir = (flags >> 5) & 3;
	preface_dir = preface_dir > 1 ? -1 : preface_dir;
	max_body = cfg.max_body = body_limits[data[1] & 7];
	memcpy(&rnd, data + 2, sizeof(rnd));
	rnd |= 1;
	data += 6;
	size -= 6;
	stream[0] = (const char *)data;
	sep = memmem(data, size, separator, sizeof(separator) - 1);
	len[0] = sep ? (size_t)(sep - stream[0]) : size;
	stream[1] = sep ? sep + sizeof(separator) - 1 : stream[0] + size;
	len[1] = sep ? size - len[0] - (sizeof(separator) - 1) : 0;
	for (int d = 0; d < 2; d++) {
		http2_looks_like(stream[d], len[d]);
		http2_frames_like(stream[d], len[d]);
	}

	baseline = __sanitizer_get_current_allocated_bytes();
	s = http2_stream_new(&cfg, &cb, &max_body, preface_dir);
	if (!s)
		return 0;
	if ((flags & ADD_PREFACE) && preface_dir >= 0 &&
	    http2_stream_feed(s, preface_dir, 1, preface, sizeof(preface) - 1) < 0)
		abort();
	while (off[0] < len[0] || off[1] < len[1]) {
		uint32_t x = next_random(&rnd);
		int d = off[0] == len[0] ? 1 : off[1] == len[1] ? 0 : (int)(x & 1);
		size_t n = 1 + (x >> 1) % max_piece;

		if (n > len[d] - off[d])
			n = len[d] - off[d];
		if (http2_stream_feed(s, d, (long long)x, stream[d] + off[d], n) < 0 &&
		    !http2_stream_error(s, d))
			abort();
		off[d] += n;
		if (__sanitizer_get_current_allocated_bytes() - baseline > memory_bound(max_body))
			abort();
	}
	if (flags & FINISH)
		http2_stream_finish(s);
	http2_stream_free(s);
	return 0;
}
