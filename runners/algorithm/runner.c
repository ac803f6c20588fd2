/* The algorithm runner: a package's supervised children fed calls from a file, stdin or frames. */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>
#include <yajl/yajl_tree.h>

#include <collector/algorithm.h>
#include <collector/buffer.h>
#include <collector/line_framer.h>
#include <collector/runner.h>

#include "health_watch.h"
#include "host.h"
#include "pnm.h"
#include "protocol.h"
#include "service.h"

#define CALL_LINE_MAX ((size_t)1 << 20)

struct algorithm_runner {
	struct runner_ctx *ctx;
	const struct options *opts;
	struct algorithm *algo;
	struct algo_watch *watch; /* health watch and crash reports */
	struct service *svc;	  /* --listen: the gRPC service, else NULL */
	/* calls source */
	int calls_fd;
	bool close_calls_fd;
	char base_dir[PATH_MAX]; /* relative image paths start here */
	struct line_framer framer;
	ev_io calls_w;
	/* frames source */
	char **frames;
	int nframes, next_frame;
	ev_timer frame_w;
	size_t max_outstanding;
	size_t outstanding;
	bool input_done;
	bool stopping;
	bool finished;
	bool paused;  /* a full sink holds it back until resume() */
	bool reading; /* in read_calls(): an outcome does not read on from inside it */
	uint64_t pauses;
	unsigned long calls, failures;
	struct buffer params;
	struct event_builder *json; /* frame params and control replies */
};

/* What a call keeps until its outcome: the image bytes it lends to the host. */
struct pending_call {
	struct algorithm_runner *r;
	struct pnm_image img;
};

static const struct option_spec algorithm_options[] = {
	{ .name = "package",
	  .short_name = 'P',
	  .type = OPT_STRING,
	  .required = true,
	  .help = "the algorithm package directory (holding manifest.json)" },
	{ .name = "instances",
	  .short_name = 'n',
	  .type = OPT_INT,
	  .def = "1",
	  .help = "children of the package; calls go to the least busy" },
	{ .name = "calls",
	  .type = OPT_STRING,
	  .help = "JSON-lines file of calls, or - for stdin: "
		  "{\"method\":\"execute\",\"params\":{...},\"image\":\"f.ppm\"}" },
	{ .name = "frames",
	  .type = OPT_STRING,
	  .help = "directory of binary PPM/PGM frames, fed in name order at --fps" },
	{ .name = "fps", .type = OPT_INT, .def = "10", .help = "frames per second with --frames" },
	{ .name = "user", .type = OPT_STRING, .help = "run the children as this user" },
	{ .name = "queue-size",
	  .type = OPT_INT,
	  .def = "1024",
	  .help = "calls waiting for a child; beyond it calls fail with no_capacity" },
	{ .name = "pool-slots",
	  .type = OPT_INT,
	  .def = "0",
	  .help = "shared-memory image slots (0: 2 x instances x max_inflight, at least 4)" },
	{ .name = "slot-size",
	  .type = OPT_SIZE,
	  .def = "8MiB",
	  .help = "bytes per shared-memory image slot: the largest image" },
	{ .name = "call-timeout",
	  .type = OPT_DURATION,
	  .def = "0",
	  .help = "per-call timeout (0: the manifest's call_timeout_ms)" },
	{ .name = "breaker-cooldown",
	  .type = OPT_DURATION,
	  .def = "30s",
	  .help = "how long an open circuit breaker keeps an instance down" },
	ALGO_WATCH_OPTIONS,
	ALGO_SERVICE_OPTIONS,
	{ 0 },
};

/* The runner's health follows its worst child: an open breaker fails it, a restart degrades it. */
static void update_health(struct algorithm_runner *r)
{
	const struct algo_instance *worst = NULL;

	for (int i = 0; r->algo && i < r->algo->ninst; i++) {
		const struct algo_instance *in = &r->algo->inst[i];

		if (in->state == ALGO_BROKEN ||
		    ((in->state == ALGO_RESTARTING || in->state == ALGO_DEGRADED) &&
		     (!worst || worst->state != ALGO_BROKEN)))
			worst = in;
	}
	if (!worst)
		runner_set_health(r->ctx, RUNNER_HEALTHY, NULL);
	else if (worst->state == ALGO_BROKEN)
		runner_set_health(r->ctx, RUNNER_FAILING,
				  "instance %d: circuit breaker open, calls fail fast",
				  worst->index);
	else
		runner_set_health(r->ctx, RUNNER_DEGRADED, "instance %d is %s", worst->index,
				  algo_state_name(worst->state));
}

