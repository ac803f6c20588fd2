/* The http sink: events POSTed in batches (NDJSON or a JSON array) to a webhook, per-type paths. */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include <collector/buffer.h>
#include <collector/event_encoder.h>
#include <collector/sink.h>

#include "http_client.h"

/* Most destinations one sink feeds: the URL's path and its path.TYPE options. */
#define HTTP_TARGETS_MAX 16

/* Events waiting for one URL, and the request that carries a batch. */
struct http_target {
	char *type_glob; /* NULL: the default target (the URL's own path) */
	char *url;
	struct buffer batch;
	uint64_t events; /* in batch */
};

struct http_post {
	struct http_sink *s;
	struct http_target *t;
	uint64_t events;
};

struct http_sink {
	struct sink_ctx *ctx;
	struct http_client *client;
	struct event_encoder *enc;
	struct curl_slist *headers;
	struct http_target targets[HTTP_TARGETS_MAX];
	int ntargets;
	struct http_retry retry;
	bool array;
	size_t batch_bytes;
	uint64_t batch_events;
	int64_t max_requests;
	int64_t flush_timeout_ms;
	uint64_t delivered, failed, requests, retries;
	bool want_ready;
	bool ending;
};

static const struct option_spec http_options[] = {
	{ .name = "url",
	  .type = OPT_STRING,
	  .required = true,
	  .help = "http(s)://HOST:PORT/PATH the batches are POSTed to" },
	{ .name = "format",
	  .type = OPT_ENUM,
	  .choices = "ndjson|array",
	  .def = "ndjson",
	  .help = "body: one JSON event per line, or one JSON array of events" },
	{ .name = "header",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "'NAME: VALUE' sent with every request (repeatable; never logged)" },
	{ .name = "path.",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "path.TYPE=/PATH: events of TYPE (a glob) go to /PATH on the same host" },
	{ .name = "batch-events",
	  .type = OPT_INT,
	  .def = "1000",
	  .help = "most events in one request" },
	{ .name = "batch-bytes",
	  .type = OPT_SIZE,
	  .def = "1MiB",
	  .help = "a request is sent once its body reaches this size" },
	{ .name = "max-requests",
	  .type = OPT_INT,
	  .def = "4",
	  .help = "requests in flight at once (more events wait in the queue)" },
	{ .name = "timeout", .type = OPT_DURATION, .def = "10s", .help = "one request's timeout" },
	HTTP_CLIENT_OPTIONS,
	{ 0 },
};

