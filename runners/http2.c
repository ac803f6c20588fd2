/* HTTP/2 streams from a connection's byte streams: frames reassembled here, HPACK by libnghttp2's inflater. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nghttp2/nghttp2.h>

#include <collector/buffer.h>

#include "http2.h"
#include "http_redact.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define PREFACE_LEN (sizeof(PREFACE) - 1)
#define FRAME_HEAD 9
#define NONE SIZE_MAX
/* A capture that began mid-connection missed the peer's SETTINGS: accept any table it may use. */
#define MID_TABLE_SIZE ((size_t)64 * 1024)
#define DEFAULT_TABLE_SIZE 4096u

enum frame_type {
	F_DATA,
	F_HEADERS,
	F_PRIORITY,
	F_RST_STREAM,
	F_SETTINGS,
	F_PUSH_PROMISE,
	F_PING,
	F_GOAWAY,
	F_WINDOW_UPDATE,
	F_CONTINUATION
};
#define FL_END_STREAM 0x1
#define FL_ACK 0x1
#define FL_END_HEADERS 0x4
#define FL_PADDED 0x8
#define FL_PRIORITY 0x20

enum pseudo { P_METHOD, P_PATH, P_AUTHORITY, P_SCHEME, P_STATUS, P_COUNT };
static const char *const pseudo_names[P_COUNT] = { ":method", ":path", ":authority", ":scheme",
						   ":status" };

/* One side of a stream as it arrives. */
struct side {
	bool started, ended, emitted;
	struct buffer fields; /* NUL-terminated names and values */
	size_t name_off[HTTP_MAX_HEADERS], value_off[HTTP_MAX_HEADERS], count;
	size_t pseudo[P_COUNT];
	bool truncated, incomplete;
	struct buffer body;
	unsigned long long body_size;
	long long ts_first, ts_end;
	/* gRPC's length-prefixed messages, parsed across DATA frames. */
	unsigned char prefix[5];
	size_t prefix_have;
	unsigned long long remaining;
	struct http2_grpc grpc;
};

struct h2_stream {
	size_t slot; /* its place in the connection's table */
	unsigned id;
	int req_dir; /* the direction carrying the request, -1 until known */
	unsigned long long age;
	long long reset;
	struct side side[2]; /* [0] request, [1] response */
	char service[256], method[256];
};

struct direction {
	nghttp2_hd_inflater *inflater;
	size_t table_size; /* what the peer's SETTINGS allow this direction's encoder */
	struct buffer in;  /* bytes not yet a whole frame */
	bool failed, preface_pending;
	bool started; /* its first bytes were looked at */
	const char *error;
	struct buffer block; /* a header block being gathered from HEADERS + CONTINUATION */
	bool in_block, block_end_stream, block_discard;
	unsigned block_stream;
};

struct http2_stream {
	struct http_stream_config cfg;
	struct http2_callbacks cb;
	void *arg;
	int preface_dir;
	long long now;
	unsigned long long ages;
	struct direction dir[2];
	struct h2_stream *streams[HTTP2_MAX_STREAMS]; /* NULL: free */
	struct buffer scrubbed;
};

bool http2_looks_like(const char *bytes, size_t len)
{
	size_t n = len < PREFACE_LEN ? len : PREFACE_LEN;

	return len >= 4 && memcmp(bytes, PREFACE, n) == 0;
}

