/* The process runner: runs the process BPF loader and turns its lines into process.* events. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <collector/buffer.h>
#include <collector/log.h>
#include <collector/runner.h>

#include "cgroup_filter.h"
#include "held_command.h"
#include "loader_child.h"
#include "process_loader.h"
#include "process_line.h"
#include "process_table.h"

#define LOADER_MAX_LINE ((size_t)64 * 1024)

struct process_runner {
	struct runner_ctx *ctx;
	const struct options *opts; /* the runner's, alive as long as it */
	struct loader_child loader;
	struct held_command command; /* `process -- CMD`: held until the loader is ready */
	char *const *argv;	     /* that command, or NULL */
	struct process_table *table;
	struct process_line_decoder decoder;
	struct buffer exec_info; /* an exec's struct exec_info, for the table */
};

static const struct option_spec process_options[] = {
	{ .name = "command",
	  .type = OPT_ARGV,
	  .help = "a command to start and trace with its descendants (as bpftrace -c); the run "
		  "ends when it exits" },
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
	  .type = OPT_STRING,
	  .help = "only processes of this user (a name or a number)" },
	CGROUP_FILTER_OPTIONS,
	{ .name = "fails",
	  .short_name = 'x',
	  .type = OPT_BOOL,
	  .help = "also report failed execs: process.exec with ret < 0 (as execsnoop -x)" },
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
	{ .name = "verbose",
	  .type = OPT_BOOL,
	  .help = "the loader's libbpf debug output as log lines" },
	{ 0 },
};

/* What the table keeps of an exec: the JSON values of filename, then of argv, after this. */
struct exec_info {
	size_t filename_len;
	size_t argv_len;
};

/* Remember filename and argv of an exec for the process's exit. */
static void remember_exec(struct process_runner *r, pid_t pid, const struct process_line *l)
{
	const char *data = l->data.data;
	struct exec_info info = { l->filename_len, l->argv_len };

	if (!info.filename_len && !info.argv_len)
		return;
	r->exec_info.len = 0;
	if (buffer_append(&r->exec_info, &info, sizeof(info)) == 0 &&
	    buffer_append(&r->exec_info, data + l->filename_at, l->filename_len) == 0 &&
	    buffer_append(&r->exec_info, data + l->argv_at, l->argv_len) == 0)
		process_table_put(r->table, pid, r->exec_info.data, r->exec_info.len);
}

/* Add the remembered exec members to an exit's (open) data object. */
static void add_exec_info(struct process_line_decoder *d, const struct process_table *table,
			  pid_t pid)
{
	size_t len;
	const char *bytes = process_table_get(table, pid, &len);
	struct exec_info info;

	if (!bytes || len < sizeof(info))
		return;
	memcpy(&info, bytes, sizeof(info));
	bytes += sizeof(info);
	if (info.filename_len)
		process_line_add_raw(d, "filename", bytes, info.filename_len);
	if (info.argv_len)
		process_line_add_raw(d, "argv", bytes + info.filename_len, info.argv_len);
}

static void emit(struct process_runner *r, const char *type, const struct process_line *l,
		 struct span data)
{
	struct event *ev;

	ev = event_new(span_str(type), span_str(l->has_comm ? l->comm : NULL), data);
	if (!ev) {
		runner_emit_failed(r->ctx, type);
		return;
	}
	ev->ts_ns = l->ts_ns;
	if (l->has_pid) {
		event_set_pid(ev, (int32_t)l->pid);
		ev->tid = (int32_t)l->tid;
		ev->ppid = (int32_t)l->ppid;
		ev->flags |= EVENT_HAS_TID | EVENT_HAS_PPID;
	}
	runner_emit(r->ctx, ev);
}

