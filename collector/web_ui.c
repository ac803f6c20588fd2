/* The web page /ui and the JSON it polls: /api/state, /api/crashes, /api/crashes/ID. */
#include <errno.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include <collector/crash_dir.h>
#include <collector/event_builder.h>

#include "web_ui.h"
#include "web_ui_assets.h"

/* The newest reports /api/crashes summarizes per directory: the page lists, it does not archive. */
#define CRASHES_LISTED 200

#define JSON "application/json"

/* {"error":MSG} through the event builder, as every JSON the collector writes. */
static int answer_error(struct buffer *body, struct web_ui_reply *r, unsigned int status,
			const char *msg)
{
	struct event_builder *b = event_builder_new();
	struct span text;
	int rc = -ENOMEM;

	r->status = status;
	r->type = JSON;
	if (!b)
		return -ENOMEM;
	event_builder_begin(b);
	event_builder_str(b, "error", msg);
	if (event_builder_finish(b, &text) == 0 && buffer_append(body, text.ptr, text.len) == 0)
		rc = 1;
	event_builder_free(b);
	return rc;
}

static int answer_asset(const char *name, struct buffer *body, struct web_ui_reply *r)
{
	for (const struct web_ui_asset *a = web_ui_assets; a->name; a++)
		if (strcmp(a->name, name) == 0) {
			r->status = 200;
			r->type = a->type;
			r->page = true;
			return buffer_append(body, a->data, a->len) < 0 ? -ENOMEM : 1;
		}
	r->page = false;
	return answer_error(body, r, 404, "no such file of the page");
}

/* A parsed value back into JSON text (a report's members, copied as they are). */
static void gen_tree(yajl_gen g, yajl_val v)
{
	if (YAJL_IS_STRING(v)) {
		yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
	} else if (YAJL_IS_NUMBER(v)) {
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
	} else if (YAJL_IS_OBJECT(v)) {
		yajl_gen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++) {
			yajl_gen_string(g, (const unsigned char *)v->u.object.keys[i],
					strlen(v->u.object.keys[i]));
			gen_tree(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			gen_tree(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, YAJL_IS_TRUE(v));
	} else {
		yajl_gen_null(g);
	}
}

/* What the crash list shows of one report: who, when, how it ended; not its samples or stderr. */
static void gen_summary(yajl_gen g, const char *text)
{
	static const char *const keys[] = { "id",	 "time",      "pid",
					    "package",	 "cause",     "signal",
					    "exit_code", "killed_by", "oom_killed" };
	yajl_val r = yajl_tree_parse(text, NULL, 0);

	if (!YAJL_IS_OBJECT(r)) {
		yajl_tree_free(r);
		return;
	}
	yajl_gen_map_open(g);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *path[] = { keys[i], NULL };
		yajl_val v = yajl_tree_get(r, path, yajl_t_any);

		yajl_gen_string(g, (const unsigned char *)keys[i], strlen(keys[i]));
		gen_tree(g, v);
	}
	yajl_gen_map_close(g);
	yajl_tree_free(r);
}

static void gen_dir(yajl_gen g, const char *dir)
{
	struct error err = { 0 };
	struct buffer text = { 0 };
	char **names;
	int n = crash_dir_list(dir, &names, &err);

	for (int i = n > CRASHES_LISTED ? n - CRASHES_LISTED : 0; i < n; i++) {
		text.len = 0;
		if (crash_dir_read(dir, names[i], &text, &err) == 0 &&
		    buffer_append(&text, "", 1) == 0)
			gen_summary(g, text.data);
	}
	buffer_free(&text);
	crash_dir_names_free(names, n);
}

/* {"dirs":[...],"crashes":[summaries, oldest first per directory]}. */
static int answer_crashes(struct buffer *body, struct web_ui_reply *r)
{
	const char *dirs[CRASH_DIR_NOTED + 1];
	int ndirs = crash_dir_noted(dirs, CRASH_DIR_NOTED + 1), rc;
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *text;
	size_t len;

	if (!g)
		return -ENOMEM;
	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *)"dirs", 4);
	yajl_gen_array_open(g);
	for (int i = 0; i < ndirs; i++)
		yajl_gen_string(g, (const unsigned char *)dirs[i], strlen(dirs[i]));
	yajl_gen_array_close(g);
	yajl_gen_string(g, (const unsigned char *)"crashes", 7);
	yajl_gen_array_open(g);
	for (int i = 0; i < ndirs; i++)
		gen_dir(g, dirs[i]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &text, &len);
	r->status = 200;
	r->type = JSON;
	rc = buffer_append(body, text, len) < 0 ? -ENOMEM : 1;
	yajl_gen_free(g);
	return rc;
}

/* One report as written: its file is the algorithm.crash event's data, JSON from yajl_gen. */
static int answer_crash(const char *id, struct buffer *body, struct web_ui_reply *r)
{
	const char *dirs[CRASH_DIR_NOTED + 1];
	int ndirs = crash_dir_noted(dirs, CRASH_DIR_NOTED + 1);
	struct error err = { 0 };

	if (!crash_dir_valid_id(id))
		return answer_error(body, r, 400, "not a crash ID");
	for (int i = 0; i < ndirs; i++) {
		body->len = 0;
		if (crash_dir_read(dirs[i], id, body, &err) == 0) {
			r->status = 200;
			r->type = JSON;
			return 1;
		}
		if (err.code == ENOMEM)
			return -ENOMEM;
	}
	body->len = 0;
	return answer_error(body, r, 404, "no such crash report");
}

int web_ui_answer(struct collector *c, const char *url, bool local, struct buffer *body,
		  struct web_ui_reply *r)
{
	*r = (struct web_ui_reply){ .status = 200, .type = JSON };
	if (strcmp(url, "/ui") == 0 || strcmp(url, "/ui/") == 0)
		return answer_asset("index.html", body, r);
	if (strncmp(url, "/ui/", 4) == 0)
		return answer_asset(url + 4, body, r);
	if (strcmp(url, "/api/state") == 0)
		return collector_render_status_view(c, body, false) < 0 ? -ENOMEM : 1;
	if (strcmp(url, "/api/crashes") != 0 && strncmp(url, "/api/crashes/", 13) != 0)
		return 0;
	if (!local)
		return answer_error(body, r, 403,
				    "crash reports hold children's stderr and arguments: served "
				    "only "
				    "to this machine");
	if (strcmp(url, "/api/crashes") == 0)
		return answer_crashes(body, r);
	return answer_crash(url + 13, body, r);
}
