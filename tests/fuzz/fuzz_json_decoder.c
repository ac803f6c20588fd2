/*
 * Fuzz target: any line either decodes to an event whose data is valid JSON,
 * or is refused; and a line of valid UTF-8 (what the line framer hands on)
 * decodes to the same bytes, or is refused the same, with yajl's own UTF-8
 * check left off (json_decoder_utf8_checked(), the exec runner's decoder).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include <collector/codec.h>
#include <collector/event.h>
#include <collector/json_decoder.h>

static bool same_span(struct span a, struct span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* The exec runner's decoder agrees with the validating one on framer-checked lines. */
static void check_unvalidated(const uint8_t *data, size_t size, const struct event *ev)
{
	static struct json_decoder *d;
	struct error err = { 0 };
	struct event *e2;

	if (!utf8_valid(data, size))
		return;
	if (!d && (!(d = json_decoder_new("fuzz.event")) || json_decoder_utf8_checked(d) < 0))
		abort();
	e2 = json_decoder_decode(d, (const char *)data, size, &err);
	if (!ev != !e2)
		abort();
	if (e2 && (!same_span(ev->type, e2->type) || !same_span(ev->comm, e2->comm) ||
		   !same_span(ev->data, e2->data) || ev->flags != e2->flags ||
		   ((ev->flags & EVENT_HAS_PID) && ev->pid != e2->pid) ||
		   !utf8_valid(e2->data.ptr, e2->data.len)))
		abort();
	event_unref(e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json_decoder *d;
	struct error err = { 0 };
	struct event *ev;
	char *copy, msg[128];
	yajl_val v;

	if (!d)
		d = json_decoder_new("fuzz.event");
	ev = json_decoder_decode(d, (const char *)data, size, &err);
	check_unvalidated(data, size, ev);
	if (!ev) {
		if (!err.code || !err.msg[0])
			abort();
		return 0;
	}
	if (ev->type.len == 0 || ev->data.len == 0)
		abort();
	copy = strndup(ev->data.ptr, ev->data.len);
	v = copy ? yajl_tree_parse(copy, msg, sizeof(msg)) : NULL;
	if (copy && !v)
		abort();
	yajl_tree_free(v);
	free(copy);
	event_unref(ev);
	return 0;
}