static uint32_t be24(const unsigned char *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Whether a frame's type and stream id go together (RFC 9113 section 6). */
static bool frame_plausible(unsigned type, uint32_t length, uint32_t stream)
{
	if (type > F_CONTINUATION || (stream & 0x80000000u) || length > 16384)
		return false;
	switch (type) {
	case F_SETTINGS:
		return stream == 0 && length % 6 == 0;
	case F_PING:
		return stream == 0 && length == 8;
	case F_GOAWAY:
		return stream == 0 && length >= 8;
	case F_RST_STREAM:
		return stream != 0 && length == 4;
	case F_PRIORITY:
		return stream != 0 && length == 5;
	case F_WINDOW_UPDATE:
		return length == 4;
	default:
		return stream != 0;
	}
}

bool http2_frames_like(const char *bytes, size_t len)
{
	const unsigned char *p = (const unsigned char *)bytes;
	size_t off = 0;

	while (len - off >= FRAME_HEAD) {
		uint32_t length = be24(p + off);

		if (!frame_plausible(p[off + 3], length, be32(p + off + 5)) ||
		    length > len - off - FRAME_HEAD)
			return false;
		off += FRAME_HEAD + length;
	}
	return len > 0 && off == len;
}

static int inflater_reset(struct direction *d)
{
	if (d->inflater)
		nghttp2_hd_inflate_del(d->inflater);
	d->inflater = NULL;
	if (nghttp2_hd_inflate_new(&d->inflater) != 0)
		return -1;
	return nghttp2_hd_inflate_change_table_size(d->inflater, d->table_size) == 0 ? 0 : -1;
}

struct http2_stream *http2_stream_new(const struct http_stream_config *cfg,
				      const struct http2_callbacks *cb, void *arg, int preface_dir)
{
	struct http2_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->cb = *cb;
	s->arg = arg;
	s->preface_dir = preface_dir == 0 || preface_dir == 1 ? preface_dir : -1;
	for (int i = 0; i < 2; i++) {
		struct direction *d = &s->dir[i];

		d->table_size = s->preface_dir < 0 ? MID_TABLE_SIZE : DEFAULT_TABLE_SIZE;
		d->preface_pending = i == s->preface_dir;
		if (inflater_reset(d) < 0) {
			http2_stream_free(s);
			return NULL;
		}
	}
	return s;
}

static void side_free(struct side *sd)
{
	buffer_free(&sd->fields);
	buffer_free(&sd->body);
}

static void stream_release(struct http2_stream *s, struct h2_stream *st)
{
	s->streams[st->slot] = NULL;
	side_free(&st->side[0]);
	side_free(&st->side[1]);
	free(st);
}

void http2_stream_free(struct http2_stream *s)
{
	if (!s)
		return;
	for (int i = 0; i < 2; i++) {
		if (s->dir[i].inflater)
			nghttp2_hd_inflate_del(s->dir[i].inflater);
		buffer_free(&s->dir[i].in);
		buffer_free(&s->dir[i].block);
	}
	for (size_t i = 0; i < HTTP2_MAX_STREAMS; i++)
		if (s->streams[i])
			stream_release(s, s->streams[i]);
	buffer_free(&s->scrubbed);
	free(s);
}

/* A status code: a decimal number of at most 9 digits, else @p bad. */
static int status_code(const char *v, int bad)
{
	char *end;
	long n;

	if (!v || *v < '0' || *v > '9' || strlen(v) > 9)
		return bad;
	n = strtol(v, &end, 10);
	return *end ? bad : (int)n;
}

static const char *field(const struct side *sd, size_t off)
{
	return off == NONE ? NULL : sd->fields.data + off;
}

static bool is_redacted(const struct http2_stream *s, const char *name)
{
	for (size_t i = 0; i < s->cfg.redact_count; i++)
		if (strcasecmp(name, s->cfg.redact[i]) == 0)
			return true;
	return false;
}

/* "/package.Service/Method" -> service and method; false when it is not that shape. */
static bool grpc_names(struct h2_stream *st, const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	if (!slash || path[0] != '/' || slash == path)
		return false;
	snprintf(st->service, sizeof(st->service), "%.*s", (int)(slash - path - 1), path + 1);
	snprintf(st->method, sizeof(st->method), "%s", slash + 1);
	return true;
}

/* The request's path with the listed query parameters hidden (out of memory: ""). */
static const char *scrub_path(struct http2_stream *s, const char *path)
{
	const struct http_redact r = { .params = s->cfg.redact_params,
				       .param_count = s->cfg.redact_param_count };
	struct http_redact_state st = { 0 };

	s->scrubbed.len = 0;
	if (!path || !r.param_count)
		return path;
	if (http_redact_bytes(&r, &st, path, strlen(path), &s->scrubbed) < 0 ||
	    buffer_append(&s->scrubbed, "", 1) < 0)
		return "";
	return s->scrubbed.data;
}

static void build(struct http2_stream *s, struct h2_stream *st, int which, struct http2_message *m)
{
	struct side *sd = &st->side[which];
	const struct side *req = &st->side[0];

	memset(m, 0, sizeof(*m));
	m->request = which == 0;
	m->stream_id = st->id;
	m->method = field(req, req->pseudo[P_METHOD]);
	m->path = scrub_path(s, field(req, req->pseudo[P_PATH]));
	m->authority = field(req, req->pseudo[P_AUTHORITY]);
	m->scheme = field(req, req->pseudo[P_SCHEME]);
	if (!m->request && sd->pseudo[P_STATUS] != NONE)
		m->status = status_code(field(sd, sd->pseudo[P_STATUS]), 0);
	m->grpc = sd->grpc;
	for (size_t i = 0; i < sd->count; i++) {
		struct http_header *h = &m->headers[i];

		h->name = sd->fields.data + sd->name_off[i];
		h->redacted = is_redacted(s, h->name);
		h->value = h->redacted ? HTTP_REDACTED : sd->fields.data + sd->value_off[i];
		if (strcmp(h->name, "grpc-message") == 0)
			m->grpc.message = h->value;
	}
	m->header_count = sd->count;
	m->headers_truncated = sd->truncated;
	m->headers_incomplete = sd->incomplete;
	m->body = sd->body.data;
	m->body_len = sd->body.len;
	m->body_size = sd->body_size;
	m->body_truncated = sd->body_size > sd->body.len;
	m->ts_ns = sd->ts_first;
	m->latency_ns = !m->request && req->ended ? sd->ts_first - req->ts_end : -1;
	m->reset = st->reset;
	m->incomplete = !sd->ended;
	/* A message cut short by the stream's end has only the bytes that came. */
	for (size_t i = 0; i < m->grpc.payloads; i++) {
		if (m->grpc.payload_off[i] > m->body_len)
			m->grpc.payload_off[i] = m->body_len;
		if (m->grpc.payload_len[i] > m->body_len - m->grpc.payload_off[i])
			m->grpc.payload_len[i] = m->body_len - m->grpc.payload_off[i];
	}
	m->grpc.on = st->side[0].grpc.on || st->side[1].grpc.on;
	if (m->grpc.on && grpc_names(st, field(req, req->pseudo[P_PATH]))) {
		m->grpc.service = st->service;
		m->grpc.method = st->method;
	}
}

static void emit_side(struct http2_stream *s, struct h2_stream *st, int which)
{
	struct http2_message m;
	struct side *sd = &st->side[which];

	if (!sd->started || sd->emitted)
		return;
	sd->emitted = true;
	build(s, st, which, &m);
	s->cb.on_message(s->arg, &m);
}

/* Give what the stream has (request first) and forget it. */
static void close_stream(struct http2_stream *s, struct h2_stream *st)
{
	emit_side(s, st, 0);
	emit_side(s, st, 1);
	stream_release(s, st);
}

static void side_init(struct side *sd, long long now)
{
	sd->started = true;
	sd->ts_first = now;
	sd->grpc.status = -1;
	for (int i = 0; i < P_COUNT; i++)
		sd->pseudo[i] = NONE;
}

/*
 * The stream @p id, made when new (the least recently used one goes when all
 * are taken). @return NULL when out of memory.
 */
static struct h2_stream *stream_of(struct http2_stream *s, unsigned id)
{
	struct h2_stream *st, *oldest = NULL;
	size_t free_slot = HTTP2_MAX_STREAMS;

	for (size_t i = 0; i < HTTP2_MAX_STREAMS; i++) {
		st = s->streams[i];
		if (st && st->id == id) {
			st->age = ++s->ages;
			return st;
		}
		if (!st && free_slot == HTTP2_MAX_STREAMS)
			free_slot = i;
		if (st && (!oldest || st->age < oldest->age))
			oldest = st;
	}
	if (free_slot == HTTP2_MAX_STREAMS) {
		free_slot = oldest->slot;
		close_stream(s, oldest); /* given as incomplete */
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	s->streams[free_slot] = st;
	st->slot = free_slot;
	st->id = id;
	st->req_dir = s->preface_dir >= 0 ? s->preface_dir : -1;
	st->reset = -1;
	st->age = ++s->ages;
	side_init(&st->side[0], s->now);
	st->side[0].started = false;
	side_init(&st->side[1], s->now);
	st->side[1].started = false;
	return st;
}

/* Which side of the stream direction @p dir carries; the first to speak is the request. */
static struct side *side_for(struct http2_stream *s, struct h2_stream *st, int dir)
{
	struct side *sd;

	if (st->req_dir < 0)
		st->req_dir = dir;
	sd = &st->side[dir == st->req_dir ? 0 : 1];
	if (!sd->started)
		side_init(sd, s->now);
	return sd;
}

/* A side ended; with the response's end, the stream is over. */
static void end_side(struct http2_stream *s, struct h2_stream *st, struct side *sd)
{
	sd->ended = true;
	sd->ts_end = s->now;
	emit_side(s, st, sd == &st->side[0] ? 0 : 1);
	if (st->side[1].ended)
		close_stream(s, st);
}

static int add_field(struct side *sd, const nghttp2_nv *nv)
{
	size_t off = sd->fields.len;
	const char *name = (const char *)nv->name;

	if (nv->namelen && name[0] == ':') {
		for (int i = 0; i < P_COUNT; i++)
			if (nv->namelen == strlen(pseudo_names[i]) &&
			    memcmp(name, pseudo_names[i], nv->namelen) == 0) {
				if (buffer_append(&sd->fields, nv->value, nv->valuelen) < 0 ||
				    buffer_append(&sd->fields, "", 1) < 0)
					return -1;
				sd->pseudo[i] = off;
			}
		return 0;
	}
	if (sd->count == HTTP_MAX_HEADERS ||
	    sd->fields.len + nv->namelen + nv->valuelen + 2 > HTTP2_MAX_HEADER_BLOCK) {
		sd->truncated = true;
		return 0;
	}
	if (buffer_append(&sd->fields, nv->name, nv->namelen) < 0 ||
	    buffer_append(&sd->fields, "", 1) < 0 ||
	    buffer_append(&sd->fields, nv->value, nv->valuelen) < 0 ||
	    buffer_append(&sd->fields, "", 1) < 0)
		return -1;
	sd->name_off[sd->count] = off;
	sd->value_off[sd->count++] = off + nv->namelen + 1;
	if (nv->namelen == 12 && memcmp(name, "content-type", 12) == 0 && nv->valuelen >= 16 &&
	    memcmp(nv->value, "application/grpc", 16) == 0)
		sd->grpc.on = true;
	else if (nv->namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
		sd->grpc.status = status_code(sd->fields.data + off + 12, -1);
	return 0;
}

/*
 * Decode a whole header block with the direction's inflater into @p sd (NULL:
 * decoded only to keep the table in step). A block that does not decode
 * marks the side incomplete and starts the inflater afresh.
 */
static int decode_block(struct direction *d, struct side *sd)
{
	/* An empty block has no buffer yet: nothing to point into. */
	const uint8_t *in = d->block.data ? (const uint8_t *)d->block.data : (const uint8_t *)"";
	size_t left = d->block.len;

	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t n = nghttp2_hd_inflate_hd2(d->inflater, &nv, &flags, in, left, 1);

		if (n < 0) {
			if (sd) {
				sd->incomplete = true;
				sd->count = 0;
				sd->truncated = false;
				for (int i = 0; i < P_COUNT; i++)
					sd->pseudo[i] = NONE;
			}
			return inflater_reset(d);
		}
		in += n;
		left -= (size_t)n;
		if ((flags & NGHTTP2_HD_INFLATE_EMIT) && sd && add_field(sd, &nv) < 0)
			return -1;
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(d->inflater);
			return 0;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && left == 0)
			return 0;
	}
}

static int end_block(struct http2_stream *s, int dir)
{
	struct direction *d = &s->dir[dir];
	struct h2_stream *st = NULL;
	struct side *sd = NULL;
	int rc;

	d->in_block = false;
	if (!d->block_discard) {
		st = stream_of(s, d->block_stream);
		if (!st)
			return -1;
		sd = side_for(s, st, dir);
	}
	rc = decode_block(d, sd);
	d->block.len = 0;
	if (rc < 0 || !sd)
		return rc;
	if (d->block_end_stream)
		end_side(s, st, sd);
	return 0;
}

/* A padded frame's payload without its padding; @return -1 when the padding is too long. */
static int strip_padding(const unsigned char **p, uint32_t *len, uint8_t flags, size_t extra)
{
	uint32_t pad = 0;

	if (flags & FL_PADDED) {
		if (*len < 1)
			return -1;
		pad = (*p)[0];
		(*p)++;
		(*len)--;
	}
	if (*len < pad + extra)
		return -1;
	*p += extra;
	*len -= pad + (uint32_t)extra;
	return 0;
}

static void grpc_feed(struct side *sd, const unsigned char *p, size_t n, size_t max_body,
		      unsigned long long body_off)
{
	struct http2_grpc *g = &sd->grpc;

	while (n) {
		if (sd->remaining) {
			size_t k = n < sd->remaining ? n : (size_t)sd->remaining;

			sd->remaining -= k;
			p += k;
			n -= k;
			body_off += k;
			continue;
		}
		sd->prefix[sd->prefix_have++] = *p++;
		n--;
		body_off++;
		if (sd->prefix_have < 5)
			continue;
		sd->prefix_have = 0;
		sd->remaining = be32(sd->prefix + 1);
		if (g->sizes_len < HTTP2_GRPC_SIZES) {
			g->sizes[g->sizes_len] = (uint32_t)sd->remaining;
			g->compressed[g->sizes_len++] = sd->prefix[0] & 1;
		}
		if (g->payloads < HTTP2_GRPC_SIZES && body_off <= max_body) {
			g->payload_off[g->payloads] = (size_t)body_off;
			g->payload_len[g->payloads++] = sd->remaining < max_body - body_off ?
								(size_t)sd->remaining :
								(size_t)(max_body - body_off);
		}
		g->count++;
	}
}

static int on_data(struct http2_stream *s, int dir, unsigned id, uint8_t flags,
		   const unsigned char *p, uint32_t len)
{
	struct h2_stream *st;
	struct side *sd;
	size_t keep;

	if (id == 0 || strip_padding(&p, &len, flags, 0) < 0)
		return -1;
	st = stream_of(s, id);
	if (!st)
		return -1;
	sd = side_for(s, st, dir);
	if (sd->pseudo[P_STATUS] == NONE && sd->pseudo[P_METHOD] == NONE && sd->count == 0)
		sd->incomplete = true; /* its HEADERS were not seen */
	if (sd->grpc.on || st->side[0].grpc.on)
		grpc_feed(sd, p, len, s->cfg.max_body, sd->body_size);
	keep = sd->body.len < s->cfg.max_body ? s->cfg.max_body - sd->body.len : 0;
	if (keep > len)
		keep = len;
	if (buffer_append(&sd->body, p, keep) < 0)
		return -1;
	sd->body_size += len;
	if (flags & FL_END_STREAM)
		end_side(s, st, sd);
	return 0;
}

static int on_headers(struct http2_stream *s, int dir, unsigned type, unsigned id, uint8_t flags,
		      const unsigned char *p, uint32_t len)
{
	struct direction *d = &s->dir[dir];

	if (id == 0 || strip_padding(&p, &len, flags,
				     type == F_PUSH_PROMISE ? 4 :
				     (flags & FL_PRIORITY)  ? 5 :
							      0) < 0)
		return -1;
	if (len > HTTP2_MAX_HEADER_BLOCK) {
		d->error = "header_block_too_large";
		return -1;
	}
	d->in_block = true;
	d->block_stream = id;
	/* A pushed request's block is decoded only to keep the table in step. */
	d->block_discard = type == F_PUSH_PROMISE;
	d->block_end_stream = type == F_HEADERS && (flags & FL_END_STREAM);
	d->block.len = 0;
	if (buffer_append(&d->block, p, len) < 0)
		return -1;
	return flags & FL_END_HEADERS ? end_block(s, dir) : 0;
}

static int on_continuation(struct http2_stream *s, int dir, unsigned id, uint8_t flags,
			   const unsigned char *p, uint32_t len)
{
	struct direction *d = &s->dir[dir];

	if (!d->in_block || id != d->block_stream)
		return -1;
	if (d->block.len + len > HTTP2_MAX_HEADER_BLOCK) {
		d->error = "header_block_too_large";
		return -1;
	}
	if (buffer_append(&d->block, p, len) < 0)
		return -1;
	return flags & FL_END_HEADERS ? end_block(s, dir) : 0;
}

/* SETTINGS_HEADER_TABLE_SIZE bounds the decoder of the one who sent it: the other direction's. */
static int on_settings(struct http2_stream *s, int dir, uint8_t flags, const unsigned char *p,
		       uint32_t len)
{
	struct direction *other = &s->dir[1 - dir];

	if (flags & FL_ACK)
		return 0;
	if (len % 6)
		return -1;
	for (uint32_t off = 0; off < len; off += 6) {
		if ((p[off] << 8 | p[off + 1]) != 1)
			continue;
		other->table_size = be32(p + off + 2);
		if (other->table_size > HTTP2_MAX_HEADER_BLOCK)
			other->table_size = HTTP2_MAX_HEADER_BLOCK;
		if (nghttp2_hd_inflate_change_table_size(other->inflater, other->table_size) != 0)
			return -1;
	}
	return 0;
}

static void on_rst_stream(struct http2_stream *s, unsigned id, const unsigned char *p, uint32_t len)
{
	for (size_t i = 0; i < HTTP2_MAX_STREAMS && len == 4; i++)
		if (s->streams[i] && s->streams[i]->id == id) {
			s->streams[i]->reset = be32(p);
			close_stream(s, s->streams[i]);
		}
}

/* The sender will not process streams above last_stream_id: those are over. */
static void on_goaway(struct http2_stream *s, const unsigned char *p, uint32_t len)
{
	uint32_t last = len >= 4 ? be32(p) & 0x7fffffffu : 0;

	for (size_t i = 0; i < HTTP2_MAX_STREAMS; i++)
		if (s->streams[i] && s->streams[i]->id > last)
			close_stream(s, s->streams[i]);
}

static int on_frame(struct http2_stream *s, int dir, const unsigned char *h, const unsigned char *p)
{
	uint32_t len = be24(h);
	unsigned type = h[3], id = be32(h + 5) & 0x7fffffffu;
	uint8_t flags = h[4];

	if (s->dir[dir].in_block && type != F_CONTINUATION)
		return -1;
	switch (type) {
	case F_DATA:
		return on_data(s, dir, id, flags, p, len);
	case F_HEADERS:
	case F_PUSH_PROMISE:
		return on_headers(s, dir, type, id, flags, p, len);
	case F_CONTINUATION:
		return on_continuation(s, dir, id, flags, p, len);
	case F_SETTINGS:
		return on_settings(s, dir, flags, p, len);
	case F_RST_STREAM:
		on_rst_stream(s, id, p, len);
		return 0;
	case F_GOAWAY:
		on_goaway(s, p, len);
		return 0;
	default: /* PRIORITY, PING, WINDOW_UPDATE and unknown types carry nothing shown */
		return 0;
	}
}

static int fail(struct direction *d, const char *why)
{
	d->failed = true;
	if (!d->error)
		d->error = why;
	return -1;
}

/* Whole frames from the front of the direction's buffer. */
static int drain(struct http2_stream *s, int dir)
{
	struct direction *d = &s->dir[dir];
	const unsigned char *p = (const unsigned char *)d->in.data;
	size_t off = 0;
	size_t head = d->in.len < PREFACE_LEN ? d->in.len : PREFACE_LEN;

	/*
	 * A server sends its SETTINGS without waiting for the client's preface:
	 * the tracer may see them first and take the connection as begun
	 * before it. A direction whose first bytes are the preface is still the
	 * client's.
	 */
	if (!d->started && s->preface_dir < 0 && memcmp(p, PREFACE, head) == 0) {
		if (head < PREFACE_LEN)
			return 0;
		s->preface_dir = dir;
		d->preface_pending = true;
	}
	d->started = true;
	if (d->preface_pending) {
		if (d->in.len < PREFACE_LEN)
			return memcmp(p, PREFACE, d->in.len) == 0 ? 0 : fail(d, "bad_preface");
		if (memcmp(p, PREFACE, PREFACE_LEN) != 0)
			return fail(d, "bad_preface");
		d->preface_pending = false;
		off = PREFACE_LEN;
	}
	while (d->in.len - off >= FRAME_HEAD) {
		uint32_t len = be24(p + off);

		if (len > HTTP2_MAX_FRAME)
			return fail(d, "frame_too_large");
		if (d->in.len - off - FRAME_HEAD < len)
			break;
		if (on_frame(s, dir, p + off, p + off + FRAME_HEAD) < 0)
			return fail(d, "protocol_error");
		off += FRAME_HEAD + len;
	}
	buffer_consume(&d->in, off);
	return 0;
}

int http2_stream_feed(struct http2_stream *s, int direction, long long ts_ns, const char *bytes,
		      size_t len)
{
	struct direction *d;

	if (direction < 0 || direction > 1)
		return -1;
	d = &s->dir[direction];
	if (d->failed)
		return -1;
	s->now = ts_ns;
	if (len == 0)
		return 0;
	if (buffer_append(&d->in, bytes, len) < 0)
		return fail(d, "out_of_memory");
	return drain(s, direction);
}

void http2_stream_finish(struct http2_stream *s)
{
	for (size_t i = 0; i < HTTP2_MAX_STREAMS; i++)
		if (s->streams[i])
			close_stream(s, s->streams[i]);
}

const char *http2_stream_error(const struct http2_stream *s, int direction)
{
	return direction >= 0 && direction <= 1 ? s->dir[direction].error : NULL;
}