static void on_loader_line(void *arg, const struct line *l)
{
	struct process_runner *r = arg;
	struct process_line *pl = &r->decoder.line;
	char why[128];
	const char *t = pl->type;
	pid_t pid;

	if (process_line_decode(&r->decoder, l->ptr, l->len, why, sizeof(why)) < 0) {
		runner_report_error(r->ctx, "invalid_json", l->number, l->offset, l->ptr, l->len,
				    "process loader line %llu is not a JSON object: %s",
				    (unsigned long long)l->number, why);
		return;
	}
	pid = (pid_t)pl->pid;
	if (strcmp(t, "loss") == 0) {
		loader_child_report_loss(&r->loader, (unsigned long long)pl->count);
	} else if (strcmp(t, "ready") == 0) {
		/* Tracing has begun: the command may exec now, nothing of it is missed. */
		held_command_release(&r->command);
		/* The loader's {"type":"ready","loader":"process"} without its type. */
		if (process_line_close(&r->decoder) == 0)
			emit(r, "process.ready", pl, (struct span){ pl->data.data, pl->data.len });
		else
			runner_emit_failed(r->ctx, "process.ready");
	} else if (strcmp(t, "exec") == 0 || strcmp(t, "fork") == 0 || strcmp(t, "exit") == 0) {
		bool process_exit = strcmp(t, "exit") == 0 && !pl->thread;
		char name[32];

		if (strcmp(t, "exec") == 0)
			remember_exec(r, pid, pl);
		if (process_exit) {
			add_exec_info(&r->decoder, r->table, pid);
			process_table_remove(r->table, pid);
		}
		snprintf(name, sizeof(name), "process.%s", t);
		if (process_line_close(&r->decoder) == 0)
			emit(r, name, pl, (struct span){ pl->data.data, pl->data.len });
		else
			runner_emit_failed(r->ctx, name);
	}
}

static void process_metrics(void *self, struct metrics_writer *w)
{
	struct process_runner *r = self;

	metrics_add(w, METRIC_COUNTER, "collector_runner_kernel_lost_total",
		    "events the BPF program could not put in its ring buffer",
		    (double)r->loader.lost_reported);
	metrics_add(w, METRIC_GAUGE, "collector_runner_process_table_entries",
		    "processes whose exec the process runner remembers",
		    (double)process_table_count(r->table));
	metrics_add(w, METRIC_COUNTER, "collector_runner_process_table_evicted_total",
		    "processes forgotten to keep the table bounded",
		    (double)process_table_evicted(r->table));
	loader_child_metrics(&r->loader, w);
}

static void process_destroy(void *self);

/* The traced command ended: so does the run, once the loader drained its last events. */
static void on_command_end(void *arg)
{
	struct process_runner *r = arg;

	/* Stopped first (a signal): the run was canceled, not done. */
	if (!r->loader.stopping)
		loader_child_end(&r->loader);
}

static void *process_create(struct runner_ctx *ctx, const struct options *opts, struct error *err)
{
	struct process_runner *r;

	if (process_options_check(opts, err) < 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r) {
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	r->ctx = ctx;
	r->opts = opts;
	r->argv = options_list(opts, "command", NULL);
	held_command_init(&r->command, runner_loop(ctx), on_command_end, r);
	if (r->argv && held_command_find(&r->command, r->argv, err) < 0) {
		free(r);
		return NULL;
	}
	if (loader_child_init(&r->loader, ctx, "process", LOADER_MAX_LINE, on_loader_line, r, err) <
	    0) {
		free(r);
		return NULL;
	}
	r->table = process_table_new((size_t)options_int(opts, "table-size"));
	if (!r->table || process_line_decoder_init(&r->decoder) < 0) {
		process_destroy(r);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	if (!r->argv && loader_child_argv(&r->loader, opts, NULL, err) < 0) {
		process_destroy(r);
		return NULL;
	}
	return r;
}

/* `process -- CMD`: fork the command held, then trace its pid and its descendants. */
static int start_command(struct process_runner *r, struct error *err)
{
	char pid[32];
	const char *extra[] = { pid, "--tree", NULL };

	if (held_command_start(&r->command, r->argv, err) < 0)
		return -1;
	snprintf(pid, sizeof(pid), "--pid=%d", (int)r->command.pid);
	return loader_child_argv(&r->loader, r->opts, extra, err);
}

static int process_start(void *self, struct error *err)
{
	struct process_runner *r = self;

	if (r->argv && start_command(r, err) < 0)
		return -1;
	return loader_child_start(&r->loader, err);
}

static void process_stop(void *self)
{
	struct process_runner *r = self;

	held_command_signal(&r->command, SIGTERM);
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

	held_command_free(&r->command);
	loader_child_free(&r->loader);
	process_table_free(r->table);
	process_line_decoder_free(&r->decoder);
	buffer_free(&r->exec_info);
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
	.loader_main = process_loader_main,
};
