/* Fuzz target: any line either decodes to an event whose data is valid JSON, or is refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include <collector/event.h>
#include <collector/json_decoder.h>

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
