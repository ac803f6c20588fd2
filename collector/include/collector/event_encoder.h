/**
 * @file
 * Encodes events as JSON lines with yajl_gen, straight into a buffer.
 */
#ifndef COLLECTOR_EVENT_ENCODER_H
#define COLLECTOR_EVENT_ENCODER_H

#include <collector/buffer.h>
#include <collector/event.h>

/** An encoder: cached envelope parts; opaque, one per sink. */
struct event_encoder;

/**
 * Create an encoder. The host name in every envelope is this machine's.
 * @return the encoder (free it with event_encoder_free()), or NULL when out
 *         of memory.
 */
struct event_encoder *event_encoder_new(void);

/**
 * Free an encoder.
 * @param enc the encoder, or NULL (ignored)
 */
void event_encoder_free(struct event_encoder *enc);

/**
 * Append @p ev as one JSON object and a '\\n' to @p out.
 * @param enc the encoder
 * @param ev the event (only read)
 * @param out the buffer appended to
 * @return 0, or -ENOMEM (@p out keeps only whole lines).
 */
int event_encoder_write(struct event_encoder *enc, const struct event *ev, struct buffer *out);

/**
 * Where the last event_encoder_write() put the event id's text: a sink whose
 * message key is the id copies these EVENT_ID_TEXT characters instead of
 * formatting them again (event_id_text()).
 * @param enc the encoder
 * @return the offset in that call's @p out, or SIZE_MAX when the event had no
 *         id or the call failed.
 */
size_t event_encoder_id_offset(const struct event_encoder *enc);

/**
 * Append @p ev as an element of a JSON array: "[" before the first one (when
 * @p out is empty), "," before the others, no newline. End the array with
 * event_encoder_end_array().
 * @param enc the encoder
 * @param ev the event (only read)
 * @param out the buffer appended to
 * @return 0, or -ENOMEM (@p out is unchanged).
 */
int event_encoder_write_element(struct event_encoder *enc, const struct event *ev,
				struct buffer *out);

/**
 * End an array begun by event_encoder_write_element().
 * @param out the buffer holding at least one element
 * @return 0, or -ENOMEM.
 */
int event_encoder_end_array(struct buffer *out);

/**
 * Format a timestamp as RFC 3339 UTC with nanoseconds,
 * "2026-11-23T08:58:37.659695726Z", NUL-terminated.
 * @param ts_ns ns since the Unix epoch (negative before 1970)
 * @param dst at least 31 bytes
 * @return the length written, without the NUL.
 */
size_t format_rfc3339_ns(int64_t ts_ns, char *dst);

#endif
