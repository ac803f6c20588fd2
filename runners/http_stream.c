/* HTTP/1.x messages from a connection's byte streams: http_parser does the parsing, this pairs and bounds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include <collector/buffer.h>

#include "body_decode.h"
#include "http_redact.h"
#include "http_stream.h"

/* Requests waiting for their responses (pipelining); older ones are forgotten. */
#define PENDING_REQUESTS 32
#define METHOD_LEN 24
#define PATH_KEEP 2048

struct pending_request {
	char method[METHOD_LEN];
	char *path;
	long long ts_end;
	unsigned long long seq;
};

enum header_part { PART_NONE, PART_NAME, PART_VALUE };

struct direction {
	http_parser parser;
	struct http_stream *s;
	bool failed;
	const char *error;
	/* The message being parsed. */
	struct buffer url, reason, headers, body;
	struct buffer scrubbed; /* the path, then a form body, with listed parameters hidden */
	struct buffer decoded;	/* the body decoded (Content-Encoding), then swapped with body */
	size_t name_off[HTTP_MAX_HEADERS], value_off[HTTP_MAX_HEADERS];
	size_t header_count;
	bool headers_truncated, skip_header;
	enum header_part part;
	unsigned long long body_size;
	bool event_stream;
	long long ts_first;
	struct pending_request *paired; /* a response's request, when known */
	struct sse_parser sse;
};

struct http_stream {
	struct http_stream_config cfg;
	struct http_stream_callbacks cb;
	void *arg;
	long long now;
	struct direction dir[2];
	struct pending_request pending[PENDING_REQUESTS];
	size_t pending_head, pending_count;
	unsigned long long requests;
	http_parser_settings settings;
};

static const char redacted_value[] = HTTP_REDACTED;

bool http_looks_like(const char *bytes, size_t len)
{
	static const char *const starts[] = {
		"GET ",	    "POST ",  "PUT ",	  "DELETE ", "HEAD ",
		"OPTIONS ", "PATCH ", "CONNECT ", "TRACE ",  "HTTP/1."
	};

	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		size_t n = strlen(starts[i]);

		if (len >= n ? memcmp(bytes, starts[i], n) == 0 :
			       memcmp(bytes, starts[i], len) == 0)
			return true;
	}
	return false;
}

static struct direction *dir_of(http_parser *p)
{
	return p->data;
}

static void reset_message(struct direction *d)
{
	d->url.len = 0;
	d->reason.len = 0;
	d->headers.len = 0;
	d->body.len = 0;
	d->header_count = 0;
	d->headers_truncated = false;
	d->skip_header = false;
	d->part = PART_NONE;
	d->body_size = 0;
	d->event_stream = false;
	d->paired = NULL;
}

static int on_message_begin(http_parser *p)
{
	struct direction *d = dir_of(p);

	reset_message(d);
	d->ts_first = d->s->now;
	return 0;
}

static int append(struct buffer *b, const char *at, size_t n, size_t max)
{
	if (b->len >= max)
		return 0;
	if (n > max - b->len)
		n = max - b->len;
	return buffer_append(b, at, n) < 0 ? -1 : 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	return append(&dir_of(p)->url, at, n, PATH_KEEP);
}

static int on_status(http_parser *p, const char *at, size_t n)
{
	return append(&dir_of(p)->reason, at, n, 256);
}

