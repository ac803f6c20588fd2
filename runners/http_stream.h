/* HTTP/1.x reconstruction of one connection's two byte streams (http_parser), with redaction and SSE. */
#ifndef COLLECTOR_RUNNERS_HTTP_STREAM_H
#define COLLECTOR_RUNNERS_HTTP_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "sse.h"

#define HTTP_MAX_HEADERS 64

struct http_header {
	const char *name;
	const char *value; /* "[REDACTED]" when its name is on the redaction list */
	bool redacted;
};

/* A request or a response, complete (or, for an event stream, its head). */
struct http_message {
	bool request;
	const char *method; /* requests; for a response, its request's (NULL if unknown) */
	const char *path;   /* requests; for a response, its request's (NULL if unknown); listed
			       query parameters' values are "[REDACTED]" */
	int status;	    /* responses */
	const char *reason; /* responses */
	unsigned version_major, version_minor;
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t header_count;
	bool headers_truncated; /* more headers than HTTP_MAX_HEADERS */
	const char *body;	/* the first max_body bytes, de-chunked (a urlencoded form's
				   listed fields "[REDACTED]") */
	size_t body_len;
	unsigned long long body_size; /* all body bytes */
	bool body_truncated;	      /* body is not all of it (cut, or decoded only in part) */
	const char *decoded_from;     /* the Content-Encoding body was decoded from, or NULL */
	bool decode_failed;	      /* the body was not valid in its Content-Encoding: as sent */
	bool chunked;
	bool event_stream;	/* text/event-stream: the body follows as SSE messages */
	long long ts_ns;	/* when its first byte was seen */
	long long latency_ns;	/* responses: from the end of its request; -1 if unknown */
	unsigned long long seq; /* requests: 1, 2, ... per connection; responses: their request's */
};

struct http_stream_config {
	size_t max_body;	   /* body bytes kept per message */
	const char *const *redact; /* header names (any case) whose values are hidden */
	size_t redact_count;
	/* Query parameters (and form fields of urlencoded request bodies) whose values are hidden. */
	const char *const *redact_params;
	size_t redact_param_count;
	bool sse; /* split text/event-stream bodies into messages */
};

struct http_stream_callbacks {
	void (*on_message)(void *arg, const struct http_message *m);
	void (*on_sse)(void *arg, const struct sse_message *m, long long ts_ns,
		       unsigned long long seq);
};

struct http_stream;

/* A connection's analyzer. @return NULL when out of memory. */
struct http_stream *http_stream_new(const struct http_stream_config *cfg,
				    const struct http_stream_callbacks *cb, void *arg);
void http_stream_free(struct http_stream *s);

/* Whether @p bytes start like an HTTP/1.x request or response line. */
bool http_looks_like(const char *bytes, size_t len);

/*
 * Feed bytes of one direction (0 = written by the traced process, 1 = read), seen at @p ts_ns.
 * Either direction may carry requests (a client) or responses (a server).
 * @return 0, or -1 when the direction is not (or no longer) HTTP: its bytes are ignored from then on.
 */
int http_stream_feed(struct http_stream *s, int direction, long long ts_ns, const char *bytes,
		     size_t len);

/* The connection closed: a body that runs to the end of the stream is complete. */
void http_stream_finish(struct http_stream *s);

/* Why a direction stopped (an http_parser error name), or NULL. */
const char *http_stream_error(const struct http_stream *s, int direction);

#endif
