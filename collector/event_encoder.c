/* JSON lines from events via yajl_gen, printing straight into the caller's buffer. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include <collector/event_encoder.h>

struct event_encoder {
	yajl_gen gen;
	struct buffer *out;
	bool oom;
	char host[256];
	size_t host_len;
	int64_t cached_sec;     /* second whose date prefix is cached */
	char cached_prefix[32]; /* "2026-11-23T06:31:00." */
};

static void print_to_buffer(void *ctx, const char *s, size_t len)
{
	struct event_encoder *enc = ctx;

	if (buffer_append(enc->out, s, len) < 0)
		enc->oom = true;
}

struct event_encoder *event_encoder_new(void)
{
	struct event_encoder *enc = calloc(1, sizeof(*enc));

	if (!enc)
		return NULL;
	enc->gen = yajl_gen_alloc(NULL);
	if (!enc->gen) {
		free(enc);
		return NULL;
	}
	yajl_gen_config(enc->gen, yajl_gen_print_callback, print_to_buffer, enc);
	if (gethostname(enc->host, sizeof(enc->host) - 1) < 0)
		strcpy(enc->host, "localhost");
	enc->host_len = strlen(enc->host);
	enc->cached_sec = -1;
	return enc;
}

void event_encoder_free(struct event_encoder *enc)
{
	if (!enc)
		return;
	yajl_gen_free(enc->gen);
	free(enc);
}

static void put_digits(char *dst, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		dst[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

static size_t format_prefix(int64_t sec, char *dst)
{
	time_t t = (time_t)sec;
	struct tm tm;

	gmtime_r(&t, &tm);
	return strftime(dst, 32, "%Y-%m-%dT%H:%M:%S.", &tm);
}

size_t format_rfc3339_ns(int64_t ts_ns, char *dst)
{
	int64_t sec = ts_ns / 1000000000;
	size_t n = format_prefix(sec, dst);

	put_digits(dst + n, (uint64_t)(ts_ns % 1000000000), 9);
	dst[n + 9] = 'Z';
	dst[n + 10] = '\0';
	return n + 10;
}

/* gmtime_r and strftime cost more than the rest of an event: once a second. */
static size_t format_ts(struct event_encoder *enc, int64_t ts_ns, char *dst)
{
	int64_t sec = ts_ns / 1000000000;
	size_t n;

	if (sec != enc->cached_sec) {
		format_prefix(sec, enc->cached_prefix);
		enc->cached_sec = sec;
	}
	n = strlen(enc->cached_prefix);
	memcpy(dst, enc->cached_prefix, n);
	put_digits(dst + n, (uint64_t)(ts_ns % 1000000000), 9);
	dst[n + 9] = 'Z';
	return n + 10;
}

#define KEY(g, lit) yajl_gen_string((g), (const unsigned char *)(lit), sizeof(lit) - 1)

static void gen_span(yajl_gen g, struct span s)
{
	yajl_gen_string(g, (const unsigned char *)s.ptr, s.len);
}

static void gen_int(yajl_gen g, const char *key, size_t key_len, long long v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%lld", v);

	yajl_gen_string(g, (const unsigned char *)key, key_len);
	yajl_gen_number(g, num, (size_t)n);
}

int event_encoder_write(struct event_encoder *enc, const struct event *ev,
			struct buffer *out)
{
	yajl_gen g = enc->gen;
	size_t start = out->len;
	char ts[40];

	enc->out = out;
	enc->oom = false;
	yajl_gen_reset(g, NULL);
	yajl_gen_map_open(g);
	KEY(g, "type");
	gen_span(g, ev->type);
	KEY(g, "ts");
	yajl_gen_string(g, (const unsigned char *)ts, format_ts(enc, ev->ts_ns, ts));
	gen_int(g, "ts_ns", 5, (long long)ev->ts_ns);
	KEY(g, "runner");
	gen_span(g, ev->runner);
	gen_int(g, "seq", 3, (long long)ev->seq);
	KEY(g, "host");
	yajl_gen_string(g, (const unsigned char *)enc->host, enc->host_len);
	if (ev->flags & EVENT_HAS_PID)
		gen_int(g, "pid", 3, ev->pid);
	if (ev->flags & EVENT_HAS_TID)
		gen_int(g, "tid", 3, ev->tid);
	if (ev->flags & EVENT_HAS_PPID)
		gen_int(g, "ppid", 4, ev->ppid);
	if (ev->comm.len) {
		KEY(g, "comm");
		gen_span(g, ev->comm);
	}
	KEY(g, "data");
	/* data is already valid JSON; yajl_gen_number emits a value verbatim. */
	yajl_gen_number(g, ev->data.ptr, ev->data.len);
	yajl_gen_map_close(g);
	print_to_buffer(enc, "\n", 1);
	if (enc->oom) {
		out->len = start;
		return -ENOMEM;
	}
	return 0;
}
