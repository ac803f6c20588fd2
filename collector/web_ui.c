/* The web page /ui and the JSON it polls: /api/state, /api/crashes, /api/crashes/ID. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

/*
 * A report's file never changes once renamed into place: its summary is made
 * once, not at every poll (parsing 30 s of samples of hundreds of reports on
 * the collector's loop every few seconds would hold up the events).
 */
struct summary {
	char *path; /* DIR/ID.json */
	char *json; /* "" when the file is not a report */
	bool seen;  /* in the latest listing: the others are gone and dropped */
};

struct web_ui {
	struct summary *v;
	size_t n, cap;
};

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
static char *summarize(const char *text)
{
	static const char *const keys[] = { "id",	 "time",      "pid",	"package",
					    "runner",	 "cause",     "signal", "exit_code",
					    "killed_by", "oom_killed" };
	yajl_val r = yajl_tree_parse(text, NULL, 0);
	yajl_gen g = YAJL_IS_OBJECT(r) ? yajl_gen_alloc(NULL) : NULL;
	const unsigned char *out;
	size_t len;
	char *copy;

	if (!g) {
		yajl_tree_free(r);
		return strdup("");
	}
	yajl_gen_map_open(g);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *path[] = { keys[i], NULL };

		yajl_gen_string(g, (const unsigned char *)keys[i], strlen(keys[i]));
		gen_tree(g, yajl_tree_get(r, path, yajl_t_any));
	}
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &out, &len);
	copy = strndup((const char *)out, len);
	yajl_gen_free(g);
	yajl_tree_free(r);
	return copy;
}

/* The summary of @p path, made now if it is not kept yet. @return NULL when out of memory. */
static const char *summary_of(struct web_ui *ui, const char *path)
{
	struct buffer text = { 0 };
	struct error err = { 0 };
	struct summary *s;
	const char *slash = strrchr(path, '/');
	char dir[4096];

	for (size_t i = 0; i < ui->n; i++)
		if (strcmp(ui->v[i].path, path) == 0) {
			ui->v[i].seen = true;
			return ui->v[i].json;
		}
	if (ui->n == ui->cap) {
		size_t cap = ui->cap ? ui->cap * 2 : 64;
		struct summary *grown = realloc(ui->v, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		ui->v = grown;
		ui->cap = cap;
	}
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	s = &ui->v[ui->n];
	*s = (struct summary){ .path = strdup(path), .seen = true };
	if (crash_dir_read(dir, slash + 1, &text, &err) == 0 && buffer_append(&text, "", 1) == 0)
		s->json = summarize(text.data);
	else
		s->json = strdup("");
	buffer_free(&text);
	if (!s->path || !s->json) {
		free(s->path);
		free(s->json);
		return NULL;
	}
	ui->n++;
	return s->json;
}

/* Summaries of files no longer listed (pruned, removed) are dropped. */
static void forget_unseen(struct web_ui *ui)
{
	size_t kept = 0;

	for (size_t i = 0; i < ui->n; i++) {
		if (ui->v[i].seen) {
			ui->v[i].seen = false;
			ui->v[kept++] = ui->v[i];
		} else {
			free(ui->v[i].path);
			free(ui->v[i].json);
		}
	}
	ui->n = kept;
}

static int gen_dir(struct web_ui *ui, yajl_gen g, const char *dir)
{
	struct error err = { 0 };
	char **names, path[4096];
	int n = crash_dir_list(dir, &names, &err);

	for (int i = n > CRASHES_LISTED ? n - CRASHES_LISTED : 0; i < n; i++) {
		const char *json;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		json = summary_of(ui, path);
		if (!json) {
			crash_dir_names_free(names, n);
			return -ENOMEM;
		}
		/* Made by yajl_gen from a parsed report: one JSON value, inserted whole. */
		if (*json)
			yajl_gen_number(g, json, strlen(json));
	}
	crash_dir_names_free(names, n);
	return 0;
}

/* {"dirs":[...],"crashes":[summaries, oldest first per directory]}. */
static int answer_crashes(struct web_ui *ui, struct buffer *body, struct web_ui_reply *r)
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
	for (int i = 0, failed = 0; i < ndirs && !failed; i++)
		failed = gen_dir(ui, g, dirs[i]);
	forget_unseen(ui);
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

struct web_ui *web_ui_new(void)
{
	return calloc(1, sizeof(struct web_ui));
}

void web_ui_free(struct web_ui *ui)
{
	if (!ui)
		return;
	for (size_t i = 0; i < ui->n; i++) {
		free(ui->v[i].path);
		free(ui->v[i].json);
	}
	free(ui->v);
	free(ui);
}

int web_ui_answer(struct web_ui *ui, struct collector *c, const char *url, bool local,
		  struct buffer *body, struct web_ui_reply *r)
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
		return answer_crashes(ui, body, r);
	return answer_crash(url + 13, body, r);
}
