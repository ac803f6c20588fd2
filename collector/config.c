/* The JSON configuration file: parsed with yajl_tree, checked field by field. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include <collector/event.h>
#include <collector/log.h>
#include <collector/registry.h>

#include "config.h"
#include "event_queue.h"
#include "suggest.h"

#define CONFIG_MAX_BYTES (4 << 20)

struct loader {
	struct config *cfg;
	config_report_fn report;
	void *arg;
	int problems;
};

static void problem(struct loader *l, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct loader *l, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	l->problems++;
	l->report(l->arg, path, msg);
}

static void *grow(void *arr, int n, size_t elem)
{
	return realloc(arr, elem * ((size_t)n + 1));
}

int config_add_runner(struct config *cfg, const char *name, const char *type, struct options *opts)
{
	struct config_runner *r = grow(cfg->runners, cfg->nrunners, sizeof(*r));

	if (!r) {
		options_free(opts);
		return -ENOMEM;
	}
	cfg->runners = r;
	r += cfg->nrunners++;
	r->name = strdup(name);
	r->type = strdup(type);
	r->opts = opts;
	return r->name && r->type ? 0 : -ENOMEM;
}

int config_add_sink(struct config *cfg, const char *name, const char *type, struct options *opts,
		    size_t max_events, size_t max_bytes, const char *policy)
{
	struct config_sink *s = grow(cfg->sinks, cfg->nsinks, sizeof(*s));

	if (!s) {
		options_free(opts);
		return -ENOMEM;
	}
	cfg->sinks = s;
	s += cfg->nsinks++;
	*s = (struct config_sink){ .name = strdup(name),
				   .type = strdup(type),
				   .opts = opts,
				   .max_events = max_events,
				   .max_bytes = max_bytes,
				   .policy = policy ? strdup(policy) : NULL };
	return s->name && s->type && (!policy || s->policy) ? 0 : -ENOMEM;
}

int config_add_route(struct config *cfg, const char *runner, const char *match, const char *sinks)
{
	struct config_route *r = grow(cfg->routes, cfg->nroutes, sizeof(*r));
	char *list, *save = NULL;

	if (!r)
		return -ENOMEM;
	cfg->routes = r;
	r += cfg->nroutes++;
	*r = (struct config_route){ .runner = runner ? strdup(runner) : NULL,
				    .match = match ? strdup(match) : NULL };
	list = strdup(sinks);
	if (!list)
		return -ENOMEM;
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char **s = grow(r->sinks, r->nsinks, sizeof(*s));

		if (!s || !(s[r->nsinks] = strdup(tok))) {
			free(s ? s : r->sinks);
			r->sinks = NULL;
			r->nsinks = 0;
			free(list);
			return -ENOMEM;
		}
		r->sinks = s;
		r->nsinks++;
	}
	free(list);
	return 0;
}

int config_set_metrics(struct config *cfg, const char *addr)
{
	char *copy = strdup(addr);

	if (!copy)
		return -ENOMEM;
	free(cfg->metrics);
	cfg->metrics = copy;
	return 0;
}

void config_free(struct config *cfg)
{
	free(cfg->metrics);
	free(cfg->log_level);
	for (int i = 0; i < cfg->nrunners; i++) {
		free(cfg->runners[i].name);
		free(cfg->runners[i].type);
		options_free(cfg->runners[i].opts);
	}
	for (int i = 0; i < cfg->nsinks; i++) {
		free(cfg->sinks[i].name);
		free(cfg->sinks[i].type);
		free(cfg->sinks[i].policy);
		options_free(cfg->sinks[i].opts);
	}
	for (int i = 0; i < cfg->nroutes; i++) {
		free(cfg->routes[i].runner);
		free(cfg->routes[i].match);
		for (int j = 0; j < cfg->routes[i].nsinks; j++)
			free(cfg->routes[i].sinks[j]);
		free(cfg->routes[i].sinks);
	}
	free(cfg->runners);
	free(cfg->sinks);
	free(cfg->routes);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- reading values ---- */

/* The text form of a scalar, as the CLI would have given it. */
static const char *scalar_text(yajl_val v)
{
	if (YAJL_IS_STRING(v))
		return YAJL_GET_STRING(v);
	if (YAJL_IS_NUMBER(v))
		return YAJL_GET_NUMBER(v);
	if (YAJL_IS_TRUE(v))
		return "true";
	if (YAJL_IS_FALSE(v))
		return "false";
	return NULL;
}

