/* Fuzz target: the algorithm host reads any child output and keeps its events, calls and state sound. */
#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include <collector/algorithm.h>

#include "../../runners/algorithm/host.h"
#include "../../runners/algorithm/protocol.h"

/*
 * Input: a config byte (bit 0: instances - 1; bits 1-2: max_inflight - 1;
 * bits 3-4: the line limit; bits 5-7: the largest read), then a script: its
 * first segment is instance 0's stdout, and each 0x1e byte starts a segment
 * whose first byte is an action (lower case: instance 0, upper case:
 * instance 1) and whose rest is that action's bytes:
 *   o  stdout bytes          e  stderr bytes        c  submit a call (params)
 *   p  heartbeat timer       h  handshake timer     t  oldest call's timeout
 *   k  kill timer            x  the child exits (status byte)
 *   q  restart the instance  s  stop the host
 * Timers fire only while the host has them running, as they would.
 */
#define SEGMENT 0x1e

static const int64_t line_limits[] = { 32, 256, 1024, 4096 };
static const size_t read_sizes[] = { 1, 2, 7, 64, 512, 4096, 65536, SIZE_MAX };

struct fuzz {
	struct algorithm *a;
	uint64_t submitted, done;
};

static void check_json(const char *json, size_t len)
{
	if (!json || len == 0 || !algo_json_valid(json, len))
		abort();
}

static void on_event(void *arg, const char *type, pid_t pid, const char *json, size_t len)
{
	(void)arg;
	(void)pid;
	if (!json)
		return; /* out of memory: the event is lost, and counted by the runner */
	if (!type || strncmp(type, "algorithm.", 10) != 0 || json[0] != '{')
		abort();
	check_json(json, len);
}

/* The crash report's view of an end is JSON members too. */
static void on_exit_child(void *arg, int instance, pid_t pid, int wait_status)
{
	struct fuzz *f = arg;
	struct event_builder *report = event_builder_new();
	const char *kill_reason;
	struct span text;

	(void)pid;
	if (!report)
		return;
	event_builder_begin(report);
	algorithm_describe_exit(f->a, instance, wait_status, report, &kill_reason);
	if (event_builder_finish(report, &text) == 0)
		check_json(text.ptr, text.len);
	event_builder_free(report);
}

static void on_done(void *arg, const struct algorithm_result *res)
{
	struct fuzz *f = arg;

	f->done++;
	if (res->code > ALGORITHM_BAD_OUTPUT || !res->message)
		abort();
	if (res->json)
		check_json(res->json, res->json_len);
}

/* The child's stdin: every host message is one JSON object on one line. */
static void drain_stdin(struct algo_instance *in)
{
	struct buffer *w = &in->wbuf;
	size_t start = 0;

	for (size_t i = 0; i < w->len; i++) {
		if (w->data[i] != '\n')
			continue;
		if (w->data[start] != '{')
			abort();
		check_json(w->data + start, i - start);
		start = i + 1;
	}
	if (start != w->len)
		abort();
	w->len = 0;
}

/* What algo_instance_spawn() leaves behind, without a process: the streams read EOF. */
static int fake_spawn(struct algo_instance *in)
{
	struct algorithm *a = in->host;

	in->out_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	in->err_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in->out_fd < 0 || in->err_fd < 0)
		return -1;
	in->spawns = 1;
	in->pid = 0;
	in->alive = true;
	in->spawn_ns = clock_mono_ns();
	ev_timer_set(&in->handshake_w, (double)a->pkg.limits.handshake_timeout_ms / 1e3, 0.);
	ev_timer_start(a->loop, &in->handshake_w);
	algo_set_state(in, ALGO_STARTING, "first start");
	return 0;
}

static void feed(struct algo_instance *in, bool is_stderr, const uint8_t *p, size_t n,
		 size_t read_size)
{
	struct line_framer *fr = is_stderr ? &in->err_fr : &in->out_fr;

	while (n > 0 && in->alive) {
		size_t chunk = n < read_size ? n : read_size;
		size_t took = line_framer_feed(fr, p, chunk);

		p += took;
		n -= took;
		if (!algo_instance_take_lines(in, is_stderr))
			break;
	}
}

/* A one-shot timer fires: libev stops it, then calls it. */
static void fire(struct ev_loop *loop, ev_timer *w)
{
	if (!ev_is_active(w))
		return;
	ev_timer_stop(loop, w);
	ev_invoke(loop, w, EV_TIMER);
}

static void child_exits(struct algo_instance *in, int status)
{
	if (!in->alive)
		return;
	in->child_w.rstatus = status;
	ev_invoke(in->host->loop, &in->child_w, EV_CHILD);
}