static int end_part(struct direction *d)
{
	if (d->part != PART_NONE && !d->skip_header && buffer_append(&d->headers, "", 1) < 0)
		return -1;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct direction *d = dir_of(p);

	if (d->part != PART_NAME) {
		if (end_part(d) < 0)
			return -1;
		d->part = PART_NAME;
		d->skip_header = d->header_count == HTTP_MAX_HEADERS;
		if (d->skip_header)
			d->headers_truncated = true;
		else {
			d->value_off[d->header_count] = 0; /* until a value arrives */
			d->name_off[d->header_count++] = d->headers.len;
		}
	}
	return d->skip_header ? 0 : (buffer_append(&d->headers, at, n) < 0 ? -1 : 0);
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct direction *d = dir_of(p);

	if (d->part != PART_VALUE) {
		if (end_part(d) < 0)
			return -1;
		d->part = PART_VALUE;
		if (!d->skip_header)
			d->value_off[d->header_count - 1] = d->headers.len;
	}
	return d->skip_header ? 0 : (buffer_append(&d->headers, at, n) < 0 ? -1 : 0);
}

/* End the last header (of the head, or of a chunked body's trailer). */
static int finish_headers(struct direction *d)
{
	if (end_part(d) < 0)
		return -1;
	d->part = PART_NONE;
	for (size_t i = 0; i < d->header_count; i++) {
		/* A header with an empty value: point at its name's terminator. */
		if (d->value_off[i] == 0)
			d->value_off[i] = d->name_off[i] + strlen(d->headers.data + d->name_off[i]);
	}
	return 0;
}

static bool is_redacted(const struct http_stream *s, const char *name)
{
	for (size_t i = 0; i < s->cfg.redact_count; i++)
		if (strcasecmp(name, s->cfg.redact[i]) == 0)
			return true;
	return false;
}

/* Whether the request's body is a urlencoded form, whose fields are parameters too. */
static bool form_body(const struct http_message *m)
{
	static const char form[] = "application/x-www-form-urlencoded";

	for (size_t i = 0; i < m->header_count; i++)
		if (strcasecmp(m->headers[i].name, "Content-Type") == 0)
			return strncasecmp(m->headers[i].value, form, sizeof(form) - 1) == 0;
	return false;
}

/*
 * The request's path, and its body when a form, with the listed parameters
 * hidden (into d->scrubbed). Out of memory, neither is shown.
 */
static void scrub_request(struct direction *d, struct http_message *m)
{
	const struct http_redact r = { .params = d->s->cfg.redact_params,
				       .param_count = d->s->cfg.redact_param_count };
	struct http_redact_state path_st = { 0 }, body_st = { 0 };
	bool form = form_body(m);
	size_t body_off;

	d->scrubbed.len = 0;
	if (http_redact_bytes(&r, &path_st, d->url.data ? d->url.data : "", d->url.len,
			      &d->scrubbed) < 0 ||
	    buffer_append(&d->scrubbed, "", 1) < 0) {
		m->path = "";
		d->scrubbed.len = 0;
	}
	body_off = d->scrubbed.len;
	if (form && (http_redact_bytes(&r, &body_st, d->body.data ? d->body.data : "", d->body.len,
				       &d->scrubbed) < 0)) {
		m->body = "";
		m->body_len = 0;
		form = false;
	}
	if (d->scrubbed.len && body_off)
		m->path = d->scrubbed.data;
	if (form) {
		m->body = d->scrubbed.data + body_off;
		m->body_len = d->scrubbed.len - body_off;
	}
}

static struct pending_request *oldest_request(struct http_stream *s)
{
	return s->pending_count ? &s->pending[s->pending_head] : NULL;
}

/* A header's value (the first of that name), or NULL. */
static const char *header_value(const struct direction *d, const char *name)
{
	for (size_t i = 0; i < d->header_count; i++)
		if (strcasecmp(d->headers.data + d->name_off[i], name) == 0)
			return d->headers.data + d->value_off[i];
	return NULL;
}

/*
 * The body kept (its first max_body bytes on the wire) decoded into at most max_body bytes,
 * when its Content-Encoding is one body_decode.c knows; it then replaces the wire bytes.
 */
