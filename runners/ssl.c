/* The ssl runner: runs the ssl BPF loader, emits ssl.* events and the HTTP/SSE it reconstructs. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include <collector/buffer.h>
#include <collector/codec.h>
#include <collector/event_builder.h>
#include <collector/log.h>
#include <collector/runner.h>

#include "cgroup_filter.h"
#include "container_id.h"
#include "container_name.h"
#include "http2.h"
#include "http2_event.h"
#include "http_redact.h"
#include "http_stream.h"
#include "loader_child.h"
#include "ssl_loader.h"
#include "ssl_ring.h"

enum conn_kind { CONN_UNKNOWN, CONN_HTTP, CONN_H2, CONN_RAW };

/* One TLS connection (pid + SSL pointer) and its analyzer. */
struct conn {
	char key[48];
	enum conn_kind kind;
	struct http_stream *http;
	struct http2_stream *h2;
	struct http_redact_state redact_st[2]; /* ssl.data of each direction, written / read */
	unsigned long long last_use;
	struct conn *next;
};

struct ssl_runner {
	struct runner_ctx *ctx;
	struct loader_child loader;
	unsigned long long loader_lost; /* as the loader counts them */
	/* The loader's ring buffer, read here once the loader shares it. */
	struct ssl_ring *ring;
	/* The analyzer chain, each stage switchable. */
	bool http, raw, sse;
	struct http_stream_config http_cfg;
	struct http_redact redactor; /* headers and parameters hidden; none with --no-redact */
	struct buffer scrubbed;	     /* a call's bytes with the listed values hidden */
	/* Connections, hashed by key; the least recently used one goes when full. */
	struct conn **buckets;
	size_t nbuckets, nconns, max_conns;
	size_t max_payload;
	unsigned long long uses;
	/* The call being handled: the envelope of what it produces. */
	const struct ssl_call *cur;
	unsigned char *payload;
	struct event_builder *eb;
};

static const struct option_spec ssl_options[] = {
	{ .name = "pid",
	  .short_name = 'p',
	  .type = OPT_INT,
	  .def = "0",
	  .help = "only this process (its own binary is searched too: Go, static OpenSSL)" },
	{ .name = "comm",
	  .short_name = 'c',
	  .type = OPT_STRING,
	  .help = "only processes with this command name (at most 15 characters)" },
	{ .name = "uid",
	  .short_name = 'u',
	  .type = OPT_INT,
	  .def = "-1",
	  .help = "only processes of this user id" },
	CGROUP_FILTER_OPTIONS,
	{ .name = "lib",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "attach to this TLS library (libssl.so.3, libgnutls.so.30) instead of all "
		  "found" },
	{ .name = "binary-path",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "attach to this binary: a Go program, or OpenSSL, BoringSSL or GnuTLS linked in "
		  "(stripped too); its new processes are covered" },
	{ .name = "max-payload",
	  .type = OPT_SIZE,
	  .def = "16KiB",
	  .help = "plaintext bytes captured per call (at most 256KiB)" },
	{ .name = "ring-size",
	  .type = OPT_SIZE,
	  .def = "16MiB",
	  .help = "the BPF ring buffer, a power of two in 1MiB..1GiB" },
	{ .name = "no-http", .type = OPT_BOOL, .help = "no HTTP reconstruction: ssl.data only" },
	{ .name = "raw",
	  .type = OPT_BOOL,
	  .help = "ssl.data for every call, also on connections reconstructed as HTTP" },
	{ .name = "no-sse", .type = OPT_BOOL, .help = "keep text/event-stream bodies whole" },
	{ .name = "no-redact", .type = OPT_BOOL, .help = "show every header value as it was sent" },
	{ .name = "redact",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "header whose value is hidden (repeatable; replaces the default list)" },
	{ .name = "redact-query",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "query parameter or form field whose value is hidden (repeatable; replaces the "
		  "default list)" },
	{ .name = "max-body",
	  .type = OPT_SIZE,
	  .def = "64KiB",
	  .help = "body bytes kept per HTTP message and per SSE message" },
	{ .name = "max-connections",
	  .type = OPT_INT,
	  .def = "4096",
	  .help = "connections analysed at once; the least recently used is forgotten" },
	{ .name = "loader",
	  .type = OPT_STRING,
	  .help = "loader program (default: this binary's hidden `loader ssl`)" },
	{ .name = "verbose",
	  .type = OPT_BOOL,
	  .help = "the loader's libbpf debug output as log lines" },
	{ .name = "wakeup",
	  .type = OPT_SIZE,
	  .help = "bytes waiting in the ring buffer that wake its reader early (default: a "
		  "quarter of --ring-size; 0: every record)" },
	{ .name = "share-ring",
	  .type = OPT_BOOL,
	  .help = "for the loader run by hand: hand the ring buffer's fd to the parent "
		  "(pidfd_getfd) instead of printing the captures" },
	{ 0 },
};

