/* The supervisor: an instance's lifecycle (start, stop, exit, backpressure) and its restart policy with the circuit breaker. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <collector/child.h>

#include "host.h"
#include "leftovers.h"

#define BACKOFF_FIRST_NS (100LL * 1000000)
#define BACKOFF_MAX_NS (10LL * 1000000000)

bool algo_instance_accepts(const struct algo_instance *in)
{
	return in->alive && in->hello_done && !in->stopping && !in->kill_reason &&
	       (in->state == ALGO_READY || in->state == ALGO_DEGRADED) &&
	       (int64_t)in->inflight.len < in->host->pkg.limits.max_inflight;
}

void algo_instance_stop(struct algo_instance *in)
{
	struct algorithm *a = in->host;

	ev_timer_stop(a->loop, &in->restart_w);
	if (!in->alive) {
		algo_set_state(in, ALGO_STOPPED, "stop requested");
		return;
	}
	if (in->stopping)
		return;
	in->stopping = true;
	ev_timer_stop(a->loop, &in->heartbeat_w);
	ev_timer_stop(a->loop, &in->handshake_w);
	if (in->kill_stage == 0) {
		algo_session_shutdown(in);
		in->kill_stage = 1;
		in->stage_ns[0] = clock_mono_ns();
		ev_timer_set(&in->kill_w, algo_secs(algo_ms_ns(a->pkg.limits.grace_ms)), 0.);
		ev_timer_start(a->loop, &in->kill_w);
	}
}

static void after_failure(struct algo_instance *in, const char *reason);

/* ---- timers ---- */

static void on_handshake_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct algo_instance *in = w->data;

	(void)loop;
	(void)revents;
	algo_instance_terminate(in, "handshake_timeout");
}

static void on_restart(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct algo_instance *in = w->data;
	struct error err = { 0 };

	(void)loop;
	(void)revents;
	if (in->host->stopping)
		return;
	if (in->host->frozen) {
		in->restart_due = true;
		return;
	}
	if (in->state == ALGO_BROKEN) {
		in->consecutive_failures = 0;
		memset(in->failure_ns, 0, sizeof(in->failure_ns));
	}
	if (algo_instance_spawn(in, &err) < 0)
		after_failure(in, err.msg);
}

/* ---- the child's end and the restart policy ---- */

static void release_resources(struct algo_instance *in)
{
	struct ev_loop *loop = in->host->loop;

	algo_session_close(in);
	ev_timer_stop(loop, &in->handshake_w);
	ev_timer_stop(loop, &in->heartbeat_w);
	ev_timer_stop(loop, &in->kill_w);
	child_cgroup_destroy(&in->cg);
	if (in->tmpdir[0]) {
		algo_remove_tree(in->tmpdir);
		in->tmpdir[0] = '\0';
	}
}

