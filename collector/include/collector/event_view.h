/**
 * @file
 * An event as a parsed JSON tree (envelope and data), for readers that look
 * at its fields: the readable view, `--where` and `collector show`.
 */
#ifndef COLLECTOR_EVENT_VIEW_H
#define COLLECTOR_EVENT_VIEW_H

#include <stdint.h>

#include <yajl/yajl_tree.h>

#include <collector/buffer.h>
#include <collector/error.h>
#include <collector/event.h>
#include <collector/event_encoder.h>

/** One event's JSON object; its strings are the event's, escapes decoded. */
struct event_view {
	yajl_val root;	    /**< the whole event object (as docs/events.md's JSON line) */
	const char *type;   /**< "type", never NULL after a successful parse */
	int64_t ts_ns;	    /**< "ts_ns", 0 when absent */
	struct buffer text; /**< scratch: the NUL-terminated line parsed */
};

/**
 * Parse one JSON line (an event as the file and stdout sinks write it).
 * @param v the view to fill (zeroed before its first use)
 * @param line the line, without its newline
 * @param len its length in bytes
 * @param err set on failure
 * @return 0, or -EINVAL with @p err saying why (not an object, no "type").
 */
int event_view_parse(struct event_view *v, const char *line, size_t len, struct error *err);

/**
 * Parse a live event as its JSON line would read.
 * @param v the view to fill
 * @param enc encodes @p ev into that line
 * @param ev the event
 * @param err set on failure
 * @return 0, -ENOMEM or -EINVAL.
 */
int event_view_from_event(struct event_view *v, struct event_encoder *enc, const struct event *ev,
			  struct error *err);

/**
 * The value at a path of member names.
 * @param v a parsed view
 * @param path NULL-terminated names, e.g. {"data", "status", NULL}
 * @return the value, or NULL when absent.
 */
yajl_val event_view_get(const struct event_view *v, const char **path);

/**
 * A string member of the top-level object or of data.
 * @param v a parsed view
 * @param name the member's name
 * @param in_data nonzero: look in "data"; 0: in the envelope
 * @return its value, or "" when absent or not a string.
 */
const char *event_view_str(const struct event_view *v, const char *name, int in_data);

/**
 * Release the tree (the scratch text stays for reuse until event_view_free()).
 * @param v the view
 */
void event_view_clear(struct event_view *v);

/**
 * Release everything.
 * @param v the view
 */
void event_view_free(struct event_view *v);

#endif
