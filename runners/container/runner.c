/* The container runner: a task in a container through the Docker Engine API, its lines as events, its end as container.exit. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <ev.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include <collector/child.h>
#include <collector/clock.h>
#include <collector/event_encoder.h>
#include <collector/log.h>
#include <collector/runner.h>

#include "../exec_health.h"
#include "../exec_lines.h"
#include "docker_api.h"
#include "mux.h"

#define DEFAULT_SOCKET "/var/run/docker.sock"
/* After the container's end, how long its attach stream may take to close. */
#define DRAIN_S 2.
/* Blocking cleanup in destroy(), when the loop is gone. */
#define CLEANUP_TIMEOUT_S 15L

enum phase { IDLE, PULLING, CREATING, ATTACHING, STARTING, RUNNING, FINISHING, REMOVING, DONE };

struct container_runner {
	struct runner_ctx *ctx;
	struct ev_loop *loop;
	const struct options *opts;
	const char *image;
	char *const *argv; /* NULL: the image's CMD */
	bool keep;
	int64_t timeout_ns, grace_ns;
	struct docker docker;
	struct docker_call pull, create, attach, start, wait, inspect, stop, kill, remove;
	enum phase phase;
	char id[80];
	pid_t pid; /* the container's first process, seen from here; 0 before */
	struct mux mux;
	struct line_framer out, err;
	struct exec_lines lines;
	struct exec_health *health;
	ev_timer timeout_w, drain_w, start_w;
	bool stopping, timed_out, waited, attach_over, stop_sent, killed;
	long exit_code; /* -1 unknown */
	bool oom_killed;
	char error[512];
	int64_t start_ns, start_mono_ns;
};

static const struct option_spec container_options[] = {
	{ .name = "image", .type = OPT_STRING, .required = true, .help = "the image to run" },
	{ .name = "command",
	  .type = OPT_ARGV,
	  .help = "the command and its arguments (default: the image's CMD)" },
	{ .name = "env",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "NAME=VALUE in the container's environment (repeatable)" },
	{ .name = "volume",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "HOST:CONTAINER[:ro] bind mount (repeatable)" },
	{ .name = "memory",
	  .type = OPT_SIZE,
	  .def = "0",
	  .help = "memory limit, swap included (0: none); past it the OOM killer ends the task" },
	{ .name = "cpus",
	  .type = OPT_STRING,
	  .help = "CPUs it may use, e.g. 0.5 (default: no limit)" },
	{ .name = "network",
	  .type = OPT_STRING,
	  .help = "none, or a network's name (default: the daemon's)" },
	{ .name = "user", .type = OPT_STRING, .help = "user (and :group) in the container" },
	{ .name = "name",
	  .type = OPT_STRING,
	  .help = "the container's name (default: the daemon's)" },
	{ .name = "pull", .type = OPT_BOOL, .help = "pull the image first" },
	{ .name = "keep", .type = OPT_BOOL, .help = "do not remove the container at the end" },
	{ .name = "socket",
	  .type = OPT_STRING,
	  .def = DEFAULT_SOCKET,
	  .help = "the daemon's unix socket (Podman: /run/podman/podman.sock)" },
	{ .name = "timeout",
	  .type = OPT_DURATION,
	  .def = "0",
	  .help = "stop the container after this long (0: never)" },
	{ .name = "grace",
	  .type = OPT_DURATION,
	  .def = "5s",
	  .help = "time between SIGTERM and SIGKILL when stopping (whole seconds, rounded up)" },
	{ .name = "format",
	  .type = OPT_ENUM,
	  .def = "auto",
	  .choices = "auto|json|text",
	  .help = "stdout lines: JSON objects, plain text, or auto (JSON when it parses)" },
	{ .name = "max-line",
	  .type = OPT_SIZE,
	  .def = "1MiB",
	  .help = "longest line; the rest of a longer one is discarded and reported" },
	EXEC_HEALTH_OPTIONS,
	{ 0 },
};

