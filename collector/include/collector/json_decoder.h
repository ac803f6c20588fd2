/**
 * @file
 * Turns one JSON line into a typed event, keeping fields it does not know.
 */
#ifndef COLLECTOR_JSON_DECODER_H
#define COLLECTOR_JSON_DECODER_H

#include <stdbool.h>
#include <stddef.h>

#include <collector/error.h>
#include <collector/event.h>

/** Deepest nesting taken (the top-level object is level 1); deeper lines are invalid JSON. */
#define JSON_DECODER_MAX_DEPTH 128

/** A decoder: a reusable yajl parser and scratch buffers; opaque. */
struct json_decoder;

/**
 * Create a decoder.
 * @param default_type the type of events whose line has no "type" (copied)
 * @return the decoder (free it with json_decoder_free()), or NULL when out
 *         of memory.
 */
struct json_decoder *json_decoder_new(const char *default_type);

/**
 * Say that every line @p d will decode is valid UTF-8 already, as a
 * line_framer's lines are (it replaces invalid sequences and flags the line):
 * yajl then skips its own check of the strings' bytes, which is laxer than
 * the framer's and so could never fail. Escaped lone surrogates are still
 * replaced (json_decoder_repaired()): they are not bytes the framer sees.
 * @param d the decoder, before its first line
 * @return 0, or -ENOMEM (the decoder is then unusable: free it).
 */
int json_decoder_utf8_checked(struct json_decoder *d);

/**
 * Free a decoder.
 * @param d the decoder, or NULL (ignored)
 */
void json_decoder_free(struct json_decoder *d);

/**
 * Decode one line into a new event.
 *
 * Top-level "type" (string), "pid", "tid", "ppid" (integers) and "comm"
 * (string) fill the envelope. Every other member is kept: when the only other
 * member is "data", its value becomes the event's data; otherwise all other
 * members, in their order and exact text, form the data object. A \\u
 * escape of a lone UTF-16 surrogate is replaced by \\ufffd, as invalid UTF-8
 * is replaced by U+FFFD (json_decoder_repaired() tells).
 *
 * @param d the decoder
 * @param line one JSON object, no newline, not NUL-terminated
 * @param len its length in bytes
 * @param err filled on failure (may be NULL)
 * @return the event (caller owns the reference), or NULL with @p err filled:
 *         EBADMSG for anything that is not exactly one JSON object with a
 *         valid type and at most JSON_DECODER_MAX_DEPTH levels, ENOMEM when
 *         out of memory.
 */
struct event *json_decoder_decode(struct json_decoder *d, const char *line, size_t len,
				  struct error *err);

/**
 * Did the last line decoded have lone surrogates replaced?
 * @param d the decoder
 * @return true when json_decoder_decode() replaced at least one.
 */
bool json_decoder_repaired(const struct json_decoder *d);

#endif