/* " (did you mean 'NAME'?)" for the option of @o nearest @key, or "". */
static const char *nearest_option(const struct options *o, const char *key, char *out, size_t size)
{
	struct suggestion sg;

	suggest_begin(&sg, key);
	for (const struct option_spec *s = options_specs(o); s && s->name; s++)
		suggest_offer(&sg, s->name);
	return suggest_text(&sg, "", out, size);
}

static void set_option(struct loader *l, struct options *o, const char *path, const char *key,
		       yajl_val v)
{
	char sub[256], hint[96];
	struct error err = { 0 };

	if (YAJL_IS_ARRAY(v)) {
		for (size_t i = 0; i < v->u.array.len; i++) {
			const char *t = scalar_text(v->u.array.values[i]);

			snprintf(sub, sizeof(sub), "%s.%s[%zu]", path, key, i);
			if (!t)
				problem(l, sub, "expected a string");
			else if (options_set(o, key, t, &err) < 0 && err.code == ENOENT)
				problem(l, sub, "unknown option%s",
					nearest_option(o, key, hint, sizeof(hint)));
			else if (err.msg[0])
				problem(l, sub, "%s", err.msg);
		}
		return;
	}
	snprintf(sub, sizeof(sub), "%s.%s", path, key);
	if (!scalar_text(v))
		problem(l, sub, "expected a string, number or boolean");
	else if (options_set(o, key, scalar_text(v), &err) < 0 && err.code == ENOENT)
		problem(l, sub, "unknown option%s", nearest_option(o, key, hint, sizeof(hint)));
	else if (err.msg[0])
		problem(l, sub, "%s", err.msg);
}

static const char *get_string(struct loader *l, yajl_val obj, const char *key, const char *path,
			      bool required)
{
	const char *keys[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, keys, yajl_t_any);
	char sub[256];

	snprintf(sub, sizeof(sub), "%s.%s", path, key);
	if (!v) {
		if (required)
			problem(l, sub, "missing");
		return NULL;
	}
	if (!YAJL_IS_STRING(v)) {
		problem(l, sub, "expected a string");
		return NULL;
	}
	return YAJL_GET_STRING(v);
}

static int64_t get_amount(struct loader *l, yajl_val obj, const char *key, const char *path,
			  int (*parse)(const char *, int64_t *))
{
	const char *keys[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, keys, yajl_t_any);
	char sub[256];
	int64_t out = 0;

	if (!v)
		return 0;
	snprintf(sub, sizeof(sub), "%s.%s", path, key);
	if (!scalar_text(v) || YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v) ||
	    parse(scalar_text(v), &out) < 0)
		problem(l, sub, "invalid value");
	return out;
}

/* ---- sections ---- */

static bool is_one_of(const char *key, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(key, *list) == 0)
			return true;
	return false;
}