static yajl_val member(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };

	return yajl_tree_get(obj, path, yajl_t_any);
}

static long long int_member(yajl_val obj, const char *key, long long def)
{
	yajl_val v = member(obj, key);

	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : def;
}

static const char *str_member(yajl_val obj, const char *key)
{
	yajl_val v = member(obj, key);

	return v && YAJL_IS_STRING(v) ? v->u.string : NULL;
}

/* Bytes as text when they are UTF-8, else base64; @p b64 is their base64 when known. */
static void put_bytes(struct ssl_runner *r, const char *key, const char *enc_key, const void *p,
		      size_t n, const char *b64)
{
	struct event_builder *b = r->eb;
	char *tmp;

	if (utf8_text(p, n)) {
		event_builder_strn(b, key, p, n);
		event_builder_str(b, enc_key, "text");
		return;
	}
	if (b64) {
		event_builder_str(b, key, b64);
	} else {
		tmp = malloc(base64_encoded_len(n) + 1);
		if (!tmp) {
			event_builder_fail(b);
			return;
		}
		event_builder_strn(b, key, tmp, base64_encode(p, n, tmp));
		free(tmp);
	}
	event_builder_str(b, enc_key, "base64");
}

/* container_id, container_runtime and container_name when the call's process is in a container. */
static void put_container(struct ssl_runner *r)
{
	struct container_ref c;
	const char *name;

	if (!container_of_cgroup(r->cur->cgroup_id, r->cur->pid, &c))
		return;
	event_builder_str(r->eb, "container_id", c.id);
	event_builder_str(r->eb, "container_runtime", c.runtime);
	name = container_name(&c);
	if (name)
		event_builder_str(r->eb, "container_name", name);
}

static void begin_data(struct ssl_runner *r)
{
	event_builder_begin(r->eb);
	event_builder_str(r->eb, "conn", r->cur->conn);
	put_container(r);
}

/* Close the data object and emit it with the envelope of the current loader line. */
static void emit(struct ssl_runner *r, const char *type, long long ts_ns)
{
	const struct ssl_call *c = r->cur;
	struct event *ev;

	ev = event_builder_event(r->eb, type, c ? span_str(c->comm) : (struct span){ 0 });
	if (!ev) {
		runner_emit_failed(r->ctx, type);
		return;
	}
	if (!ts_ns && c)
		ts_ns = c->ts_ns;
	/* Without a time of its own (ready), an event keeps the time it was made. */
	if (ts_ns)
		ev->ts_ns = ts_ns;
	if (c && c->pid) {
		event_set_pid(ev, c->pid);
		ev->tid = c->tid;
		ev->flags |= EVENT_HAS_TID;
	}
	runner_emit(r->ctx, ev);
}

static void put_headers(struct event_builder *b, const struct http_message *m)
{
	event_builder_open_array(b, "headers");
	for (size_t i = 0; i < m->header_count; i++) {
		event_builder_open_array(b, NULL);
		event_builder_str(b, NULL, m->headers[i].name);
		event_builder_str(b, NULL, m->headers[i].value);
		event_builder_close_array(b);
	}
	event_builder_close_array(b);
	if (m->headers_truncated)
		event_builder_bool(b, "headers_truncated", true);
}

