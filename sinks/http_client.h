/*
 * One libcurl multi handle driven by a libev loop: POST requests with retries.
 *
 * The "multi socket" idiom of libcurl (curl_multi_socket_action) on ev_io and
 * ev_timer watchers: no thread, no polling. Each request is a POST of a body
 * the client owns, with headers the caller keeps alive until its completion
 * callback ran. A request that meets a passing transport error (refused, reset,
 * timed out; not a refused certificate) or a retryable status
 * is sent again after an exponential backoff (base, 2*base, 4*base, ... up to
 * a cap; a longer Retry-After wins) until its retry budget is spent; then the
 * callback gets the last outcome. Shared by the http and otlp sinks; nothing
 * in it knows about events.
 */
#ifndef SINKS_HTTP_CLIENT_H
#define SINKS_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include <collector/error.h>
#include <collector/options.h>

struct ev_loop;
/* The retry and TLS options of a sink that posts through this client, spliced into its table. */
#define HTTP_CLIENT_OPTIONS                                                                        \
	{ .name = "retry-base",                                                                    \
	  .type = OPT_DURATION,                                                                    \
	  .def = "100ms",                                                                          \
	  .help = "first retry backoff; doubled each time (100, 200, 400 ms ...)" },               \
		{ .name = "retry-cap",                                                             \
		  .type = OPT_DURATION,                                                            \
		  .def = "5s",                                                                     \
		  .help = "longest backoff" },                                                     \
		{ .name = "retry-for",                                                             \
		  .type = OPT_DURATION,                                                            \
		  .def = "60s",                                                                    \
		  .help = "give a batch up (counted as failed) after retrying it this long" },     \
		{ .name = "flush-timeout",                                                         \
		  .type = OPT_DURATION,                                                            \
		  .def = "10s",                                                                    \
		  .help = "at the end, how long to wait for requests in flight" },                 \
		{ .name = "ca",                                                                    \
		  .type = OPT_STRING,                                                              \
		  .help = "PEM file of the CAs to trust (https)" },                                \
		{ .name = "cert", .type = OPT_STRING, .help = "client certificate, PEM (https)" }, \
		{ .name = "key",                                                                   \
		  .type = OPT_STRING,                                                              \
		  .help = "client certificate's key, PEM (https)" },                               \
	{                                                                                          \
		.name = "insecure", .type = OPT_BOOL,                                              \
		.help = "do not verify the server's certificate (tests only)"                      \
	}

struct http_client;

/* TLS settings for every request of a client (libcurl's own options; NULL: the default). */
struct http_tls {
	const char *ca;	  /* CURLOPT_CAINFO: a PEM bundle of trusted CAs */
	const char *cert; /* CURLOPT_SSLCERT: client certificate (PEM) */
	const char *key;  /* CURLOPT_SSLKEY: its private key (PEM) */
	bool insecure;	  /* no peer or host name verification (tests only) */
};

/* When a request is sent again. */
/* The TLS options of HTTP_CLIENT_OPTIONS, as the client takes them (strings stay @p opts'). */
struct http_tls http_tls_from_options(const struct options *opts);

struct http_retry {
	int64_t base_ms;    /* first backoff: 100 gives 100, 200, 400, ... */
	int64_t cap_ms;	    /* longest backoff (a Retry-After may be longer, up to budget) */
	int64_t budget_ms;  /* give up once this long has passed since the first attempt */
	int64_t timeout_ms; /* one attempt, connect to last byte */
	bool retry_all_5xx; /* every 5xx, not only 502/503/504 (429 always) */
};

/* How a request ended, for its completion callback (valid during the call only). */
struct http_result {
	long status;	   /* the last HTTP status, 0 when no response came */
	const char *error; /* the transport error of the last attempt, NULL when a response came */
	const char *body;  /* the response body (at most HTTP_RESPONSE_MAX bytes) */
	size_t body_len;
	int attempts; /* how many times it was sent */
};

/* The response body kept for the callback, enough for an error or a partial-success message. */
#define HTTP_RESPONSE_MAX ((size_t)64 * 1024)

/* Called once per request, on the loop's thread, after its last attempt. */
typedef void (*http_done_fn)(void *arg, const struct http_result *res);

/*
 * A client on @p loop. @p tls is copied (its strings are borrowed and must
 * outlive the client). NULL with @p err filled when libcurl cannot start.
 */
struct http_client *http_client_new(struct ev_loop *loop, const struct http_tls *tls,
				    struct error *err);

/*
 * POST @p body (@p len bytes, malloc'd; the client owns it from now on, also
 * on failure) to @p url with @p headers (borrowed until @p done ran).
 * @p retry is copied. Returns 0, or a negative errno (@p done is not called).
 */
int http_client_post(struct http_client *c, const char *url, const struct curl_slist *headers,
		     char *body, size_t len, const struct http_retry *retry, http_done_fn done,
		     void *arg);

/* Requests not yet completed (sending, or waiting for their next attempt). */
size_t http_client_pending(const struct http_client *c);

struct sink_ctx;

/*
 * The end of a sink's life: run the loop until nothing is pending, @p timeout_ms
 * passed or a stop signal came (checked every 100 ms). Requests waiting for a
 * retry are sent at once. What is still pending is reported on @p ctx in one
 * line and returned.
 */
size_t http_client_finish(struct http_client *c, int64_t timeout_ms, struct sink_ctx *ctx);

/*
 * Free the client. Requests still pending are abandoned without their
 * callback: the caller counts them as it counted them pending.
 */
void http_client_free(struct http_client *c);

/* The backoff before attempt @p attempt + 1 (1-based attempts done), without Retry-After. */
int64_t http_backoff_ms(const struct http_retry *retry, int attempt);

#endif