/* Backpressure: when a sink under the block policy is full, stop taking input and hold the host. */
static void hold_back(struct algorithm_runner *r)
{
	if (r->paused || runner_can_emit(r->ctx))
		return;
	r->paused = true;
	r->pauses++;
	if (r->calls_fd >= 0)
		ev_io_stop(runner_loop(r->ctx), &r->calls_w);
	ev_timer_stop(runner_loop(r->ctx), &r->frame_w);
	if (r->algo)
		algorithm_pause(r->algo);
}

static void on_event(void *arg, const char *type, pid_t pid, const char *json, size_t len)
{
	struct algorithm_runner *r = arg;
	struct event *ev = json ? event_new((struct span){ type, strlen(type) }, (struct span){ 0 },
					    (struct span){ json, len }) :
				  NULL;

	if (strcmp(type, "algorithm.state") == 0)
		update_health(r);
	/* A child's protocol error is bad input from the source: counted in /metrics and /runners. */
	if (strcmp(type, "algorithm.protocol_error") == 0)
		runner_report_error(r->ctx, "child_protocol", 0, 0, json, json ? len : 0,
				    "instance broke the protocol (algorithm.protocol_error)");
	service_on_event(r->svc, type, json, len);
	if (!ev) {
		runner_emit_failed(r->ctx, type);
		return;
	}
	if (pid > 0)
		event_set_pid(ev, pid);
	runner_emit(r->ctx, ev);
	hold_back(r);
}

static void on_forking(void *arg, int instance, bool forking)
{
	struct algorithm_runner *r = arg;

	(void)instance;
	algo_watch_on_forking(r->watch, forking);
}

static void on_spawn(void *arg, int instance, pid_t pid)
{
	struct algorithm_runner *r = arg;

	algo_watch_on_spawn(r->watch, instance, pid);
}

static void on_exit_child(void *arg, int instance, pid_t pid, int wait_status)
{
	struct algorithm_runner *r = arg;

	algo_watch_on_exit(r->watch, instance, pid, wait_status);
}

static void maybe_finish(struct algorithm_runner *r)
{
	if (r->input_done && r->outstanding == 0 && !r->stopping) {
		r->stopping = true;
		algorithm_stop(r->algo);
	}
}

static void on_stopped(void *arg)
{
	struct algorithm_runner *r = arg;

	if (r->finished)
		return;
	r->finished = true;
	runner_finished(r->ctx, !r->input_done ? RUNNER_CANCELED :
				r->failures    ? RUNNER_FAILED :
						 RUNNER_SUCCESS);
}

static void read_calls(struct algorithm_runner *r);

static void on_done(void *arg, const struct algorithm_result *res)
{
	struct pending_call *pc = arg;
	struct algorithm_runner *r = pc->r;

	if (res->code != ALGORITHM_OK)
		r->failures++;
	pnm_free(&pc->img);
	free(pc);
	r->outstanding--;
	if (r->calls_fd >= 0 && !r->stopping && !r->paused && !r->reading &&
	    !ev_is_active(&r->calls_w))
		read_calls(r);
	maybe_finish(r);
}

static void submit(struct algorithm_runner *r, const char *method, const char *params,
		   const struct algorithm_call_info *info, struct pending_call *pc)
{
	r->outstanding++;
	r->calls++;
	algorithm_submit_info(r->algo, method, params, pc->img.pixels ? &pc->img.meta : NULL, info,
			      on_done, pc);
}

/* A request that is not a call still gets its one algorithm.result (bad_input). */
static void reject(struct algorithm_runner *r, const char *method,
		   const struct algorithm_call_info *info, const char *message)
{
	struct pending_call *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return;
	pc->r = r;
	r->outstanding++;
	r->calls++;
	algorithm_reject(r->algo, method, info, message, on_done, pc);
}

