/* The http runner: an HTTP request as a task, or one every D as a probe; status, headers, body, timing and certificate as events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ev.h>
#include <yajl/yajl_tree.h>

#include <collector/buffer.h>
#include <collector/codec.h>
#include <collector/event_builder.h>
#include <collector/log.h>
#include <collector/runner.h>

#include "curl_ev.h"
#include "http_redact.h"
#include "json_tree.h"

/* A request body read from @FILE is at most this big. */
#define BODY_FILE_MAX ((size_t)16 * 1024 * 1024)
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 30000
/* Response headers kept: more is not a response a task needs to see whole. */
#define HEADERS_MAX ((size_t)64 * 1024)

struct http_task {
	struct runner_ctx *ctx;
	struct ev_loop *loop;
	struct curl_ev *m;
	CURL *easy;
	struct curl_slist *headers;
	struct event_builder *eb;
	const char *url, *method;
	char *body; /* request body, NULL for none */
	size_t body_len;
	int64_t every_ns;
	int retries;
	size_t max_body;
	/* the current request */
	int attempt; /* 1-based */
	bool in_flight;
	bool stopping;
	struct buffer resp_headers; /* raw lines of the last response */
	struct buffer resp_body;
	uint64_t body_bytes; /* all of it, kept or not */
	ev_timer retry_w, every_w;
	uint64_t requests, failures, skipped;
	enum runner_status last;
};

static const struct option_spec http_options[] = {
	{ .name = "url", .type = OPT_STRING, .required = true, .help = "the URL to request" },
	{ .name = "method", .type = OPT_STRING, .def = "GET", .help = "the request method" },
	{ .name = "header",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "'Name: value' request header (repeatable)" },
	{ .name = "body", .type = OPT_STRING, .help = "the request body, or @FILE for a file's" },
	{ .name = "timeout",
	  .type = OPT_DURATION,
	  .def = "10s",
	  .help = "the whole request, connection included" },
	{ .name = "retries",
	  .type = OPT_INT,
	  .def = "0",
	  .help = "attempts after a connect error or a 5xx, 100 ms apart, doubling" },
	{ .name = "every",
	  .type = OPT_DURATION,
	  .def = "0",
	  .help = "a probe: the request again every D until stopped (0: once)" },
	{ .name = "max-body",
	  .type = OPT_SIZE,
	  .def = "64KiB",
	  .help = "response body bytes kept in the event; the rest is counted" },
	{ .name = "cacert",
	  .type = OPT_STRING,
	  .help = "CA certificates (PEM) to verify the server with" },
	{ .name = "insecure", .type = OPT_BOOL, .help = "do not verify the server's certificate" },
	{ 0 },
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_task *t = arg;
	size_t n = size * nmemb, room = t->max_body - t->resp_body.len;

	t->body_bytes += n;
	if (room && buffer_append(&t->resp_body, p, n < room ? n : room) < 0)
		return 0;
	return n;
}

/* A status line starts another response (a redirect, 100 Continue): keep only the last. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_task *t = arg;
	size_t n = size * nmemb;

	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		t->resp_headers.len = 0;
	else if (t->resp_headers.len + n <= HEADERS_MAX &&
		 buffer_append(&t->resp_headers, p, n) < 0)
		return 0;
	return n;
}

/* ---- the result ---- */

static double info_s(CURL *e, CURLINFO what)
{
	curl_off_t us = 0;

	curl_easy_getinfo(e, what, &us);
	return (double)us / 1e3;
}