static void report_exit(struct algo_instance *in, int status, const char *reason)
{
	struct algorithm *a = in->host;
	char sig[16];
	int first = in->stderr_count > ALGO_EXIT_STDERR_LINES ?
			    in->stderr_count - ALGO_EXIT_STDERR_LINES :
			    0;

	algo_ev_begin(a);
	algo_ev_int(a, "instance", in->index);
	if (WIFEXITED(status))
		algo_ev_int(a, "exit_code", WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		algo_ev_str(a, "signal", signal_name(WTERMSIG(status), sig));
	algo_ev_str(a, "reason", reason);
	algo_ev_int(a, "uptime_ms", (clock_mono_ns() - in->spawn_ns) / 1000000);
	algo_ev_array_open(a, "stderr_tail");
	for (int i = first; i < in->stderr_count; i++)
		algo_ev_str(a, NULL, in->stderr_tail[i % ALGO_STDERR_TAIL]);
	algo_ev_array_close(a);
	algo_ev_emit(a, "algorithm.exit", in->pid);
}

int algo_recent_failures(const struct algo_instance *in, int64_t now)
{
	int recent = 0;

	for (int i = 0; i < ALGO_BREAKER_FAILURES; i++)
		if (in->failure_ns[i] && now - in->failure_ns[i] <= ALGO_BREAKER_WINDOW_NS)
			recent++;
	return recent;
}

/* The restart policy: 3 at once, then backoff; 5 failures in 60 s open the breaker. */
static void after_failure(struct algo_instance *in, const char *reason)
{
	struct algorithm *a = in->host;
	int64_t now = clock_mono_ns(), delay = 0;
	int recent;
	char why[160];

	in->failure_ns[in->failure_next++ % ALGO_BREAKER_FAILURES] = now;
	in->consecutive_failures++;
	recent = algo_recent_failures(in, now);
	if (recent >= ALGO_BREAKER_FAILURES) {
		snprintf(why, sizeof(why), "%d failures within 60 s, the last: %s",
			 ALGO_BREAKER_FAILURES, reason);
		algo_set_state(in, ALGO_BROKEN, why);
		in->start_reason = "circuit breaker cool-down over";
		ev_timer_set(&in->restart_w, algo_secs(a->opts.breaker_cooldown_ns), 0.);
		ev_timer_start(a->loop, &in->restart_w);
		a->hooks->capacity(a); /* all broken: the queue fails fast */
		return;
	}
	if (in->consecutive_failures > ALGO_IMMEDIATE_RESTARTS) {
		delay = BACKOFF_FIRST_NS
			<< (in->consecutive_failures - ALGO_IMMEDIATE_RESTARTS - 1 > 10 ?
				    10 :
				    in->consecutive_failures - ALGO_IMMEDIATE_RESTARTS - 1);
		if (delay > BACKOFF_MAX_NS)
			delay = BACKOFF_MAX_NS;
	}
	algo_set_state(in, ALGO_RESTARTING, reason);
	algo_ev_begin(a);
	algo_ev_int(a, "instance", in->index);
	algo_ev_int(a, "attempt", in->consecutive_failures);
	algo_ev_int(a, "delay_ms", delay / 1000000);
	algo_ev_str(a, "reason", reason);
	algo_ev_emit(a, "algorithm.restart", 0);
	ev_timer_set(&in->restart_w, algo_secs(delay), 0.);
	ev_timer_start(a->loop, &in->restart_w);
}

/* A dead child's remaining output, then its report and the restart policy; put off while paused. */
static void finish_exit(struct algo_instance *in)
{
	struct algorithm *a = in->host;
	int status = in->exit_status;
	const char *reason;
	bool clean;
	char buf[96], sig[16];

	/* Take the results it wrote before dying first. */
	for (int i = 0; i < 64 && !a->paused && in->out_fd >= 0; i++)
		algo_session_read(in, false);
	for (int i = 0; i < 64 && !a->paused && in->err_fd >= 0; i++)
		algo_session_read(in, true);
	if (!algo_instance_take_lines(in, false) || !algo_instance_take_lines(in, true))
		return; /* algorithm_resume() comes back here */
	in->exit_due = false;
	clean = in->stopping && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (in->kill_reason)
		reason = in->kill_reason;
	else if (clean)
		reason = "shutdown";
	else if (WIFSIGNALED(status))
		reason = snprintf(buf, sizeof(buf), "crashed: %s",
				  signal_name(WTERMSIG(status), sig)) > 0 ?
				 buf :
				 "crashed";
	else if (!in->hello_done)
		reason = snprintf(buf, sizeof(buf), "exited with %d before its hello",
				  WEXITSTATUS(status)) > 0 ?
				 buf :
				 "exited";
	else
		reason = snprintf(buf, sizeof(buf), "exited with %d", WEXITSTATUS(status)) > 0 ?
				 buf :
				 "exited";
	report_exit(in, status, reason);
	release_resources(in);
	if (a->opts.on_exit)
		a->opts.on_exit(a->opts.arg, in->index, in->pid, status);
	for (struct algo_call *call; (call = algo_list_pop(&in->inflight));)
		algo_complete(call, a->stopping ? ALGORITHM_STOPPED : ALGORITHM_CRASHED,
			      a->stopping ? "the host stopped" :
					    "the child ended with the call in flight",
			      NULL, 0);
	in->hello_done = false;
	if (in->stopping || a->stopping) {
		algo_set_state(in, ALGO_STOPPED, reason);
		a->hooks->stopped(a);
	} else {
		after_failure(in, reason);
	}
	a->hooks->capacity(a);
}

static void on_child_exit(struct ev_loop *loop, ev_child *w, int revents)
{
	struct algo_instance *in = w->data;
	struct child c = { .pid = in->pid };

	(void)revents;
	ev_child_stop(loop, w);
	/* Nothing the child started survives it. */
	child_kill_group(&c, SIGKILL);
	in->alive = false;
	in->exit_status = w->rstatus;
	in->exit_due = true;
	finish_exit(in);
}

/* ---- backpressure ---- */

static void freeze_timer(struct ev_loop *loop, ev_timer *w, bool *frozen, double *left)
{
	if (!ev_is_active(w))
		return;
	*left = ev_timer_remaining(loop, w);
	*frozen = true;
	ev_timer_stop(loop, w);
}

void algo_instance_freeze(struct algo_instance *in)
{
	struct ev_loop *loop = in->host->loop;

	ev_io_stop(loop, &in->out_w);
	ev_io_stop(loop, &in->err_w);
	freeze_timer(loop, &in->handshake_w, &in->handshake_frozen, &in->handshake_left);
	freeze_timer(loop, &in->heartbeat_w, &in->heartbeat_frozen, &in->heartbeat_left);
	for (struct algo_call *c = in->inflight.head; c; c = c->next)
		freeze_timer(loop, &c->timeout_w, &c->timeout_frozen, &c->timeout_left);
}

bool algo_instance_catch_up(struct algo_instance *in)
{
	if (!algo_instance_take_lines(in, false) || !algo_instance_take_lines(in, true))
		return false;
	if (in->exit_due)
		finish_exit(in);
	return !in->host->paused;
}

/* Clocks go on with the time they had left; what happened meanwhile decides which still run. */
void algo_instance_thaw(struct algo_instance *in)
{
	struct ev_loop *loop = in->host->loop;
	bool working = in->alive && !in->kill_reason && !in->stopping;

	if (in->handshake_frozen && working && !in->hello_done) {
		ev_timer_set(&in->handshake_w, in->handshake_left, 0.);
		ev_timer_start(loop, &in->handshake_w);
	}
	if (in->heartbeat_frozen && working && in->hello_done && !ev_is_active(&in->heartbeat_w)) {
		ev_timer_set(&in->heartbeat_w, in->heartbeat_left,
			     algo_secs(algo_ms_ns(in->host->pkg.limits.heartbeat_ms)));
		ev_timer_start(loop, &in->heartbeat_w);
	}
	in->handshake_frozen = in->heartbeat_frozen = false;
	for (struct algo_call *c = in->inflight.head; c; c = c->next) {
		if (!c->timeout_frozen)
			continue;
		c->timeout_frozen = false;
		ev_timer_set(&c->timeout_w, c->timeout_left, 0.);
		ev_timer_start(loop, &c->timeout_w);
	}
	if (in->alive && in->out_fd >= 0)
		ev_io_start(loop, &in->out_w);
	if (in->alive && in->err_fd >= 0)
		ev_io_start(loop, &in->err_w);
	if (in->restart_due) {
		in->restart_due = false;
		ev_timer_set(&in->restart_w, 0., 0.);
		ev_timer_start(loop, &in->restart_w);
	}
}

/* ---- starting, resetting, freeing ---- */

int algo_instance_spawn(struct algo_instance *in, struct error *err)
{
	struct algorithm *a = in->host;
	int rc;

	in->spawns++;
	in->hello_done = in->stopping = false;
	in->kill_stage = 0;
	memset(in->stage_ns, 0, sizeof(in->stage_ns));
	in->kill_reason = NULL;
	in->missed_pongs = 0;
	in->stderr_count = 0;
	in->answered = 0;
	in->timed_out_id = 0;
	line_framer_reset(&in->out_fr);
	line_framer_reset(&in->err_fr);
	rc = algo_spawn_child(in, err);
	if (rc < 0) {
		release_resources(in);
		algo_ev_begin(a);
		algo_ev_int(a, "instance", in->index);
		algo_ev_str(a, "reason", err->msg);
		algo_ev_emit(a, "algorithm.spawn_error", 0);
		return rc;
	}
	in->alive = true;
	in->spawn_ns = clock_mono_ns();
	algo_instance_find_container(in);
	/* Forking (and the caller's start-up before the loop runs) leave the loop's time stale. */
	ev_now_update(a->loop);
	ev_child_set(&in->child_w, in->pid, 0);
	ev_child_start(a->loop, &in->child_w);
	ev_io_set(&in->in_w, in->in_fd, EV_WRITE);
	ev_io_set(&in->out_w, in->out_fd, EV_READ);
	ev_io_set(&in->err_w, in->err_fd, EV_READ);
	ev_io_start(a->loop, &in->out_w);
	ev_io_start(a->loop, &in->err_w);
	/* The loop's clock stood still while the child was set up (and, on the first
	 * start, while the health monitor loaded): the timeout counts from now. */
	ev_now_update(a->loop);
	ev_timer_set(&in->handshake_w, algo_secs(algo_ms_ns(a->pkg.limits.handshake_timeout_ms)),
		     0.);
	ev_timer_start(a->loop, &in->handshake_w);
	algo_ev_begin(a);
	algo_ev_int(a, "instance", in->index);
	algo_ev_str(a, "cgroup", in->cg.version);
	algo_ev_str(a, "tmpdir", in->tmpdir);
	algo_ev_str(a, "shm", a->pool.name);
	algo_ev_emit(a, "algorithm.spawn", in->pid);
	algo_set_state(in, ALGO_STARTING,
		       in->start_reason ? in->start_reason :
		       in->spawns == 1	? "first start" :
					  "restart");
	in->start_reason = NULL;
	if (a->opts.on_spawn)
		a->opts.on_spawn(a->opts.arg, in->index, in->pid);
	return 0;
}

bool algo_instance_reset(struct algo_instance *in)
{
	if (in->state != ALGO_BROKEN)
		return false;
	in->start_reason = "circuit breaker reset";
	ev_timer_stop(in->host->loop, &in->restart_w);
	ev_timer_set(&in->restart_w, 0., 0.);
	ev_timer_start(in->host->loop, &in->restart_w);
	return true;
}

void algo_instance_init(struct algo_instance *in, struct algorithm *a, int index)
{
	memset(in, 0, sizeof(*in));
	in->host = a;
	in->index = index;
	in->state = ALGO_STOPPED;
	in->pid = -1;
	in->in_fd = in->out_fd = in->err_fd = -1;
	algo_session_init(in);
	algo_spawn_init(in);
	ev_child_init(&in->child_w, on_child_exit, 0, 0);
	ev_init(&in->handshake_w, on_handshake_timeout);
	ev_init(&in->restart_w, on_restart);
	in->child_w.data = in->handshake_w.data = in->restart_w.data = in;
	for (int i = 0; i < CHILD_CGROUP_MAX_DIRS; i++)
		in->cg.procs_fds[i] = -1;
}

void algo_instance_recycle(struct algo_instance *in)
{
	struct line_framer out_fr = in->out_fr, err_fr = in->err_fr;
	struct buffer wbuf = in->wbuf, scratch = in->scratch;

	release_resources(in);
	ev_timer_stop(in->host->loop, &in->restart_w);
	algo_instance_init(in, in->host, in->index);
	line_framer_reset(&out_fr);
	line_framer_reset(&err_fr);
	wbuf.len = scratch.len = 0;
	in->out_fr = out_fr;
	in->err_fr = err_fr;
	in->wbuf = wbuf;
	in->scratch = scratch;
}

void algo_instance_free(struct algo_instance *in)
{
	struct ev_loop *loop = in->host->loop;

	if (in->alive) {
		struct child c = { .pid = in->pid };

		ev_child_stop(loop, &in->child_w);
		child_kill_group(&c, SIGKILL);
		waitpid(in->pid, NULL, 0);
		in->alive = false;
	}
	release_resources(in);
	ev_timer_stop(loop, &in->restart_w);
	line_framer_free(&in->out_fr);
	line_framer_free(&in->err_fr);
	buffer_free(&in->wbuf);
	buffer_free(&in->scratch);
}