static void on_http(void *arg, const struct http_message *m)
{
	struct ssl_runner *r = arg;
	struct event_builder *b = r->eb;
	char version[16];

	begin_data(r);
	event_builder_uint(b, "seq", m->seq);
	snprintf(version, sizeof(version), "%u.%u", m->version_major, m->version_minor);
	if (m->request) {
		event_builder_str(b, "method", m->method);
		event_builder_str(b, "path", m->path);
		event_builder_str(b, "version", version);
	} else {
		event_builder_int(b, "status", m->status);
		event_builder_str(b, "reason", m->reason);
		event_builder_str(b, "version", version);
		event_builder_str(b, "method", m->method);
		event_builder_str(b, "path", m->path);
		if (m->latency_ns >= 0)
			event_builder_int(b, "latency_ns", m->latency_ns);
		else
			event_builder_null(b, "latency_ns");
	}
	put_headers(b, m);
	if (m->event_stream) {
		event_builder_bool(b, "event_stream", true);
	} else {
		put_bytes(r, "body", "body_encoding", m->body ? m->body : "", m->body_len, NULL);
		event_builder_uint(b, "body_size", m->body_size);
		event_builder_bool(b, "body_truncated", m->body_truncated);
		if (m->decoded_from)
			event_builder_str(b, "decoded_from", m->decoded_from);
		if (m->decode_failed)
			event_builder_bool(b, "decode_failed", true);
		event_builder_bool(b, "chunked", m->chunked);
	}
	emit(r, m->request ? "http.request" : "http.response", m->ts_ns);
}

static void on_sse(void *arg, const struct sse_message *m, long long ts_ns, unsigned long long seq)
{
	struct ssl_runner *r = arg;
	struct event_builder *b = r->eb;

	begin_data(r);
	event_builder_uint(b, "seq", seq);
	event_builder_str(b, "event", m->event);
	event_builder_str(b, "id", m->id);
	event_builder_strn(b, "data", m->data, m->data_len);
	event_builder_bool(b, "data_truncated", m->data_truncated);
	if (m->retry_ms >= 0)
		event_builder_int(b, "retry_ms", m->retry_ms);
	emit(r, "sse.message", ts_ns);
}

static const struct http_stream_callbacks http_callbacks = { on_http, on_sse };

static void on_http2(void *arg, const struct http2_message *m)
{
	struct ssl_runner *r = arg;

	begin_data(r);
	http2_event_put(r->eb, m);
	emit(r, m->request ? "http.request" : "http.response", m->ts_ns);
}

static const struct http2_callbacks http2_callbacks = { on_http2 };

/* HTTP/2 (the preface, or frames mid-connection): @return whether it took the bytes. */
static bool analyse_h2(struct ssl_runner *r, struct conn *c, bool write, const unsigned char *p,
		       size_t n, bool complete)
{
	if (c->kind == CONN_UNKNOWN) {
		bool preface = http2_looks_like((const char *)p, n);

		if (!preface && !http2_frames_like((const char *)p, n))
			return false;
		c->h2 = http2_stream_new(&r->http_cfg, &http2_callbacks, r,
					 preface ? (write ? 0 : 1) : -1);
		c->kind = c->h2 ? CONN_H2 : CONN_RAW;
	}
	if (c->kind != CONN_H2)
		return false;
	if (!complete ||
	    http2_stream_feed(c->h2, write ? 0 : 1, r->cur->ts_ns, (const char *)p, n) < 0) {
		runner_report_error(r->ctx, "http_parse", 0, 0, NULL, 0,
				    "connection %s: HTTP/2 %s; its bytes follow as ssl.data",
				    c->key,
				    complete ? http2_stream_error(c->h2, write ? 0 : 1) :
					       "a call's plaintext was not captured whole");
		c->kind = CONN_RAW;
		http2_stream_free(c->h2);
		c->h2 = NULL;
	}
	return c->kind == CONN_H2;
}

static size_t hash_key(const char *s, size_t n)
{
	size_t h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h % n;
}

