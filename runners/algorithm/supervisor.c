/* The supervisor: spawns an instance's child, speaks the protocol with it, restarts it by policy. */
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include <collector/child.h>
#include <collector/collector.h>

#include "host.h"
#include "leftovers.h"
#include "protocol.h"

#define CHILD_PIPE_SIZE (1 << 20)
#define READS_PER_WAKEUP 8
#define BACKOFF_FIRST_NS (100LL * 1000000)
#define BACKOFF_MAX_NS (10LL * 1000000000)

static double secs(int64_t ns)
{
	return (double)ns / 1e9;
}

static int64_t ms_ns(int64_t ms)
{
	return ms * 1000000;
}

bool algo_instance_accepts(const struct algo_instance *in)
{
	return in->alive && in->hello_done && !in->stopping && !in->kill_reason &&
	       (in->state == ALGO_READY || in->state == ALGO_DEGRADED) &&
	       (int64_t)in->inflight.len < in->host->pkg.limits.max_inflight;
}

void algo_set_state(struct algo_instance *in, enum algo_state s, const char *reason)
{
	struct algorithm *a = in->host;
	enum algo_state prev = in->state;

	if (prev == s)
		return;
	in->state = s;
	algo_ev_begin(a);
	algo_ev_int(a, "instance", in->index);
	algo_ev_str(a, "state", algo_state_name(s));
	algo_ev_str(a, "previous", algo_state_name(prev));
	algo_ev_str(a, "reason", reason);
	algo_ev_int(a, "inflight", (long long)in->inflight.len);
	algo_ev_emit(a, "algorithm.state", in->alive ? in->pid : 0);
}

/* READY or BUSY by the number of calls in flight; after a good message also leaves DEGRADED. */
static void settle_state(struct algo_instance *in, const char *reason)
{
	if (!in->alive || !in->hello_done || in->kill_reason || in->stopping)
		return;
	if ((int64_t)in->inflight.len >= in->host->pkg.limits.max_inflight)
		algo_set_state(in, ALGO_BUSY, reason);
	else
		algo_set_state(in, ALGO_READY, reason);
}

static void protocol_error(struct algo_instance *in, const char *reason, const char *sample,
			   size_t len, const char *message)
{
	struct algorithm *a = in->host;

	algo_ev_begin(a);
	algo_ev_int(a, "instance", in->index);
	algo_ev_str(a, "reason", reason);
	algo_ev_str(a, "message", message);
	algo_ev_strn(a, "sample", sample, sample ? algo_utf8_prefix(sample, len, 128) : 0);
	algo_ev_emit(a, "algorithm.protocol_error", in->pid);
	if (in->state == ALGO_READY || in->state == ALGO_BUSY)
		algo_set_state(in, ALGO_DEGRADED, reason);
}

/* ---- writing to the child's stdin ---- */

static void flush_writes(struct algo_instance *in)
{
	while (in->wbuf.len > 0 && in->in_fd >= 0) {
		ssize_t n = write(in->in_fd, in->wbuf.data, in->wbuf.len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			ev_io_start(in->host->loop, &in->in_w);
			return;
		}
		if (n <
		    0) { /* EPIPE: the child is going; its exit is handled by the child watcher */
			in->wbuf.len = 0;
			break;
		}
		buffer_consume(&in->wbuf, (size_t)n);
	}
	ev_io_stop(in->host->loop, &in->in_w);
}

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	flush_writes(w->data);
}

static void close_stdin(struct algo_instance *in)
{
	ev_io_stop(in->host->loop, &in->in_w);
	if (in->in_fd >= 0)
		close(in->in_fd);
	in->in_fd = -1;
	in->wbuf.len = 0;
}

/* ---- ending a child ---- */

static void on_kill_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct algo_instance *in = w->data;
	struct child c = { .pid = in->pid };

	(void)loop;
	(void)revents;
	if (!in->alive)
		return;
	if (in->kill_stage <= 1) {
		child_kill_group(&c, SIGTERM);
		in->kill_stage = 2;
		ev_timer_set(&in->kill_w, secs(ms_ns(in->host->pkg.limits.grace_ms)), 0.);
		ev_timer_start(in->host->loop, &in->kill_w);
	} else {
		child_kill_group(&c, SIGKILL);
		in->kill_stage = 3;
	}
}

