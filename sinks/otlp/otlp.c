/* The otlp sink: events as OTLP/HTTP log records (and http exchanges as spans), protobuf or JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include <collector/buffer.h>
#include <collector/sink.h>

#include "../http_client.h"
#include "encode.h"
#include "mapping.h"

#define OTLP_DEFAULT_ENDPOINT "http://localhost:4318"

struct otlp_sink {
	struct sink_ctx *ctx;
	struct http_client *client;
	struct curl_slist *headers;
	struct otlp_resource resource;
	struct otlp_batch batch;
	struct buffer body, gz;
	struct http_retry retry;
	char *logs_url, *traces_url;
	bool json, gzip, spans;
	uint64_t batch_events;
	int64_t max_requests;
	int64_t flush_timeout_ms;
	uint64_t delivered, failed, rejected, requests, retries, spans_sent, spans_failed;
	bool want_ready;
	bool ending;
};

/* What one request carries, for its completion. */
struct otlp_post {
	struct otlp_sink *s;
	uint64_t events; /* log records: settled through delivery reports */
	bool spans;
};

static const struct option_spec otlp_options[] = {
	{ .name = "url",
	  .type = OPT_STRING,
	  .help = "otlp://HOST:4318 or otlp+http(s)://HOST:PORT/v1/logs (default "
		  "OTEL_EXPORTER_OTLP_[LOGS_]ENDPOINT, else http://localhost:4318)" },
	{ .name = "encoding",
	  .type = OPT_ENUM,
	  .choices = "protobuf|json",
	  .help = "body encoding (default OTEL_EXPORTER_OTLP_[LOGS_]PROTOCOL, else protobuf)" },
	{ .name = "compression",
	  .type = OPT_ENUM,
	  .choices = "none|gzip",
	  .help = "body compression (default OTEL_EXPORTER_OTLP_[LOGS_]COMPRESSION, else none)" },
	{ .name = "header",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "'NAME: VALUE' sent with every request, after OTEL_EXPORTER_OTLP_[LOGS_]HEADERS "
		  "(never logged)" },
	{ .name = "service-name",
	  .type = OPT_STRING,
	  .help = "resource service.name (default OTEL_SERVICE_NAME, else collector)" },
	{ .name = "spans",
	  .type = OPT_ENUM,
	  .choices = "on|off",
	  .def = "on",
	  .help = "also send each http.response as a span to /v1/traces" },
	{ .name = "batch-events",
	  .type = OPT_INT,
	  .def = "2000",
	  .help = "most records in one request" },
	{ .name = "max-requests",
	  .type = OPT_INT,
	  .def = "4",
	  .help = "log requests in flight at once (more events wait in the queue)" },
	{ .name = "timeout",
	  .type = OPT_DURATION,
	  .help = "one request's timeout (default OTEL_EXPORTER_OTLP_[LOGS_]TIMEOUT ms, else "
		  "10s)" },
	HTTP_CLIENT_OPTIONS,
	{ 0 },
};

/* OTEL_EXPORTER_OTLP_LOGS_NAME, else OTEL_EXPORTER_OTLP_NAME: the signal's own wins. */
static const char *otel_env(const char *name)
{
	char var[96];
	const char *v;

	snprintf(var, sizeof(var), "OTEL_EXPORTER_OTLP_LOGS_%s", name);
	if ((v = getenv(var)) && *v)
		return v;
	snprintf(var, sizeof(var), "OTEL_EXPORTER_OTLP_%s", name);
	return (v = getenv(var)) && *v ? v : NULL;
}

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a);
	char *s;

	while (la && a[la - 1] == '/')
		la--;
	return asprintf(&s, "%.*s%s", (int)la, a, b) < 0 ? NULL : s;
}

/*
 * The logs and traces URLs. otlp://HOST:PORT is http://HOST:PORT/v1/logs;
 * otlp+http(s)://... is used as written for logs, its /v1/logs becoming
 * /v1/traces; OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is the logs URL as written,
 * OTEL_EXPORTER_OTLP_ENDPOINT a base to which /v1/logs is added.
 */
