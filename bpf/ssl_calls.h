/* TLS calls put back together from their ring-buffer records, for the ssl loader and runner alike. */
#ifndef COLLECTOR_BPF_SSL_CALLS_H
#define COLLECTOR_BPF_SSL_CALLS_H

#include <stdbool.h>
#include <stddef.h>

#include "ssl.h"

/* Calls whose records are still arriving; normally one or two at a time. */
#define SSL_CALLS_SLOTS 64

/*
 * Gets each call in the order its last record came: @head is its first record's header
 * (kind, function, pid, ...), @data its @captured bytes in order (NULL and 0 for a
 * handshake or a close), @incomplete when records of it were lost. @return false to stop
 * the delivery (the record that completed the call is consumed either way).
 */
typedef bool (*ssl_calls_fn)(void *arg, const struct ssl_record *head, const void *data,
			     size_t captured, bool incomplete);

/* A call whose records are being put together. */
struct ssl_call_slot {
	bool used;
	struct ssl_record head; /* the header of its first record */
	unsigned have;		/* bytes received so far, in order */
	bool gap;		/* a record was lost on the way */
	unsigned char *data;	/* max_payload bytes, allocated at first use */
};

struct ssl_calls {
	size_t max_payload;
	ssl_calls_fn fn;
	void *arg;
	unsigned used;		       /* slots in use */
	unsigned long long incomplete; /* calls delivered with records missing */
	struct ssl_call_slot slots[SSL_CALLS_SLOTS];
};

/* Prepare @c: calls of up to @max_payload captured bytes go to @fn. */
void ssl_calls_init(struct ssl_calls *c, size_t max_payload, ssl_calls_fn fn, void *arg);

/* Take one ring-buffer record of @size bytes. @return false when @fn said stop. */
bool ssl_calls_add(struct ssl_calls *c, const void *record, size_t size);

/* Deliver the calls still waiting for records, as incomplete. @return what @fn said last. */
bool ssl_calls_flush(struct ssl_calls *c);

/* Free the slots' buffers. */
void ssl_calls_free(struct ssl_calls *c);

#endif
