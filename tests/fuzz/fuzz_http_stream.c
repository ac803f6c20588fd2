/* Fuzz target: HTTP/1.x + SSE reconstruction of two interleaved byte streams keeps its bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/allocator_interface.h>

#include "../../runners/http_stream.h"
#include "../../runners/sse.h"

/*
 * Input: a flags byte, a body-bound byte, four bytes seeding the split points,
 * then the bytes of direction 0, the separator below, and the bytes of
 * direction 1. Pieces of either direction are fed alternately in sizes the
 * seed chooses, so requests and responses interleave as on a real connection;
 * or, with IN_ORDER, all of direction 0 first.
 * Flags: 1 SSE, 2 redaction, bits 2-4 the largest piece, FINISH, IN_ORDER.
 */
#define FINISH 0x20
#define IN_ORDER 0x40
static const char separator[] = "\n--8<--\n";
static const size_t piece_limits[] = { 1, 2, 3, 7, 16, 61, 512, 4096 };
static const size_t body_limits[] = { 0, 1, 5, 64, 1000, 4096, 65536, 1 << 20 };
static const char *const redact[] = { "Authorization", "Cookie", "x-api-key" };
static const char *const redact_params[] = { "token", "password", "t" };

/* http_parser keeps a head to 80 KiB; every other buffer is bounded by the config. */
#define HEAD_MAX (80 * 1024)
#define PATH_KEEP 2048
#define REASON_KEEP 256
#define PENDING_REQUESTS 32

/*
 * Per direction: the head, path and reason, and five buffers of at most a body
 * bound (body, SSE line, data, event, id), each up to twice its content as it
 * grows; the redacted path and form body (a 2-byte "t=" may become 12 bytes:
 * six times their size); plus the paths of the requests waiting for
 * responses (redacted).
 */
static size_t memory_bound(size_t max_body)
{
	return 2 * 2 *
		       (HEAD_MAX + PATH_KEEP + REASON_KEEP + 5 * (max_body + 16 + 256) +
			6 * (PATH_KEEP + max_body + 1)) +
	       PENDING_REQUESTS * (6 * PATH_KEEP + 1) + 65536;
}

struct run {
	size_t max_body;
	unsigned long long requests; /* request messages seen */
	unsigned long long messages;
};

static size_t bounded_strlen(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max)
		abort();
	return n;
}

static void on_message(void *arg, const struct http_message *m)
{
	struct run *r = arg;
	size_t head = 0;

	r->messages++;
	if (m->request) {
		if (!m->method || !m->path || m->seq != ++r->requests)
			abort();
		bounded_strlen(m->method, 24);
		bounded_strlen(m->path, PATH_KEEP);
	} else {
		if (!m->reason || m->seq > r->requests || (m->method && !m->path))
			abort();
		bounded_strlen(m->reason, REASON_KEEP);
		if (m->method)
			bounded_strlen(m->path, PATH_KEEP);
	}
	if (m->header_count > HTTP_MAX_HEADERS || (m->headers_truncated && m->header_count == 0))
		abort();
	for (size_t i = 0; i < m->header_count; i++) {
		const struct http_header *h = &m->headers[i];

		if (!h->name || !h->value || (h->redacted && strcmp(h->value, "[REDACTED]")))
			abort();
		head += bounded_strlen(h->name, HEAD_MAX) + bounded_strlen(h->value, HEAD_MAX);
	}
	if (head > HEAD_MAX)
		abort();
	if (m->body_len > r->max_body || m->body_len > m->body_size ||
	    m->body_truncated != (m->body_size > m->body_len) || (m->body_len && !m->body))
		abort();
	if (m->event_stream && (m->request || m->body_len))
		abort();
}

static void on_sse(void *arg, const struct sse_message *m, long long ts_ns, unsigned long long seq)
{
	struct run *r = arg;

	(void)ts_ns;
	if (!m->event || !m->data || m->data_len > r->max_body || seq > r->requests ||
	    m->retry_ms < -1)
		abort();
	/* The data is NUL-terminated after its length; the event and id are C strings. */
	if (m->data[m->data_len] != '\0')
		abort();
	bounded_strlen(m->event, r->max_body + 16);
	if (m->id)
		bounded_strlen(m->id, r->max_body + 16);
}

static uint32_t next_random(uint32_t *state)
{
	/* xorshift32: cheap, and any seed but 0 cycles through every other value. */
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct http_stream_callbacks cb = { on_message, on_sse };
	struct http_stream_config cfg = { 0 };
	struct run r = { 0 };
	const char *stream[2], *sep;
	size_t len[2], off[2] = { 0, 0 }, max_piece, baseline;
	struct http_stream *s;
	uint32_t rnd;
	long long now = 1000;
	uint8_t flags;

	if (size < 6)
		return 0;
	flags = data[0];
	cfg.sse = flags & 1;
	if (flags & 2) {
		cfg.redact = redact;
		cfg.redact_count = sizeof(redact) / sizeof(redact[0]);
		cfg.redact_params = redact_params;
		cfg.redact_param_count = sizeof(redact_params) / sizeof(redact_params[0]);
	}
	max_piece = piece_limits[(flags >> 2) & 7];
	r.max_body = cfg.max_body = body_limits[data[1] & 7];
	memcpy(&rnd, data + 2, sizeof(rnd));
	rnd |= 1;
	data += 6;
	size -= 6;
	stream[0] = (const char *)data;
	sep = memmem(data, size, separator, sizeof(separator) - 1);
	len[0] = sep ? (size_t)(sep - stream[0]) : size;
	stream[1] = sep ? sep + sizeof(separator) - 1 : stream[0] + size;
	len[1] = sep ? size - len[0] - (sizeof(separator) - 1) : 0;
	for (int d = 0; d < 2; d++)
		http_looks_like(stream[d], len[d]);

	baseline = __sanitizer_get_current_allocated_bytes();
	s = http_stream_new(&cfg, &cb, &r);
	if (!s)
		return 0;
	while (off[0] < len[0] || off[1] < len[1]) {
		uint32_t x = next_random(&rnd);
		int d = off[0] == len[0]		       ? 1 :
			off[1] == len[1] || (flags & IN_ORDER) ? 0 :
								 (int)(x & 1);
		size_t n = 1 + (x >> 1) % max_piece;

		if (n > len[d] - off[d])
			n = len[d] - off[d];
		if (http_stream_feed(s, d, now, stream[d] + off[d], n) < 0 &&
		    !http_stream_error(s, d))
			abort();
		off[d] += n;
		now += x & 0xffff;
		/* What the analyzer holds is bounded by its config, not by the traffic. */
		if (__sanitizer_get_current_allocated_bytes() - baseline > memory_bound(r.max_body))
			abort();
	}
	if (flags & FINISH)
		http_stream_finish(s);
	http_stream_free(s);
	return 0;
}