void algo_instance_terminate(struct algo_instance *in, const char *reason)
{
	struct child c = { .pid = in->pid };

	if (!in->alive || in->kill_stage >= 2)
		return;
	if (!in->kill_reason)
		in->kill_reason = reason;
	ev_timer_stop(in->host->loop, &in->heartbeat_w);
	ev_timer_stop(in->host->loop, &in->handshake_w);
	child_kill_group(&c, SIGTERM);
	in->kill_stage = 2;
	ev_timer_stop(in->host->loop, &in->kill_w);
	ev_timer_set(&in->kill_w, secs(ms_ns(in->host->pkg.limits.grace_ms)), 0.);
	ev_timer_start(in->host->loop, &in->kill_w);
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
		/* A child that does not read its stdin gets EOF, which also means shutdown. */
		if (in->wbuf.len == 0 && algo_msg_shutdown(&in->wbuf) == 0)
			flush_writes(in);
		close_stdin(in);
		in->kill_stage = 1;
		ev_timer_set(&in->kill_w, secs(ms_ns(a->pkg.limits.grace_ms)), 0.);
		ev_timer_start(a->loop, &in->kill_w);
	}
}

/* ---- reading the child's messages ---- */

static void handle_hello(struct algo_instance *in, yajl_val msg)
{
	struct algorithm *a = in->host;
	yajl_val proto = algo_member(msg, "protocol");
	char reason[96];
	size_t mark;

	if (in->hello_done) {
		protocol_error(in, "unexpected_hello", NULL, 0, "a second hello");
		return;
	}
	if (!proto || !YAJL_IS_INTEGER(proto) || YAJL_GET_INTEGER(proto) != ALGO_PROTOCOL_VERSION) {
		snprintf(reason, sizeof(reason), "the child speaks protocol %lld, not %d",
			 proto && YAJL_IS_INTEGER(proto) ? YAJL_GET_INTEGER(proto) : -1,
			 ALGO_PROTOCOL_VERSION);
		protocol_error(in, "protocol_version", NULL, 0, reason);
		algo_instance_terminate(in, "protocol_version");
		return;
	}
	ev_timer_stop(a->loop, &in->handshake_w);
	if (algo_msg_hello(&in->wbuf, COLLECTOR_VERSION, a->pkg.config_json,
			   a->pkg.limits.heartbeat_ms) < 0) {
		algo_instance_terminate(in, "out_of_memory");
		return;
	}
	flush_writes(in);
	in->hello_done = true;
	algo_ev_begin(a);
	algo_ev_int(a, "instance", in->index);
	algo_ev_int(a, "spawn_to_ready_us", (algo_mono_ns() - in->spawn_ns) / 1000);
	/* Written back out, not the line itself: yajl_tree_parse() lets comments through. */
	mark = in->scratch.len;
	if (algo_json_append(&in->scratch, msg) == 0)
		algo_ev_raw(a, "hello", in->scratch.data + mark, in->scratch.len - mark);
	algo_ev_emit(a, "algorithm.ready", in->pid);
	algo_set_state(in, ALGO_READY, "hello received");
	ev_timer_again(a->loop, &in->heartbeat_w);
	algo_dispatch(a);
}

