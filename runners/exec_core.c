/* The machinery of a runner that runs one command: its lines as events, timeout, restart, health, grace, its end. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include <collector/buffer.h>
#include <collector/child.h>
#include <collector/child_cgroup.h>
#include <collector/clock.h>
#include <collector/event_builder.h>
#include <collector/event_encoder.h>
#include <collector/line_framer.h>
#include <collector/log.h>
#include <collector/piped_child.h>
#include <collector/runner.h>

#include "exec_core.h"
#include "exec_lines.h"
#include "exec_health.h"

#define RESTART_DELAY_MAX_NS (30LL * 1000000000)
/* A restarted command that stays up this long makes the runner healthy again. */
#define STABLE_AFTER_S 60.
enum restart_policy { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS };

struct exec_core {
	struct runner_ctx *ctx;
	struct ev_loop *loop;
	/* configuration */
	struct exec_core_hooks hooks;
	char type_exit[32];
	char type_start[32];
	char *const *argv;
	char **envp;
	const char *cwd;
	int64_t timeout_ns;
	int64_t grace_ns;
	int64_t restart_delay_ns;
	enum restart_policy restart;
	int max_restarts;
	size_t max_line;
	/* the current run */
	struct piped_child pc;
	struct child_cgroup cg;	 /* holds the run's whole tree; none when ndirs is 0 */
	pid_t pid;		 /* of the current run, -1 when it did not start */
	bool stopping;		 /* stop() was called */
	bool memory_restart;	 /* the health monitor asked to end this run */
	struct exec_lines lines; /* its output as events, its counters, its stderr tail */
	char error[256];
	int restarts;
	ev_timer restart_w;
	ev_timer stable_w;
	struct exec_health *health; /* NULL without --health */
	struct event_builder *eb;   /* the lines' */
};

static void emit_data(struct exec_core *r, const char *type)
{
	event_builder_emit(r->eb, r->ctx, type, r->pid);
}

static bool can_take(void *arg)
{
	struct exec_core *r = arg;

	return runner_can_emit(r->ctx);
}

static void on_line(void *arg, bool is_stderr, const struct line *l)
{
	struct exec_core *r = arg;

	exec_lines_take(&r->lines, is_stderr, l);
}

static void on_read_error(void *arg, bool is_stderr, int err)
{
	struct exec_core *r = arg;

	r->lines.n.errors++;
	runner_report_error(r->ctx, "read_failed", 0, 0, NULL, 0, "read %s: %s",
			    is_stderr ? "stderr" : "stdout", strerror(-err));
}

/* ---- the child's lifecycle ---- */

static const char *run_status(struct exec_core *r, enum runner_status *st)
{
	if (r->error[0])
		*st = RUNNER_ERROR;
	else if (r->pc.timed_out)
		*st = RUNNER_TIMEOUT;
	else if (r->stopping)
		*st = RUNNER_CANCELED;
	else if (WIFEXITED(r->pc.wait_status) && WEXITSTATUS(r->pc.wait_status) == 0)
		*st = RUNNER_SUCCESS;
	else
		*st = RUNNER_FAILED;
	return runner_status_name(*st);
}

static void put_time(struct event_builder *b, const char *key, int64_t ns)
{
	char ts[40];

	event_builder_strn(b, key, ts, format_rfc3339_ns(ns, ts));
}

static void put_counters(struct event_builder *b, const struct exec_core *r)
{
	event_builder_open_object(b, "counters");
	event_builder_uint(b, "stdout_lines", r->lines.n.stdout_lines);
	event_builder_uint(b, "stderr_lines", r->lines.n.stderr_lines);
	event_builder_uint(b, "events", r->lines.n.events);
	event_builder_uint(b, "errors", r->lines.n.errors);
	event_builder_uint(b, "truncated", r->lines.n.truncated);
	event_builder_uint(b, "invalid_utf8", r->lines.n.invalid_utf8);
	event_builder_uint(b, "forged", r->lines.n.forged);
	event_builder_uint(b, "stdout_bytes", r->pc.out.framer.stats.bytes);
	event_builder_uint(b, "stderr_bytes", r->pc.err.framer.stats.bytes);
	event_builder_uint(b, "discarded_bytes",
			   r->pc.out.framer.stats.discarded + r->pc.err.framer.stats.discarded);
	event_builder_close_object(b);
}