static void drop_conn(struct ssl_runner *r, struct conn *c)
{
	struct conn **pp = &r->buckets[hash_key(c->key, r->nbuckets)];

	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	http_stream_free(c->http);
	http2_stream_free(c->h2);
	free(c);
	r->nconns--;
}

static void evict_oldest(struct ssl_runner *r)
{
	struct conn *oldest = NULL;

	for (size_t i = 0; i < r->nbuckets; i++)
		for (struct conn *c = r->buckets[i]; c; c = c->next)
			if (!oldest || c->last_use < oldest->last_use)
				oldest = c;
	if (oldest)
		drop_conn(r, oldest);
}

static struct conn *get_conn(struct ssl_runner *r, const char *key)
{
	size_t b = hash_key(key, r->nbuckets);
	struct conn *c;

	for (c = r->buckets[b]; c; c = c->next)
		if (strcmp(c->key, key) == 0)
			break;
	if (!c) {
		if (r->nconns == r->max_conns)
			evict_oldest(r);
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		snprintf(c->key, sizeof(c->key), "%s", key);
		c->next = r->buckets[b];
		r->buckets[b] = c;
		r->nconns++;
	}
	c->last_use = ++r->uses;
	return c;
}

/* Feed a call's bytes to its connection's analyzer. @return whether it took them. */
static bool analyse(struct ssl_runner *r, struct conn *c, bool write, const unsigned char *p,
		    size_t n, bool complete)
{
	if ((c->kind == CONN_UNKNOWN || c->kind == CONN_H2) &&
	    analyse_h2(r, c, write, p, n, complete))
		return true;
	if (c->kind == CONN_UNKNOWN) {
		c->kind = http_looks_like((const char *)p, n) ? CONN_HTTP : CONN_RAW;
		if (c->kind == CONN_HTTP) {
			c->http = http_stream_new(&r->http_cfg, &http_callbacks, r);
			if (!c->http)
				c->kind = CONN_RAW;
		}
	}
	if (c->kind != CONN_HTTP)
		return false;
	/* Bytes missing from the middle of a stream would desynchronise the parser. */
	if (!complete ||
	    http_stream_feed(c->http, write ? 0 : 1, r->cur->ts_ns, (const char *)p, n) < 0) {
		runner_report_error(r->ctx, "http_parse", 0, 0, NULL, 0,
				    "connection %s: %s; its bytes follow as ssl.data", c->key,
				    complete ? http_stream_error(c->http, write ? 0 : 1) :
					       "a call's plaintext was not captured whole");
		c->kind = CONN_RAW;
		http_stream_free(c->http);
		c->http = NULL;
		return false;
	}
	return true;
}

/*
 * The call's bytes, with the listed headers' and parameters' values hidden as
 * in http.* events: --raw and connections that are not (or no longer) parsed
 * as HTTP must not show what http.request hides. A value cut between two calls
 * stays hidden through the connection's state.
 */
static void emit_data(struct ssl_runner *r, struct conn *c, const struct ssl_call *call)
{
	struct http_redact_state fresh = { 0 };
	struct http_redact_state *st = c ? &c->redact_st[call->write ? 0 : 1] : &fresh;
	int hidden = 0;

	r->scrubbed.len = 0;
	if (r->redactor.header_count || r->redactor.param_count)
		hidden = http_redact_bytes(&r->redactor, st, (const char *)call->data,
					   call->captured, &r->scrubbed);
	if (hidden < 0) {
		/* Out of memory: nothing rather than what should be hidden. */
		put_bytes(r, "data", "encoding", "", 0, NULL);
		event_builder_bool(r->eb, "data_dropped", true);
	} else if (hidden > 0) {
		put_bytes(r, "data", "encoding", r->scrubbed.data, r->scrubbed.len, NULL);
		event_builder_int(r->eb, "redacted", hidden);
	} else {
		put_bytes(r, "data", "encoding", call->data, call->captured, call->b64);
	}
	emit(r, "ssl.data", 0);
}

