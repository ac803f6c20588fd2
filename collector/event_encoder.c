/* JSON lines from events, written straight into the caller's buffer (strings escaped by yajl_gen). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include <collector/event_encoder.h>

/*
 * A string and its JSON literal (quoted, escaped by yajl_gen). Runner, host and
 * type repeat from event to event: escaping them once and emitting the literal
 * verbatim saves most of yajl_gen's per-character work.
 */
struct literal {
	char src[EVENT_TYPE_MAX + 1];
	size_t src_len;
	bool valid;
	struct buffer json;
};

struct event_encoder {
	yajl_gen literal_gen;
	struct buffer *literal_out;
	struct literal host;
	struct literal runner;
	struct literal type;
	bool cached_valid;
	int64_t cached_sec;	/* second whose date prefix is cached */
	char cached_prefix[32]; /* "2026-11-23T06:31:00." */
	size_t prefix_len;
	char sec_digits[24]; /* cached_sec in decimal: ts_ns's leading digits */
	size_t sec_len;
	size_t id_at; /* offset of the last event's id text in its buffer, or SIZE_MAX */
};

static void print_literal(void *ctx, const char *s, size_t len)
{
	struct event_encoder *enc = ctx;

	buffer_append(enc->literal_out, s, len);
}

/* The JSON literal of @p s, from the cache when it is the same string. */
static const struct buffer *literal_of(struct event_encoder *enc, struct literal *lit,
				       struct span s)
{
	if (lit->valid && lit->src_len == s.len && memcmp(lit->src, s.ptr, s.len) == 0)
		return &lit->json;
	lit->json.len = 0;
	yajl_gen_reset(enc->literal_gen, NULL);
	enc->literal_out = &lit->json;
	yajl_gen_string(enc->literal_gen, (const unsigned char *)s.ptr, s.len);
	lit->valid = s.len <= EVENT_TYPE_MAX && lit->json.len > 0;
	if (lit->valid) {
		memcpy(lit->src, s.ptr, s.len);
		lit->src_len = s.len;
	}
	return &lit->json;
}

struct event_encoder *event_encoder_new(void)
{
	struct event_encoder *enc = calloc(1, sizeof(*enc));
	char host[EVENT_TYPE_MAX + 1];