static void fail(struct container_runner *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void finish_run(struct container_runner *r);
static void call(struct container_runner *r, struct docker_call *c, const char *what,
		 docker_done_fn done, const char *method, const char *path, const char *json);
static void send_stop(struct container_runner *r);

/* ---- output ---- */

static void take_lines(struct container_runner *r, struct line_framer *f, bool is_stderr)
{
	struct line l;

	while (line_framer_next(f, &l))
		exec_lines_take(&r->lines, is_stderr, &l);
}

static void on_stream(void *arg, bool is_stderr, const char *p, size_t n)
{
	struct container_runner *r = arg;
	struct line_framer *f = is_stderr ? &r->err : &r->out;

	while (n) {
		size_t took = line_framer_feed(f, p, n);

		p += took;
		n -= took;
		take_lines(r, f, is_stderr);
	}
}

/* A full block-policy sink pauses the attach stream: the daemon buffers, then the container blocks. */
static bool on_attach_data(void *arg, const char *p, size_t n)
{
	struct container_runner *r = arg;

	if (!runner_can_emit(r->ctx))
		return false;
	mux_feed(&r->mux, p, n, on_stream, r);
	return true;
}

static void end_streams(struct container_runner *r)
{
	line_framer_finish(&r->out);
	line_framer_finish(&r->err);
	take_lines(r, &r->out, false);
	take_lines(r, &r->err, true);
}

/* ---- the end ---- */

static int wait_status_of(const struct container_runner *r)
{
	/* The daemon says 128+N for a process killed by signal N, as a shell does. */
	if (r->exit_code > 128 && r->exit_code < 128 + 65)
		return (int)(r->exit_code - 128) & 0x7f;
	return (int)((r->exit_code & 0xff) << 8);
}

static enum runner_status run_status(const struct container_runner *r)
{
	if (r->error[0])
		return RUNNER_ERROR;
	if (r->timed_out)
		return RUNNER_TIMEOUT;
	if (r->stopping)
		return RUNNER_CANCELED;
	return r->exit_code == 0 ? RUNNER_SUCCESS : RUNNER_FAILED;
}

static void put_time(struct event_builder *b, const char *key, int64_t ns)
{
	char ts[40];

	event_builder_strn(b, key, ts, format_rfc3339_ns(ns, ts));
}

/* A node's lifecycle fields (seed 003's containers/ready): the container is its Docker id. */
static void put_node(struct container_runner *r, struct event_builder *b)
{
	if (!runner_node_id(r->ctx))
		return;
	event_builder_str(b, "node_id", runner_node_id(r->ctx));
	event_builder_str(b, "container_id", r->id[0] ? r->id : NULL);
	event_builder_null(b, "session_id");
	event_builder_null(b, "executor_url");
}

static void emit_exit(struct container_runner *r, enum runner_status st)
{
	struct event_builder *b = r->lines.eb;
	int ws = wait_status_of(r);
	char sig[16];

	event_builder_begin(b);
	event_builder_str(b, "status", runner_status_name(st));
	if (r->exit_code >= 0)
		event_builder_int(b, "exit_code", r->exit_code);
	else
		event_builder_null(b, "exit_code");
	if (r->exit_code >= 0 && WIFSIGNALED(ws)) {
		event_builder_int(b, "signal", WTERMSIG(ws));
		event_builder_str(b, "signal_name", signal_name(WTERMSIG(ws), sig));
	} else {
		event_builder_null(b, "signal");
	}
	event_builder_bool(b, "oom_killed", r->oom_killed);
	if (r->start_ns) {
		put_time(b, "start", r->start_ns);
		put_time(b, "end", clock_wall_ns());
		event_builder_int(b, "duration_ns", clock_mono_ns() - r->start_mono_ns);
	}
	event_builder_open_object(b, "counters");
	event_builder_uint(b, "stdout_lines", r->lines.n.stdout_lines);
	event_builder_uint(b, "stderr_lines", r->lines.n.stderr_lines);
	event_builder_uint(b, "events", r->lines.n.events);
	event_builder_uint(b, "errors", r->lines.n.errors);
	event_builder_uint(b, "stdout_bytes", r->out.stats.bytes);
	event_builder_uint(b, "stderr_bytes", r->err.stats.bytes);
	event_builder_close_object(b);
	event_builder_str(b, "error", r->error[0] ? r->error : NULL);
	event_builder_bool(b, "stop_sent", r->stop_sent);
	event_builder_bool(b, "kill_sent", r->killed);
	event_builder_str(b, "image", r->image);
	event_builder_str(b, "id", r->id[0] ? r->id : NULL);
	event_builder_bool(b, "removed", r->id[0] && !r->keep && r->phase == DONE);
	put_node(r, b);
	exec_health_put_exit(r->health, b);
	event_builder_open_array(b, "argv");
	for (char *const *a = r->argv; a && *a; a++)
		event_builder_str(b, NULL, *a);
	event_builder_close_array(b);
	event_builder_emit(b, r->ctx, "container.exit", r->pid);
}

/* The container's own members of a crash report: what ran where, what it said last, how it was stopped. */
static bool describe_crash(void *arg, struct event_builder *b, const char **kill_reason)
{
	struct container_runner *r = arg;
	int ws = wait_status_of(r);

	(void)kill_reason;
	event_builder_str(b, "image", r->image);
	event_builder_str(b, "container_id", r->id);
	event_builder_open_array(b, "argv");
	for (char *const *a = r->argv; a && *a; a++)
		event_builder_str(b, NULL, *a);
	event_builder_close_array(b);
	event_builder_int(b, "uptime_ms", (clock_mono_ns() - r->start_mono_ns) / 1000000);
	exec_lines_put_tail(&r->lines, b);
	event_builder_open_object(b, "limits");
	event_builder_int(b, "memory_mb", options_int(r->opts, "memory") / (1024LL * 1024));
	event_builder_close_object(b);
	event_builder_open_object(b, "stop");
	event_builder_bool(b, "requested", r->stopping);
	event_builder_bool(b, "timed_out", r->timed_out);
	event_builder_int(b, "grace_ms", r->grace_ns / 1000000);
	event_builder_bool(b, "escalated_to_sigkill",
			   r->stop_sent && WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	event_builder_close_object(b);
	return true;
}

static void report_crash(struct container_runner *r)
{
	const struct exec_crash c = {
		.type = "container.crash",
		.wait_status = wait_status_of(r),
		.oom_killed = r->oom_killed,
		.requested_stop = r->stopping,
		.kill_reason = r->timed_out ? "timeout" :
			       r->killed    ? "kill" :
					      NULL,
		.describe = describe_crash,
		.arg = r,
	};

	exec_health_crash(r->health, r->pid, &c);
}

static void finished(struct container_runner *r)
{
	enum runner_status st = run_status(r);

	r->phase = DONE;
	ev_timer_stop(r->loop, &r->timeout_w);
	ev_timer_stop(r->loop, &r->drain_w);
	/* One that ended before the watch (pid 0) has its report from the daemon's word alone. */
	if (r->pid > 0 || r->exit_code >= 0) {
		exec_health_reaped(r->health, r->pid, wait_status_of(r));
		report_crash(r);
	}
	emit_exit(r, st);
	runner_finished(r->ctx, st);
}

static void on_removed(void *arg, struct docker_call *c)
{
	struct container_runner *r = arg;
	char why[512];

	/* 404: it is gone already (removed by someone else): nothing is left either way. */
	if (c->rc != CURLE_OK || (c->status != 204 && c->status != 404)) {
		log_warn("%s: container %.12s was not removed: %s", runner_name(r->ctx), r->id,
			 docker_call_error(&r->docker, c, why, sizeof(why)));
		if (!r->error[0])
			snprintf(r->error, sizeof(r->error), "%s", why);
		r->keep = true; /* not removed: say so, do not try again in destroy() */
	}
	finished(r);
}

/* Remove it (and its anonymous volumes) unless --keep, then report. */
static void finish_run(struct container_runner *r)
{
	char path[160];

	if (r->phase == REMOVING || r->phase == DONE)
		return;
	docker_call_release(&r->docker, &r->attach);
	end_streams(r);
	if (!r->id[0] || r->keep) {
		finished(r);
		return;
	}
	r->phase = REMOVING;
	snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", r->id);
	call(r, &r->remove, "remove", on_removed, "DELETE", path, NULL);
}

static void fail(struct container_runner *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->error[0]) {
		va_start(ap, fmt);
		vsnprintf(r->error, sizeof(r->error), fmt, ap);
		va_end(ap);
		log_error("%s: %s", runner_name(r->ctx), r->error);
	}
	finish_run(r);
}

static void call(struct container_runner *r, struct docker_call *c, const char *what,
		 docker_done_fn done, const char *method, const char *path, const char *json)
{
	struct error err = { 0 };

	snprintf(c->what, sizeof(c->what), "%s", what);
	c->done = done;
	c->arg = r;
	if (docker_call_start(&r->docker, c, method, path, json, &err) < 0) {
		if (c == &r->remove) {
			r->keep = true;
			finished(r);
			return;
		}
		fail(r, "%s: %s", what, err.msg);
	}
}

/* The daemon's answer was not @p want: fail with its message. */
static bool answered(struct container_runner *r, struct docker_call *c, long want, long also)
{
	char why[512];

	if (c->rc == CURLE_OK && (c->status == want || c->status == also))
		return true;
	fail(r, "%s", docker_call_error(&r->docker, c, why, sizeof(why)));
	return false;
}

static yajl_val parse_answer(struct docker_call *c)
{
	if (buffer_append(&c->answer, "", 1) < 0)
		return NULL;
	return yajl_tree_parse(c->answer.data, NULL, 0);
}

/* ---- the steps: inspect at the end, wait, start, attach, create, pull ---- */

static void on_final_inspect(void *arg, struct docker_call *c)
{
	struct container_runner *r = arg;
	static const char *oom[] = { "State", "OOMKilled", NULL };
	static const char *code[] = { "State", "ExitCode", NULL };
	yajl_val v = c->status == 200 ? parse_answer(c) : NULL, x;

	if (v && (x = yajl_tree_get(v, oom, yajl_t_any)))
		r->oom_killed = YAJL_IS_TRUE(x);
	if (v && (x = yajl_tree_get(v, code, yajl_t_number)) && r->exit_code < 0)
		r->exit_code = (long)YAJL_GET_INTEGER(x);
	yajl_tree_free(v);
	finish_run(r);
}

/* Both the wait and the stream are over: read the end's details. */
static void maybe_done(struct container_runner *r)
{
	char path[128];

	if (!r->waited || !r->attach_over || r->phase != RUNNING)
		return;
	r->phase = FINISHING;
	ev_timer_stop(r->loop, &r->drain_w);
	snprintf(path, sizeof(path), "/containers/%s/json", r->id);
	call(r, &r->inspect, "inspect", on_final_inspect, "GET", path, NULL);
}

static void on_drain(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct container_runner *r = w->data;

	(void)loop;
	(void)revents;
	r->attach_over = true;
	maybe_done(r);
}

static void on_wait(void *arg, struct docker_call *c)
{
	struct container_runner *r = arg;
	static const char *code[] = { "StatusCode", NULL };
	yajl_val v, x;

	if (!answered(r, c, 200, 200))
		return;
	v = parse_answer(c);
	if (v && (x = yajl_tree_get(v, code, yajl_t_number)))
		r->exit_code = (long)YAJL_GET_INTEGER(x);
	yajl_tree_free(v);
	r->waited = true;
	ev_timer_set(&r->drain_w, DRAIN_S, 0.);
	ev_timer_start(r->loop, &r->drain_w);
	maybe_done(r);
}

static void on_attach_end(void *arg, struct docker_call *c)
{
	struct container_runner *r = arg;

	(void)c;
	r->attach_over = true;
	if (r->phase < RUNNING) {
		/* The stream ended before the start: the start's answer says why. */
		if (r->phase == ATTACHING)
			answered(r, c, 200, 101);
		return;
	}
	maybe_done(r);
}

static void on_pid_inspect(void *arg, struct docker_call *c)
{
	struct container_runner *r = arg;
	static const char *pid[] = { "State", "Pid", NULL };
	struct error err = { 0 };
	yajl_val v = c->status == 200 ? parse_answer(c) : NULL, x;

	if (v && (x = yajl_tree_get(v, pid, yajl_t_number)))
		r->pid = (pid_t)YAJL_GET_INTEGER(x);
	yajl_tree_free(v);
	if (r->pid > 0 && exec_health_watch_cgroup(r->health, r->pid, &err) < 0)
		log_warn("%s: the health monitor cannot watch the container's pid %d: %s",
			 runner_name(r->ctx), (int)r->pid, err.msg);
	r->lines.pid = r->pid;
}

static void emit_started(struct container_runner *r)
{
	struct event_builder *b = r->lines.eb;

	event_builder_begin(b);
	event_builder_str(b, "id", r->id);
	event_builder_str(b, "image", r->image);
	event_builder_str(b, "name", options_str(r->opts, "name"));
	put_node(r, b);
	event_builder_emit(b, r->ctx, "container.start", 0);
}

static void on_start(void *arg, struct docker_call *c)
{
	struct container_runner *r = arg;
	char path[160];

	if (r->phase != STARTING || !answered(r, c, 204, 304))
		return;
	r->phase = RUNNING;
	if (r->timeout_ns > 0) {
		ev_timer_set(&r->timeout_w, (double)r->timeout_ns / 1e9, 0.);
		ev_timer_start(r->loop, &r->timeout_w);
	}
	snprintf(path, sizeof(path), "/containers/%s/wait?condition=not-running", r->id);
	call(r, &r->wait, "wait", on_wait, "POST", path, NULL);
	snprintf(path, sizeof(path), "/containers/%s/json", r->id);
	if (r->phase == RUNNING && r->health)
		call(r, &r->inspect, "inspect", on_pid_inspect, "GET", path, NULL);
	if (r->stopping)
		send_stop(r);
}

/* The stream is open: now the container may start, and no line is lost. */
static void on_attached(void *arg)
{
	struct container_runner *r = arg;

	/* libcurl takes no new transfer inside its callbacks: start from the loop. */
	if (r->phase == ATTACHING && (r->attach.status == 200 || r->attach.status == 101))
		ev_feed_event(r->loop, &r->start_w, EV_CUSTOM);
}

static void on_start_now(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct container_runner *r = w->data;
	char path[160];

	(void)loop;
	(void)revents;
	if (r->phase != ATTACHING)
		return;
	r->phase = STARTING;
	r->start_ns = clock_wall_ns();
	r->start_mono_ns = clock_mono_ns();
	emit_started(r);
	snprintf(path, sizeof(path), "/containers/%s/start", r->id);
	call(r, &r->start, "start", on_start, "POST", path, NULL);
}

static void on_create(void *arg, struct docker_call *c)
{
	struct container_runner *r = arg;
	static const char *id[] = { "Id", NULL };
	yajl_val v, x;
	char path[200];

	if (c->rc == CURLE_OK && c->status == 404) {
		fail(r, "image %s: not on the daemon (pull it, or give --pull)", r->image);
		return;
	}
	if (!answered(r, c, 201, 201))
		return;
	v = parse_answer(c);
	if (v && (x = yajl_tree_get(v, id, yajl_t_string)))
		snprintf(r->id, sizeof(r->id), "%s", YAJL_GET_STRING(x));
	yajl_tree_free(v);
	if (!r->id[0]) {
		fail(r, "create: the daemon's answer has no Id");
		return;
	}
	if (r->stopping) {
		finish_run(r);
		return;
	}
	r->phase = ATTACHING;
	r->attach.on_data = on_attach_data;
	r->attach.on_headers = on_attached;
	snprintf(path, sizeof(path), "/containers/%s/attach?stream=1&stdout=1&stderr=1", r->id);
	call(r, &r->attach, "attach", on_attach_end, "POST", path, NULL);
}

/* ---- the create request ---- */

static void gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_list(yajl_gen g, const char *key, char *const *v, int n)
{
	gen_str(g, key);
	yajl_gen_array_open(g);
	for (int i = 0; i < n; i++)
		gen_str(g, v[i]);
	yajl_gen_array_close(g);
}

static void gen_host_config(yajl_gen g, const struct container_runner *r)
{
	const struct options *o = r->opts;
	int nvol;
	char *const *vol = options_list(o, "volume", &nvol);
	int64_t mem = options_int(o, "memory");
	const char *cpus = options_str(o, "cpus"), *net = options_str(o, "network");

	gen_str(g, "HostConfig");
	yajl_gen_map_open(g);
	if (nvol)
		gen_list(g, "Binds", vol, nvol);
	if (mem > 0) {
		/* Swap as large as memory: no swap, so the limit is the OOM killer's. */
		gen_str(g, "Memory");
		yajl_gen_integer(g, mem);
		gen_str(g, "MemorySwap");
		yajl_gen_integer(g, mem);
	}
	if (cpus) {
		gen_str(g, "NanoCpus");
		yajl_gen_integer(g, (long long)llround(strtod(cpus, NULL) * 1e9));
	}
	if (net) {
		gen_str(g, "NetworkMode");
		gen_str(g, net);
	}
	yajl_gen_map_close(g);
}

/* The body of POST /containers/create, with yajl: no JSON by hand. */
static char *create_body(const struct container_runner *r)
{
	const struct options *o = r->opts;
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	int nenv, nargv;
	char *const *env = options_list(o, "env", &nenv);
	char *out = NULL;

	if (!g)
		return NULL;
	options_list(o, "command", &nargv);
	yajl_gen_map_open(g);
	gen_str(g, "Image");
	gen_str(g, r->image);
	if (r->argv && nargv)
		gen_list(g, "Cmd", r->argv, nargv);
	if (nenv)
		gen_list(g, "Env", env, nenv);
	if (options_str(o, "user")) {
		gen_str(g, "User");
		gen_str(g, options_str(o, "user"));
	}
	gen_str(g, "AttachStdout");
	yajl_gen_bool(g, 1);
	gen_str(g, "AttachStderr");
	yajl_gen_bool(g, 1);
	gen_str(g, "Tty");
	yajl_gen_bool(g, 0);
	gen_str(g, "Labels");
	yajl_gen_map_open(g);
	gen_str(g, "collector.runner");
	gen_str(g, runner_name(r->ctx));
	yajl_gen_map_close(g);
	gen_host_config(g, r);
	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
		out = strndup((const char *)buf, len);
	yajl_gen_free(g);
	return out;
}

static void do_create(struct container_runner *r)
{
	char path[300], *body = create_body(r), *name = NULL;
	const char *n = options_str(r->opts, "name");

	if (!body) {
		fail(r, "out of memory");
		return;
	}
	if (n && !(name = curl_easy_escape(NULL, n, 0))) {
		free(body);
		fail(r, "out of memory");
		return;
	}
	snprintf(path, sizeof(path), "/containers/create%s%s", name ? "?name=" : "",
		 name ? name : "");
	r->phase = CREATING;
	call(r, &r->create, "create", on_create, "POST", path, body);
	curl_free(name);
	free(body);
}

/* The pull's answer is a stream of progress objects; an error is one with "error". */
static void on_pull(void *arg, struct docker_call *c)
{
	struct container_runner *r = arg;
	static const char *key[] = { "error", NULL };
	char *last;

	if (!answered(r, c, 200, 200))
		return;
	buffer_append(&c->answer, "", 1);
	last = c->answer.data ? strstr(c->answer.data, "\"error\"") : NULL;
	if (last) {
		char *start = last;
		yajl_val v, x;

		while (start > c->answer.data && start[-1] != '\n')
			start--;
		start[strcspn(start, "\r\n")] = '\0';
		v = yajl_tree_parse(start, NULL, 0);
		x = v ? yajl_tree_get(v, key, yajl_t_string) : NULL;
		fail(r, "pull %s: %s", r->image, x ? YAJL_GET_STRING(x) : "failed");
		yajl_tree_free(v);
		return;
	}
	if (r->stopping)
		finish_run(r);
	else
		do_create(r);
}

/* ---- stop, kill, timeout ---- */

static void on_stop_sent(void *arg, struct docker_call *c)
{
	struct container_runner *r = arg;
	char why[512];

	/* 304: it had stopped already. The wait reports the end either way. */
	if (c->rc != CURLE_OK || (c->status != 204 && c->status != 304 && c->status != 404))
		log_warn("%s: stop: %s", runner_name(r->ctx),
			 docker_call_error(&r->docker, c, why, sizeof(why)));
}

/* docker stop: SIGTERM (the image's StopSignal), SIGKILL after the grace, by the daemon. */
static void send_stop(struct container_runner *r)
{
	char path[160];
	long t = (long)((r->grace_ns + 999999999) / 1000000000);

	if (r->stop_sent || r->phase != RUNNING)
		return;
	r->stop_sent = true;
	snprintf(path, sizeof(path), "/containers/%s/stop?t=%ld", r->id, t);
	call(r, &r->stop, "stop", on_stop_sent, "POST", path, NULL);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct container_runner *r = w->data;

	(void)loop;
	(void)revents;
	r->timed_out = true;
	send_stop(r);
}

/* The health monitor saw RSS pass --memory-restart: stop the container. */
static void health_act(void *arg)
{
	send_stop(arg);
}

/* ---- runner_ops ---- */

static void container_destroy(void *self);

static int check_options(const struct options *o, struct error *err)
{
	int n;
	char *const *v = options_list(o, "env", &n);
	const char *cpus = options_str(o, "cpus");
	char *end;

	for (int i = 0; i < n; i++)
		if (!strchr(v[i], '=') || v[i][0] == '=')
			return error_set(err, EINVAL, "--env: '%s' is not NAME=VALUE", v[i]);
	v = options_list(o, "volume", &n);
	for (int i = 0; i < n; i++)
		if (!strchr(v[i], ':') || v[i][0] == ':')
			return error_set(err, EINVAL, "--volume: '%s' is not HOST:CONTAINER[:ro]",
					 v[i]);
	if (cpus && (strtod(cpus, &end) <= 0 || *end))
		return error_set(err, EINVAL, "--cpus: '%s' is not a positive number", cpus);
	if (options_int(o, "memory") < 0 || options_int(o, "max-line") <= 0)
		return error_set(err, EINVAL, "--memory must be >= 0 and --max-line positive");
	if (!options_str(o, "image")[0])
		return error_set(err, EINVAL, "--image is empty");
	return 0;
}

static void *container_create(struct runner_ctx *ctx, const struct options *opts, struct error *err)
{
	struct container_runner *r;
	int argc;

	if (check_options(opts, err) < 0)
		return NULL;
	if (!(r = calloc(1, sizeof(*r)))) {
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	r->ctx = ctx;
	r->loop = runner_loop(ctx);
	r->opts = opts;
	r->image = options_str(opts, "image");
	r->argv = options_list(opts, "command", &argc);
	if (argc == 0)
		r->argv = NULL;
	r->keep = options_bool(opts, "keep");
	r->timeout_ns = options_int(opts, "timeout");
	r->grace_ns = options_int(opts, "grace");
	r->docker.socket = options_str(opts, "socket");
	r->exit_code = -1;
	ev_init(&r->timeout_w, on_timeout);
	ev_init(&r->drain_w, on_drain);
	ev_init(&r->start_w, on_start_now);
	r->timeout_w.data = r->drain_w.data = r->start_w.data = r;
	if (!(r->docker.m = curl_ev_new(r->loop, err)) ||
	    line_framer_init(&r->out, (size_t)options_int(opts, "max-line"), err) < 0 ||
	    line_framer_init(&r->err, (size_t)options_int(opts, "max-line"), err) < 0 ||
	    exec_lines_init(&r->lines, ctx, opts, "container", err) < 0 ||
	    exec_health_create(ctx, opts, health_act, r, &r->health, err) < 0) {
		container_destroy(r);
		return NULL;
	}
	return r;
}

static int container_start(void *self, struct error *err)
{
	struct container_runner *r = self;
	char path[1200], *img;

	(void)err;
	exec_health_started(r->health);
	if (!options_bool(r->opts, "pull")) {
		do_create(r);
		return 0;
	}
	if (!(img = curl_easy_escape(NULL, r->image, 0)))
		return error_set(err, ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "/images/create?fromImage=%s", img);
	curl_free(img);
	r->phase = PULLING;
	call(r, &r->pull, "pull", on_pull, "POST", path, NULL);
	return 0;
}

static void container_stop(void *self)
{
	struct container_runner *r = self;

	r->stopping = true;
	if (r->phase == RUNNING)
		send_stop(r);
	else if (r->phase == ATTACHING)
		finish_run(r); /* created, never started: removed */
			       /* pulling, creating, starting: their answer sees stopping */
}

static void container_resume(void *self)
{
	struct container_runner *r = self;

	docker_call_resume(&r->docker, &r->attach);
}

static void on_kill_sent(void *arg, struct docker_call *c)
{
	struct container_runner *r = arg;
	char why[512];

	if (c->rc != CURLE_OK || (c->status != 204 && c->status != 409))
		log_warn("%s: kill: %s", runner_name(r->ctx),
			 docker_call_error(&r->docker, c, why, sizeof(why)));
}

/* POST /runners/NAME/kill: SIGKILL now, no grace. */
static int container_control(void *self, const char *action, struct buffer *reply,
			     struct error *err)
{
	struct container_runner *r = self;
	char path[160];

	if (strcmp(action, "kill") != 0)
		return error_set(err, ENOTSUP, "unknown action '%s' (container has: kill)", action);
	if (r->phase != RUNNING)
		return error_set(err, EAGAIN, "the container is not running");
	r->killed = true;
	snprintf(path, sizeof(path), "/containers/%s/kill?signal=SIGKILL", r->id);
	call(r, &r->kill, "kill", on_kill_sent, "POST", path, NULL);
	return buffer_append(reply, "\"SIGKILL sent\"", 14) < 0 ? -ENOMEM : 0;
}

/* After the loop: a container not yet removed is removed now, blocking; nothing is left behind. */
static void remove_left(struct container_runner *r)
{
	struct docker_call c = { 0 };
	struct error err = { 0 };
	char path[160];

	if (!r->id[0] || r->keep || r->phase == DONE)
		return;
	snprintf(c.what, sizeof(c.what), "remove");
	snprintf(path, sizeof(path), "/containers/%s?force=1&v=1", r->id);
	if (docker_call_sync(&r->docker, &c, "DELETE", path, CLEANUP_TIMEOUT_S, &err) < 0 ||
	    (c.status != 204 && c.status != 404))
		log_warn("%s: container %.12s was not removed: %s", runner_name(r->ctx), r->id,
			 err.code ? err.msg : "the daemon refused");
	docker_call_release(&r->docker, &c);
}

static void container_destroy(void *self)
{
	struct container_runner *r = self;
	struct docker_call *calls[] = { &r->pull,    &r->create, &r->attach, &r->start, &r->wait,
					&r->inspect, &r->stop,	 &r->kill,   &r->remove };

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		docker_call_release(&r->docker, calls[i]);
	remove_left(r);
	curl_ev_free(r->docker.m);
	r->docker.m = NULL;
	ev_timer_stop(r->loop, &r->timeout_w);
	ev_timer_stop(r->loop, &r->drain_w);
	ev_clear_pending(r->loop, &r->start_w);
	line_framer_free(&r->out);
	line_framer_free(&r->err);
	exec_lines_release(&r->lines);
	exec_health_free(r->health);
	free(r);
}

static void container_metrics(void *self, struct metrics_writer *w)
{
	struct container_runner *r = self;

	metrics_add_labeled(w, METRIC_COUNTER, "collector_runner_lines_total",
			    "lines read from the child, by stream", "stream", "stdout",
			    (double)r->lines.n.stdout_lines);
	metrics_add_labeled(w, METRIC_COUNTER, "collector_runner_lines_total",
			    "lines read from the child, by stream", "stream", "stderr",
			    (double)r->lines.n.stderr_lines);
	exec_health_metrics(r->health, w);
}

const struct runner_ops container_runner_ops = {
	.name = "container",
	.summary = "runs a task in a container (Docker Engine API); its lines become events",
	.options = container_options,
	.create = container_create,
	.start = container_start,
	.stop = container_stop,
	.resume = container_resume,
	.destroy = container_destroy,
	.metrics = container_metrics,
	.control = container_control,
};