static void decode_body(struct direction *d, struct http_message *m)
{
	enum body_coding c = body_coding_of(header_value(d, "content-encoding"));
	enum body_decoded r;
	struct buffer wire;

	if (c == BODY_IDENTITY || c == BODY_UNKNOWN || !d->body.len)
		return;
	r = body_decode(c, d->body.data, d->body.len, &d->decoded, d->s->cfg.max_body);
	if (r == BODY_DECODED_BAD) {
		m->decode_failed = true;
		return;
	}
	wire = d->body;
	d->body = d->decoded;
	d->decoded = wire;
	m->decoded_from = body_coding_name(c);
	m->body = d->body.data;
	m->body_len = d->body.len;
	m->body_truncated = r == BODY_DECODED_CUT;
}

static void build(struct direction *d, struct http_message *m)
{
	struct http_stream *s = d->s;
	http_parser *p = &d->parser;

	memset(m, 0, sizeof(*m));
	m->request = p->type == HTTP_REQUEST;
	m->version_major = p->http_major;
	m->version_minor = p->http_minor;
	m->ts_ns = d->ts_first;
	m->latency_ns = -1;
	buffer_append(&d->url, "", 1);
	buffer_append(&d->reason, "", 1);
	d->url.len--;
	d->reason.len--;
	if (m->request) {
		m->method = http_method_str(p->method);
		m->path = d->url.data ? d->url.data : "";
	} else {
		m->status = p->status_code;
		m->reason = d->reason.data ? d->reason.data : "";
		if (d->paired) {
			m->method = d->paired->method;
			m->path = d->paired->path;
			m->seq = d->paired->seq;
			m->latency_ns = d->ts_first - d->paired->ts_end;
		}
	}
	for (size_t i = 0; i < d->header_count; i++) {
		struct http_header *h = &m->headers[i];

		h->name = d->headers.data + d->name_off[i];
		h->redacted = is_redacted(s, h->name);
		h->value = h->redacted ? redacted_value : d->headers.data + d->value_off[i];
	}
	m->header_count = d->header_count;
	m->headers_truncated = d->headers_truncated;
	m->body = d->body.data;
	m->body_len = d->body.len;
	m->body_size = d->body_size;
	m->body_truncated = d->body_size > d->body.len;
	m->chunked = (p->flags & F_CHUNKED) != 0;
	m->event_stream = d->event_stream;
	if (!m->event_stream)
		decode_body(d, m);
	if (m->request)
		scrub_request(d, m);
}

static void forward_sse(void *arg, const struct sse_message *m)
{
	struct direction *d = arg;

	d->s->cb.on_sse(d->s->arg, m, d->s->now, d->paired ? d->paired->seq : 0);
}

static int on_headers_complete(http_parser *p)
{
	struct direction *d = dir_of(p);
	struct http_stream *s = d->s;
	struct http_message m;

	if (finish_headers(d) < 0)
		return -1;
	if (p->type != HTTP_RESPONSE)
		return 0;
	d->paired = oldest_request(s);
	for (size_t i = 0; i < d->header_count && s->cfg.sse; i++)
		if (strcasecmp(d->headers.data + d->name_off[i], "content-type") == 0 &&
		    strncasecmp(d->headers.data + d->value_off[i], "text/event-stream", 17) == 0)
			d->event_stream = true;
	if (d->event_stream) {
		sse_parser_free(&d->sse);
		sse_parser_init(&d->sse, s->cfg.max_body, forward_sse, d);
		build(d, &m);
		s->cb.on_message(s->arg, &m);
	}
	/* The response to a HEAD request has no body, whatever its headers say. */
	return d->paired && strcmp(d->paired->method, "HEAD") == 0 ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct direction *d = dir_of(p);

	d->body_size += n;
	if (d->event_stream)
		return sse_parser_feed(&d->sse, at, n) < 0 ? -1 : 0;
	return append(&d->body, at, n, d->s->cfg.max_body);
}

static void pop_request(struct http_stream *s)
{
	free(s->pending[s->pending_head].path);
	s->pending[s->pending_head].path = NULL;
	s->pending_head = (s->pending_head + 1) % PENDING_REQUESTS;
	s->pending_count--;
}

