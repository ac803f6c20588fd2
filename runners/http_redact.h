/* Hides secrets in HTTP text: listed header values and query or form parameters, also in raw bytes. */
#ifndef COLLECTOR_RUNNERS_HTTP_REDACT_H
#define COLLECTOR_RUNNERS_HTTP_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include <collector/buffer.h>

#define HTTP_REDACTED "[REDACTED]"

/* What is hidden: names compared without regard to case. */
struct http_redact {
	const char *const *headers; /* "Authorization": the value after "Authorization:" */
	size_t header_count;
	const char *const *params; /* "access_token": the value after "access_token=" */
	size_t param_count;
};

/* The usual secrets: credentials and cookies in headers, tokens and passwords in parameters. */
extern const struct http_redact http_redact_default;

/* Where a stream of bytes stopped, so a value cut between two calls stays hidden. */
struct http_redact_state {
	bool mid_line;	/* the last byte seen was not a line end */
	bool in_secret; /* inside a hidden value that had not ended */
};

/*
 * Append @p in (@p n bytes) to @p out with every listed header's value (a
 * line "NAME: value") and every listed parameter's value ("NAME=value" at a
 * line's start or after '?', '&' or ';', up to '&', '#', ';', white space or a
 * line end) replaced by HTTP_REDACTED. @p st carries a stream's position from
 * one call to the next; a zeroed one starts a stream.
 * @return the number of values hidden, or -1 when out of memory.
 */
int http_redact_bytes(const struct http_redact *r, struct http_redact_state *st, const char *in,
		      size_t n, struct buffer *out);

#endif
