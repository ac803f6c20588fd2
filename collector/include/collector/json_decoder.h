/**
 * @file
 * Turns one JSON line into a typed event, keeping fields it does not know.
 */
#ifndef COLLECTOR_JSON_DECODER_H
#define COLLECTOR_JSON_DECODER_H

#include <stddef.h>

#include <collector/error.h>
#include <collector/event.h>

struct json_decoder;

/**
 * Create a decoder; events whose line has no "type" get @p default_type.
 * @return the decoder (free with json_decoder_free()), or NULL when out of
 *         memory.
 */
struct json_decoder *json_decoder_new(const char *default_type);

/** Free a decoder; NULL is ignored. */
void json_decoder_free(struct json_decoder *d);

/**
 * Decode @p line (one JSON object, no newline) into a new event.
 *
 * Top-level "type" (string), "pid", "tid", "ppid" (integers) and "comm"
 * (string) fill the envelope. Every other member is kept: when the only other
 * member is "data", its value becomes the event's data; otherwise all other
 * members, in their order and exact text, form the data object.
 *
 * @return the event (caller owns the reference), or NULL with @p err filled:
 *         EBADMSG for anything that is not exactly one JSON object with a
 *         valid type, ENOMEM when out of memory.
 */
struct event *json_decoder_decode(struct json_decoder *d, const char *line, size_t len,
				  struct error *err);

#endif