static int push_request(struct http_stream *s, const struct http_message *m)
{
	struct pending_request *r;

	if (s->pending_count == PENDING_REQUESTS)
		pop_request(s);
	r = &s->pending[(s->pending_head + s->pending_count) % PENDING_REQUESTS];
	r->path = strdup(m->path);
	if (!r->path)
		return -1;
	snprintf(r->method, sizeof(r->method), "%s", m->method);
	r->ts_end = s->now;
	r->seq = m->seq;
	s->pending_count++;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct direction *d = dir_of(p);
	struct http_stream *s = d->s;
	struct http_message m;

	if (finish_headers(d) < 0)
		return -1;
	build(d, &m);
	if (m.request) {
		m.seq = ++s->requests;
		s->cb.on_message(s->arg, &m);
		return push_request(s, &m);
	}
	if (!d->event_stream)
		s->cb.on_message(s->arg, &m);
	/* An interim 1xx response (100 Continue) leaves its request waiting for the final one. */
	if (d->paired && (m.status >= 200 || m.status == 101))
		pop_request(s);
	d->paired = NULL;
	return 0;
}

struct http_stream *http_stream_new(const struct http_stream_config *cfg,
				    const struct http_stream_callbacks *cb, void *arg)
{
	struct http_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->cb = *cb;
	s->arg = arg;
	http_parser_settings_init(&s->settings);
	s->settings.on_message_begin = on_message_begin;
	s->settings.on_url = on_url;
	s->settings.on_status = on_status;
	s->settings.on_header_field = on_header_field;
	s->settings.on_header_value = on_header_value;
	s->settings.on_headers_complete = on_headers_complete;
	s->settings.on_body = on_body;
	s->settings.on_message_complete = on_message_complete;
	for (int i = 0; i < 2; i++) {
		http_parser_init(&s->dir[i].parser, HTTP_BOTH);
		s->dir[i].parser.data = &s->dir[i];
		s->dir[i].s = s;
		sse_parser_init(&s->dir[i].sse, cfg->max_body, forward_sse, &s->dir[i]);
	}
	return s;
}

void http_stream_free(struct http_stream *s)
{
	if (!s)
		return;
	for (int i = 0; i < 2; i++) {
		struct direction *d = &s->dir[i];

		buffer_free(&d->url);
		buffer_free(&d->reason);
		buffer_free(&d->headers);
		buffer_free(&d->body);
		buffer_free(&d->decoded);
		buffer_free(&d->scrubbed);
		sse_parser_free(&d->sse);
	}
	while (s->pending_count)
		pop_request(s);
	free(s);
}

int http_stream_feed(struct http_stream *s, int direction, long long ts_ns, const char *bytes,
		     size_t len)
{
	struct direction *d;
	size_t done;

	if (direction < 0 || direction > 1)
		return -1;
	d = &s->dir[direction];
	if (d->failed)
		return -1;
	s->now = ts_ns;
	done = http_parser_execute(&d->parser, &s->settings, bytes, len);
	if (d->parser.upgrade) {
		/* What follows an Upgrade (WebSocket) or CONNECT is another protocol. */
		d->failed = true;
		d->error = "upgrade";
		return -1;
	}
	if (done != len || HTTP_PARSER_ERRNO(&d->parser) != HPE_OK) {
		d->failed = true;
		d->error = http_errno_name(HTTP_PARSER_ERRNO(&d->parser));
		return -1;
	}
	return 0;
}

void http_stream_finish(struct http_stream *s)
{
	for (int i = 0; i < 2; i++)
		if (!s->dir[i].failed)
			http_parser_execute(&s->dir[i].parser, &s->settings, NULL, 0);
}

const char *http_stream_error(const struct http_stream *s, int direction)
{
	return direction >= 0 && direction <= 1 ? s->dir[direction].error : NULL;
}
