/* The process runner: runs the process BPF loader and turns its lines into process.* events. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include <collector/buffer.h>
#include <collector/log.h>
#include <collector/runner.h>

#include "json_tree.h"
#include "loader_child.h"
#include "process_table.h"

#define LOADER_MAX_LINE ((size_t)64 * 1024)

struct process_runner {
	struct runner_ctx *ctx;
	struct loader_child loader;
	char *argv[32];
	char self[PATH_MAX];
	char numbers[5][24];
	unsigned long long lost;
	struct process_table *table;
	yajl_gen gen;
	struct buffer data; /* what the generator writes */
};

static const struct option_spec process_options[] = {
	{ .name = "pid",
	  .short_name = 'p',
	  .type = OPT_INT,
	  .def = "0",
	  .help = "only this process (with --tree: and its descendants)" },
	{ .name = "tree", .type = OPT_BOOL, .help = "follow forks of --pid: its whole subtree" },
	{ .name = "comm",
	  .short_name = 'c',
	  .type = OPT_STRING,
	  .help = "only processes with this command name (at most 15 characters)" },
	{ .name = "uid",
	  .short_name = 'u',
	  .type = OPT_INT,
	  .def = "-1",
	  .help = "only processes of this user id" },
	{ .name = "cgroup",
	  .type = OPT_STRING,
	  .help = "only processes in this cgroup v2 directory" },
	{ .name = "threads", .type = OPT_BOOL, .help = "also report the exits of single threads" },
	{ .name = "max-args", .type = OPT_INT, .def = "64", .help = "argv words kept per exec" },
	{ .name = "flush-interval",
	  .type = OPT_DURATION,
	  .def = "10ms",
	  .help = "longest an event waits in the loader so that a burst crosses the pipe in "
		  "batches (0: at once)" },
	{ .name = "max-args-bytes",
	  .type = OPT_SIZE,
	  .def = "4096",
	  .help = "argv bytes captured per exec (at most 4096)" },
	{ .name = "table-size",
	  .type = OPT_INT,
	  .def = "16384",
	  .help = "processes remembered so that an exit carries its exec's filename and argv" },
	{ .name = "loader",
	  .type = OPT_STRING,
	  .help = "loader program (default: this binary's hidden `loader process`)" },
	{ 0 },
};

static void print_to_buffer(void *ctx, const char *s, size_t len)
{
	buffer_append(ctx, s, len);
}

static yajl_val member(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };

	return yajl_tree_get(obj, path, yajl_t_any);
}

static long long int_member(yajl_val obj, const char *key, long long def)
{
	yajl_val v = member(obj, key);

	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : def;
}