static void handle_data(struct ssl_runner *r, const struct ssl_call *call)
{
	bool taken = false;
	struct conn *c = r->http ? get_conn(r, call->conn) : NULL;
	struct event_builder *b = r->eb;

	if (c)
		taken = analyse(r, c, call->write, call->data, call->captured,
				!call->truncated && !call->incomplete);
	if (taken && !r->raw)
		return;
	begin_data(r);
	event_builder_str(b, "func", call->func);
	event_builder_str(b, "lib", call->lib);
	event_builder_str(b, "direction", call->write ? "write" : "read");
	event_builder_int(b, "len", call->len);
	event_builder_uint(b, "captured", call->captured);
	event_builder_bool(b, "truncated", call->truncated);
	if (call->incomplete)
		event_builder_bool(b, "incomplete", true);
	event_builder_int(b, "ret", call->ret);
	event_builder_int(b, "latency_ns", call->latency_ns);
	event_builder_int(b, "uid", call->uid);
	emit_data(r, c, call);
}

/* The connection is gone: finish what ran to its end, forget it. */
static void handle_close(struct ssl_runner *r, const struct ssl_call *call)
{
	struct conn *c;

	if (!r->buckets)
		return;
	for (c = r->buckets[hash_key(call->conn, r->nbuckets)]; c; c = c->next)
		if (strcmp(c->key, call->conn) == 0)
			break;
	if (!c)
		return;
	if (c->http)
		http_stream_finish(c->http);
	if (c->h2)
		http2_stream_finish(c->h2);
	drop_conn(r, c);
}

static void handle_handshake(struct ssl_runner *r, const struct ssl_call *call)
{
	struct event_builder *b = r->eb;

	begin_data(r);
	event_builder_str(b, "func", call->func);
	event_builder_str(b, "lib", call->lib);
	event_builder_int(b, "ret", call->ret);
	event_builder_bool(b, "success", call->success);
	event_builder_int(b, "latency_ns", call->latency_ns);
	event_builder_int(b, "uid", call->uid);
	emit(r, "ssl.handshake", 0);
}

/* A collector.loss when the loader's count or the calls that lost records grew. */
static void report_loss(struct ssl_runner *r)
{
	loader_child_report_loss(&r->loader, r->loader_lost + ssl_ring_incomplete(r->ring));
}

/* One call from either hand-over. @return whether more may come now (backpressure). */
static bool on_call(void *arg, const struct ssl_call *call)
{
	struct ssl_runner *r = arg;

	r->cur = call;
	if (call->kind == SSL_RECORD_DATA)
		handle_data(r, call);
	else if (call->kind == SSL_RECORD_CLOSE)
		handle_close(r, call);
	else if (call->kind == SSL_RECORD_HANDSHAKE)
		handle_handshake(r, call);
	r->cur = NULL;
	if (call->incomplete)
		report_loss(r);
	return runner_can_emit(r->ctx);
}

/* A JSON line of a loader that does not share its ring buffer, as a call. @return 0 or -1. */
static int call_from_json(struct ssl_runner *r, yajl_val obj, const char *type,
			  struct ssl_call *call)
{
	const char *conn = str_member(obj, "conn"), *comm = str_member(obj, "comm");
	const char *dir = str_member(obj, "direction");