	if (!enc)
		return NULL;
	enc->literal_gen = yajl_gen_alloc(NULL);
	if (!enc->literal_gen) {
		event_encoder_free(enc);
		return NULL;
	}
	/* Set once: yajl_gen_config frees the previous print context. */
	yajl_gen_config(enc->literal_gen, yajl_gen_print_callback, print_literal, enc);
	if (gethostname(host, sizeof(host) - 1) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	literal_of(enc, &enc->host, span_str(host));
	return enc;
}

void event_encoder_free(struct event_encoder *enc)
{
	if (!enc)
		return;
	if (enc->literal_gen)
		yajl_gen_free(enc->literal_gen);
	buffer_free(&enc->host.json);
	buffer_free(&enc->runner.json);
	buffer_free(&enc->type.json);
	free(enc);
}

/* "00" to "99": two digits a division. */
static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
				  "313233343536373839"
				  "40414243444546474849505152535455565758596061626364656667686970"
				  "717273747576777879"
				  "8081828384858687888990919293949596979899";

/* Nanoseconds (< 10^9) as exactly nine digits, zero-padded. */
static void put_nine_digits(char *dst, uint32_t v)
{
	dst[0] = (char)('0' + v / 100000000);
	v %= 100000000;
#pragma GCC unroll 4
	for (int i = 7; i > 0; i -= 2) {
		memcpy(dst + i, digit_pairs + 2 * (size_t)(v % 100), 2);
		v /= 100;
	}
}

static size_t format_prefix(int64_t sec, char *dst)
{
	time_t t = (time_t)sec;
	struct tm tm;

	gmtime_r(&t, &tm);
	return strftime(dst, 32, "%Y-%m-%dT%H:%M:%S.", &tm);
}

/* Whole seconds and nanoseconds, rounding down also before 1970. */
static int64_t split_ns(int64_t ts_ns, uint64_t *frac)
{
	int64_t sec = ts_ns / 1000000000, rem = ts_ns % 1000000000;

	if (rem < 0) {
		sec--;
		rem += 1000000000;
	}
	*frac = (uint64_t)rem;
	return sec;
}

size_t format_rfc3339_ns(int64_t ts_ns, char *dst)
{
	uint64_t frac;
	int64_t sec = split_ns(ts_ns, &frac);
	size_t n = format_prefix(sec, dst);

	put_nine_digits(dst + n, (uint32_t)frac);
	dst[n + 9] = 'Z';
	dst[n + 10] = '\0';
	return n + 10;
}

/*
 * snprintf("%lld") was a tenth of the encoding time; two digits per division
 * make the 19-digit ts_ns cheap.
 */
static size_t format_int(long long v, char *dst)
{
	char tmp[24];
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	size_t n = sizeof(tmp), len = 0;

	while (u >= 100) {
		unsigned d = (unsigned)(u % 100) * 2;

		u /= 100;
		tmp[--n] = digit_pairs[d + 1];
		tmp[--n] = digit_pairs[d];
	}
	if (u >= 10) {
		tmp[--n] = digit_pairs[u * 2 + 1];
		tmp[--n] = digit_pairs[u * 2];
	} else {
		tmp[--n] = (char)('0' + u);
	}
	if (v < 0)
		dst[len++] = '-';
	memcpy(dst + len, tmp + n, sizeof(tmp) - n);
	return len + sizeof(tmp) - n;
}

/*
 * The quoted JSON literal of a timestamp (digits and punctuation need no
 * escaping). gmtime_r and strftime cost more than the rest of an event, so
 * the date part is formatted once a second, and so are the leading digits
 * of ts_ns (put_ts_ns()).
 */
static size_t format_ts_literal(struct event_encoder *enc, int64_t ts_ns, char *dst)
{
	uint64_t frac;
	int64_t sec = split_ns(ts_ns, &frac);
	size_t n;

	if (!enc->cached_valid || sec != enc->cached_sec) {
		enc->cached_valid = true;
		enc->prefix_len = format_prefix(sec, enc->cached_prefix);
		enc->cached_sec = sec;
		enc->sec_len = sec > 0 ? format_int(sec, enc->sec_digits) : 0;
	}
	n = enc->prefix_len;
	dst[0] = '"';
	memcpy(dst + 1, enc->cached_prefix, n);
	put_nine_digits(dst + 1 + n, (uint32_t)frac);
	dst[n + 10] = 'Z';
	dst[n + 11] = '"';
	return n + 12;
}

/* Copy a string constant to @p p; the caller reserved room. */
#define PUT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

static char *put_int(char *p, long long v)
{
	return p + format_int(v, p);
}

/*
 * ts_ns of the timestamp format_ts_literal() just wrote at @p ts: after
 * 1970-01-01T00:00:01 it is the second's cached digits and the 9 digits of
 * nanoseconds the literal has already.
 */
static char *put_ts_ns(const struct event_encoder *enc, char *p, int64_t ts_ns, const char *ts)
{
	if (enc->sec_len == 0)
		return put_int(p, (long long)ts_ns);
	memcpy(p, enc->sec_digits, enc->sec_len);
	memcpy(p + enc->sec_len, ts + 1 + enc->prefix_len, 9);
	return p + enc->sec_len + 9;
}

static char *put_bytes(char *p, const void *src, size_t n)
{
	if (n)
		memcpy(p, src, n);
	return p + n;
}

/*
 * The envelope is fixed: its keys, cached literals and numbers are copied
 * straight into room reserved once. Only comm goes through yajl_gen (it
 * varies per event and may need escaping), and data is already JSON.
 */
int event_encoder_write(struct event_encoder *enc, const struct event *ev, struct buffer *out)
{
	const struct buffer *type = literal_of(enc, &enc->type, ev->type);
	const struct buffer *runner = literal_of(enc, &enc->runner, ev->runner);
	const struct buffer *host = &enc->host.json;
	/* Keys, punctuation, ts and five numbers fit in 256 bytes; comm escapes to at most 6x. */
	size_t room = 256 + type->len + runner->len + host->len + 6 * ev->comm.len + ev->data.len;
	char *p, *ts;

	enc->id_at = SIZE_MAX;
	if (!type->len || !runner->len || buffer_reserve(out, room) < 0)
		return -ENOMEM;
	p = out->data + out->len;
	p = PUT(p, "{\"type\":");
	p = put_bytes(p, type->data, type->len);
	p = PUT(p, ",\"ts\":");
	ts = p;
	p += format_ts_literal(enc, ev->ts_ns, p);
	p = PUT(p, ",\"ts_ns\":");
	p = put_ts_ns(enc, p, ev->ts_ns, ts);
	p = PUT(p, ",\"runner\":");
	p = put_bytes(p, runner->data, runner->len);
	p = PUT(p, ",\"seq\":");
	p = put_int(p, (long long)ev->seq);
	if (ev->flags & EVENT_HAS_ID) {
		p = PUT(p, ",\"id\":\"");
		enc->id_at = (size_t)(p - out->data);
		event_id_text(ev, p);
		p = PUT(p + EVENT_ID_TEXT, "\"");
	}
	p = PUT(p, ",\"host\":");
	p = put_bytes(p, host->data, host->len);
	if (ev->flags & EVENT_HAS_PID) {
		p = PUT(p, ",\"pid\":");
		p = put_int(p, (long long)ev->pid);
	}
	if (ev->flags & EVENT_HAS_TID) {
		p = PUT(p, ",\"tid\":");
		p = put_int(p, (long long)ev->tid);
	}
	if (ev->flags & EVENT_HAS_PPID) {
		p = PUT(p, ",\"ppid\":");
		p = put_int(p, (long long)ev->ppid);
	}
	if (ev->comm.len) {
		p = PUT(p, ",\"comm\":");
		out->len = (size_t)(p - out->data);
		enc->literal_out = out;
		yajl_gen_reset(enc->literal_gen, NULL);
		yajl_gen_string(enc->literal_gen, (const unsigned char *)ev->comm.ptr,
				ev->comm.len);
		p = out->data + out->len;
	}
	p = PUT(p, ",\"data\":");
	p = put_bytes(p, ev->data.ptr, ev->data.len);
	p = PUT(p, "}\n");
	out->len = (size_t)(p - out->data);
	return 0;
}

size_t event_encoder_id_offset(const struct event_encoder *enc)
{
	return enc->id_at;
}

int event_encoder_write_element(struct event_encoder *enc, const struct event *ev,
				struct buffer *out)
{
	size_t mark = out->len;
	int rc = buffer_append(out, out->len ? "," : "[", 1);

	if (rc == 0 && (rc = event_encoder_write(enc, ev, out)) == 0)
		out->len--; /* the line's newline: elements are joined by commas */
	else
		out->len = mark;
	return rc;
}

int event_encoder_end_array(struct buffer *out)
{
	return buffer_append(out, "]", 1);
}