/* A node's lifecycle fields (seed 003's containers/ready): the run is RUNNER/PID on this node. */
static void put_node(struct exec_core *r, struct event_builder *b)
{
	char id[300];

	if (!runner_node_id(r->ctx))
		return;
	snprintf(id, sizeof(id), "%s/%d", runner_name(r->ctx), (int)r->pid);
	event_builder_str(b, "node_id", runner_node_id(r->ctx));
	event_builder_str(b, "container_id", id);
	event_builder_null(b, "session_id");
	event_builder_null(b, "executor_url");
}

/* Only on a node: without --node the output stays as it was (exec.line is the first event). */
static void emit_start(struct exec_core *r)
{
	struct event_builder *b = r->eb;

	if (!runner_node_id(r->ctx))
		return;
	event_builder_begin(b);
	put_node(r, b);
	put_time(b, "start", r->pc.start_ns);
	event_builder_int(b, "restarts", r->restarts);
	event_builder_open_array(b, "argv");
	for (char *const *a = r->argv; *a; a++)
		event_builder_str(b, NULL, *a);
	event_builder_close_array(b);
	emit_data(r, r->type_start);
}

static void emit_exit(struct exec_core *r, enum runner_status *st, bool will_restart)
{
	int64_t end = clock_wall_ns();
	struct event_builder *b = r->eb;
	int ws = r->pc.wait_status;
	char sig[16];

	event_builder_begin(b);
	event_builder_str(b, "status", run_status(r, st));
	if (!r->error[0] && WIFEXITED(ws))
		event_builder_int(b, "exit_code", WEXITSTATUS(ws));
	else
		event_builder_null(b, "exit_code");
	if (!r->error[0] && WIFSIGNALED(ws)) {
		event_builder_int(b, "signal", WTERMSIG(ws));
		event_builder_str(b, "signal_name", signal_name(WTERMSIG(ws), sig));
		event_builder_bool(b, "core_dumped", WCOREDUMP(ws));
	} else {
		event_builder_null(b, "signal");
	}
	put_time(b, "start", r->pc.start_ns);
	put_time(b, "end", end);
	event_builder_int(b, "duration_ns", clock_mono_ns() - r->pc.start_mono_ns);
	put_counters(b, r);
	event_builder_int(b, "descendants_left", r->pc.left);
	event_builder_bool(b, "output_cut", r->pc.cut);
	event_builder_str(b, "error", r->error[0] ? r->error : NULL);
	event_builder_int(b, "restarts", r->restarts);
	event_builder_bool(b, "will_restart", will_restart);
	put_node(r, b);
	exec_health_put_exit(r->health, b);
	if (r->hooks.put_exit)
		r->hooks.put_exit(r->hooks.arg, b);
	event_builder_open_array(b, "argv");
	for (char *const *a = r->argv; *a; a++)
		event_builder_str(b, NULL, *a);
	event_builder_close_array(b);
	emit_data(r, r->type_exit);
}

static bool should_restart(const struct exec_core *r, enum runner_status st)
{
	if (r->stopping || r->restarts >= r->max_restarts || st == RUNNER_ERROR)
		return false;
	if (r->restart == RESTART_ALWAYS)
		return true;
	return r->restart == RESTART_ON_FAILURE && (st == RUNNER_FAILED || st == RUNNER_TIMEOUT);
}

static void reset_run(struct exec_core *r);

/* How the last run ended, for people: "was killed by SIGSEGV", "exited with status 3". */
static const char *describe_end(const struct exec_core *r, char *buf, size_t size)
{
	int ws = r->pc.wait_status;
	char sig[16];

	if (r->pc.timed_out)
		snprintf(buf, size, "timed out");
	else if (WIFSIGNALED(ws))
		snprintf(buf, size, "was killed by %s", signal_name(WTERMSIG(ws), sig));
	else
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(ws));
	return buf;
}