static void handle_call_line(struct algorithm_runner *r, const struct line *l)
{
	char ebuf[128], path[PATH_MAX * 2];
	yajl_val msg, method, image, tag;
	struct pending_call *pc;
	struct error err = { 0 };
	struct algorithm_call_info info = { .line = l->number };

	r->params.len = 0;
	if (buffer_append(&r->params, l->ptr, l->len) < 0 || buffer_append(&r->params, "", 1) < 0)
		return;
	if (l->len == 0)
		return;
	msg = yajl_tree_parse(r->params.data, ebuf, sizeof(ebuf));
	method = algo_member(msg, "method");
	image = algo_member(msg, "image");
	tag = algo_member(msg, "tag");
	if (tag && YAJL_IS_STRING(tag))
		info.tag = tag->u.string;
	if (!msg || !YAJL_IS_OBJECT(msg) || (method && !YAJL_IS_STRING(method)) ||
	    (image && !YAJL_IS_STRING(image))) {
		runner_report_error(r->ctx, "invalid_call", l->number, l->offset, l->ptr, l->len,
				    "calls line %llu: not {\"method\":\"...\",\"params\":{...},"
				    "\"image\":\"path\"}",
				    (unsigned long long)l->number);
		reject(r, NULL, &info, "invalid_call: the line is not a call");
		yajl_tree_free(msg);
		return;
	}
	pc = calloc(1, sizeof(*pc));
	if (!pc) {
		yajl_tree_free(msg);
		return;
	}
	pc->r = r;
	if (image) {
		const char *p = image->u.string;

		snprintf(path, sizeof(path), "%s%s%s", p[0] == '/' ? "" : r->base_dir,
			 p[0] == '/' ? "" : "/", p);
		if (pnm_load(&pc->img, path, &err) < 0) {
			runner_report_error(r->ctx, "bad_image", l->number, l->offset, l->ptr,
					    l->len, "calls line %llu: %s",
					    (unsigned long long)l->number, err.msg);
			free(pc);
			snprintf(path, sizeof(path), "bad_image: %s", err.msg);
			reject(r, method ? method->u.string : NULL, &info, path);
			yajl_tree_free(msg);
			return;
		}
	}
	{
		char *params = algo_json_text(algo_member(msg, "params"));

		submit(r, method ? method->u.string : "execute", params ? params : "{}", &info, pc);
		free(params);
	}
	yajl_tree_free(msg);
}

static void end_calls(struct algorithm_runner *r)
{
	ev_io_stop(runner_loop(r->ctx), &r->calls_w);
	if (r->close_calls_fd)
		close(r->calls_fd);
	r->calls_fd = -1;
	r->input_done = true;
	maybe_finish(r);
}

static void read_calls_now(struct algorithm_runner *r);

/* Read and submit calls while the host has room; the rest waits in the pipe or file. */
static void read_calls(struct algorithm_runner *r)
{
	r->reading = true;
	read_calls_now(r);
	r->reading = false;
	maybe_finish(r);
}

static void read_calls_now(struct algorithm_runner *r)
{
	struct line l;

	for (;;) {
		while (r->outstanding < r->max_outstanding && !r->paused &&
		       line_framer_next(&r->framer, &l)) {
			handle_call_line(r, &l);
			hold_back(r);
		}
		if (r->outstanding >= r->max_outstanding || r->stopping || r->paused) {
			ev_io_stop(runner_loop(r->ctx), &r->calls_w);
			return;
		}
		if (line_framer_done(&r->framer)) {
			end_calls(r);
			return;
		}
		ssize_t n = line_framer_read(&r->framer, r->calls_fd);

		if (n == -EAGAIN) {
			ev_io_start(runner_loop(r->ctx), &r->calls_w);
			return;
		}
		if (n < 0 && n != -ENOBUFS) {
			runner_report_error(r->ctx, "read_failed", 0, 0, NULL, 0,
					    "reading the calls: %s", strerror((int)-n));
			line_framer_finish(&r->framer);
		}
	}
}

static void on_calls_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	read_calls(w->data);
}