	*call = (struct ssl_call){
		.kind = strcmp(type, "data") == 0      ? SSL_RECORD_DATA :
			strcmp(type, "close") == 0     ? SSL_RECORD_CLOSE :
			strcmp(type, "handshake") == 0 ? SSL_RECORD_HANDSHAKE :
							 0,
		.func = str_member(obj, "func"),
		.lib = str_member(obj, "lib"),
		.write = dir && strcmp(dir, "write") == 0,
		.ts_ns = int_member(obj, "ts_ns", 0),
		.pid = (int)int_member(obj, "pid", 0),
		.tid = (int)int_member(obj, "tid", 0),
		.cgroup_id = (unsigned long long)int_member(obj, "cgroup_id", 0),
		.uid = int_member(obj, "uid", 0),
		.ret = int_member(obj, "ret", 0),
		.latency_ns = int_member(obj, "latency_ns", 0),
		.len = int_member(obj, "len", 0),
		.success = YAJL_IS_TRUE(member(obj, "success")),
		.truncated = YAJL_IS_TRUE(member(obj, "truncated")),
		.incomplete = YAJL_IS_TRUE(member(obj, "incomplete")),
		.b64 = str_member(obj, "data_b64"),
	};
	snprintf(call->comm, sizeof(call->comm), "%s", comm ? comm : "");
	snprintf(call->conn, sizeof(call->conn), "%s", conn ? conn : "");
	if (call->kind != SSL_RECORD_DATA)
		return 0;
	if (!conn || strlen(conn) >= sizeof(call->conn))
		return -1;
	if (!call->b64 || strlen(call->b64) > base64_encoded_len(r->max_payload) ||
	    base64_decode(call->b64, strlen(call->b64), r->payload, &call->captured) < 0)
		return -1;
	call->data = r->payload;
	return 0;
}

static bool on_ring_call(void *arg, const struct ssl_call *call)
{
	return on_call(arg, call);
}

/* The loader shares its ring buffer: read it here from now on. */
static void take_ring(struct ssl_runner *r, yajl_val ready)
{
	struct error err = { 0 };
	long long fd = int_member(ready, "ring_fd", -1);

	if (fd < 0 || r->ring)
		return;
	r->ring = ssl_ring_open(runner_loop(r->ctx), r->loader.pc.child.pid, (int)fd,
				r->max_payload, on_ring_call, r, &err);
	if (!r->ring) {
		runner_report_error(r->ctx, "ring_unavailable", 0, 0, NULL, 0, "%s", err.msg);
		loader_child_stop(&r->loader);
	}
}

static void on_loader_line(void *arg, const struct line *l)
{
	struct ssl_runner *r = arg;
	char errbuf[128], *text = strndup(l->ptr, l->len);
	yajl_val obj = text ? yajl_tree_parse(text, errbuf, sizeof(errbuf)) : NULL;
	const char *t = obj ? str_member(obj, "type") : NULL;
	struct ssl_call call;

	free(text);
	if (!obj || !YAJL_IS_OBJECT(obj) || !t) {
		runner_report_error(r->ctx, "invalid_json", l->number, l->offset, l->ptr,
				    l->len > 200 ? 200 : l->len,
				    "ssl loader line %llu is not a JSON object with a type",
				    (unsigned long long)l->number);
		yajl_tree_free(obj);
		return;
	}
	if (strcmp(t, "data") == 0 || strcmp(t, "close") == 0 || strcmp(t, "handshake") == 0) {
		if (call_from_json(r, obj, t, &call) == 0)
			on_call(r, &call);
		else
			runner_report_error(r->ctx, "invalid_record", l->number, 0, NULL, 0,
					    "ssl loader %s line without valid data_b64 or conn", t);
	} else if (strcmp(t, "loss") == 0) {
		r->loader_lost = (unsigned long long)int_member(obj, "count", 0);
		report_loss(r);
	} else if (strcmp(t, "ready") == 0) {
		take_ring(r, obj);
		event_builder_begin(r->eb);
		event_builder_str(r->eb, "loader", "ssl");
		emit(r, "ssl.ready", 0);
	}
	yajl_tree_free(obj);
}

/* The loader is gone, its probes detached: read what it left in the ring. */
static void on_loader_exit(void *arg)
{
	struct ssl_runner *r = arg;

	ssl_ring_drain(r->ring);
	report_loss(r);
}

static void ssl_destroy(void *self);