/* The base URL with its path replaced by @p path, through libcurl's URL API. */
static char *url_with_path(const char *base, const char *path, struct error *err)
{
	CURLU *u = curl_url();
	char *out = NULL, *copy = NULL;

	if (!u) {
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
		error_set(err, EINVAL, "url '%s': expected http(s)://HOST:PORT/PATH", base);
	else if (path && curl_url_set(u, CURLUPART_PATH, path, 0) != CURLUE_OK)
		error_set(err, EINVAL, "path '%s': not a URL path", path);
	else if (curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
		error_set(err, EINVAL, "url '%s': cannot be rebuilt", base);
	curl_url_cleanup(u);
	if (out) {
		copy = strdup(out);
		curl_free(out);
		if (!copy)
			error_set(err, ENOMEM, "out of memory");
	}
	return copy;
}

static int check_scheme(const char *url, struct error *err)
{
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return error_set(err, EINVAL,
				 "url '%s': expected http://HOST:PORT/PATH or https://", url);
	return 0;
}

static int add_target(struct http_sink *s, const char *glob, const char *base, const char *path,
		      struct error *err)
{
	struct http_target *t;

	if (s->ntargets == HTTP_TARGETS_MAX)
		return error_set(err, EINVAL, "more than %d path.TYPE options",
				 HTTP_TARGETS_MAX - 1);
	t = &s->targets[s->ntargets];
	if (!(t->url = url_with_path(base, path, err)))
		return -EINVAL;
	if (glob && !(t->type_glob = strdup(glob))) {
		free(t->url);
		return error_set(err, ENOMEM, "out of memory");
	}
	s->ntargets++;
	return 0;
}

/* path.TYPE=/PATH options, in order; the first matching glob wins, the URL's path last. */
static int add_targets(struct http_sink *s, const struct options *opts, struct error *err)
{
	const char *url = options_str(opts, "url");
	int n;
	char *const *paths = options_list(opts, "path.", &n);

	if (check_scheme(url, err) < 0)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		char *eq = strchr(paths[i], '='), *glob;
		int rc;

		if (!eq || eq == paths[i] || eq[1] != '/')
			return error_set(err, EINVAL, "path.%s: expected path.TYPE=/PATH",
					 paths[i]);
		if (!(glob = strndup(paths[i], (size_t)(eq - paths[i]))))
			return error_set(err, ENOMEM, "out of memory");
		rc = add_target(s, glob, url, eq + 1, err);
		free(glob);
		if (rc < 0)
			return rc;
	}
	return add_target(s, NULL, url, NULL, err);
}

static int add_headers(struct http_sink *s, const struct options *opts, struct error *err)
{
	char *const *hs = options_list(opts, "header", NULL);
	struct curl_slist *l;

	/* No "Expect: 100-continue" round trip before a large body. */
	l = curl_slist_append(NULL, "Expect:");
	if (l)
		s->headers = l;
	l = l ? curl_slist_append(s->headers, s->array ? "Content-Type: application/json" :
							 "Content-Type: application/x-ndjson") :
		NULL;
	for (; l && hs && *hs; hs++) {
		/* The value may be a secret: the message names the header, never its value. */
		if (!strchr(*hs, ':'))
			return error_set(err, EINVAL, "header option %d: expected 'NAME: VALUE'",
					 (int)(hs - options_list(opts, "header", NULL)) + 1);
		l = curl_slist_append(s->headers, *hs);
	}
	if (!l)
		return error_set(err, ENOMEM, "out of memory");
	return 0;
}

static void http_free(struct http_sink *s)
{
	http_client_free(s->client);
	for (int i = 0; i < s->ntargets; i++) {
		free(s->targets[i].type_glob);
		free(s->targets[i].url);
		buffer_free(&s->targets[i].batch);
	}
	curl_slist_free_all(s->headers);
	event_encoder_free(s->enc);
	free(s);
}

static void *http_create(struct sink_ctx *ctx, const struct options *opts, struct error *err)
{
	struct http_sink *s = calloc(1, sizeof(*s));
	struct http_tls tls = http_tls_from_options(opts);

	if (!s) {
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	s->ctx = ctx;
	s->array = strcmp(options_str(opts, "format"), "array") == 0;
	s->batch_bytes = (size_t)options_int(opts, "batch-bytes");
	s->batch_events = (uint64_t)options_int(opts, "batch-events");
	s->max_requests = options_int(opts, "max-requests");
	s->flush_timeout_ms = options_int(opts, "flush-timeout") / 1000000;
	s->retry = (struct http_retry){
		.base_ms = options_int(opts, "retry-base") / 1000000,
		.cap_ms = options_int(opts, "retry-cap") / 1000000,
		.budget_ms = options_int(opts, "retry-for") / 1000000,
		.timeout_ms = options_int(opts, "timeout") / 1000000,
		.retry_all_5xx = true,
	};
	if (s->max_requests < 1 || s->batch_events < 1) {
		error_set(err, EINVAL, "max-requests and batch-events must be at least 1");
		goto fail;
	}
	if (add_targets(s, opts, err) < 0 || add_headers(s, opts, err) < 0)
		goto fail;
	if (!(s->enc = event_encoder_new())) {
		error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	if (!(s->client = http_client_new(sink_loop(ctx), &tls, err)))
		goto fail;
	/* Delivered means the server answered 2xx for the request that carried the event. */
	sink_reports_deliveries(ctx);
	return s;
fail:
	http_free(s);
	return NULL;
}

static void on_posted(void *arg, const struct http_result *res)
{
	struct http_post *p = arg;
	struct http_sink *s = p->s;

	s->retries += (uint64_t)(res->attempts - 1);
	if (res->status >= 200 && res->status <= 299) {
		s->delivered += p->events;
		sink_delivery_report(s->ctx, p->events, 0);
	} else {
		s->failed += p->events;
		/* The URL and status, never the headers: they may carry a token. */
		if (res->error)
			sink_report_error(s->ctx,
					  "POST %s: %s after %d attempts: %" PRIu64 " events lost",
					  p->t->url, res->error, res->attempts, p->events);
		else
			sink_report_error(s->ctx,
					  "POST %s: HTTP %ld after %d attempts%s%.*s: %" PRIu64
					  " events lost",
					  p->t->url, res->status, res->attempts,
					  res->body_len ? ": " : "",
					  (int)(res->body_len < 200 ? res->body_len : 200),
					  res->body ? res->body : "", p->events);
		sink_delivery_report(s->ctx, 0, p->events);
	}
	free(p);
	if (s->want_ready && !s->ending &&
	    http_client_pending(s->client) < (size_t)s->max_requests) {
		s->want_ready = false;
		sink_ready(s->ctx);
	}
}

/* Send the batch of @p t as one request; the body moves to the client. */
static int post_batch(struct http_sink *s, struct http_target *t)
{
	struct http_post *p;
	int rc;

	if (!t->events)
		return 0;
	if (http_client_pending(s->client) >= (size_t)s->max_requests) {
		s->want_ready = true;
		return -EAGAIN;
	}
	if ((s->array && event_encoder_end_array(&t->batch) < 0) || !(p = malloc(sizeof(*p))))
		return -ENOMEM;
	*p = (struct http_post){ .s = s, .t = t, .events = t->events };
	rc = http_client_post(s->client, t->url, s->headers, t->batch.data, t->batch.len, &s->retry,
			      on_posted, p);
	t->batch = (struct buffer){ 0 };
	t->events = 0;
	s->requests++;
	if (rc < 0) {
		/* Taken events that cannot be sent: failed, not silently gone. */
		s->failed += p->events;
		sink_delivery_report(s->ctx, 0, p->events);
		sink_report_error(s->ctx, "POST %s: %s", t->url, strerror(-rc));
		free(p);
	}
	return 0;
}

static struct http_target *target_of(struct http_sink *s, const struct event *ev)
{
	char type[EVENT_TYPE_MAX + 1];

	if (s->ntargets == 1)
		return &s->targets[0];
	snprintf(type, sizeof(type), "%.*s", (int)ev->type.len, ev->type.ptr);
	for (int i = 0; i < s->ntargets - 1; i++)
		if (fnmatch(s->targets[i].type_glob, type, 0) == 0)
			return &s->targets[i];
	return &s->targets[s->ntargets - 1];
}

static int http_write(void *self, const struct event *ev)
{
	struct http_sink *s = self;
	struct http_target *t = target_of(s, ev);
	int rc;

	if ((t->events >= s->batch_events || t->batch.len >= s->batch_bytes) &&
	    (rc = post_batch(s, t)) < 0)
		return rc;
	rc = s->array ? event_encoder_write_element(s->enc, ev, &t->batch) :
			event_encoder_write(s->enc, ev, &t->batch);
	if (rc == 0)
		t->events++;
	return rc;
}

static int http_flush(void *self)
{
	struct http_sink *s = self;

	for (int i = 0; i < s->ntargets; i++) {
		int rc = post_batch(s, &s->targets[i]);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static void http_destroy(void *self)
{
	struct http_sink *s = self;
	s->ending = true;
	/* What the last flush could not post (too many in flight) goes now. */
	for (int i = 0; i < s->ntargets; i++) {
		s->max_requests = INT64_MAX;
		post_batch(s, &s->targets[i]);
	}
	http_client_finish(s->client, s->flush_timeout_ms, s->ctx);
	if (s->failed)
		sink_report_error(s->ctx, "%" PRIu64 " delivered, %" PRIu64 " failed", s->delivered,
				  s->failed);
	http_free(s);
}

static void http_metrics(void *self, struct metrics_writer *w)
{
	struct http_sink *s = self;

	metrics_add(w, METRIC_GAUGE, "collector_sink_http_requests_in_flight",
		    "http: requests sent or waiting for a retry",
		    (double)http_client_pending(s->client));
	metrics_add(w, METRIC_COUNTER, "collector_sink_http_requests_total", "http: batches posted",
		    (double)s->requests);
	metrics_add(w, METRIC_COUNTER, "collector_sink_http_retries_total",
		    "http: attempts beyond the first (5xx, 429, transport errors)",
		    (double)s->retries);
	metrics_add(w, METRIC_COUNTER, "collector_sink_http_failed_total",
		    "http: events whose request failed for good", (double)s->failed);
}

const struct sink_ops http_sink_ops = {
	.name = "http",
	.summary = "POSTs batches of events (NDJSON or a JSON array) to http(s)://HOST:PORT/PATH",
	.options = http_options,
	.spec_option = "url",
	.create = http_create,
	.write = http_write,
	.flush = http_flush,
	.destroy = http_destroy,
	.metrics = http_metrics,
};