static bool is_envelope(const char *key)
{
	static const char *const keys[] = { "type", "ts_ns", "pid", "tid", "ppid", "comm" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

/* The members of @p obj that are not envelope fields, as "k":v,"k":v (no braces). */
static void gen_members(struct process_runner *r, yajl_val obj)
{
	yajl_gen_reset(r->gen, NULL);
	r->data.len = 0;
	yajl_gen_map_open(r->gen);
	for (size_t i = 0; i < obj->u.object.len; i++) {
		if (is_envelope(obj->u.object.keys[i]))
			continue;
		yajl_gen_string(r->gen, (const unsigned char *)obj->u.object.keys[i],
				strlen(obj->u.object.keys[i]));
		json_tree_gen(r->gen, obj->u.object.values[i]);
	}
	yajl_gen_map_close(r->gen);
}

/* Remember filename and argv of an exec for the process's exit. */
static void remember_exec(struct process_runner *r, pid_t pid, yajl_val obj)
{
	yajl_gen_reset(r->gen, NULL);
	r->data.len = 0;
	yajl_gen_map_open(r->gen);
	yajl_gen_string(r->gen, (const unsigned char *)"filename", 8);
	json_tree_gen(r->gen, member(obj, "filename"));
	yajl_gen_string(r->gen, (const unsigned char *)"argv", 4);
	json_tree_gen(r->gen, member(obj, "argv"));
	yajl_gen_map_close(r->gen);
	/* Keep the members without the braces so they splice into an exit's data. */
	if (r->data.len > 2)
		process_table_put(r->table, pid, r->data.data + 1, r->data.len - 2);
}

/* Splice the remembered exec members into an exit's data object. */
static int add_exec_info(struct process_runner *r, pid_t pid)
{
	size_t len;
	const char *json = process_table_get(r->table, pid, &len);

	if (!json || r->data.len < 2)
		return 0;
	r->data.len--; /* the closing brace */
	if ((r->data.len > 1 && buffer_append(&r->data, ",", 1) < 0) ||
	    buffer_append(&r->data, json, len) < 0 || buffer_append(&r->data, "}", 1) < 0)
		return -ENOMEM;
	return 1;
}

static void emit(struct process_runner *r, const char *type, yajl_val obj)
{
	yajl_val comm = member(obj, "comm");
	struct event *ev;
	long long ts = int_member(obj, "ts_ns", 0);

	ev = event_new(span_str(type),
		       span_str(comm && YAJL_IS_STRING(comm) ? comm->u.string : NULL),
		       (struct span){ r->data.data, r->data.len });
	if (!ev) {
		runner_emit_failed(r->ctx, type);
		return;
	}
	ev->ts_ns = ts;
	if (member(obj, "pid")) {
		event_set_pid(ev, (int32_t)int_member(obj, "pid", 0));
		ev->tid = (int32_t)int_member(obj, "tid", 0);
		ev->ppid = (int32_t)int_member(obj, "ppid", 0);
		ev->flags |= EVENT_HAS_TID | EVENT_HAS_PPID;
	}
	runner_emit(r->ctx, ev);
}

static void handle_loss(struct process_runner *r, yajl_val obj)
{
	unsigned long long count = (unsigned long long)int_member(obj, "count", 0);
	char data[160];
	int n;
	struct event *ev;

	if (count <= r->lost)
		return;
	n = snprintf(data, sizeof(data),
		     "{\"source\":\"process ring buffer\",\"dropped\":%llu,\"dropped_total\":%llu}",
		     count - r->lost, count);
	r->lost = count;
	ev = event_new(span_str("collector.loss"), (struct span){ 0 },
		       (struct span){ data, (size_t)n });
	if (ev)
		runner_emit(r->ctx, ev);
}

static void on_loader_line(void *arg, const struct line *l)
{
	struct process_runner *r = arg;
	char errbuf[128], *text = strndup(l->ptr, l->len);
	yajl_val obj = text ? yajl_tree_parse(text, errbuf, sizeof(errbuf)) : NULL;
	yajl_val type = obj ? member(obj, "type") : NULL;
	const char *t = type && YAJL_IS_STRING(type) ? type->u.string : "";
	pid_t pid;

	free(text);
	if (!obj || !YAJL_IS_OBJECT(obj)) {
		runner_report_error(r->ctx, "invalid_json", l->number, l->offset, l->ptr, l->len,
				    "process loader line %llu is not a JSON object",
				    (unsigned long long)l->number);
		yajl_tree_free(obj);
		return;
	}
	pid = (pid_t)int_member(obj, "pid", 0);
	if (strcmp(t, "loss") == 0) {
		handle_loss(r, obj);
	} else if (strcmp(t, "ready") == 0) {
		r->data.len = 0;
		buffer_append(&r->data, "{\"loader\":\"process\"}", 20);
		emit(r, "process.ready", obj);
	} else if (strcmp(t, "exec") == 0 || strcmp(t, "fork") == 0 || strcmp(t, "exit") == 0) {
		bool process_exit = strcmp(t, "exit") == 0 && !YAJL_IS_TRUE(member(obj, "thread"));
		char name[32];

		if (strcmp(t, "exec") == 0)
			remember_exec(r, pid, obj);
		gen_members(r, obj);
		if (process_exit) {
			add_exec_info(r, pid);
			process_table_remove(r->table, pid);
		}
		snprintf(name, sizeof(name), "process.%s", t);
		emit(r, name, obj);
	}
	yajl_tree_free(obj);
}

static void process_metrics(void *self, struct metrics_writer *w)
{
	struct process_runner *r = self;

	metrics_add(w, METRIC_COUNTER, "collector_runner_kernel_lost_total",
		    "events the BPF program could not put in its ring buffer", (double)r->lost);
	metrics_add(w, METRIC_GAUGE, "collector_runner_process_table_entries",
		    "processes whose exec the process runner remembers",
		    (double)process_table_count(r->table));
	metrics_add(w, METRIC_COUNTER, "collector_runner_process_table_evicted_total",
		    "processes forgotten to keep the table bounded",
		    (double)process_table_evicted(r->table));
	loader_child_metrics(&r->loader, w);
}

static void process_destroy(void *self);

/* The loader's command line from the runner's options. */
static int build_argv(struct process_runner *r, const struct options *opts, struct error *err)
{
	int n = 0;
	const char *loader = options_str(opts, "loader");
	ssize_t len;

	if (loader) {
		r->argv[n++] = (char *)loader;
	} else {
		len = readlink("/proc/self/exe", r->self, sizeof(r->self) - 1);
		if (len <= 0)
			return error_set(err, errno, "cannot find this binary: %s",
					 strerror(errno));
		r->self[len] = '\0';
		r->argv[n++] = r->self;
		r->argv[n++] = "loader";
		r->argv[n++] = "process";
	}
	if (options_int(opts, "pid") > 0) {
		snprintf(r->numbers[0], sizeof(r->numbers[0]), "%lld",
			 (long long)options_int(opts, "pid"));
		r->argv[n++] = "--pid";
		r->argv[n++] = r->numbers[0];
	}
	if (options_bool(opts, "tree")) {
		if (options_int(opts, "pid") <= 0)
			return error_set(err, EINVAL, "--tree needs --pid");
		r->argv[n++] = "--tree";
	}
	if (options_int(opts, "uid") >= 0) {
		snprintf(r->numbers[1], sizeof(r->numbers[1]), "%lld",
			 (long long)options_int(opts, "uid"));
		r->argv[n++] = "--uid";
		r->argv[n++] = r->numbers[1];
	}
	if (options_str(opts, "comm")) {
		if (strlen(options_str(opts, "comm")) > 15)
			return error_set(err, EINVAL,
					 "--comm: at most 15 characters (the kernel's limit)");
		r->argv[n++] = "--comm";
		r->argv[n++] = (char *)options_str(opts, "comm");
	}
	if (options_str(opts, "cgroup")) {
		r->argv[n++] = "--cgroup";
		r->argv[n++] = (char *)options_str(opts, "cgroup");
	}
	if (options_bool(opts, "threads"))
		r->argv[n++] = "--threads";
	snprintf(r->numbers[2], sizeof(r->numbers[2]), "%lld",
		 (long long)options_int(opts, "max-args"));
	snprintf(r->numbers[3], sizeof(r->numbers[3]), "%lld",
		 (long long)options_int(opts, "max-args-bytes"));
	r->argv[n++] = "--max-args";
	r->argv[n++] = r->numbers[2];
	r->argv[n++] = "--max-args-bytes";
	r->argv[n++] = r->numbers[3];
	snprintf(r->numbers[4], sizeof(r->numbers[4]), "%lld",
		 (long long)(options_int(opts, "flush-interval") / 1000000));
	r->argv[n++] = "--flush-ms";
	r->argv[n++] = r->numbers[4];
	r->argv[n] = NULL;
	return 0;
}

static void *process_create(struct runner_ctx *ctx, const struct options *opts, struct error *err)
{
	struct process_runner *r;
	int64_t bytes = options_int(opts, "max-args-bytes");

	if (bytes < 1 || bytes > 4096 || options_int(opts, "max-args") < 0 ||
	    options_int(opts, "table-size") < 1) {
		error_set(err, EINVAL,
			  "--max-args-bytes must be 1..4096, --max-args >= 0, --table-size >= 1");
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	r->ctx = ctx;
	if (loader_child_init(&r->loader, ctx, "process", LOADER_MAX_LINE, on_loader_line, r, err) <
	    0) {
		free(r);
		return NULL;
	}
	r->table = process_table_new((size_t)options_int(opts, "table-size"));
	r->gen = yajl_gen_alloc(NULL);
	if (!r->table || !r->gen) {
		process_destroy(r);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	yajl_gen_config(r->gen, yajl_gen_print_callback, print_to_buffer, &r->data);
	if (build_argv(r, opts, err) < 0) {
		process_destroy(r);
		return NULL;
	}
	return r;
}

static int process_start(void *self, struct error *err)
{
	struct process_runner *r = self;
	return loader_child_start(&r->loader, r->argv, err);
}

static void process_stop(void *self)
{
	struct process_runner *r = self;

	loader_child_stop(&r->loader);
}

static void process_resume(void *self)
{
	struct process_runner *r = self;

	loader_child_resume(&r->loader);
}

static void process_destroy(void *self)
{
	struct process_runner *r = self;

	loader_child_free(&r->loader);
	process_table_free(r->table);
	if (r->gen)
		yajl_gen_free(r->gen);
	buffer_free(&r->data);
	free(r);
}

const struct runner_ops process_runner_ops = {
	.name = "process",
	.summary = "process exec, fork and exit events from BPF tracepoints",
	.options = process_options,
	.create = process_create,
	.start = process_start,
	.stop = process_stop,
	.resume = process_resume,
	.destroy = process_destroy,
	.metrics = process_metrics,
};
