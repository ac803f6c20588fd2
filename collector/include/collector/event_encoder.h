/**
 * @file
 * Encodes events as JSON lines with yajl_gen, straight into a buffer.
 */
#ifndef COLLECTOR_EVENT_ENCODER_H
#define COLLECTOR_EVENT_ENCODER_H

#include <collector/buffer.h>
#include <collector/event.h>

struct event_encoder;

/**
 * Create an encoder. The host name in every envelope is this machine's.
 * @return the encoder, or NULL when out of memory.
 */
struct event_encoder *event_encoder_new(void);

/** Free an encoder; NULL is ignored. */
void event_encoder_free(struct event_encoder *enc);

/**
 * Append @p ev as one JSON object and a '\n' to @p out.
 * @return 0, or -ENOMEM (@p out keeps only whole lines).
 */
int event_encoder_write(struct event_encoder *enc, const struct event *ev, struct buffer *out);

/**
 * Format @p ts_ns as RFC 3339 UTC with nanoseconds into @p dst (>= 31 bytes).
 * @return the length written.
 */
size_t format_rfc3339_ns(int64_t ts_ns, char *dst);

#endif
