/* A text/event-stream splitter: bytes in, one callback per dispatched server-sent event. */
#ifndef COLLECTOR_RUNNERS_SSE_H
#define COLLECTOR_RUNNERS_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include <collector/buffer.h>

/* One event, as the HTML standard's parsing rules dispatch it. */
struct sse_message {
	const char *event; /* "message" when the stream named none */
	const char *data;  /* the data lines joined with \n */
	size_t data_len;
	bool data_truncated; /* longer than the bound: cut */
	const char *id;	     /* NULL when the event had no id field */
	long long retry_ms;  /* -1 when absent */
};

typedef void (*sse_message_fn)(void *arg, const struct sse_message *m);

struct sse_parser {
	struct buffer line;  /* the current line, without its end */
	struct buffer data;  /* data lines so far */
	struct buffer event; /* event type, NUL-terminated when set */
	struct buffer id;
	bool has_id;
	bool data_truncated;
	bool after_cr; /* a \r ended the last line: a following \n belongs to it */
	bool line_too_long;
	long long retry_ms;
	size_t max_data;
	sse_message_fn on_message;
	void *arg;
};

/* Start a parser; @p max_data bounds one event's data (and a line). */
void sse_parser_init(struct sse_parser *p, size_t max_data, sse_message_fn on_message, void *arg);
/* Feed stream bytes in any split. @return 0, or -ENOMEM. */
int sse_parser_feed(struct sse_parser *p, const char *bytes, size_t len);
void sse_parser_free(struct sse_parser *p);

#endif