/* libcurl's times are cumulative from the start; the event gives each phase's own. */
static void put_timing(struct event_builder *b, CURL *e)
{
	double dns = info_s(e, CURLINFO_NAMELOOKUP_TIME_T),
	       conn = info_s(e, CURLINFO_CONNECT_TIME_T),
	       tls = info_s(e, CURLINFO_APPCONNECT_TIME_T),
	       first = info_s(e, CURLINFO_STARTTRANSFER_TIME_T),
	       total = info_s(e, CURLINFO_TOTAL_TIME_T);
	double ready = tls > 0 ? tls : conn;

	event_builder_open_object(b, "timing_ms");
	event_builder_double(b, "dns", dns, 3);
	event_builder_double(b, "connect", conn > dns ? conn - dns : 0, 3);
	event_builder_double(b, "tls", tls > conn ? tls - conn : 0, 3);
	event_builder_double(b, "first_byte", first > ready ? first - ready : 0, 3);
	event_builder_double(b, "total", total, 3);
	event_builder_close_object(b);
}

/* The server certificate's "Expire date" (OpenSSL's text, "Jan  5 12:00:00 2027 GMT"). */
static void put_cert(struct event_builder *b, CURL *e)
{
	struct curl_certinfo *ci = NULL;
	struct tm tm;

	if (curl_easy_getinfo(e, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
		return;
	for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next) {
		char when[32];
		time_t at;

		if (strncmp(s->data, "Expire date:", 12) != 0)
			continue;
		memset(&tm, 0, sizeof(tm));
		if (!strptime(s->data + 12, " %b %d %H:%M:%S %Y", &tm))
			return;
		at = timegm(&tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		event_builder_open_object(b, "tls_cert");
		event_builder_str(b, "expires", when);
		event_builder_int(b, "days_left", (long long)(at - time(NULL)) / 86400);
		event_builder_close_object(b);
		return;
	}
}

/* One header as @p key: every line of that name, comma-joined (RFC 9110). */
static void put_header(struct event_builder *b, const char *key, const char *lines, size_t len)
{
	struct buffer v = { 0 };
	size_t nlen = strlen(key);

	for (const char *p = lines, *end = lines + len; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *stop = eol ? eol : end;
		const char *val = p + nlen + 1, *vend = stop;

		if (stop - p > (ptrdiff_t)nlen && p[nlen] == ':' &&
		    strncasecmp(p, key, nlen) == 0) {
			while (val < vend && (*val == ' ' || *val == '\t'))
				val++;
			while (vend > val && (vend[-1] == '\r' || vend[-1] == ' '))
				vend--;
			if (v.len)
				buffer_append(&v, ", ", 2);
			buffer_append(&v, val, (size_t)(vend - val));
		}
		p = stop + 1;
	}
	event_builder_strn(b, key, v.data ? v.data : "", v.len);
	buffer_free(&v);
}

/* Whether a line before @p line has the name of @p line's first @p nlen bytes. */
static bool seen_before(const char *lines, const char *line, size_t nlen)
{
	for (const char *q = lines; q < line;) {
		const char *qe = memchr(q, '\n', (size_t)(line - q));

		if (strncasecmp(q, line, nlen) == 0 && q[nlen] == ':')
			return true;
		q = qe ? qe + 1 : line;
	}
	return false;
}

/* The headers as an object, names in lower case, secrets redacted first. */
static void put_headers(struct event_builder *b, const struct buffer *raw)
{
	struct http_redact_state st = { 0 };
	struct buffer red = { 0 };

	event_builder_open_object(b, "headers");
	if (raw->len &&
	    http_redact_bytes(&http_redact_default, &st, raw->data, raw->len, &red) >= 0)
		for (const char *p = red.data, *end = red.data + red.len; p < end;) {
			const char *eol = memchr(p, '\n', (size_t)(end - p)),
				   *stop = eol ? eol : end;
			const char *colon = memchr(p, ':', (size_t)(stop - p));
			size_t nlen = colon ? (size_t)(colon - p) : 0;
			char name[128];

			if (nlen && nlen < sizeof(name) && !seen_before(red.data, p, nlen)) {
				for (size_t i = 0; i < nlen; i++)
					name[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 :
										      p[i]);
				name[nlen] = '\0';
				put_header(b, name, red.data, red.len);
			}
			p = stop + 1;
		}
	event_builder_close_object(b);
	buffer_free(&red);
}

static bool is_json_type(CURL *e)
{
	const char *ct = NULL;

	curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct);
	return ct && (strncasecmp(ct, "application/json", 16) == 0 || strstr(ct, "+json"));
}

/* JSON kept as JSON when whole and valid; text when UTF-8; else base64. */
static void put_body(struct http_task *t, struct event_builder *b)
{
	const struct buffer *body = &t->resp_body;
	bool cut = t->body_bytes > body->len;
	char *text;

	event_builder_uint(b, "body_bytes", t->body_bytes);
	event_builder_bool(b, "body_truncated", cut);
	if (!cut && body->len && is_json_type(t->easy) && (text = strndup(body->data, body->len))) {
		yajl_val v = yajl_tree_parse(text, NULL, 0);

		yajl_gen g = v ? yajl_gen_alloc(NULL) : NULL;
		const unsigned char *out;
		size_t n;

		free(text);
		/* Generated again, compact: the event stays one line. */
		if (g) {
			json_tree_gen(g, v);
			if (yajl_gen_get_buf(g, &out, &n) == yajl_gen_status_ok) {
				event_builder_str(b, "encoding", "json");
				event_builder_raw(b, "body", (const char *)out, n);
			}
		}
		yajl_gen_free(g);
		yajl_tree_free(v);
		if (g)
			return;
	}
	if (utf8_valid(body->data ? body->data : "", body->len)) {
		event_builder_str(b, "encoding", "text");
		event_builder_strn(b, "body", body->data ? body->data : "", body->len);
		return;
	}
	if (!(text = malloc(base64_encoded_len(body->len) + 1))) {
		event_builder_null(b, "body");
		return;
	}
	event_builder_str(b, "encoding", "base64");
	event_builder_strn(b, "body", text, base64_encode(body->data, body->len, text));
	free(text);
}

/* ---- one request, its retries, the probe ---- */

static bool retryable(CURLcode rc, long status)
{
	switch (rc) {
	case CURLE_OK:
		return status >= 500;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		return true;
	default:
		return false;
	}
}

static int64_t backoff_ms(int attempt)
{
	int64_t ms = BACKOFF_FIRST_MS;

	for (int i = 1; i < attempt && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static void put_url(struct event_builder *b, const char *url)
{
	struct http_redact_state st = { 0 };
	struct buffer red = { 0 };

	if (http_redact_bytes(&http_redact_default, &st, url, strlen(url), &red) >= 0)
		event_builder_strn(b, "url", red.data ? red.data : "", red.len);
	else
		event_builder_null(b, "url");
	buffer_free(&red);
}

/* http.attempt (retried) or http.response (the last attempt): the whole result either way. */
static void emit_result(struct http_task *t, const char *type, CURLcode rc, long status,
			int64_t retry_in_ms)
{
	struct event_builder *b = t->eb;
	char *ip = NULL;

	event_builder_begin(b);
	put_url(b, t->url);
	event_builder_str(b, "method", t->method);
	event_builder_int(b, "attempt", t->attempt);
	if (rc == CURLE_OK)
		event_builder_int(b, "status", status);
	else
		event_builder_null(b, "status");
	event_builder_str(b, "error", rc == CURLE_OK ? NULL : curl_easy_strerror(rc));
	event_builder_bool(b, "timed_out", rc == CURLE_OPERATION_TIMEDOUT);
	if (curl_easy_getinfo(t->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip && *ip)
		event_builder_str(b, "remote_ip", ip);
	put_timing(b, t->easy);
	put_cert(b, t->easy);
	if (retry_in_ms >= 0) {
		event_builder_bool(b, "will_retry", true);
		event_builder_int(b, "retry_in_ms", retry_in_ms);
	}
	if (rc == CURLE_OK) {
		put_headers(b, &t->resp_headers);
		put_body(t, b);
	}
	event_builder_emit(b, t->ctx, type, 0);
}

static void send_request(struct http_task *t);

static void finish_once(struct http_task *t, CURLcode rc, long status)
{
	t->last = rc == CURLE_OPERATION_TIMEDOUT  ? RUNNER_TIMEOUT :
		  rc != CURLE_OK || status >= 400 ? RUNNER_FAILED :
						    RUNNER_SUCCESS;
	if (t->last != RUNNER_SUCCESS)
		t->failures++;
	if (t->stopping)
		runner_finished(t->ctx, RUNNER_CANCELED);
	else if (t->every_ns == 0)
		runner_finished(t->ctx, t->last);
}

static void on_done(void *arg, CURL *easy, CURLcode rc)
{
	struct http_task *t = arg;
	long status = 0;

	t->in_flight = false;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (!t->stopping && t->attempt <= t->retries && retryable(rc, status)) {
		int64_t ms = backoff_ms(t->attempt);

		emit_result(t, "http.attempt", rc, status, ms);
		ev_timer_set(&t->retry_w, (double)ms / 1e3, 0.);
		ev_timer_start(t->loop, &t->retry_w);
		return;
	}
	emit_result(t, "http.response", rc, status, -1);
	finish_once(t, rc, status);
}

static void send_request(struct http_task *t)
{
	struct error err = { 0 };

	t->attempt++;
	t->resp_headers.len = 0;
	t->resp_body.len = 0;
	t->body_bytes = 0;
	if (curl_ev_add(t->m, t->easy, on_done, t, &err) < 0) {
		log_error("%s: %s", runner_name(t->ctx), err.msg);
		runner_finished(t->ctx, RUNNER_ERROR);
		return;
	}
	t->in_flight = true;
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	send_request(w->data);
}

/* A probe's tick: a request still running (or retrying) makes this tick a skipped one. */
static void on_every(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_task *t = w->data;

	(void)loop;
	(void)revents;
	if (t->in_flight || ev_is_active(&t->retry_w)) {
		t->skipped++;
		return;
	}
	t->requests++;
	t->attempt = 0;
	send_request(t);
}

/* ---- runner_ops ---- */

static int read_body(struct http_task *t, const char *arg, struct error *err)
{
	FILE *f;
	struct buffer b = { 0 };
	char chunk[8192];
	size_t n;

	if (arg[0] != '@') {
		t->body_len = strlen(arg);
		return (t->body = strdup(arg)) ? 0 : error_set(err, ENOMEM, "out of memory");
	}
	if (!(f = fopen(arg + 1, "re")))
		return error_set(err, errno, "--body %s: %s", arg, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len + n <= BODY_FILE_MAX)
		if (buffer_append(&b, chunk, n) < 0)
			break;
	fclose(f);
	if (n > 0) {
		buffer_free(&b);
		return error_set(err, EFBIG, "--body %s: bigger than %d MiB (or out of memory)",
				 arg, (int)(BODY_FILE_MAX >> 20));
	}
	t->body = b.data ? b.data : strdup("");
	t->body_len = b.len;
	return t->body ? 0 : error_set(err, ENOMEM, "out of memory");
}

static int set_headers(struct http_task *t, const struct options *opts, struct error *err)
{
	int n;
	char *const *h = options_list(opts, "header", &n);

	for (int i = 0; i < n; i++) {
		struct curl_slist *l;
		const char *colon = strchr(h[i], ':');

		if (!colon || colon == h[i])
			return error_set(err, EINVAL, "--header: '%s' is not 'Name: value'", h[i]);
		if (!(l = curl_slist_append(t->headers, h[i])))
			return error_set(err, ENOMEM, "out of memory");
		t->headers = l;
	}
	return 0;
}

static void configure(struct http_task *t, const struct options *opts)
{
	CURL *e = t->easy;
	const char *ca = options_str(opts, "cacert");

	curl_easy_setopt(e, CURLOPT_URL, t->url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(options_int(opts, "timeout") / 1000000));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	if (t->headers)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
	if (t->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->body_len);
	} else if (strcasecmp(t->method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	}
	if (ca)
		curl_easy_setopt(e, CURLOPT_CAINFO, ca);
	if (options_bool(opts, "insecure")) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

static void http_destroy(void *self)
{
	struct http_task *t = self;

	ev_timer_stop(t->loop, &t->retry_w);
	ev_timer_stop(t->loop, &t->every_w);
	if (t->m && t->in_flight)
		curl_ev_remove(t->m, t->easy);
	curl_ev_free(t->m);
	if (t->easy)
		curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	event_builder_free(t->eb);
	buffer_free(&t->resp_headers);
	buffer_free(&t->resp_body);
	free(t->body);
	free(t);
}

static void *http_create(struct runner_ctx *ctx, const struct options *opts, struct error *err)
{
	struct http_task *t;
	const char *body = options_str(opts, "body");

	if (options_int(opts, "retries") < 0 || options_int(opts, "timeout") <= 0 ||
	    options_int(opts, "every") < 0 || options_int(opts, "max-body") < 0) {
		error_set(err, EINVAL,
			  "--retries, --every and --max-body must be >= 0, --timeout > 0");
		return NULL;
	}
	if (!(t = calloc(1, sizeof(*t)))) {
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	t->ctx = ctx;
	t->loop = runner_loop(ctx);
	t->url = options_str(opts, "url");
	t->method = options_str(opts, "method");
	t->retries = (int)options_int(opts, "retries");
	t->every_ns = options_int(opts, "every");
	t->max_body = (size_t)options_int(opts, "max-body");
	ev_init(&t->retry_w, on_retry);
	ev_init(&t->every_w, on_every);
	t->retry_w.data = t->every_w.data = t;
	if ((body && read_body(t, body, err) < 0) || set_headers(t, opts, err) < 0) {
		http_destroy(t);
		return NULL;
	}
	t->eb = event_builder_new();
	t->easy = curl_easy_init();
	if (!t->eb || !t->easy || !(t->m = curl_ev_new(t->loop, err))) {
		if (!err->code)
			error_set(err, ENOMEM, "out of memory");
		http_destroy(t);
		return NULL;
	}
	configure(t, opts);
	return t;
}

static int http_start(void *self, struct error *err)
{
	struct http_task *t = self;
	double every = (double)t->every_ns / 1e9;

	(void)err;
	if (t->every_ns > 0) {
		ev_timer_set(&t->every_w, 0., every);
		ev_timer_start(t->loop, &t->every_w);
	} else {
		t->requests++;
		send_request(t);
	}
	return 0;
}

static void http_stop(void *self)
{
	struct http_task *t = self;

	t->stopping = true;
	ev_timer_stop(t->loop, &t->every_w);
	ev_timer_stop(t->loop, &t->retry_w);
	/* A request in flight ends on its own (--timeout bounds it) and finishes the runner. */
	if (!t->in_flight)
		runner_finished(t->ctx, RUNNER_CANCELED);
}

static void http_metrics(void *self, struct metrics_writer *w)
{
	struct http_task *t = self;

	metrics_add(w, METRIC_COUNTER, "collector_http_requests_total",
		    "requests made (not retries)", (double)t->requests);
	metrics_add(w, METRIC_COUNTER, "collector_http_failures_total",
		    "requests that ended in an error, a timeout or a status >= 400",
		    (double)t->failures);
	metrics_add(w, METRIC_COUNTER, "collector_http_probes_skipped_total",
		    "probe ticks skipped because the last request was still running",
		    (double)t->skipped);
}

const struct runner_ops http_task_runner_ops = {
	.name = "http",
	.summary = "makes an HTTP request (or one every D): status, headers, body, timing as "
		   "events",
	.options = http_options,
	.create = http_create,
	.start = http_start,
	.stop = http_stop,
	.destroy = http_destroy,
	.metrics = http_metrics,
};