static int endpoints(struct otlp_sink *s, const char *url, struct error *err)
{
	const char *logs_env = getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
	const char *base_env = getenv("OTEL_EXPORTER_OTLP_ENDPOINT");
	char *base = NULL;

	if (url && strncmp(url, "otlp://", 7) == 0) {
		if (asprintf(&base, "http://%s", url + 7) < 0)
			base = NULL;
		s->logs_url = base ? join(base, "/v1/logs") : NULL;
	} else if (url && strncmp(url, "otlp+", 5) == 0 &&
		   (!strncmp(url + 5, "http://", 7) || !strncmp(url + 5, "https://", 8))) {
		s->logs_url = strdup(url + 5);
	} else if (url) {
		return error_set(err, EINVAL,
				 "url '%s': expected otlp://HOST:PORT or "
				 "otlp+http://HOST:PORT/v1/logs",
				 url);
	} else if (logs_env && *logs_env) {
		s->logs_url = strdup(logs_env);
	} else {
		s->logs_url = join(base_env && *base_env ? base_env : OTLP_DEFAULT_ENDPOINT, "/v1/"
											     "log"
											     "s");
	}
	free(base);
	if (!s->logs_url)
		return error_set(err, ENOMEM, "out of memory");
	if (strncmp(s->logs_url, "http://", 7) != 0 && strncmp(s->logs_url, "https://", 8) != 0)
		return error_set(err, EINVAL, "OTLP endpoint '%s': expected http:// or https://",
				 s->logs_url);
	/* The traces URL: the logs URL's /v1/logs as /v1/traces, else /v1/traces added. */
	size_t n = strlen(s->logs_url);
	if (n >= 8 && strcmp(s->logs_url + n - 8, "/v1/logs") == 0) {
		if (asprintf(&s->traces_url, "%.*s/v1/traces", (int)(n - 8), s->logs_url) < 0)
			s->traces_url = NULL;
	} else {
		s->traces_url = join(s->logs_url, "/v1/traces");
	}
	return s->traces_url ? 0 : error_set(err, ENOMEM, "out of memory");
}

/* OTEL_EXPORTER_OTLP_HEADERS: "k1=v1,k2=v2", values percent-encoded (W3C baggage style). */
static int env_headers(struct otlp_sink *s, struct error *err)
{
	const char *env = otel_env("HEADERS");
	char *copy, *save = NULL;
	int rc = 0;

	if (!env)
		return 0;
	if (!(copy = strdup(env)))
		return error_set(err, ENOMEM, "out of memory");
	for (char *kv = strtok_r(copy, ",", &save); kv && !rc; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '='), *value, *line = NULL;
		struct curl_slist *l = NULL;

		while (*kv == ' ')
			kv++;
		if (!eq || eq == kv) {
			rc = error_set(err, EINVAL,
				       "OTEL_EXPORTER_OTLP_HEADERS: expected NAME=VALUE,... (an "
				       "entry "
				       "has no '=')");
			break;
		}
		*eq = '\0';
		value = curl_easy_unescape(NULL, eq + 1, 0, NULL);
		if (value && asprintf(&line, "%s: %s", kv, value) >= 0)
			l = curl_slist_append(s->headers, line);
		curl_free(value);
		free(line);
		if (!l)
			rc = error_set(err, ENOMEM, "out of memory");
		else
			s->headers = l;
	}
	free(copy);
	return rc;
}

static int add_header(struct otlp_sink *s, const char *h, struct error *err)
{
	struct curl_slist *l = curl_slist_append(s->headers, h);

	if (!l)
		return error_set(err, ENOMEM, "out of memory");
	s->headers = l;
	return 0;
}