static struct options *object_options(struct loader *l, yajl_val obj, const char *path,
				      const struct option_spec *specs, const char *const *reserved)
{
	struct options *o = options_new(specs);
	struct error err = { 0 };

	if (!o) {
		problem(l, path, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < obj->u.object.len; i++) {
		const char *key = obj->u.object.keys[i];

		if (!is_one_of(key, reserved))
			set_option(l, o, path, key, obj->u.object.values[i]);
	}
	if (options_finish(o, &err) < 0)
		problem(l, path, "%s", err.msg);
	return o;
}

static const char *const runner_reserved[] = { "name", "type", NULL };
static const char *const sink_reserved[] = { "name", "type", "queue", NULL };

/* The optional "name" of a runner or sink: at most EVENT_RUNNER_MAX bytes, never cut. */
static const char *get_instance_name(struct loader *l, yajl_val v, const char *path)
{
	const char *name = get_string(l, v, "name", path, false);
	char sub[256];

	if (name && strlen(name) > EVENT_RUNNER_MAX) {
		snprintf(sub, sizeof(sub), "%s.name", path);
		problem(l, sub, "longer than %d bytes", EVENT_RUNNER_MAX);
	}
	return name;
}

static void load_runner(struct loader *l, yajl_val v, const char *path, int index)
{
	const char *type, *name;
	const struct runner_ops *ops;
	char def_name[64];

	if (!YAJL_IS_OBJECT(v)) {
		problem(l, path, "expected an object");
		return;
	}
	type = get_string(l, v, "type", path, true);
	name = get_instance_name(l, v, path);
	if (!type)
		return;
	ops = registry_runner(type);
	if (!ops) {
		char sub[256], hint[96];

		snprintf(sub, sizeof(sub), "%s.type", path);
		problem(l, sub, "unknown runner type '%s'%s", type,
			suggest_runner_type(type, hint, sizeof(hint)));
		return;
	}
	if (!name) {
		snprintf(def_name, sizeof(def_name), index ? "%s%d" : "%s", type, index + 1);
		name = def_name;
	}
	if (config_add_runner(l->cfg, name, type,
			      object_options(l, v, path, ops->options, runner_reserved)) < 0)
		problem(l, path, "out of memory");
}

static void load_sink(struct loader *l, yajl_val v, const char *path, int index)
{
	const char *keys[] = { "queue", NULL };
	const char *type, *name, *policy = NULL;
	const struct sink_ops *ops;
	int64_t events = 0, bytes = 0;
	yajl_val q;
	char def_name[64], sub[256];

	if (!YAJL_IS_OBJECT(v)) {
		problem(l, path, "expected an object");
		return;
	}
	type = get_string(l, v, "type", path, true);
	name = get_instance_name(l, v, path);
	if (!type)
		return;
	ops = registry_sink(type);
	if (!ops) {
		char hint[96];

		snprintf(sub, sizeof(sub), "%s.type", path);
		problem(l, sub, "unknown sink type '%s'%s", type,
			suggest_sink_type(type, hint, sizeof(hint)));
		return;
	}
	q = yajl_tree_get(v, keys, yajl_t_any);
	snprintf(sub, sizeof(sub), "%s.queue", path);
	if (q && !YAJL_IS_OBJECT(q)) {
		problem(l, sub, "expected an object");
	} else if (q) {
		static const char *const queue_keys[] = { "max_events", "max_bytes", "policy",
							  NULL };

		for (size_t i = 0; i < q->u.object.len; i++) {
			char key[320];

			snprintf(key, sizeof(key), "%s.%s", sub, q->u.object.keys[i]);
			if (!is_one_of(q->u.object.keys[i], queue_keys))
				problem(l, key, "unknown key (max_events, max_bytes or policy)");
		}
		events = get_amount(l, q, "max_events", sub, parse_size);
		bytes = get_amount(l, q, "max_bytes", sub, parse_size);
		policy = get_string(l, q, "policy", sub, false);
	}
	if (policy) {
		enum queue_policy p;

		if (queue_policy_parse(policy, &p) < 0) {
			snprintf(sub, sizeof(sub), "%s.queue.policy", path);
			problem(l, sub, "'%s' is not block, drop_oldest or drop_newest", policy);
		}
	}
	if (!name) {
		snprintf(def_name, sizeof(def_name), index ? "%s%d" : "%s", type, index + 1);
		name = def_name;
	}
	if (config_add_sink(l->cfg, name, type,
			    object_options(l, v, path, ops->options, sink_reserved), (size_t)events,
			    (size_t)bytes, policy) < 0)
		problem(l, path, "out of memory");
}

static void load_route(struct loader *l, yajl_val v, const char *path)
{
	const char *keys[] = { "sinks", NULL };
	const char *runner, *match;
	yajl_val sinks;
	char list[1024] = "", sub[256];

	if (!YAJL_IS_OBJECT(v)) {
		problem(l, path, "expected an object");
		return;
	}
	runner = get_string(l, v, "runner", path, false);
	match = get_string(l, v, "match", path, false);
	sinks = yajl_tree_get(v, keys, yajl_t_array);
	snprintf(sub, sizeof(sub), "%s.sinks", path);
	if (!sinks || sinks->u.array.len == 0) {
		problem(l, sub, "expected a non-empty array of sink names");
		return;
	}
	for (size_t i = 0; i < sinks->u.array.len; i++) {
		const char *name = YAJL_GET_STRING(sinks->u.array.values[i]);

		if (!name || strchr(name, ',')) {
			problem(l, sub, "expected sink names");
			return;
		}
		if (i)
			strncat(list, ",", sizeof(list) - strlen(list) - 1);
		strncat(list, name, sizeof(list) - strlen(list) - 1);
	}
	if (config_add_route(l->cfg, runner, match, list) < 0)
		problem(l, path, "out of memory");
}

static void load_array(struct loader *l, yajl_val root, const char *key,
		       void (*each)(struct loader *, yajl_val, const char *, int))
{
	const char *keys[] = { key, NULL };
	yajl_val arr = yajl_tree_get(root, keys, yajl_t_any);
	char path[64];

	if (!arr)
		return;
	snprintf(path, sizeof(path), "$.%s", key);
	if (!YAJL_IS_ARRAY(arr)) {
		problem(l, path, "expected an array");
		return;
	}
	for (size_t i = 0; i < arr->u.array.len; i++) {
		snprintf(path, sizeof(path), "$.%s[%zu]", key, i);
		each(l, arr->u.array.values[i], path, (int)i);
	}
}

static void route_each(struct loader *l, yajl_val v, const char *path, int i)
{
	(void)i;
	load_route(l, v, path);
}

static void load_plugins(struct loader *l, yajl_val root)
{
	const char *keys[] = { "plugins", NULL };
	yajl_val arr = yajl_tree_get(root, keys, yajl_t_any);
	char path[64];

	if (!arr)
		return;
	if (!YAJL_IS_ARRAY(arr)) {
		problem(l, "$.plugins", "expected an array of paths");
		return;
	}
	for (size_t i = 0; i < arr->u.array.len; i++) {
		yajl_val p = arr->u.array.values[i];
		struct error err = { 0 };

		snprintf(path, sizeof(path), "$.plugins[%zu]", i);
		if (!YAJL_IS_STRING(p))
			problem(l, path, "expected a path");
		else if (registry_load_plugin(YAJL_GET_STRING(p), &err) < 0)
			problem(l, path, "%s", err.msg);
	}
}

static char *read_file(const char *path, struct error *err)
{
	FILE *f = fopen(path, "re");
	char *text;
	size_t n;

	if (!f) {
		error_set(err, errno, "cannot open: %s", strerror(errno));
		return NULL;
	}
	text = malloc(CONFIG_MAX_BYTES + 1);
	if (!text) {
		fclose(f);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	n = fread(text, 1, CONFIG_MAX_BYTES + 1, f);
	fclose(f);
	if (n > CONFIG_MAX_BYTES) {
		free(text);
		error_set(err, EFBIG, "larger than %d bytes", CONFIG_MAX_BYTES);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

static bool has_name(const char *name, const void *arr, int n, size_t elem)
{
	for (int i = 0; i < n; i++)
		if (strcmp(*(char *const *)((const char *)arr + (size_t)i * elem), name) == 0)
			return true;
	return false;
}

/* Routes may only name runners and sinks the configuration defines. */
static void check_routes(struct loader *l)
{
	const struct config *cfg = l->cfg;
	char path[64];

	for (int i = 0; i < cfg->nroutes; i++) {
		const struct config_route *r = &cfg->routes[i];

		if (r->runner &&
		    !has_name(r->runner, cfg->runners, cfg->nrunners, sizeof(*cfg->runners))) {
			snprintf(path, sizeof(path), "$.routes[%d].runner", i);
			problem(l, path, "no runner named '%s'", r->runner);
		}
		for (int j = 0; j < r->nsinks; j++) {
			if (has_name(r->sinks[j], cfg->sinks, cfg->nsinks, sizeof(*cfg->sinks)))
				continue;
			snprintf(path, sizeof(path), "$.routes[%d].sinks[%d]", i, j);
			problem(l, path, "no sink named '%s'", r->sinks[j]);
		}
	}
}

static void load_metrics_public(struct loader *l, yajl_val root)
{
	const char *path[] = { "metrics_public", NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_any);

	if (v && !YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		problem(l, "$.metrics_public", "expected true or false");
	l->cfg->metrics_public = YAJL_IS_TRUE(v);
}

static const char *const top_keys[] = {
	"plugins", "shutdown_timeout", "metrics", "metrics_public", "log_level", "runners",
	"sinks",   "routes",	       NULL,
};

/* " (did you mean 'KEY'?)" for the top-level key nearest @key, or "". */
static const char *nearest_key(const char *key, char *out, size_t size)
{
	struct suggestion sg;

	suggest_begin(&sg, key);
	for (const char *const *k = top_keys; *k; k++)
		suggest_offer(&sg, *k);
	return suggest_text(&sg, "", out, size);
}

int config_load(struct config *cfg, const char *path, config_report_fn report, void *arg)
{
	struct error err = { 0 };
	char *text = read_file(path, &err);
	int problems;

	if (!text) {
		report(arg, "$", err.msg);
		return -err.code;
	}
	problems = config_load_text(cfg, text, report, arg);
	free(text);
	return problems;
}

/*
 * Where @text stops being JSON, as "line L, column C" (both from 1): yajl_tree
 * says what is wrong but not where, so parse again with a bare handle, which
 * counts the bytes it took before the error.
 */
static void syntax_error_at(const char *text, char *out, size_t size)
{
	yajl_handle h = yajl_alloc(NULL, NULL, NULL);
	size_t len = strlen(text), at = len;
	unsigned line = 1, column = 1;

	if (h) {
		/* As yajl_tree_parse does. */
		yajl_config(h, yajl_allow_comments, 1);
		if (yajl_parse(h, (const unsigned char *)text, len) != yajl_status_ok)
			at = yajl_get_bytes_consumed(h);
		yajl_free(h);
	}
	/* The byte that failed, not the one after it. */
	if (at > 0 && at <= len && at != len)
		at--;
	for (size_t i = 0; i < at; i++) {
		column = text[i] == '\n' ? 1 : column + 1;
		line += text[i] == '\n';
	}
	snprintf(out, size, "line %u, column %u", line, column);
}

int config_load_text(struct config *cfg, const char *text, config_report_fn report, void *arg)
{
	struct loader l = { .cfg = cfg, .report = report, .arg = arg };
	char errbuf[512];
	const char *metrics, *level;
	enum log_level parsed;
	yajl_val root;

	root = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	if (!root) {
		char where[64];

		errbuf[strcspn(errbuf, "\n")] = '\0';
		syntax_error_at(text, where, sizeof(where));
		problem(&l, where, "invalid JSON: %s", errbuf);
		return l.problems;
	}
	if (!YAJL_IS_OBJECT(root)) {
		problem(&l, "$", "expected an object");
	} else {
		for (size_t i = 0; i < root->u.object.len; i++) {
			char sub[256], hint[96];

			snprintf(sub, sizeof(sub), "$.%s", root->u.object.keys[i]);
			if (!is_one_of(root->u.object.keys[i], top_keys))
				problem(&l, sub, "unknown key%s",
					nearest_key(root->u.object.keys[i], hint, sizeof(hint)));
		}
		load_plugins(&l, root);
		cfg->shutdown_timeout_ns =
			get_amount(&l, root, "shutdown_timeout", "$", parse_duration);
		level = get_string(&l, root, "log_level", "$", false);
		if (level && log_parse_level(level, &parsed) < 0)
			problem(&l, "$.log_level", "'%s' is not error, warn, info or debug", level);
		else if (level && !(cfg->log_level = strdup(level)))
			problem(&l, "$.log_level", "out of memory");
		metrics = get_string(&l, root, "metrics", "$", false);
		if (metrics && config_set_metrics(cfg, metrics) < 0)
			problem(&l, "$.metrics", "out of memory");
		load_metrics_public(&l, root);
		load_array(&l, root, "sinks", load_sink);
		load_array(&l, root, "runners", load_runner);
		load_array(&l, root, "routes", route_each);
		check_routes(&l);
	}
	yajl_tree_free(root);
	return l.problems;
}

int config_apply(struct config *cfg, struct collector *c, struct error *err)
{
	int rc;

	if (cfg->shutdown_timeout_ns)
		collector_set_shutdown_timeout(c, cfg->shutdown_timeout_ns);
	collector_set_http_public(c, cfg->metrics_public);
	if (cfg->metrics && collector_serve_http(c, cfg->metrics, err) < 0)
		return -err->code;
	for (int i = 0; i < cfg->nsinks; i++) {
		struct config_sink *s = &cfg->sinks[i];
		struct queue_limits q = { s->max_events, s->max_bytes, s->policy };

		rc = collector_add_sink(c, s->name, s->type, s->opts, &q, err);
		s->opts = NULL;
		if (rc < 0)
			return rc;
	}
	for (int i = 0; i < cfg->nrunners; i++) {
		struct config_runner *r = &cfg->runners[i];

		rc = collector_add_runner(c, r->name, r->type, r->opts, err);
		r->opts = NULL;
		if (rc < 0)
			return rc;
	}
	for (int i = 0; i < cfg->nroutes; i++) {
		struct config_route *r = &cfg->routes[i];

		rc = collector_add_route(c, r->runner, r->match, r->sinks, r->nsinks, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