static void act(struct fuzz *f, uint8_t action, const uint8_t *p, size_t n, size_t read_size)
{
	struct algorithm *a = f->a;
	struct algo_instance *in = &a->inst[isupper(action) && a->ninst > 1 ? 1 : 0];
	struct algo_call *c;
	char *params;

	switch (tolower(action)) {
	case 'o':
	case 'e':
		feed(in, tolower(action) == 'e', p, n, read_size);
		break;
	case 'c':
		params = n ? strndup((const char *)p, n) : NULL;
		f->submitted++;
		algorithm_submit(a, "execute", params, NULL, on_done, f);
		free(params);
		break;
	case 'p':
		if (ev_is_active(&in->heartbeat_w))
			ev_invoke(a->loop, &in->heartbeat_w, EV_TIMER);
		break;
	case 'h':
		fire(a->loop, &in->handshake_w);
		break;
	case 'k':
		fire(a->loop, &in->kill_w);
		break;
	case 't':
		for (c = in->inflight.head; c && !ev_is_active(&c->timeout_w); c = c->next)
			;
		if (c)
			fire(a->loop, &c->timeout_w);
		break;
	case 'x':
		child_exits(in, n == 0 ? 0 : p[0] < 128 ? W_EXITCODE(p[0], 0) : (p[0] & 31));
		break;
	case 'q':
		algorithm_restart_instance(a, in->index, "fuzz");
		break;
	case 's':
		algorithm_stop(a);
		break;
	}
}

static void check_state(struct fuzz *f)
{
	struct algorithm *a = f->a;
	size_t inflight = 0;

	for (int i = 0; i < a->ninst; i++) {
		struct algo_instance *in = &a->inst[i];

		drain_stdin(in);
		if ((int64_t)in->inflight.len > a->pkg.limits.max_inflight ||
		    (!in->alive && in->inflight.len) || in->state > ALGO_STOPPED)
			abort();
		inflight += in->inflight.len;
	}
	if (a->pending != f->submitted - f->done || a->pending != inflight + a->queue.len)
		abort();
}

/*
 * Setting a host up costs far more than most scripts: each process keeps one
 * per instance count and line limit, reset after every script (the call ids,
 * states, counters, buffers and timers of one must not reach the next).
 */
static struct algorithm *hosts[2][4];
static struct fuzz fuzz;

static struct algorithm *new_host(uint8_t config)
{
	struct algorithm_options opts = { .instances = 1 + (config & 1),
					  .queue_size = 8,
					  .on_event = on_event,
					  .on_exit = on_exit_child,
					  .arg = &fuzz };
	struct algorithm *a;
	struct algo_package *pkg;

	if (algo_host_new(&opts, &a, NULL) < 0)
		return NULL;
	pkg = &a->pkg;
	pkg->name = strdup("fuzz");
	pkg->config_json = strdup("{\"threshold\":0.5}");
	pkg->limits = (struct algo_limits){ .call_timeout_ms = 1000,
					    .max_inflight = 1,
					    .handshake_timeout_ms = 2000,
					    .heartbeat_ms = 1000,
					    .grace_ms = 2000,
					    .max_line_bytes = line_limits[(config >> 3) & 3] };
	if (!pkg->name || !pkg->config_json || algo_host_add_instances(a, NULL) < 0) {
		algorithm_close(a);
		return NULL;
	}
	return a;
}

static int setup(struct fuzz *f, uint8_t config)
{
	struct algorithm **slot = &hosts[config & 1][(config >> 3) & 3];

	*f = (struct fuzz){ .a = *slot ? *slot : (*slot = new_host(config)) };
	if (!f->a)
		return -1;
	f->a->pkg.limits.max_inflight = 1 + ((config >> 1) & 3);
	for (int i = 0; i < f->a->ninst; i++)
		if (fake_spawn(&f->a->inst[i]) < 0)
			return -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz *f = &fuzz;
	size_t read_size, off = 1;
	uint8_t action = 'o';
	bool ready;

	if (size < 1)
		return 0;
	read_size = read_sizes[data[0] >> 5];
	ready = setup(f, data[0]) == 0;
	while (ready && off <= size) {
		const uint8_t *end = memchr(data + off, SEGMENT, size - off);
		size_t n = end ? (size_t)(end - (data + off)) : size - off;

		act(f, action, data + off, n, read_size);
		check_state(f);
		off += n + 1;
		if (off >= size)
			break;
		action = data[off++];
	}
	if (!f->a)
		return 0;
	/* The host stops; every child exits and its last output is read. */
	algorithm_stop(f->a);
	for (int i = 0; i < f->a->ninst; i++)
		child_exits(&f->a->inst[i], 0);
	if (ready) {
		check_state(f);
		if (f->done != f->submitted || f->a->pending)
			abort();
	}
	/* A host that has not ended everything cannot start the next script clean. */
	if (algo_host_reset(f->a, NULL) < 0)
		abort();
	return 0;
}
