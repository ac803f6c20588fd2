/**
 * @file
 * Builds an event's `data` object with yajl_gen and emits it: the one way runners write JSON.
 *
 * A runner keeps one builder, and for each event calls event_builder_begin(),
 * adds members, and ends with event_builder_emit(). Members take a key; inside
 * an array (or after event_builder_key()) the key is NULL. yajl_gen places
 * every brace, comma and colon and escapes every string, so no runner writes
 * JSON punctuation by hand (`make lint` checks that). Running out of memory
 * anywhere on the way is remembered and reported once, when the event is
 * emitted, as a lost event (runner_emit_failed()).
 */
#ifndef COLLECTOR_EVENT_BUILDER_H
#define COLLECTOR_EVENT_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <collector/event.h>
#include <collector/runner.h>
#include <collector/span.h>

/** A builder: a yajl_gen and the buffer it writes to; opaque, one per runner instance. */
struct event_builder;

/**
 * Create a builder.
 * @return the builder (free it with event_builder_free()), or NULL when out of memory.
 */
struct event_builder *event_builder_new(void);

/**
 * Free a builder.
 * @param b the builder, or NULL (ignored)
 */
void event_builder_free(struct event_builder *b);

/**
 * Start a new `data` object, forgetting the previous one and its failure.
 * @param b the builder
 */
void event_builder_begin(struct event_builder *b);

/**
 * A key alone; the next call adds its value with a NULL key.
 * @param b the builder
 * @param key the member name
 */
void event_builder_key(struct event_builder *b, const char *key);

/**
 * A string member.
 * @param b the builder
 * @param key the member name, or NULL for an array element or a value after event_builder_key()
 * @param value a NUL-terminated string (escaped), or NULL for JSON null
 */
void event_builder_str(struct event_builder *b, const char *key, const char *value);

/**
 * A string member of known length (may hold NULs, escaped as \\u0000).
 * @param b the builder
 * @param key the member name, or NULL (see event_builder_str())
 * @param value the bytes (NULL only with @p len 0)
 * @param len their length
 */
void event_builder_strn(struct event_builder *b, const char *key, const char *value, size_t len);

/**
 * A signed integer member, in decimal.
 * @param b the builder
 * @param key the member name, or NULL (see event_builder_str())
 * @param value the number
 */
void event_builder_int(struct event_builder *b, const char *key, long long value);

/**
 * An unsigned integer member, in decimal (counters above 2^63 stay exact).
 * @param b the builder
 * @param key the member name, or NULL (see event_builder_str())
 * @param value the number
 */
void event_builder_uint(struct event_builder *b, const char *key, unsigned long long value);

/**
 * A true or false member.
 * @param b the builder
 * @param key the member name, or NULL (see event_builder_str())
 * @param value the truth value
 */
void event_builder_bool(struct event_builder *b, const char *key, bool value);

/**
 * A null member.
 * @param b the builder
 * @param key the member name, or NULL (see event_builder_str())
 */
void event_builder_null(struct event_builder *b, const char *key);

/**
 * A number with at most @p decimals digits after the point, trailing zeros
 * (and a bare point) dropped: 12.5 with two decimals is `12.5`, 3.0 is `3`.
 * A NaN or an infinity, which JSON cannot hold, is null.
 * @param b the builder
 * @param key the member name, or NULL (see event_builder_str())
 * @param value the number
 * @param decimals digits after the point before trimming (0..17)
 */
void event_builder_double(struct event_builder *b, const char *key, double value, int decimals);

/**
 * A member whose value is JSON text the caller already holds (a child's
 * object, a decoded document), copied verbatim: it must be one valid value.
 * @param b the builder
 * @param key the member name, or NULL (see event_builder_str())
 * @param json the JSON text
 * @param len its length
 */
void event_builder_raw(struct event_builder *b, const char *key, const char *json, size_t len);

/**
 * Open an object member; members follow until event_builder_close_object().
 * @param b the builder
 * @param key the member name, or NULL (see event_builder_str())
 */
void event_builder_open_object(struct event_builder *b, const char *key);

/**
 * Close the innermost open object.
 * @param b the builder
 */
void event_builder_close_object(struct event_builder *b);

/**
 * Open an array member; elements (NULL keys) follow until event_builder_close_array().
 * @param b the builder
 * @param key the member name, or NULL (see event_builder_str())
 */
void event_builder_open_array(struct event_builder *b, const char *key);

/**
 * Close the innermost open array.
 * @param b the builder
 */
void event_builder_close_array(struct event_builder *b);

/**
 * Lose this event: a value could not be made (out of memory); emitting it
 * counts it lost.
 * @param b the builder
 */
void event_builder_fail(struct event_builder *b);

/**
 * Close the `data` object and look at it (to write it elsewhere too, or to
 * hand it to a callback instead of a runner context). It stays valid until
 * the next event_builder_begin().
 * @param b the builder
 * @param data set to the JSON object's bytes (not NUL-terminated)
 * @return 0, or -ENOMEM when memory ran out while building (@p data is then empty).
 */
int event_builder_finish(struct event_builder *b, struct span *data);

/**
 * Close the `data` object and make an event of it, for a runner that sets
 * more of the envelope (tid, ts_ns) before runner_emit().
 * @param b the builder
 * @param type the event type
 * @param comm the process name, or an empty span
 * @return the event (the caller's reference), or NULL when out of memory: the
 *         caller reports that with runner_emit_failed().
 */
struct event *event_builder_event(struct event_builder *b, const char *type, struct span comm);

/**
 * Close the `data` object and emit it as an event of @p type; when memory
 * ran out, count it lost with runner_emit_failed() instead.
 * @param b the builder
 * @param ctx the runner's context
 * @param type the event type
 * @param pid the envelope's pid, or 0 for none
 */
void event_builder_emit(struct event_builder *b, struct runner_ctx *ctx, const char *type,
			int32_t pid);

#endif