static void on_frame(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct algorithm_runner *r = w->data;
	struct pending_call *pc;
	struct error err = { 0 };
	char params[PATH_MAX + 32], *name;
	struct span text;

	(void)revents;
	if (r->stopping || r->next_frame >= r->nframes) {
		ev_timer_stop(loop, w);
		r->input_done = true;
		maybe_finish(r);
		return;
	}
	name = r->frames[r->next_frame++];
	pc = calloc(1, sizeof(*pc));
	if (!pc)
		return;
	pc->r = r;
	snprintf(params, sizeof(params), "%s/%s", r->base_dir, name);
	if (pnm_load(&pc->img, params, &err) < 0) {
		runner_report_error(r->ctx, "bad_image", 0, 0, name, strlen(name), "frame %s",
				    err.msg);
		r->failures++;
		free(pc);
		hold_back(r);
		return;
	}
	event_builder_begin(r->json);
	event_builder_str(r->json, "frame", name);
	r->params.len = 0;
	if (event_builder_finish(r->json, &text) < 0 ||
	    buffer_append(&r->params, text.ptr, text.len) < 0 ||
	    buffer_append(&r->params, "", 1) < 0) {
		runner_report_error(r->ctx, "out_of_memory", 0, 0, name, strlen(name),
				    "frame %s: out of memory", name);
		r->failures++;
		pnm_free(&pc->img);
		free(pc);
		hold_back(r);
		return;
	}
	submit(r, "execute", r->params.data, &(struct algorithm_call_info){ .tag = name }, pc);
}

static int is_frame(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 &&
	       (strcmp(d->d_name + n - 4, ".ppm") == 0 || strcmp(d->d_name + n - 4, ".pgm") == 0);
}

static int open_frames(struct algorithm_runner *r, const char *dir, struct error *err)
{
	struct dirent **list;
	int n = scandir(dir, &list, is_frame, alphasort);

	if (n < 0)
		return error_set(err, errno, "--frames %s: %s", dir, strerror(errno));
	r->frames = calloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; i < n; i++) {
		if (r->frames)
			r->frames[r->nframes++] = strdup(list[i]->d_name);
		free(list[i]);
	}
	free(list);
	if (!r->frames)
		return error_set(err, ENOMEM, "out of memory");
	snprintf(r->base_dir, sizeof(r->base_dir), "%s", dir);
	ev_timer_init(&r->frame_w, on_frame, 0., 1. / (double)options_int(r->opts, "fps"));
	r->frame_w.data = r;
	ev_timer_start(runner_loop(r->ctx), &r->frame_w);
	return 0;
}