static struct algo_call *find_inflight(struct algo_instance *in, uint64_t id)
{
	for (struct algo_call *c = in->inflight.head; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

/*
 * Whether the pool was resized (a child that can write it truncated it) or
 * faulted while @p c's image was in it: the image may be gone, the answer is
 * not trusted.
 */
static bool pool_spoiled(struct algo_instance *in, const struct algo_call *c)
{
	struct shm_pool *pool = &in->host->pool;

	shm_pool_check(pool);
	if (!shm_pool_spoiled(pool, c->slot))
		return false;
	protocol_error(in, "pool_resized", NULL, 0,
		       "the shared-memory pool was resized; children must only read it");
	return true;
}

static void handle_result(struct algo_instance *in, yajl_val msg)
{
	yajl_val id = algo_member(msg, "id"), ok = algo_member(msg, "ok");
	struct algo_call *c;
	struct buffer *b = &in->scratch;
	size_t mark = b->len;

	if (!id || !YAJL_IS_INTEGER(id)) {
		protocol_error(in, "bad_result", b->data, mark - 1,
			       "a result without an integer id");
		return;
	}
	c = find_inflight(in, (uint64_t)YAJL_GET_INTEGER(id));
	if (!c) {
		protocol_error(in, "unknown_id", b->data, mark - 1,
			       "a result for a call that is not in flight");
		return;
	}
	in->consecutive_failures = 0;
	in->answered++;
	algo_list_remove(&in->inflight, c);
	if (c->has_image && pool_spoiled(in, c)) {
		algo_complete(c, ALGORITHM_BAD_OUTPUT,
			      "the shared-memory pool was resized while the call was in flight",
			      NULL, 0);
	} else if (!ok || !(YAJL_IS_TRUE(ok) || YAJL_IS_FALSE(ok))) {
		protocol_error(in, "bad_result", b->data, mark - 1, "a result without ok");
		algo_complete(c, ALGORITHM_PROTOCOL, "the child's result has no boolean ok", NULL,
			      0);
	} else if (YAJL_IS_TRUE(ok)) {
		if (algo_json_append(b, algo_member(msg, "data")) < 0)
			algo_complete(c, ALGORITHM_PROTOCOL, "out of memory", NULL, 0);
		else
			algo_complete(c, ALGORITHM_OK, "", b->data + mark, b->len - mark);
	} else {
		yajl_val e = algo_member(msg, "error"), m = algo_member(e, "message");
		char message[200];

		const char *text = m && YAJL_IS_STRING(m) ? m->u.string : "the algorithm failed";

		snprintf(message, sizeof(message), "%.*s",
			 (int)algo_utf8_prefix(text, strlen(text), sizeof(message) - 1), text);
		if (algo_json_append(b, e) < 0)
			algo_complete(c, ALGORITHM_FAILED, message, NULL, 0);
		else
			algo_complete(c, ALGORITHM_FAILED, message, b->data + mark, b->len - mark);
	}
	settle_state(in, "call completed");
	algo_dispatch(in->host);
}

static void handle_log_or_event(struct algo_instance *in, yajl_val msg, bool is_log)
{
	struct algorithm *a = in->host;
	struct buffer tmp = { 0 };

	algo_ev_begin(a);
	algo_ev_int(a, "instance", in->index);
	for (size_t i = 0; i < msg->u.object.len; i++) {
		const char *k = msg->u.object.keys[i];

		if (strcmp(k, "type") == 0)
			continue;
		tmp.len = 0;
		if (algo_json_append(&tmp, msg->u.object.values[i]) == 0)
			algo_ev_raw(a, k, tmp.data, tmp.len);
	}
	buffer_free(&tmp);
	algo_ev_emit(a, is_log ? "algorithm.log" : "algorithm.event", in->pid);
}

static void handle_line(struct algo_instance *in, const struct line *l)
{
	char ebuf[128];
	yajl_val msg, type;
	struct buffer *b = &in->scratch;

	if (l->flags & LINE_TRUNCATED) {
		protocol_error(in, "line_too_long", l->ptr, l->len,
			       "a line longer than max_line_bytes; the rest was discarded");
		return;
	}
	/* Deeper values could not be written back out into events (nor freed on a small stack). */
	if (!algo_json_nesting_ok(l->ptr, l->len, ALGO_MAX_NESTING)) {
		protocol_error(in, "too_deep", l->ptr, l->len,
			       "a message nesting arrays and objects more than 64 deep");
		return;
	}
	b->len = 0;
	if (buffer_append(b, l->ptr, l->len) < 0 || buffer_append(b, "", 1) < 0)
		return;
	msg = yajl_tree_parse(b->data, ebuf, sizeof(ebuf));
	if (!msg || !YAJL_IS_OBJECT(msg)) {
		protocol_error(in, "invalid_json", l->ptr, l->len, "not a JSON object");
		yajl_tree_free(msg);
		return;
	}
	type = algo_member(msg, "type");
	in->missed_pongs = 0;
	if (!type || !YAJL_IS_STRING(type)) {
		protocol_error(in, "no_type", l->ptr, l->len, "a message without a string type");
	} else if (strcmp(type->u.string, "hello") == 0) {
		handle_hello(in, msg);
	} else if (strcmp(type->u.string, "log") == 0 || strcmp(type->u.string, "event") == 0) {
		handle_log_or_event(in, msg, type->u.string[0] == 'l');
	} else if (!in->hello_done) {
		protocol_error(in, "before_hello", l->ptr, l->len, "a message before the hello");
	} else if (strcmp(type->u.string, "result") == 0) {
		handle_result(in, msg);
	} else if (strcmp(type->u.string, "pong") == 0) {
		settle_state(in, "pong received");
	} else {
		protocol_error(in, "unknown_type", l->ptr, l->len, "an unknown message type");
	}
	yajl_tree_free(msg);
}

static void handle_stderr(struct algo_instance *in, const struct line *l)
{
	struct algorithm *a = in->host;

	snprintf(in->stderr_tail[in->stderr_count++ % ALGO_STDERR_TAIL], sizeof(in->stderr_tail[0]),
		 "%.*s", (int)algo_utf8_prefix(l->ptr, l->len, sizeof(in->stderr_tail[0]) - 1),
		 l->ptr);
	algo_ev_begin(a);
	algo_ev_int(a, "instance", in->index);
	algo_ev_strn(a, "line", l->ptr, l->len);
	algo_ev_emit(a, "algorithm.stderr", in->pid);
}

bool algo_instance_take_lines(struct algo_instance *in, bool is_stderr)
{
	struct line_framer *f = is_stderr ? &in->err_fr : &in->out_fr;
	struct line l;

	while (!in->host->paused && line_framer_next(f, &l)) {
		if (is_stderr)
			handle_stderr(in, &l);
		else
			handle_line(in, &l);
	}
	return !in->host->paused;
}

/*
 * Read and handle what is there until the host pauses (what was read and not
 * handled stays in the framer); returns false once the stream is closed (EOF
 * or error).
 */
static bool read_stream(struct algo_instance *in, bool is_stderr)
{
	struct line_framer *f = is_stderr ? &in->err_fr : &in->out_fr;
	int *fd = is_stderr ? &in->err_fd : &in->out_fd;
	ev_io *w = is_stderr ? &in->err_w : &in->out_w;

	for (int i = 0; i < READS_PER_WAKEUP && *fd >= 0 && algo_instance_take_lines(in, is_stderr);
	     i++) {
		ssize_t n = line_framer_read(f, *fd);

		if (n == -EAGAIN)
			break;
		if (n <= 0 && n != -ENOBUFS) {
			line_framer_finish(f);
			ev_io_stop(in->host->loop, w);
			close(*fd);
			*fd = -1;
		}
	}
	algo_instance_take_lines(in, is_stderr);
	return *fd >= 0;
}

void algo_instance_read_now(struct algo_instance *in)
{
	if (in->out_fd >= 0 && !in->host->paused)
		read_stream(in, false);
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct algo_instance *in = w->data;

	(void)loop;
	(void)revents;
	read_stream(in, w == &in->err_w);
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

static void on_heartbeat(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct algo_instance *in = w->data;

	(void)loop;
	(void)revents;
	/* A pong the host has not read yet (it was paused) is not a missed one. */
	if (in->missed_pongs > 0)
		algo_instance_read_now(in);
	if (!in->alive || !in->hello_done || in->inflight.len > 0 || in->kill_reason ||
	    in->host->paused)
		return;
	if (in->missed_pongs >= ALGO_MISSED_PONGS) {
		algo_instance_terminate(in, "hang");
		return;
	}
	if (in->missed_pongs > 0 && in->state == ALGO_READY)
		algo_set_state(in, ALGO_DEGRADED, "missed pong");
	in->missed_pongs++;
	if (algo_msg_ping(&in->wbuf, ++in->ping_seq) == 0)
		flush_writes(in);
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

	ev_io_stop(loop, &in->out_w);
	ev_io_stop(loop, &in->err_w);
	close_stdin(in);
	if (in->out_fd >= 0)
		close(in->out_fd);
	if (in->err_fd >= 0)
		close(in->err_fd);
	in->out_fd = in->err_fd = -1;
	ev_timer_stop(loop, &in->handshake_w);
	ev_timer_stop(loop, &in->heartbeat_w);
	ev_timer_stop(loop, &in->kill_w);
	algo_cgroup_destroy(&in->cg);
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
	algo_ev_int(a, "uptime_ms", (algo_mono_ns() - in->spawn_ns) / 1000000);
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
	int64_t now = algo_mono_ns(), delay = 0;
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
		ev_timer_set(&in->restart_w, secs(a->opts.breaker_cooldown_ns), 0.);
		ev_timer_start(a->loop, &in->restart_w);
		algo_dispatch(a); /* all broken: the queue fails fast */
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
	ev_timer_set(&in->restart_w, secs(delay), 0.);
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
		read_stream(in, false);
	for (int i = 0; i < 64 && !a->paused && in->err_fd >= 0; i++)
		read_stream(in, true);
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
		algo_maybe_stopped(a);
	} else {
		after_failure(in, reason);
	}
	algo_dispatch(a);
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
			     secs(ms_ns(in->host->pkg.limits.heartbeat_ms)));
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

/* ---- spawning ---- */

static int make_pipe(int fds[2], int parent_end)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fcntl(fds[parent_end], F_SETFL, O_NONBLOCK);
	return 0;
}

/* In the forked child: only async-signal-safe calls until exec. */
static void child_exec(struct algo_instance *in, pid_t host, int in_r, int out_w, int err_w,
		       int status_w, char **env)
{
	struct algorithm *a = in->host;
	const struct algo_limits *lim = &a->pkg.limits;
	sigset_t none;
	int e;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setpgid(0, 0);
	if (in->cg.ndirs && algo_cgroup_join_self(&in->cg) < 0)
		goto fail;
	if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		goto fail;
	setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
	if (lim->max_open_files)
		setrlimit(RLIMIT_NOFILE, &(struct rlimit){ (rlim_t)lim->max_open_files,
							   (rlim_t)lim->max_open_files });
	if (a->has_user && (setgroups(0, NULL) < 0 || setgid(a->gid) < 0 || setuid(a->uid) < 0))
		goto fail;
	/*
	 * Dies with the host, even by SIGKILL. After setuid(), which clears it. It
	 * fires when the forking *thread* ends: that is the loop's, which lives as
	 * long as the host. A host already gone before prctl() is seen by the check.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != host)
		goto fail;
	/* Only stdin, stdout and stderr reach the package (status_w closes at exec). */
	if (child_close_private_fds() < 0)
		goto fail;
	if (chdir(a->pkg.workdir) < 0)
		goto fail;
	execvpe(a->pkg.argv[0], a->pkg.argv, env);
fail:
	e = errno;
	if (write(status_w, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

static int spawn_child(struct algo_instance *in, char **env, struct error *err)
{
	int in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, st[2] = { -1, -1 };
	int rc, child_errno = 0;
	pid_t pid, host = getpid();

	if ((rc = make_pipe(in_p, 1)) < 0 || (rc = make_pipe(out_p, 0)) < 0 ||
	    (rc = make_pipe(err_p, 0)) < 0 || (rc = make_pipe(st, 0)) < 0) {
		error_set(err, -rc, "pipe: %s", strerror(-rc));
		goto out;
	}
	fcntl(st[0], F_SETFL, 0);
	fcntl(out_p[0], F_SETPIPE_SZ, CHILD_PIPE_SIZE);
	if (in->host->opts.on_forking)
		in->host->opts.on_forking(in->host->opts.arg, in->index, true);
	pid = fork();
	if (pid != 0 && in->host->opts.on_forking)
		in->host->opts.on_forking(in->host->opts.arg, in->index, false);
	if (pid < 0) {
		rc = error_set(err, errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(in, host, in_p[0], out_p[1], err_p[1], st[1], env);
	setpgid(pid, pid);
	close(st[1]);
	st[1] = -1;
	/* The status pipe closes on exec; bytes on it mean the exec failed. */
	if (read(st[0], &child_errno, sizeof(child_errno)) == sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		rc = error_set(err, child_errno, "cannot run '%s': %s", in->host->pkg.argv[0],
			       strerror(child_errno));
		goto out;
	}
	in->pid = pid;
	in->in_fd = in_p[1];
	in->out_fd = out_p[0];
	in->err_fd = err_p[0];
	in_p[1] = out_p[0] = err_p[0] = -1;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (in_p[i] >= 0)
			close(in_p[i]);
		if (out_p[i] >= 0)
			close(out_p[i]);
		if (err_p[i] >= 0)
			close(err_p[i]);
		if (st[i] >= 0)
			close(st[i]);
	}
	return rc;
}

static int prepare_sandbox(struct algo_instance *in, struct error *err)
{
	struct algorithm *a = in->host;
	char leaf[96];
	struct error cg_err = { 0 };

	/* The host's pid in the name: a later start removes it if this host dies unclean. */
	snprintf(in->tmpdir, sizeof(in->tmpdir),
		 ALGO_TMP_ROOT "/" ALGO_LEFTOVER_PREFIX "%d.%d.XXXXXX", (int)getpid(), in->index);
	if (!mkdtemp(in->tmpdir)) {
		in->tmpdir[0] = '\0';
		return error_set(err, errno, "mkdtemp: %s", strerror(errno));
	}
	if (a->has_user && chown(in->tmpdir, a->uid, a->gid) < 0)
		return error_set(err, errno, "chown %s: %s", in->tmpdir, strerror(errno));
	snprintf(leaf, sizeof(leaf), ALGO_LEFTOVER_PREFIX "%d.%d.%" PRIu64, (int)getpid(),
		 in->index, in->spawns);
	if (algo_cgroup_create(&in->cg, leaf, a->pkg.limits.memory_mb, a->pkg.limits.cpu_percent,
			       &cg_err) < 0) {
		algo_ev_begin(a);
		algo_ev_int(a, "instance", in->index);
		algo_ev_str(a, "level", "warn");
		algo_ev_str(a, "message", cg_err.msg);
		algo_ev_emit(a, "algorithm.log", 0);
	}
	return 0;
}

int algo_instance_spawn(struct algo_instance *in, struct error *err)
{
	struct algorithm *a = in->host;
	char tmp_env[96], inst_env[48];
	char *extra[2] = { tmp_env, inst_env };
	char **env;
	int rc;

	in->spawns++;
	in->hello_done = in->stopping = false;
	in->kill_stage = 0;
	in->kill_reason = NULL;
	in->missed_pongs = 0;
	in->stderr_count = 0;
	in->answered = 0;
	in->timed_out_id = 0;
	line_framer_reset(&in->out_fr);
	line_framer_reset(&in->err_fr);
	rc = prepare_sandbox(in, err);
	snprintf(tmp_env, sizeof(tmp_env), "TMPDIR=%s", in->tmpdir);
	snprintf(inst_env, sizeof(inst_env), "COLLECTOR_ALGORITHM_INSTANCE=%d", in->index);
	env = rc == 0 ? algo_package_env(&a->pkg, extra, 2) : NULL;
	if (rc == 0 && !env)
		rc = error_set(err, ENOMEM, "out of memory");
	if (rc == 0)
		rc = spawn_child(in, env, err);
	algo_env_free(env);
	algo_cgroup_close_fds(&in->cg);
	if (rc < 0) {
		release_resources(in);
		algo_ev_begin(a);
		algo_ev_int(a, "instance", in->index);
		algo_ev_str(a, "reason", err->msg);
		algo_ev_emit(a, "algorithm.spawn_error", 0);
		return rc;
	}
	in->alive = true;
	in->spawn_ns = algo_mono_ns();
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
	ev_timer_set(&in->handshake_w, secs(ms_ns(a->pkg.limits.handshake_timeout_ms)), 0.);
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

int algo_instance_send_call(struct algo_instance *in, struct algo_call *c)
{
	struct algorithm *a = in->host;
	struct algo_call_image img, *imgp = NULL;

	if (c->has_image) {
		img = (struct algo_call_image){ .shm_name = a->pool.name,
						.offset = shm_pool_offset(&a->pool, c->slot),
						.size = c->image.size,
						.width = c->image.width,
						.height = c->image.height,
						.channels = c->image.channels,
						.stride = c->image.stride,
						.format = c->image.format };
		imgp = &img;
	}
	if (algo_msg_call(&in->wbuf, c->id, c->method, c->params, imgp) < 0)
		return -ENOMEM;
	c->inst = in;
	algo_list_push(&in->inflight, c);
	/* The loop's cached time may be stale after long callbacks: the timeout must not start early. */
	ev_now_update(a->loop);
	ev_timer_set(&c->timeout_w, secs(a->call_timeout_ns), 0.);
	ev_timer_start(a->loop, &c->timeout_w);
	flush_writes(in);
	settle_state(in, "call sent");
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
	ev_init(&in->in_w, on_writable);
	ev_init(&in->out_w, on_readable);
	ev_init(&in->err_w, on_readable);
	ev_child_init(&in->child_w, on_child_exit, 0, 0);
	ev_init(&in->handshake_w, on_handshake_timeout);
	ev_init(&in->heartbeat_w, on_heartbeat);
	in->heartbeat_w.repeat = secs(ms_ns(a->pkg.limits.heartbeat_ms));
	ev_init(&in->kill_w, on_kill_timer);
	ev_init(&in->restart_w, on_restart);
	in->in_w.data = in->out_w.data = in->err_w.data = in;
	in->child_w.data = in->handshake_w.data = in->heartbeat_w.data = in;
	in->kill_w.data = in->restart_w.data = in;
	for (int i = 0; i < ALGO_CGROUP_MAX_DIRS; i++)
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
