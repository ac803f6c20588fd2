/* The readable view's tables: which columns each kind of event has and how its row is filled. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "render_table.h"

#define HOSTS 64

/* The Host of the last requests per connection, for the rows of their responses. */
struct http_hosts {
	struct {
		char conn[48];
		char host[64];
	} slot[HOSTS];
	unsigned next;
};

void *render_types_state_new(void)
{
	return calloc(1, sizeof(struct http_hosts));
}

void render_types_state_free(void *state)
{
	free(state);
}

yajl_val render_data(const struct event_view *v, const char *name)
{
	const char *path[] = { "data", name, NULL };

	return event_view_get(v, path);
}

yajl_val render_top(const struct event_view *v, const char *name)
{
	const char *path[] = { name, NULL };

	return event_view_get(v, path);
}

void render_time(const struct event_view *v, char *out)
{
	time_t sec = (time_t)(v->ts_ns / 1000000000);
	struct tm tm;

	localtime_r(&sec, &tm);
	snprintf(out, RENDER_CELL, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(v->ts_ns % 1000000000 / 1000000));
}

void render_size(double bytes, char *out, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

void render_duration(double ns, char *out, size_t len)
{
	if (ns < 1e3)
		snprintf(out, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(out, len, "%.1f µs", ns / 1e3);
	else if (ns < 1e9)
		snprintf(out, len, "%.1f ms", ns / 1e6);
	else if (ns < 60e9)
		snprintf(out, len, "%.2f s", ns / 1e9);
	else if (ns < 3600e9)
		snprintf(out, len, "%dm%02ds", (int)(ns / 60e9), (int)(ns / 1e9) % 60);
	else
		snprintf(out, len, "%dh%02dm", (int)(ns / 3600e9), (int)(ns / 60e9) % 60);
}

void render_scalar(yajl_val val, char *out, size_t len)
{
	if (YAJL_IS_STRING(val))
		snprintf(out, len, "%s", val->u.string);
	else if (YAJL_IS_INTEGER(val))
		snprintf(out, len, "%lld", val->u.number.i);
	else if (YAJL_IS_NUMBER(val))
		snprintf(out, len, "%s", val->u.number.r);
	else if (YAJL_IS_TRUE(val) || YAJL_IS_FALSE(val))
		snprintf(out, len, "%s", YAJL_IS_TRUE(val) ? "true" : "false");
	else if (YAJL_IS_NULL(val))
		snprintf(out, len, "null");
	else
		snprintf(out, len, "%s", val ? "..." : "");
}

static void put(struct buffer *b, const char *s)
{
	buffer_append(b, s, strlen(s));
}

/* A scalar in the "k=v" text: strings quoted when they hold a space or are empty. */
static void put_scalar(struct buffer *b, yajl_val val)
{
	char text[64];

	if (YAJL_IS_STRING(val) && (!val->u.string[0] || strpbrk(val->u.string, " =\""))) {
		put(b, "\"");
		put(b, val->u.string);
		put(b, "\"");
	} else if (YAJL_IS_STRING(val)) {
		put(b, val->u.string);
	} else {
		render_scalar(val, text, sizeof(text));
		put(b, text);
	}
}

/*
 * One member as logfmt does it: nested values flattened into dotted keys
 * (a.b=1) and indexed ones (list[0]=x), so a row is words a person reads.
 */
static void put_pair(struct buffer *b, const char *key, yajl_val val, bool *first, int depth)
{
	if ((YAJL_IS_OBJECT(val) || YAJL_IS_ARRAY(val)) && depth < 8) {
		bool obj = YAJL_IS_OBJECT(val);
		size_t n = obj ? val->u.object.len : val->u.array.len;

		for (size_t i = 0; i < n; i++) {
			char sub[256];

			if (obj)
				snprintf(sub, sizeof(sub), "%s.%s", key, val->u.object.keys[i]);
			else
				snprintf(sub, sizeof(sub), "%s[%zu]", key, i);
			put_pair(b, sub, obj ? val->u.object.values[i] : val->u.array.values[i],
				 first, depth + 1);
		}
		return;
	}
	if (!*first)
		put(b, " ");
	*first = false;
	put(b, key);
	put(b, "=");
	put_scalar(b, val);
}

void render_pairs(yajl_val obj, struct buffer *out, const char *const *skip)
{
	bool first = true;

	if (!YAJL_IS_OBJECT(obj)) {
		if (obj)
			put_scalar(out, obj);
		return;
	}
	for (size_t i = 0; i < obj->u.object.len; i++) {
		bool skipped = false;

		for (const char *const *s = skip; s && *s; s++)
			skipped |= strcmp(*s, obj->u.object.keys[i]) == 0;
		if (!skipped)
			put_pair(out, obj->u.object.keys[i], obj->u.object.values[i], &first, 0);
	}
}

/* The words of a string array joined by spaces. */
static void put_words(struct buffer *b, yajl_val arr)
{
	for (size_t i = 0; YAJL_IS_ARRAY(arr) && i < arr->u.array.len; i++) {
		if (i)
			put(b, " ");
		put_scalar(b, arr->u.array.values[i]);
	}
}

static double num(yajl_val val)
{
	return YAJL_IS_NUMBER(val) ? YAJL_GET_DOUBLE(val) : 0;
}

/* The type without its "family." prefix. */
static const char *short_type(const struct event_view *v)
{
	const char *dot = strchr(v->type, '.');

	return dot ? dot + 1 : v->type;
}

/* ---- process.*: TIME EVENT UID COMM PID PPID RET/EXIT DURATION ARGS ---- */

static const struct render_column process_columns[] = {
	{ "TIME", 12 },		 { "EVENT", 5 },
	{ "UID", 6, true },	 { "COMM", 16 },
	{ "PID", 7, true },	 { "PPID", 7, true },
	{ "RET/EXIT", 8, true }, { "DURATION", 9, true },
	{ "ARGS", 0 },		 { NULL },
};

static void fill_process(const struct event_view *v, struct render_row *row, void *state)
{
	yajl_val sig = render_data(v, "signal_name"), code = render_data(v, "exit_code");
	yajl_val ret = render_data(v, "ret"), dur = render_data(v, "duration_ns");
	static const char *const skip[] = { "uid", "gid", "cgroup_id", NULL };

	(void)state;
	render_time(v, row->cell[0]);
	snprintf(row->cell[1], RENDER_CELL, "%s", short_type(v));
	render_scalar(render_data(v, "uid"), row->cell[2], RENDER_CELL);
	render_scalar(render_top(v, "comm"), row->cell[3], RENDER_CELL);
	render_scalar(render_top(v, "pid"), row->cell[4], RENDER_CELL);
	render_scalar(render_top(v, "ppid"), row->cell[5], RENDER_CELL);
	if (strcmp(v->type, "process.exec") == 0) {
		snprintf(row->cell[6], RENDER_CELL, "%lld", ret ? (long long)num(ret) : 0LL);
		row->tone = num(ret) < 0 ? TONE_BAD : TONE_PLAIN;
		put_words(&row->rest, render_data(v, "argv"));
		if (!row->rest.len)
			render_pairs(render_data(v, "filename"), &row->rest, NULL);
		if (YAJL_IS_TRUE(render_data(v, "args_truncated")))
			put(&row->rest, " ...");
	} else if (strcmp(v->type, "process.exit") == 0) {
		render_scalar(YAJL_IS_STRING(sig) ? sig : code, row->cell[6], RENDER_CELL);
		row->tone = YAJL_IS_STRING(sig) || num(code) != 0 ? TONE_BAD : TONE_PLAIN;
		if (dur)
			render_duration(num(dur), row->cell[7], RENDER_CELL);
		put_words(&row->rest, render_data(v, "argv"));
	} else if (strcmp(v->type, "process.fork") == 0) {
		put(&row->rest, "child ");
		put_scalar(&row->rest, render_data(v, "child_pid"));
	} else {
		render_pairs(render_top(v, "data"), &row->rest, skip);
	}
}

/* ---- http.*, sse.*: TIME COMM PID HOST REQUEST ---- */

static const struct render_column http_columns[] = {
	{ "TIME", 12 }, { "COMM", 15 },	  { "PID", 7, true },
	{ "HOST", 24 }, { "REQUEST", 0 }, { NULL },
};

/* The Host header of a request, remembered per connection for its response. */
static const char *http_host(const struct event_view *v, struct http_hosts *h)
{
	yajl_val headers = render_data(v, "headers");
	const char *conn = event_view_str(v, "conn", 1);

	for (size_t i = 0; YAJL_IS_ARRAY(headers) && i < headers->u.array.len; i++) {
		yajl_val pair = headers->u.array.values[i];

		if (YAJL_IS_ARRAY(pair) && pair->u.array.len == 2 &&
		    YAJL_IS_STRING(pair->u.array.values[0]) &&
		    YAJL_IS_STRING(pair->u.array.values[1]) &&
		    strcasecmp(pair->u.array.values[0]->u.string, "host") == 0) {
			unsigned n = h->next++ % HOSTS;

			snprintf(h->slot[n].conn, sizeof(h->slot[n].conn), "%s", conn);
			snprintf(h->slot[n].host, sizeof(h->slot[n].host), "%s",
				 pair->u.array.values[1]->u.string);
			return h->slot[n].host;
		}
	}
	for (unsigned i = 0; conn[0] && i < HOSTS; i++)
		if (strcmp(h->slot[i].conn, conn) == 0)
			return h->slot[i].host;
	return "";
}

static void fill_http(const struct event_view *v, struct render_row *row, void *state)
{
	yajl_val status = render_data(v, "status"), lat = render_data(v, "latency_ns");
	char text[32];

	render_time(v, row->cell[0]);
	render_scalar(render_top(v, "comm"), row->cell[1], RENDER_CELL);
	render_scalar(render_top(v, "pid"), row->cell[2], RENDER_CELL);
	snprintf(row->cell[3], RENDER_CELL, "%s", http_host(v, state));
	if (strcmp(v->type, "sse.message") == 0) {
		put(&row->rest, "SSE ");
		put(&row->rest, event_view_str(v, "event", 1));
		put(&row->rest, ": ");
		put(&row->rest, event_view_str(v, "data", 1));
		return;
	}
	put(&row->rest, event_view_str(v, "method", 1));
	put(&row->rest, " ");
	put(&row->rest, event_view_str(v, "path", 1));
	if (!status)
		return;
	render_scalar(status, text, sizeof(text));
	put(&row->rest, " → ");
	put(&row->rest, text);
	if (YAJL_IS_NUMBER(lat)) {
		render_duration(num(lat), text, sizeof(text));
		put(&row->rest, " ");
		put(&row->rest, text);
	}
	row->tone = num(status) >= 400 ? TONE_BAD : TONE_PLAIN;
}

/* ---- algorithm.*: TIME RUNNER INST PID EVENT DETAIL ---- */

static const struct render_column algorithm_columns[] = {
	{ "TIME", 12 },	 { "RUNNER", 12 }, { "INST", 4, true }, { "PID", 7, true }, { "EVENT", 12 },
	{ "DETAIL", 0 }, { NULL },
};

static void put_result(const struct event_view *v, struct render_row *row)
{
	const char *outcome = event_view_str(v, "outcome", 1);
	char text[32];

	put(&row->rest, event_view_str(v, "method", 1));
	put(&row->rest, " #");
	put_scalar(&row->rest, render_data(v, "id"));
	put(&row->rest, " ");
	put(&row->rest, outcome);
	render_duration(num(render_data(v, "latency_us")) * 1e3, text, sizeof(text));
	put(&row->rest, " ");
	put(&row->rest, text);
	if (strcmp(outcome, "ok") != 0) {
		row->tone = TONE_BAD;
		put(&row->rest, ": ");
		put(&row->rest, event_view_str(v, "message", 1));
	}
}

static void put_crash(const struct event_view *v, struct render_row *row)
{
	yajl_val by = render_data(v, "killed_by"), inflight = render_data(v, "calls_in_flight");
	char text[32];

	row->tone = TONE_BAD;
	put(&row->rest, "CRASH ");
	put(&row->rest, event_view_str(v, "cause", 1));
	put(&row->rest, " ");
	put_scalar(&row->rest, render_data(v, YAJL_IS_STRING(render_data(v, "signal")) ? "signal" :
											 "exit_"
											 "code"));
	if (YAJL_IS_OBJECT(by)) {
		put(&row->rest, " by ");
		render_pairs(by, &row->rest, NULL);
	}
	render_duration(num(render_data(v, "uptime_ms")) * 1e6, text, sizeof(text));
	put(&row->rest, " after ");
	put(&row->rest, text);
	snprintf(text, sizeof(text), ", %zu calls in flight",
		 YAJL_IS_ARRAY(inflight) ? inflight->u.array.len : 0);
	put(&row->rest, text);
	put(&row->rest, " id=");
	put(&row->rest, event_view_str(v, "id", 1));
}

static void fill_algorithm(const struct event_view *v, struct render_row *row, void *state)
{
	static const char *const skip[] = { "instance", NULL };
	const char *t = short_type(v);

	(void)state;
	render_time(v, row->cell[0]);
	render_scalar(render_top(v, "runner"), row->cell[1], RENDER_CELL);
	render_scalar(render_data(v, "instance"), row->cell[2], RENDER_CELL);
	render_scalar(render_top(v, "pid"), row->cell[3], RENDER_CELL);
	snprintf(row->cell[4], RENDER_CELL, "%s", t);
	if (strcmp(t, "result") == 0) {
		put_result(v, row);
	} else if (strcmp(t, "crash") == 0) {
		put_crash(v, row);
	} else if (strcmp(t, "state") == 0) {
		put(&row->rest, event_view_str(v, "previous", 1));
		put(&row->rest, " → ");
		put(&row->rest, event_view_str(v, "state", 1));
		put(&row->rest, ": ");
		put(&row->rest, event_view_str(v, "reason", 1));
	} else if (strcmp(t, "stderr") == 0) {
		put(&row->rest, event_view_str(v, "line", 1));
	} else {
		row->tone = strstr(t, "error") ? TONE_BAD : TONE_PLAIN;
		render_pairs(render_top(v, "data"), &row->rest, skip);
	}
}

/* ---- health.*: TIME RUNNER PID EVENT CPU% RSS THR PROCS DETAIL ---- */

static const struct render_column health_columns[] = {
	{ "TIME", 12 },	    { "RUNNER", 12 },	  { "PID", 7, true },
	{ "EVENT", 8 },	    { "CPU%", 6, true },  { "RSS", 10, true },
	{ "THR", 4, true }, { "PROCS", 5, true }, { "DETAIL", 0 },
	{ NULL },
};

/* A warning's figure in its unit: bytes, bytes per second or percent. */
static void put_figure(const char *kind, yajl_val val, struct buffer *b)
{
	char text[32];

	if (strstr(kind, "cpu")) {
		snprintf(text, sizeof(text), "%.1f%%", num(val));
	} else {
		render_size(num(val), text, sizeof(text));
		if (strstr(kind, "growing"))
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "/s");
	}
	put(b, text);
}

static void fill_health(const struct event_view *v, struct render_row *row, void *state)
{
	const char *t = short_type(v), *kind = event_view_str(v, "kind", 1);
	yajl_val sample = render_data(v, "sample");

	(void)state;
	render_time(v, row->cell[0]);
	render_scalar(render_top(v, "runner"), row->cell[1], RENDER_CELL);
	render_scalar(render_top(v, "pid"), row->cell[2], RENDER_CELL);
	snprintf(row->cell[3], RENDER_CELL, "%s", t);
	if (strcmp(t, "sample") != 0 && !YAJL_IS_OBJECT(sample)) {
		row->tone = strcmp(t, "oom") == 0 ? TONE_BAD : TONE_PLAIN;
		render_pairs(render_top(v, "data"), &row->rest, NULL);
		return;
	}
	if (strcmp(t, "sample") == 0)
		sample = render_top(v, "data");
	{
		const char *path_cpu[] = { "cpu_percent", NULL },
			   *path_rss[] = { "rss_bytes", NULL };
		const char *path_thr[] = { "threads", NULL }, *path_procs[] = { "processes", NULL };

		snprintf(row->cell[4], RENDER_CELL, "%.1f",
			 num(yajl_tree_get(sample, path_cpu, yajl_t_number)));
		render_size(num(yajl_tree_get(sample, path_rss, yajl_t_number)), row->cell[5],
			    RENDER_CELL);
		render_scalar(yajl_tree_get(sample, path_thr, yajl_t_any), row->cell[6],
			      RENDER_CELL);
		render_scalar(yajl_tree_get(sample, path_procs, yajl_t_any), row->cell[7],
			      RENDER_CELL);
	}
	if (strcmp(t, "sample") == 0) {
		put(&row->rest, event_view_str(v, "source", 1));
		return;
	}
	row->tone = TONE_BAD;
	put(&row->rest, kind);
	put(&row->rest, " ");
	put_figure(kind, render_data(v, "value"), &row->rest);
	put(&row->rest, " > ");
	put_figure(kind, render_data(v, "limit"), &row->rest);
}

/* ---- everything else: TIME TYPE RUNNER PID DETAIL ---- */

static const struct render_column generic_columns[] = {
	{ "TIME", 12 },	    { "TYPE", 20 },  { "RUNNER", 12 },
	{ "PID", 7, true }, { "DETAIL", 0 }, { NULL },
};

static void put_exec_exit(const struct event_view *v, struct render_row *row)
{
	yajl_val sig = render_data(v, "signal_name");
	const char *status = event_view_str(v, "status", 1);
	char text[32];

	row->tone = strcmp(status, "success") == 0 ? TONE_PLAIN : TONE_BAD;
	put(&row->rest, status);
	put(&row->rest, " ");
	put_scalar(&row->rest, YAJL_IS_STRING(sig) ? sig : render_data(v, "exit_code"));
	render_duration(num(render_data(v, "duration_ns")), text, sizeof(text));
	put(&row->rest, " after ");
	put(&row->rest, text);
	put(&row->rest, ": ");
	put_words(&row->rest, render_data(v, "argv"));
}

static void fill_generic(const struct event_view *v, struct render_row *row, void *state)
{
	yajl_val data = render_top(v, "data");

	(void)state;
	render_time(v, row->cell[0]);
	snprintf(row->cell[1], RENDER_CELL, "%s", v->type);
	render_scalar(render_top(v, "runner"), row->cell[2], RENDER_CELL);
	render_scalar(render_top(v, "pid"), row->cell[3], RENDER_CELL);
	if (strcmp(v->type, "exec.line") == 0 || strcmp(v->type, "exec.stderr") == 0) {
		put(&row->rest, event_view_str(v, "line", 1));
	} else if (strcmp(v->type, "exec.exit") == 0) {
		put_exec_exit(v, row);
	} else if (strcmp(v->type, "collector.error") == 0) {
		row->tone = TONE_BAD;
		put(&row->rest, event_view_str(v, "reason", 1));
		put(&row->rest, ": ");
		put(&row->rest, event_view_str(v, "message", 1));
	} else {
		row->tone = strcmp(v->type, "collector.loss") == 0 ? TONE_BAD : TONE_PLAIN;
		render_pairs(data, &row->rest, NULL);
	}
}

const struct render_kind render_kinds[] = {
	{ "process.*", process_columns, fill_process },
	{ "http.*", http_columns, fill_http },
	{ "sse.*", http_columns, fill_http },
	{ "algorithm.*", algorithm_columns, fill_algorithm },
	{ "health.*", health_columns, fill_health },
	{ "*", generic_columns, fill_generic },
};