static int headers(struct otlp_sink *s, const struct options *opts, struct error *err)
{
	char *const *hs = options_list(opts, "header", NULL);

	if (add_header(s, "Expect:", err) < 0 ||
	    add_header(s,
		       s->json ? "Content-Type: application/json" :
				 "Content-Type: application/x-protobuf",
		       err) < 0 ||
	    (s->gzip && add_header(s, "Content-Encoding: gzip", err) < 0) ||
	    env_headers(s, err) < 0)
		return -EINVAL;
	for (; hs && *hs; hs++) {
		/* The value may be a secret: the message never shows it. */
		if (!strchr(*hs, ':'))
			return error_set(err, EINVAL,
					 "a header option lacks ':' (expected 'NAME: VALUE')");
		if (add_header(s, *hs, err) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* encoding and compression: the option, else the environment, else the spec's defaults. */
static int wire_format(struct otlp_sink *s, const struct options *opts, struct error *err)
{
	const char *enc = options_str(opts, "encoding"), *proto = otel_env("PROTOCOL");
	const char *comp = options_str(opts, "compression"), *env_comp = otel_env("COMPRESSION");
	const char *tmo = otel_env("TIMEOUT");

	if (enc) {
		s->json = strcmp(enc, "json") == 0;
	} else if (proto) {
		if (strcmp(proto, "http/json") != 0 && strcmp(proto, "http/protobuf") != 0)
			return error_set(err, EINVAL,
					 "OTEL_EXPORTER_OTLP_PROTOCOL '%s': the otlp sink speaks "
					 "http/protobuf or http/json (not gRPC)",
					 proto);
		s->json = strcmp(proto, "http/json") == 0;
	}
	if (comp)
		s->gzip = strcmp(comp, "gzip") == 0;
	else if (env_comp)
		s->gzip = strcmp(env_comp, "gzip") == 0;
	s->retry.timeout_ms = 10000;
	if (options_given(opts, "timeout"))
		s->retry.timeout_ms = options_int(opts, "timeout") / 1000000;
	else if (tmo && (s->retry.timeout_ms = strtoll(tmo, NULL, 10)) <= 0)
		return error_set(err, EINVAL,
				 "OTEL_EXPORTER_OTLP_TIMEOUT '%s': expected milliseconds", tmo);
	return 0;
}

static void otlp_free(struct otlp_sink *s)
{
	http_client_free(s->client);
	curl_slist_free_all(s->headers);
	otlp_batch_free(&s->batch);
	buffer_free(&s->body);
	buffer_free(&s->gz);
	free(s->logs_url);
	free(s->traces_url);
	free(s);
}

static void *otlp_create(struct sink_ctx *ctx, const struct options *opts, struct error *err)
{
	struct otlp_sink *s = calloc(1, sizeof(*s));
	const char *service = options_str(opts, "service-name");
	const char *env_service = getenv("OTEL_SERVICE_NAME");
	struct http_tls tls = http_tls_from_options(opts);

	if (!s) {
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	s->ctx = ctx;
	s->spans = strcmp(options_str(opts, "spans"), "on") == 0;
	s->batch_events = (uint64_t)options_int(opts, "batch-events");
	s->max_requests = options_int(opts, "max-requests");
	s->flush_timeout_ms = options_int(opts, "flush-timeout") / 1000000;
	s->retry.base_ms = options_int(opts, "retry-base") / 1000000;
	s->retry.cap_ms = options_int(opts, "retry-cap") / 1000000;
	s->retry.budget_ms = options_int(opts, "retry-for") / 1000000;
	if (!service)
		service = env_service && *env_service ? env_service : "collector";
	otlp_resource_init(&s->resource, service);
	otlp_batch_reset(&s->batch);
	if (s->max_requests < 1 || s->batch_events < 1) {
		error_set(err, EINVAL, "max-requests and batch-events must be at least 1");
		goto fail;
	}
	if (endpoints(s, options_str(opts, "url"), err) < 0 || wire_format(s, opts, err) < 0 ||
	    headers(s, opts, err) < 0)
		goto fail;
	if (!(s->client = http_client_new(sink_loop(ctx), &tls, err)))
		goto fail;
	/* Delivered means the receiver accepted the record (2xx, not rejected as partial success). */
	sink_reports_deliveries(ctx);
	return s;
fail:
	otlp_free(s);
	return NULL;
}

static void wake(struct otlp_sink *s)
{
	if (s->want_ready && !s->ending &&
	    http_client_pending(s->client) < (size_t)s->max_requests) {
		s->want_ready = false;
		sink_ready(s->ctx);
	}
}

static void on_posted(void *arg, const struct http_result *res)
{
	struct otlp_post *p = arg;
	struct otlp_sink *s = p->s;
	const char *what = p->spans ? "spans" : "logs";
	uint64_t rejected = 0;
	char msg[256];

	s->retries += (uint64_t)(res->attempts - 1);
	if (res->status >= 200 && res->status <= 299) {
		int64_t r = otlp_rejected(res->body, res->body_len, p->spans, s->json, msg,
					  sizeof(msg));

		/* Partial success: the rejected ones are lost, and sending them again would not help. */
		rejected = r < 0 ? 0 : (uint64_t)r > p->events ? p->events : (uint64_t)r;
		if (r > 0)
			sink_report_error(s->ctx,
					  "%s: the receiver rejected %" PRId64 " of %" PRIu64 ": "
					  "%s",
					  what, r, p->events, msg[0] ? msg : "(no message)");
	} else if (res->error) {
		rejected = p->events;
		sink_report_error(s->ctx, "%s: POST %s: %s after %d attempts: %" PRIu64 " lost",
				  what, p->spans ? s->traces_url : s->logs_url, res->error,
				  res->attempts, p->events);
	} else {
		rejected = p->events;
		sink_report_error(s->ctx,
				  "%s: POST %s: HTTP %ld after %d attempts: %" PRIu64 " lost", what,
				  p->spans ? s->traces_url : s->logs_url, res->status,
				  res->attempts, p->events);
	}
	if (p->spans) {
		s->spans_sent += p->events - rejected;
		s->spans_failed += rejected;
	} else {
		s->delivered += p->events - rejected;
		s->failed += rejected;
		s->rejected += rejected;
		sink_delivery_report(s->ctx, p->events - rejected, rejected);
	}
	free(p);
	wake(s);
}

/* Encode what the batch holds of one signal and hand it to the client. */
static int post(struct otlp_sink *s, bool spans, uint64_t n)
{
	struct buffer *src = &s->body;
	struct otlp_post *p;
	size_t len;
	char *body;
	int rc;

	s->body.len = 0;
	if ((rc = otlp_encode(&s->resource, &s->batch, spans, s->json, &s->body)) < 0 ||
	    (s->gzip && (rc = otlp_gzip(s->body.data, s->body.len, src = &s->gz)) < 0))
		return rc;
	if (!(p = malloc(sizeof(*p))))
		return -ENOMEM;
	*p = (struct otlp_post){ .s = s, .events = n, .spans = spans };
	/* The encoded body moves to the client, which owns it from here, also when it fails. */
	body = src->data;
	len = src->len;
	*src = (struct buffer){ 0 };
	s->requests++;
	rc = http_client_post(s->client, spans ? s->traces_url : s->logs_url, s->headers, body, len,
			      &s->retry, on_posted, p);
	if (rc < 0)
		free(p);
	return rc;
}

static int post_batch(struct otlp_sink *s)
{
	uint64_t n = s->batch.nlogs;
	int rc;

	if (!n)
		return 0;
	if (http_client_pending(s->client) >= (size_t)s->max_requests) {
		s->want_ready = true;
		return -EAGAIN;
	}
	rc = post(s, false, n);
	if (rc < 0) {
		/* Taken and mapped, but no request carries them: failed, and said so. */
		s->failed += n;
		sink_delivery_report(s->ctx, 0, n);
		sink_report_error(s->ctx, "logs: cannot send %" PRIu64 " records: %s", n,
				  strerror(-rc));
	}
	if (s->spans && s->batch.nspans && post(s, true, s->batch.nspans) < 0) {
		s->spans_failed += s->batch.nspans;
		sink_report_error(s->ctx, "spans: cannot send %zu spans", s->batch.nspans);
	}
	otlp_batch_reset(&s->batch);
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int otlp_write(void *self, const struct event *ev)
{
	struct otlp_sink *s = self;
	int rc;

	if (s->batch.nlogs >= s->batch_events && (rc = post_batch(s)) < 0)
		return rc;
	return otlp_map_event(&s->batch, ev, now_ns());
}

static int otlp_flush(void *self)
{
	return post_batch(self);
}

static void otlp_destroy(void *self)
{
	struct otlp_sink *s = self;
	s->ending = true;
	s->max_requests = INT64_MAX;
	post_batch(s);
	http_client_finish(s->client, s->flush_timeout_ms, s->ctx);
	if (s->failed || s->spans_failed)
		sink_report_error(s->ctx,
				  "%" PRIu64 " records delivered, %" PRIu64 " failed (%" PRIu64
				  " rejected); %" PRIu64 " spans failed",
				  s->delivered, s->failed, s->rejected, s->spans_failed);
	otlp_free(s);
}

static void otlp_metrics(void *self, struct metrics_writer *w)
{
	struct otlp_sink *s = self;

	metrics_add(w, METRIC_GAUGE, "collector_sink_otlp_requests_in_flight",
		    "otlp: requests sent or waiting for a retry",
		    (double)http_client_pending(s->client));
	metrics_add(w, METRIC_COUNTER, "collector_sink_otlp_retries_total",
		    "otlp: attempts beyond the first (429, 502, 503, 504, transport errors)",
		    (double)s->retries);
	metrics_add(w, METRIC_COUNTER, "collector_sink_otlp_rejected_total",
		    "otlp: log records the receiver rejected (partial success)",
		    (double)s->rejected);
	metrics_add(w, METRIC_COUNTER, "collector_sink_otlp_spans_total",
		    "otlp: spans the receiver accepted", (double)s->spans_sent);
	metrics_add(w, METRIC_COUNTER, "collector_sink_otlp_spans_failed_total",
		    "otlp: spans lost (not counted as event loss: each is also a log record)",
		    (double)s->spans_failed);
}

const struct sink_ops otlp_sink_ops = {
	.name = "otlp",
	.summary = "exports events as OpenTelemetry logs (and http exchanges as spans) over "
		   "OTLP/HTTP",
	.options = otlp_options,
	.spec_option = "url",
	.create = otlp_create,
	.write = otlp_write,
	.flush = otlp_flush,
	.destroy = otlp_destroy,
	.metrics = otlp_metrics,
};
