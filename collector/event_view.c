/* An event as a parsed JSON tree: from a stored line or from a live event through its encoder. */
#include <errno.h>
#include <string.h>

#include <collector/event_view.h>

/* Parse the C string in v->text. */
static int parse_text(struct event_view *v, struct error *err)
{
	char msg[160];
	yajl_val type, ts;
	static const char *type_path[] = { "type", NULL }, *ts_path[] = { "ts_ns", NULL };

	v->root = yajl_tree_parse(v->text.data, msg, sizeof(msg));
	if (!v->root) {
		msg[strcspn(msg, "\n")] = '\0';
		return error_set(err, EINVAL, "not JSON: %s", msg);
	}
	type = yajl_tree_get(v->root, type_path, yajl_t_string);
	if (!YAJL_IS_OBJECT(v->root) || !type) {
		event_view_clear(v);
		return error_set(err, EINVAL, "not an event: a JSON object with a \"type\" string");
	}
	v->type = type->u.string;
	ts = yajl_tree_get(v->root, ts_path, yajl_t_number);
	v->ts_ns = ts && YAJL_IS_INTEGER(ts) ? ts->u.number.i : 0;
	return 0;
}

int event_view_parse(struct event_view *v, const char *line, size_t len, struct error *err)
{
	event_view_clear(v);
	v->text.len = 0;
	if (memchr(line, '\0', len))
		return error_set(err, EINVAL, "a NUL byte in the line");
	/* yajl_tree_parse() wants a C string; the line may not end in one. */
	if (buffer_append(&v->text, line, len) < 0 || buffer_append(&v->text, "", 1) < 0)
		return error_set(err, ENOMEM, "out of memory");
	return parse_text(v, err);
}

int event_view_from_event(struct event_view *v, struct event_encoder *enc, const struct event *ev,
			  struct error *err)
{
	event_view_clear(v);
	v->text.len = 0;
	if (event_encoder_write(enc, ev, &v->text) < 0 || buffer_append(&v->text, "", 1) < 0)
		return error_set(err, ENOMEM, "out of memory");
	return parse_text(v, err);
}

yajl_val event_view_get(const struct event_view *v, const char **path)
{
	return v->root ? yajl_tree_get(v->root, path, yajl_t_any) : NULL;
}

const char *event_view_str(const struct event_view *v, const char *name, int in_data)
{
	const char *path[3] = { in_data ? "data" : name, in_data ? name : NULL, NULL };
	yajl_val s = event_view_get(v, path);

	return YAJL_IS_STRING(s) ? s->u.string : "";
}

void event_view_clear(struct event_view *v)
{
	yajl_tree_free(v->root);
	v->root = NULL;
	v->type = NULL;
	v->ts_ns = 0;
}

void event_view_free(struct event_view *v)
{
	event_view_clear(v);
	buffer_free(&v->text);
}
