/* The message session with an instance's child: call, ping and shutdown lines out, hello, result, pong, log and event lines in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include <collector/collector.h>

#include "host.h"
#include "protocol.h"

#define READS_PER_WAKEUP 8

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
	algo_ev_int(a, "spawn_to_ready_us", (clock_mono_ns() - in->spawn_ns) / 1000);
	/* Written back out, not the line itself: yajl_tree_parse() lets comments through. */
	mark = in->scratch.len;
	if (algo_json_append(&in->scratch, msg) == 0)
		algo_ev_raw(a, "hello", in->scratch.data + mark, in->scratch.len - mark);
	if (a->opts.node_id) { /* seed 003's containers/ready: NAME/INSTANCE on this node */
		char id[300];

		snprintf(id, sizeof(id), "%s/%d", a->opts.name ? a->opts.name : "algorithm",
			 in->index);
		algo_ev_str(a, "node_id", a->opts.node_id);
		algo_ev_str(a, "container_id", id);
	}
	algo_ev_emit(a, "algorithm.ready", in->pid);
	algo_set_state(in, ALGO_READY, "hello received");
	ev_timer_again(a->loop, &in->heartbeat_w);
	a->hooks->capacity(a);
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
	in->host->hooks->capacity(in->host);
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

bool algo_session_read(struct algo_instance *in, bool is_stderr)
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
		algo_session_read(in, false);
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct algo_instance *in = w->data;

	(void)loop;
	(void)revents;
	algo_session_read(in, w == &in->err_w);
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
	c->sent_ns = clock_mono_ns();
	algo_list_push(&in->inflight, c);
	/* The loop's cached time may be stale after long callbacks: the timeout must not start early. */
	ev_now_update(a->loop);
	ev_timer_set(&c->timeout_w, algo_secs(a->call_timeout_ns), 0.);
	ev_timer_start(a->loop, &c->timeout_w);
	flush_writes(in);
	settle_state(in, "call sent");
	return 0;
}

void algo_session_shutdown(struct algo_instance *in)
{
	/* A child that does not read its stdin gets EOF, which also means shutdown. */
	if (in->wbuf.len == 0 && algo_msg_shutdown(&in->wbuf) == 0)
		flush_writes(in);
	close_stdin(in);
}

void algo_session_close(struct algo_instance *in)
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
}

void algo_session_init(struct algo_instance *in)
{
	ev_init(&in->in_w, on_writable);
	ev_init(&in->out_w, on_readable);
	ev_init(&in->err_w, on_readable);
	ev_init(&in->heartbeat_w, on_heartbeat);
	in->heartbeat_w.repeat = algo_secs(algo_ms_ns(in->host->pkg.limits.heartbeat_ms));
	in->in_w.data = in->out_w.data = in->err_w.data = in->heartbeat_w.data = in;
}