static int configure(struct ssl_runner *r, const struct options *opts, struct error *err)
{
	int count = 0, nquery = 0;
	char *const *names = options_list(opts, "redact", &count);
	char *const *query = options_list(opts, "redact-query", &nquery);
	int64_t max_payload = options_int(opts, "max-payload");
	static const char *const share_ring[] = { "--share-ring", NULL };

	if (ssl_options_check(opts, err) < 0)
		return -1;
	if (options_int(opts, "max-body") < 0 || options_int(opts, "max-connections") < 1)
		return error_set(err, EINVAL, "--max-body must be >= 0, --max-connections >= 1");
	r->http = !options_bool(opts, "no-http");
	r->raw = options_bool(opts, "raw");
	r->sse = !options_bool(opts, "no-sse");
	if (names) {
		r->redactor.headers = (const char *const *)names;
		r->redactor.header_count = (size_t)count;
	} else {
		r->redactor.headers = http_redact_default.headers;
		r->redactor.header_count = http_redact_default.header_count;
	}
	if (query) {
		r->redactor.params = (const char *const *)query;
		r->redactor.param_count = (size_t)nquery;
	} else {
		r->redactor.params = http_redact_default.params;
		r->redactor.param_count = http_redact_default.param_count;
	}
	if (options_bool(opts, "no-redact"))
		r->redactor = (struct http_redact){ 0 };
	r->http_cfg = (struct http_stream_config){ .max_body = (size_t)options_int(opts, "max-"
											 "body"),
						   .redact = r->redactor.headers,
						   .redact_count = r->redactor.header_count,
						   .redact_params = r->redactor.params,
						   .redact_param_count = r->redactor.param_count,
						   .sse = r->sse };
	r->max_conns = (size_t)options_int(opts, "max-connections");
	r->nbuckets = r->max_conns < 64 ? 64 : r->max_conns;
	r->buckets = calloc(r->nbuckets, sizeof(struct conn *));
	r->max_payload = (size_t)max_payload;
	r->payload = malloc((size_t)max_payload + 4);
	r->eb = event_builder_new();
	if (!r->buckets || !r->payload || !r->eb)
		return error_set(err, ENOMEM, "out of memory");
	/* The loader leaves the ring buffer to the runner (ssl_ring.c). */
	return loader_child_argv(&r->loader, opts, share_ring, err);
}

static void *ssl_create(struct runner_ctx *ctx, const struct options *opts, struct error *err)
{
	struct ssl_runner *r = calloc(1, sizeof(*r));
	/* A line carries a call's capture in base64, plus its metadata. */
	size_t max_line = base64_encoded_len((size_t)options_int(opts, "max-payload")) + 4096;

	if (!r) {
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	r->ctx = ctx;
	if (loader_child_init(&r->loader, ctx, "ssl", max_line, on_loader_line, r, err) < 0) {
		free(r);
		return NULL;
	}
	r->loader.on_exit = on_loader_exit;
	if (configure(r, opts, err) < 0) {
		ssl_destroy(r);
		return NULL;
	}
	return r;
}

static int ssl_start(void *self, struct error *err)
{
	struct ssl_runner *r = self;
	return loader_child_start(&r->loader, err);
}

static void ssl_stop(void *self)
{
	struct ssl_runner *r = self;

	loader_child_stop(&r->loader);
}

static void ssl_resume(void *self)
{
	struct ssl_runner *r = self;

	loader_child_resume(&r->loader);
	ssl_ring_resume(r->ring);
}

static void ssl_destroy(void *self)
{
	struct ssl_runner *r = self;

	loader_child_free(&r->loader);
	ssl_ring_free(r->ring);
	for (size_t i = 0; r->buckets && i < r->nbuckets; i++) {
		struct conn *c = r->buckets[i];

		while (c) {
			struct conn *next = c->next;

			http_stream_free(c->http);
			http2_stream_free(c->h2);
			free(c);
			c = next;
		}
	}
	free(r->buckets);
	free(r->payload);
	event_builder_free(r->eb);
	buffer_free(&r->scrubbed);
	free(r);
}

const struct runner_ops ssl_runner_ops = {
	.name = "ssl",
	.summary = "TLS plaintext (OpenSSL, GnuTLS uprobes) with HTTP/1.x and SSE reconstruction",
	.options = ssl_options,
	.create = ssl_create,
	.start = ssl_start,
	.stop = ssl_stop,
	.resume = ssl_resume,
	.destroy = ssl_destroy,
	.loader_main = ssl_loader_main,
};