static int open_calls(struct algorithm_runner *r, const char *calls, struct error *err)
{
	if (strcmp(calls, "-") == 0) {
		r->calls_fd = 0;
		if (!getcwd(r->base_dir, sizeof(r->base_dir)))
			snprintf(r->base_dir, sizeof(r->base_dir), ".");
		fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	} else {
		char copy[PATH_MAX];

		r->calls_fd = open(calls, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (r->calls_fd < 0)
			return error_set(err, errno, "--calls %s: %s", calls, strerror(errno));
		r->close_calls_fd = true;
		snprintf(copy, sizeof(copy), "%s", calls);
		snprintf(r->base_dir, sizeof(r->base_dir), "%s", dirname(copy));
	}
	if (line_framer_init(&r->framer, CALL_LINE_MAX, err) < 0)
		return -err->code;
	ev_io_init(&r->calls_w, on_calls_readable, r->calls_fd, EV_READ);
	r->calls_w.data = r;
	read_calls(r);
	return 0;
}

static void *algorithm_create(struct runner_ctx *ctx, const struct options *opts, struct error *err)
{
	struct algorithm_runner *r;

	if (options_int(opts, "instances") < 1 || options_int(opts, "instances") > 256 ||
	    options_int(opts, "fps") < 1 || options_int(opts, "queue-size") < 1 ||
	    options_int(opts, "pool-slots") < 0 || options_int(opts, "slot-size") < 1) {
		error_set(err, EINVAL,
			  "--instances must be 1..256, --fps and --queue-size >= 1, "
			  "--pool-slots >= 0, --slot-size > 0");
		return NULL;
	}
	if (options_str(opts, "calls") && options_str(opts, "frames")) {
		error_set(err, EINVAL, "--calls and --frames exclude each other");
		return NULL;
	}
	if (options_str(opts, "crash-dir") && options_bool(opts, "no-crash-reports")) {
		error_set(err, EINVAL, "--crash-dir and --no-crash-reports contradict: drop one");
		return NULL;
	}
	if (service_check_options(opts, err) < 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r)
		r->json = event_builder_new();
	if (!r || !r->json) {
		free(r);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	r->ctx = ctx;
	r->opts = opts;
	r->calls_fd = -1;
	r->max_outstanding = (size_t)options_int(opts, "queue-size");
	return r;
}

static int algorithm_start(void *self, struct error *err)
{
	struct algorithm_runner *r = self;
	const struct options *o = r->opts;
	struct algorithm_options ao = {
		.loop = runner_loop(r->ctx),
		.instances = (int)options_int(o, "instances"),
		.queue_size = (size_t)options_int(o, "queue-size"),
		.pool_slots = (int)options_int(o, "pool-slots"),
		.slot_size = (size_t)options_int(o, "slot-size"),
		.user = options_str(o, "user"),
		.breaker_cooldown_ns = options_int(o, "breaker-cooldown"),
		.call_timeout_ns = options_int(o, "call-timeout"),
		.node_id = runner_node_id(r->ctx),
		.name = runner_name(r->ctx),
		.on_event = on_event,
		.on_forking = on_forking,
		.on_spawn = on_spawn,
		.on_exit = on_exit_child,
		.on_stopped = on_stopped,
		.arg = r,
	};
	int rc = algo_watch_create(r->ctx, o, options_str(o, "package"), ao.instances, &r->watch,
				   err);

	if (rc < 0)
		return rc;
	rc = algorithm_open(options_str(o, "package"), &ao, &r->algo, err);
	if (rc < 0)
		return rc;
	algo_watch_set_host(r->watch, r->algo);
	if ((rc = service_start(r->ctx, r->algo, o, &r->svc, err)) < 0)
		return rc;
	if (options_str(o, "calls"))
		return open_calls(r, options_str(o, "calls"), err);
	if (options_str(o, "frames"))
		return open_frames(r, options_str(o, "frames"), err);
	return 0;
}

static void algorithm_stop_runner(void *self)
{
	struct algorithm_runner *r = self;

	if (r->stopping)
		return;
	r->stopping = true;
	service_stop(r->svc);
	if (r->calls_fd >= 0)
		ev_io_stop(runner_loop(r->ctx), &r->calls_w);
	ev_timer_stop(runner_loop(r->ctx), &r->frame_w);
	if (r->algo)
		algorithm_stop(r->algo);
	else
		runner_finished(r->ctx, RUNNER_CANCELED);
}

/* The sinks have room again: the host delivers what waited, then input flows again. */
static void algorithm_resume_runner(void *self)
{
	struct algorithm_runner *r = self;

	r->paused = false;
	if (r->algo)
		algorithm_resume(r->algo);
	hold_back(r);
	if (r->paused || r->stopping)
		return;
	if (r->frames && !r->input_done && !ev_is_active(&r->frame_w))
		ev_timer_again(runner_loop(r->ctx), &r->frame_w);
	if (r->calls_fd >= 0 && !ev_is_active(&r->calls_w))
		read_calls(r);
}

/* Operator actions (POST /runners/NAME/ACTION): reset-breaker. */
static int algorithm_control(void *self, const char *action, struct buffer *reply,
			     struct error *err)
{
	struct algorithm_runner *r = self;
	struct span text;
	int n;

	if (strcmp(action, "reset-breaker") != 0)
		return error_set(err, ENOTSUP, "the algorithm runner knows only reset-breaker");
	if (!r->algo)
		return error_set(err, EAGAIN, "the algorithm runner has not started");
	n = algorithm_reset(r->algo);
	event_builder_begin(r->json);
	event_builder_int(r->json, "instances_reset", n);
	event_builder_int(r->json, "instances", r->algo->ninst);
	if (event_builder_finish(r->json, &text) < 0 ||
	    buffer_append(reply, text.ptr, text.len) < 0)
		return error_set(err, ENOMEM, "out of memory");
	return 0;
}

static void algorithm_destroy(void *self)
{
	struct algorithm_runner *r = self;

	if (r->calls_fd >= 0) {
		ev_io_stop(runner_loop(r->ctx), &r->calls_w);
		if (r->close_calls_fd)
			close(r->calls_fd);
	}
	ev_timer_stop(runner_loop(r->ctx), &r->frame_w);
	/* Before the host: the last answers go out, leased slots go back to its pool. */
	service_free(r->svc);
	algorithm_close(r->algo);
	algo_watch_free(r->watch);
	line_framer_free(&r->framer);
	for (int i = 0; i < r->nframes; i++)
		free(r->frames[i]);
	free(r->frames);
	buffer_free(&r->params);
	event_builder_free(r->json);
	free(r);
}

/* Outcomes per kind and the submit-to-outcome latency histogram (the latency_us of events). */
static void call_metrics(const struct algorithm *a, struct metrics_writer *w)
{
	const struct algorithm_stats *st = algorithm_stats(a);
	char le[32];

	for (int code = ALGORITHM_OK; code <= ALGORITHM_BAD_OUTPUT; code++)
		metrics_add_labeled(w, METRIC_COUNTER, "collector_runner_call_outcomes_total",
				    "algorithm: calls ended, per outcome (docs/events.md)",
				    "outcome", algorithm_code_name((enum algorithm_code)code),
				    (double)st->outcomes[code]);
	for (int i = 0; i < 12; i++) {
		snprintf(le, sizeof(le), "%g", (double)algorithm_latency_bounds_us[i] / 1e6);
		metrics_add_labeled(w, METRIC_COUNTER,
				    "collector_runner_call_latency_seconds_bucket",
				    "algorithm: calls whose submit-to-outcome latency was at most "
				    "le "
				    "seconds (cumulative)",
				    "le", le, (double)st->latency_le[i]);
	}
	metrics_add_labeled(w, METRIC_COUNTER, "collector_runner_call_latency_seconds_bucket",
			    "algorithm: calls whose submit-to-outcome latency was at most le "
			    "seconds (cumulative)",
			    "le", "+Inf", (double)st->latency_count);
	metrics_add(w, METRIC_COUNTER, "collector_runner_call_latency_seconds_sum",
		    "algorithm: submit-to-outcome latency of every call, summed",
		    st->latency_sum_s);
	metrics_add(w, METRIC_COUNTER, "collector_runner_call_latency_seconds_count",
		    "algorithm: calls with an outcome", (double)st->latency_count);
}

static void algorithm_metrics(void *self, struct metrics_writer *w)
{
	struct algorithm_runner *r = self;
	uint64_t restarts = 0, inflight = 0;
	int broken = 0;

	if (!r->algo)
		return;
	for (int i = 0; i < r->algo->ninst; i++) {
		const struct algo_instance *in = &r->algo->inst[i];

		restarts += in->spawns > 1 ? in->spawns - 1 : 0;
		inflight += in->inflight.len;
		broken += in->state == ALGO_BROKEN;
		if (in->alive)
			metrics_add_child(w, in->pid, algo_state_name(in->state));
	}
	metrics_add(w, METRIC_COUNTER, "collector_runner_restarts_total",
		    "times the runner restarted its child", (double)restarts);
	metrics_add(w, METRIC_GAUGE, "collector_runner_breaker_open",
		    "algorithm: instances whose circuit breaker is open", broken);
	metrics_add(w, METRIC_GAUGE, "collector_runner_calls_queued",
		    "algorithm: calls waiting for a free child", (double)r->algo->queue.len);
	metrics_add(w, METRIC_GAUGE, "collector_runner_calls_in_flight",
		    "algorithm: calls sent to a child and not yet answered", (double)inflight);
	metrics_add(w, METRIC_COUNTER, "collector_runner_paused_seconds_total",
		    "algorithm: time a full sink held the children back (not reading, not "
		    "dispatching, call timeouts and heartbeats frozen)",
		    (double)algorithm_paused_ns(r->algo) / 1e9);
	metrics_add(w, METRIC_COUNTER, "collector_runner_pauses_total",
		    "algorithm: times a full sink held the children back", (double)r->pauses);
	call_metrics(r->algo, w);
	algo_watch_metrics(r->watch, w);
	service_metrics(r->svc, w);
}

const struct runner_ops algorithm_runner_ops = {
	.name = "algorithm",
	.summary = "supervised algorithm children over the JSON-lines protocol (docs/protocol.md)",
	.options = algorithm_options,
	.create = algorithm_create,
	.start = algorithm_start,
	.stop = algorithm_stop_runner,
	.resume = algorithm_resume_runner,
	.destroy = algorithm_destroy,
	.metrics = algorithm_metrics,
	.control = algorithm_control,
};