/* The run's own members of a crash report: what ran, what it said last, how it was stopped. */
static bool describe_crash(void *arg, struct event_builder *b, const char **kill_reason)
{
	struct exec_core *r = arg;
	int ws = r->pc.wait_status;

	(void)kill_reason;
	event_builder_open_array(b, "argv");
	for (char *const *a = r->argv; *a; a++)
		event_builder_str(b, NULL, *a);
	event_builder_close_array(b);
	event_builder_int(b, "uptime_ms", (clock_mono_ns() - r->pc.start_mono_ns) / 1000000);
	event_builder_int(b, "restarts", r->restarts);
	exec_lines_put_tail(&r->lines, b);
	event_builder_open_object(b, "stop");
	event_builder_bool(b, "requested", r->stopping);
	event_builder_bool(b, "timed_out", r->pc.timed_out);
	event_builder_int(b, "grace_ms", r->grace_ns / 1000000);
	/* SIGTERM was sent; a SIGKILL end after it is the grace running out. */
	event_builder_bool(b, "escalated_to_sigkill",
			   (r->stopping || r->pc.timed_out || r->memory_restart) &&
				   WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	event_builder_close_object(b);
	return true;
}

static void report_crash(struct exec_core *r)
{
	char type[40];
	const struct exec_crash c = {
		.type = type,
		.wait_status = r->pc.wait_status,
		.requested_stop = r->stopping,
		.kill_reason = r->pc.timed_out	 ? "timeout" :
			       r->memory_restart ? "memory_restart" :
						   NULL,
		.describe = describe_crash,
		.arg = r,
	};

	snprintf(type, sizeof(type), "%s.crash", r->lines.kind);
	exec_health_crash(r->health, r->pid, &c);
}

/* The run is over: the child is reaped and both pipes are drained or cut. */
static void on_end(void *arg)
{
	struct exec_core *r = arg;
	enum runner_status st;
	bool again;
	int64_t delay;
	char why[64];

	child_cgroup_destroy(&r->cg);
	if (r->pc.left)
		log_warn("%s: the command exited leaving %d process(es) of its tree; they were "
			 "killed",
			 runner_name(r->ctx), r->pc.left);
	if (r->pc.cut)
		log_warn("%s: a process that left the command's process group kept its output "
			 "open; the pipes were closed %d ms after the exit",
			 runner_name(r->ctx), PIPED_CHILD_DRAIN_MS);
	exec_health_reaped(r->health, r->pid, r->pc.wait_status);
	report_crash(r);
	run_status(r, &st);
	again = should_restart(r, st);
	emit_exit(r, &st, again);
	if (!again) {
		runner_finished(r->ctx, st);
		return;
	}
	delay = r->restart_delay_ns;
	for (int i = 0; i < r->restarts && delay < RESTART_DELAY_MAX_NS; i++)
		delay *= 2;
	if (delay > RESTART_DELAY_MAX_NS)
		delay = RESTART_DELAY_MAX_NS;
	r->restarts++;
	ev_timer_stop(r->loop, &r->stable_w);
	runner_set_health(r->ctx, RUNNER_DEGRADED, "restart %d of %d: the command %s", r->restarts,
			  r->max_restarts, describe_end(r, why, sizeof(why)));
	ev_timer_set(&r->restart_w, (double)delay / 1e9, 0.);
	ev_timer_start(r->loop, &r->restart_w);
}

static void on_stable(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct exec_core *r = w->data;

	(void)loop;
	(void)revents;
	runner_set_health(r->ctx, RUNNER_HEALTHY, NULL);
}

static int signal_tree(void *arg, int sig)
{
	struct exec_core *r = arg;

	return r->cg.ndirs ? child_cgroup_signal(&r->cg, sig) : -1;
}

static const struct piped_child_ops exec_child_ops = {
	.can_take = can_take,
	.on_line = on_line,
	.on_read_error = on_read_error,
	.on_end = on_end,
	.signal_tree = signal_tree,
};

/* A cgroup for the run's tree, where cgroups can be made (root); else its process group only. */
static void make_cgroup(struct exec_core *r)
{
	static unsigned runs;
	char leaf[64];

	snprintf(leaf, sizeof(leaf), "collector-exec.%d.%u", (int)getpid(), runs++);
	if (child_cgroup_create_tree(&r->cg, leaf, NULL) < 0)
		log_debug("%s: no cgroup for the command; its process group is its tree",
			  runner_name(r->ctx));
}

static int spawn_run(struct exec_core *r, struct error *err)
{
	struct child_spec spec = { .argv = r->argv, .envp = r->envp, .cwd = r->cwd };
	int rc;

	reset_run(r);
	make_cgroup(r);
	spec.join_fds = r->cg.procs_fds;
	spec.njoin = r->cg.ndirs;
	exec_health_spawning(r->health, true);
	rc = piped_child_start(&r->pc, &spec, r->timeout_ns, r->grace_ns, err);
	exec_health_spawning(r->health, false);
	child_cgroup_close_fds(&r->cg);
	if (rc < 0) {
		enum runner_status st;

		snprintf(r->error, sizeof(r->error), "%s", err->msg);
		child_cgroup_destroy(&r->cg);
		emit_exit(r, &st, false);
		return rc;
	}
	r->pid = r->pc.child.pid;
	r->lines.pid = r->pid;
	emit_start(r);
	if (exec_health_watch(r->health, r->pid, err) < 0)
		log_warn("%s: the health monitor cannot watch pid %d: %s", runner_name(r->ctx),
			 (int)r->pid, err->msg);
	return 0;
}

static void on_restart(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct exec_core *r = w->data;
	struct error err = { 0 };

	(void)loop;
	(void)revents;
	if (spawn_run(r, &err) < 0) {
		runner_finished(r->ctx, RUNNER_ERROR);
		return;
	}
	ev_timer_set(&r->stable_w, STABLE_AFTER_S, 0.);
	ev_timer_start(r->loop, &r->stable_w);
}

/* ---- runner_ops ---- */

static void reset_run(struct exec_core *r)
{
	r->pid = -1;
	r->memory_restart = false;
	r->error[0] = '\0';
	exec_lines_new_run(&r->lines, -1);
}

static char **build_env(const struct options *opts)
{
	extern char **environ;
	int nextra, nenv = 0;
	char *const *extra = options_list(opts, "env", &nextra);
	char **envp;

	if (nextra == 0)
		return NULL;
	while (environ[nenv])
		nenv++;
	envp = calloc((size_t)nenv + (size_t)nextra + 1, sizeof(char *));
	if (!envp)
		return NULL;
	memcpy(envp, environ, sizeof(char *) * (size_t)nenv);
	memcpy(envp + nenv, extra, sizeof(char *) * (size_t)nextra);
	return envp;
}

/* The health monitor saw RSS pass --memory-restart: end this run; --restart decides the rest. */
static void health_restart(void *arg)
{
	struct exec_core *r = arg;

	r->memory_restart = true;
	piped_child_terminate(&r->pc);
}

static int check_env(const struct options *opts, struct error *err)
{
	int n;
	char *const *env = options_list(opts, "env", &n);

	for (int i = 0; i < n; i++)
		if (!strchr(env[i], '=') || env[i][0] == '=')
			return error_set(err, EINVAL, "--env: '%s' is not NAME=VALUE", env[i]);
	return 0;
}

struct exec_core *exec_core_create(struct runner_ctx *ctx, const struct options *opts,
				   const char *kind, char *const *argv,
				   const struct exec_core_hooks *hooks, struct error *err)
{
	struct exec_core *r;
	const char *restart = options_str(opts, "restart");

	if (options_int(opts, "max-line") <= 0 || options_int(opts, "max-restarts") < 0 ||
	    check_env(opts, err) < 0) {
		if (!err->code)
			error_set(err, EINVAL,
				  "--max-line must be positive and --max-restarts >= 0");
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		goto oom;
	r->ctx = ctx;
	r->loop = runner_loop(ctx);
	snprintf(r->type_exit, sizeof(r->type_exit), "%s.exit", kind);
	snprintf(r->type_start, sizeof(r->type_start), "%s.start", kind);
	if (hooks)
		r->hooks = *hooks;
	r->argv = argv;
	r->cwd = options_str(opts, "cwd");
	r->timeout_ns = options_int(opts, "timeout");
	r->grace_ns = options_int(opts, "grace");
	r->restart_delay_ns = options_int(opts, "restart-delay");
	r->max_restarts = (int)options_int(opts, "max-restarts");
	r->max_line = (size_t)options_int(opts, "max-line");
	r->restart = strcmp(restart, "always") == 0	? RESTART_ALWAYS :
		     strcmp(restart, "on-failure") == 0 ? RESTART_ON_FAILURE :
							  RESTART_NO;
	r->pid = -1;
	for (int i = 0; i < CHILD_CGROUP_MAX_DIRS; i++)
		r->cg.procs_fds[i] = -1;
	ev_init(&r->restart_w, on_restart);
	ev_init(&r->stable_w, on_stable);
	r->restart_w.data = r->stable_w.data = r;
	if (piped_child_init(&r->pc, r->loop, r->max_line, &exec_child_ops, r, err) < 0) {
		free(r);
		return NULL;
	}
	if (options_list(opts, "env", NULL) && !(r->envp = build_env(opts)))
		goto oom;
	if (exec_lines_init(&r->lines, ctx, opts, kind, err) < 0) {
		exec_core_destroy(r);
		return NULL;
	}
	r->eb = r->lines.eb;
	r->lines.annotate = r->hooks.annotate_stderr;
	r->lines.annotate_arg = r->hooks.arg;
	if (exec_health_create(ctx, opts, health_restart, r, &r->health, err) < 0) {
		exec_core_destroy(r);
		return NULL;
	}
	return r;
oom:
	if (r)
		exec_core_destroy(r);
	error_set(err, ENOMEM, "out of memory");
	return NULL;
}

int exec_core_start(struct exec_core *r, struct error *err)
{
	exec_health_started(r->health);
	return spawn_run(r, err);
}

void exec_core_stop(struct exec_core *r)
{
	r->stopping = true;
	if (ev_is_active(&r->restart_w)) {
		ev_timer_stop(r->loop, &r->restart_w);
		runner_finished(r->ctx, RUNNER_CANCELED);
		return;
	}
	piped_child_terminate(&r->pc);
}

void exec_core_resume(struct exec_core *r)
{
	piped_child_resume(&r->pc);
}

void exec_core_destroy(struct exec_core *r)
{
	if (!r)
		return;
	piped_child_free(&r->pc);
	child_cgroup_destroy(&r->cg);
	exec_health_free(r->health);
	ev_timer_stop(r->loop, &r->restart_w);
	ev_timer_stop(r->loop, &r->stable_w);
	exec_lines_release(&r->lines);
	free(r->envp);
	free(r);
}

void exec_core_metrics(struct exec_core *r, struct metrics_writer *w)
{
	metrics_add(w, METRIC_COUNTER, "collector_runner_restarts_total",
		    "times the runner restarted its child", r->restarts);
	metrics_add_labeled(w, METRIC_COUNTER, "collector_runner_lines_total",
			    "lines read from the child, by stream", "stream", "stdout",
			    (double)r->lines.n.stdout_lines);
	metrics_add_labeled(w, METRIC_COUNTER, "collector_runner_lines_total",
			    "lines read from the child, by stream", "stream", "stderr",
			    (double)r->lines.n.stderr_lines);
	if (r->pc.alive)
		metrics_add_child(w, r->pid, "running");
	exec_health_metrics(r->health, w);
}
