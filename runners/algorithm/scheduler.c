/* The algorithm host API and its scheduler: bounded queue, shm slots, least-in-flight dispatch. */
#include <ctype.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <collector/algorithm.h>

#include "host.h"
#include "leftovers.h"
#include "protocol.h"

#define DEFAULT_QUEUE 1024
#define DEFAULT_SLOT_SIZE ((size_t)8 << 20)
#define DEFAULT_COOLDOWN_NS (30LL * 1000000000)

static const char stopped_message[] = "the host stopped before the call was sent";
static const char broken_message[] = "the circuit breaker is open: the algorithm failed too often";

static void dispatch(struct algorithm *a);
static void maybe_stopped(struct algorithm *a);

/* What the supervisor reports: it calls down into the scheduler only through these. */
static const struct algo_hooks hooks = {
	.capacity = dispatch,
	.stopped = maybe_stopped,
};

/* ---- calls ---- */

static void on_call_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct algo_call *c = w->data;
	struct algo_instance *in = c->inst;
	struct algorithm *a = c->host;
	char msg[96];

	uint64_t id = c->id;
	bool answered = true;

	(void)loop;
	(void)revents;
	/* The result may be waiting unread in the pipe because the host was paused. */
	algo_instance_read_now(in);
	for (struct algo_call *f = in->inflight.head; f; f = f->next)
		answered &= f->id != id;
	if (answered)
		return;
	if (a->paused) {
		c->timeout_frozen = true;
		c->timeout_left = 0.;
		return;
	}
	snprintf(msg, sizeof(msg), "no result within %lld ms",
		 (long long)(a->call_timeout_ns / 1000000));
	algo_ev_begin(a);
	algo_ev_int(a, "id", (long long)c->id);
	algo_ev_int(a, "instance", in->index);
	algo_ev_int(a, "timeout_ms", a->call_timeout_ns / 1000000);
	algo_ev_emit(a, "algorithm.timeout", in->pid);
	in->timed_out_id = c->id;
	snprintf(in->timed_out_method, sizeof(in->timed_out_method), "%s", c->method);
	algo_list_remove(&in->inflight, c);
	algo_complete(c, ALGORITHM_TIMEOUT, msg, NULL, 0);
	algo_instance_terminate(in, "call_timeout");
	dispatch(a);
}

static bool all_broken(const struct algorithm *a)
{
	for (int i = 0; i < a->ninst; i++)
		if (a->inst[i].state != ALGO_BROKEN)
			return false;
	return true;
}

static void fail_queue(struct algorithm *a, enum algorithm_code code, const char *message)
{
	struct algo_call *c;

	while (!a->paused && (c = algo_list_pop(&a->queue)))
		algo_complete(c, code, message, NULL, 0);
}

static struct algo_instance *least_loaded(struct algorithm *a)
{
	struct algo_instance *best = NULL;

	for (int i = 0; i < a->ninst; i++) {
		struct algo_instance *in = &a->inst[i];

		if (algo_instance_accepts(in) && (!best || in->inflight.len < best->inflight.len))
			best = in;
	}
	return best;
}

static void dispatch(struct algorithm *a)
{
	/* Calls left queued by a pause get the outcome they were due. */
	if (a->stopping) {
		fail_queue(a, ALGORITHM_STOPPED, stopped_message);
		return;
	}
	if (all_broken(a)) {
		fail_queue(a, ALGORITHM_BROKEN, broken_message);
		return;
	}
	while (a->queue.head && !a->paused) {
		struct algo_call *c = a->queue.head;
		struct algo_instance *in = least_loaded(a);

		if (!in)
			return;
		if (c->has_image && c->slot < 0) {
			/* What a child did to the pool is undone before an image goes in. */
			shm_pool_check(&a->pool);
			/* An exhausted pool leaves the call queued: a result frees a slot. */
			if ((c->slot = shm_pool_lease(&a->pool)) < 0)
				return;
			memcpy(shm_pool_slot(&a->pool, c->slot), c->image.data, c->image.size);
		}
		algo_ev_begin(a);
		algo_ev_int(a, "id", (long long)c->id);
		algo_ev_int(a, "instance", in->index);
		algo_ev_str(a, "method", c->method);
		algo_ev_int(a, "image_bytes", c->has_image ? (long long)c->image.size : 0);
		algo_ev_int(a, "queued_us", (clock_mono_ns() - c->submit_ns) / 1000);
		algo_ev_emit(a, "algorithm.call", in->pid);
		algo_list_remove(&a->queue, c);
		if (algo_instance_send_call(in, c) < 0) {
			c->inst = NULL;
			algo_complete(c, ALGORITHM_NO_CAPACITY, "out of memory", NULL, 0);
			continue;
		}
	}
}

static bool valid_word(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

static const char *check_image(const struct algorithm *a, const struct algorithm_image *im)
{
	if (!im->data || im->size == 0)
		return "the image has no bytes";
	if (im->size > a->pool.slot_size)
		return "the image is larger than a shared-memory slot (--slot-size)";
	if (im->width <= 0 || im->height <= 0 || im->channels <= 0 || im->stride <= 0 ||
	    (uint64_t)im->stride * (uint64_t)im->height > im->size)
		return "the image's width, height, channels or stride do not fit its size";
	if (!valid_word(im->format))
		return "the image format must be a word such as rgb8, bgr8, gray8";
	return NULL;
}

/* The slot whose memory starts at @p data, or -1 when @p data is not a slot. */
static int slot_of(const struct algorithm *a, const void *data)
{
	const uint8_t *p = data, *base = a->pool.base;
	size_t off;

	if (!base || p < base || p >= base + (size_t)a->pool.slots * a->pool.slot_size)
		return -1;
	off = (size_t)(p - base);
	return off % a->pool.slot_size == 0 ? (int)(off / a->pool.slot_size) : -1;
}

void *algorithm_image_alloc(struct algorithm *a, size_t size)
{
	int slot;

	if (size > a->pool.slot_size || (slot = shm_pool_lease(&a->pool)) < 0)
		return NULL;
	return shm_pool_slot(&a->pool, slot);
}

void algorithm_image_free(struct algorithm *a, void *data)
{
	int slot = slot_of(a, data);

	if (slot >= 0)
		shm_pool_release(&a->pool, slot);
}

static void fail_now(struct algorithm *a, struct algo_call *c, enum algorithm_code code,
		     const char *message)
{
	a->pending++;
	algo_complete(c, code, message, NULL, 0);
}

/*
 * Valid JSON holds CR and LF only as whitespace between tokens (inside strings
 * they are escaped): blank them so that the params fit in the call's one line.
 */
static void one_line(char *json)
{
	for (; *json; json++)
		if (*json == '\n' || *json == '\r')
			*json = ' ';
}

uint64_t algorithm_submit(struct algorithm *a, const char *method, const char *params_json,
			  const struct algorithm_image *image, algorithm_done_fn done, void *arg)
{
	return algorithm_submit_info(a, method, params_json, image, NULL, done, arg);
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d = s && *s ? strdup(s) : NULL;

	*oom |= s && *s && !d;
	return d;
}

uint64_t algorithm_reject(struct algorithm *a, const char *method,
			  const struct algorithm_call_info *info, const char *message,
			  algorithm_done_fn done, void *arg)
{
	struct algo_call *c = calloc(1, sizeof(*c));
	bool oom = false;
	uint64_t id = ++a->next_id;

	if (c) {
		*c = (struct algo_call){ .host = a, .id = id, .done = done, .arg = arg, .slot = -1 };
		c->submit_ns = clock_mono_ns();
		ev_init(&c->timeout_w, on_call_timeout);
		c->method = strdup(method && valid_word(method) ? method : "execute");
		if (info) {
			c->source = dup_or_null(info->source, &oom);
			c->tag = dup_or_null(info->tag, &oom);
			c->line = info->line;
		}
	}
	if (!c || !c->method || oom) {
		struct algorithm_result res = {
			.id = id, .code = ALGORITHM_BAD_INPUT, .message = message, .instance = -1
		};

		if (c) {
			free(c->method);
			free(c->source);
			free(c->tag);
		}
		free(c);
		done(arg, &res);
		return id;
	}
	fail_now(a, c, ALGORITHM_BAD_INPUT, message);
	return id;
}

bool algorithm_cancel(struct algorithm *a, uint64_t id)
{
	for (struct algo_call *c = a->queue.head; c; c = c->next) {
		if (c->id != id)
			continue;
		algo_list_remove(&a->queue, c);
		algo_complete(c, ALGORITHM_STOPPED, "canceled: the caller went away", NULL, 0);
		return true;
	}
	return false;
}

uint64_t algorithm_submit_info(struct algorithm *a, const char *method, const char *params_json,
			       const struct algorithm_image *image,
			       const struct algorithm_call_info *info, algorithm_done_fn done,
			       void *arg)
{
	bool oom = false;
	struct algo_call *c = calloc(1, sizeof(*c));
	const char *bad = NULL;
	uint64_t id = ++a->next_id;

	if (!c) {
		struct algorithm_result res = { .id = id,
						.code = ALGORITHM_NO_CAPACITY,
						.message = "out of memory",
						.instance = -1 };

		done(arg, &res);
		return id;
	}
	*c = (struct algo_call){ .host = a, .id = id, .done = done, .arg = arg, .slot = -1 };
	c->submit_ns = clock_mono_ns();
	ev_init(&c->timeout_w, on_call_timeout);
	c->timeout_w.data = c;
	c->method = strdup(method ? method : "execute");
	c->params = strdup(params_json ? params_json : "{}");
	if (info) {
		c->source = dup_or_null(info->source, &oom);
		c->tag = dup_or_null(info->tag, &oom);
		c->line = info->line;
	}
	/* A lent slot is the call's from here on, whatever its outcome: even bad input frees it. */
	if (image)
		c->slot = slot_of(a, image->data);
	if (!c->method || !c->params || oom)
		bad = "out of memory";
	else if (!valid_word(c->method))
		bad = "the method must be a word of letters, digits, '_', '-' or '.'";
	else if (!algo_json_valid(c->params, strlen(c->params)))
		bad = "params is not one valid JSON value";
	else if (image && (bad = check_image(a, image)) == NULL) {
		c->image = *image;
		c->has_image = true;
	}
	if (!bad)
		one_line(c->params);
	if (bad) {
		fail_now(a, c, ALGORITHM_BAD_INPUT, bad);
	} else if (a->stopping) {
		fail_now(a, c, ALGORITHM_STOPPED, "the host is stopping");
	} else if (all_broken(a)) {
		fail_now(a, c, ALGORITHM_BROKEN, broken_message);
	} else if (a->queue.len >= a->opts.queue_size) {
		fail_now(a, c, ALGORITHM_NO_CAPACITY, "the request queue is full");
	} else {
		algo_list_push(&a->queue, c);
		a->pending++;
		dispatch(a);
	}
	return id;
}

struct sync_wait {
	bool done;
	enum algorithm_code code;
	char *json;
	char message[200];
};

static void sync_done(void *arg, const struct algorithm_result *res)
{
	struct sync_wait *w = arg;

	w->done = true;
	w->code = res->code;
	snprintf(w->message, sizeof(w->message), "%s", res->message);
	if (res->json && (w->json = malloc(res->json_len + 1))) {
		memcpy(w->json, res->json, res->json_len);
		w->json[res->json_len] = '\0';
	}
}

static enum algorithm_code call_sync(struct algorithm *a, const char *method, const char *params,
				     const struct algorithm_image *image, char **result_json,
				     struct error *err)
{
	struct sync_wait w = { 0 };

	algorithm_submit(a, method, params, image, sync_done, &w);
	while (!w.done)
		ev_run(a->loop, EVRUN_ONCE);
	if (result_json)
		*result_json = w.json;
	else
		free(w.json);
	if (w.code != ALGORITHM_OK)
		error_set(err, EIO, "%s: %s", algorithm_code_name(w.code), w.message);
	return w.code;
}

enum algorithm_code algorithm_execute(struct algorithm *a, const char *params_json,
				      const struct algorithm_image *image, char **result_json,
				      struct error *err)
{
	return call_sync(a, "execute", params_json, image, result_json, err);
}

enum algorithm_code algorithm_pre_execute(struct algorithm *a, const char *params_json,
					  char **result_json, struct error *err)
{
	return call_sync(a, "pre_execute", params_json, NULL, result_json, err);
}

void algorithm_drain(struct algorithm *a)
{
	while (a->pending > 0)
		ev_run(a->loop, EVRUN_ONCE);
}

size_t algorithm_pending(const struct algorithm *a)
{
	return a->pending;
}

int algorithm_reset(struct algorithm *a)
{
	int reset = 0;

	for (int i = 0; i < a->ninst; i++)
		reset += algo_instance_reset(&a->inst[i]);
	return reset;
}

/* ---- backpressure ---- */

void algorithm_pause(struct algorithm *a)
{
	if (a->paused || a->closing)
		return;
	a->paused = true;
	a->pauses++;
	a->paused_since_ns = clock_mono_ns();
	if (a->frozen)
		return;
	a->frozen = true;
	for (int i = 0; i < a->ninst; i++)
		algo_instance_freeze(&a->inst[i]);
}

void algorithm_resume(struct algorithm *a)
{
	if (!a->paused)
		return;
	a->paused = false;
	a->paused_total_ns += clock_mono_ns() - a->paused_since_ns;
	/* What waited is delivered first; the clocks run again only once it all went out. */
	for (int i = 0; i < a->ninst; i++)
		if (!algo_instance_catch_up(&a->inst[i]))
			return;
	dispatch(a);
	if (a->paused)
		return;
	a->frozen = false;
	ev_now_update(a->loop);
	for (int i = 0; i < a->ninst; i++)
		algo_instance_thaw(&a->inst[i]);
}

bool algorithm_paused(const struct algorithm *a)
{
	return a->paused;
}

int64_t algorithm_paused_ns(const struct algorithm *a)
{
	return a->paused_total_ns + (a->paused ? clock_mono_ns() - a->paused_since_ns : 0);
}

/* ---- open, stop, close ---- */

/*
 * --user: the ids, and the environment a child of that user starts from:
 * PATH and LANG, HOME from the password database, nothing else of the host's
 * (the manifest's env and the package's own variables come on top).
 */
static int resolve_user(struct algorithm *a, const char *user, char env[3][512], struct error *err)
{
	struct passwd pwd, *pw = NULL;
	char buf[4096];
	const char *path = getenv("PATH"), *lang = getenv("LANG");

	if (getpwnam_r(user, &pwd, buf, sizeof(buf), &pw) != 0 || !pw)
		return error_set(err, ENOENT, "--user %s: no such user", user);
	a->has_user = true;
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	snprintf(env[0], sizeof(env[0]), "PATH=%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
	snprintf(env[1], sizeof(env[1]), "HOME=%s", pw->pw_dir);
	env[2][0] = '\0';
	if (lang)
		snprintf(env[2], sizeof(env[2]), "LANG=%s", lang);
	return 0;
}

static void ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
}

int algo_host_new(const struct algorithm_options *opts, struct algorithm **out, struct error *err)
{
	struct algorithm *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return error_set(err, ENOMEM, "out of memory");
	a->hooks = &hooks;
	if (opts)
		a->opts = *opts;
	a->pool.fd = -1;
	a->pool.guard = -1;
	a->loop = a->opts.loop ? a->opts.loop : ev_default_loop(0);
	if (!ev_is_default_loop(a->loop)) {
		free(a);
		return error_set(err, EINVAL,
				 "algorithm: children can only be watched on libev's default loop");
	}
	ignore_sigpipe();
	a->eb = event_builder_new();
	if (!a->eb) {
		free(a);
		return error_set(err, ENOMEM, "out of memory");
	}
	if (a->opts.instances <= 0)
		a->opts.instances = 1;
	if (a->opts.queue_size == 0)
		a->opts.queue_size = DEFAULT_QUEUE;
	if (a->opts.slot_size == 0)
		a->opts.slot_size = DEFAULT_SLOT_SIZE;
	if (a->opts.breaker_cooldown_ns <= 0)
		a->opts.breaker_cooldown_ns = DEFAULT_COOLDOWN_NS;
	*out = a;
	return 0;
}

/* --call-timeout, else the manifest's call_timeout_ms. */
static int64_t call_timeout_ns(const struct algorithm *a)
{
	return a->opts.call_timeout_ns > 0 ? a->opts.call_timeout_ns :
					     a->pkg.limits.call_timeout_ms * 1000000;
}

int algo_host_add_instances(struct algorithm *a, struct error *err)
{
	int rc;

	a->call_timeout_ns = call_timeout_ns(a);
	a->inst = calloc((size_t)a->opts.instances, sizeof(*a->inst));
	if (!a->inst)
		return error_set(err, ENOMEM, "out of memory");
	for (int i = 0; i < a->opts.instances; i++) {
		struct algo_instance *in = &a->inst[i];

		algo_instance_init(in, a, i);
		a->ninst = i + 1;
		if ((rc = line_framer_init(&in->out_fr, (size_t)a->pkg.limits.max_line_bytes,
					   err)) < 0 ||
		    (rc = line_framer_init(&in->err_fr, (size_t)64 * 1024, err)) < 0)
			return rc;
	}
	return 0;
}

int algo_host_reset(struct algorithm *a, struct error *err)
{
	if (a->pending || a->queue.len)
		return error_set(err, EBUSY, "algorithm: %zu calls still pending", a->pending);
	for (int i = 0; i < a->ninst; i++)
		if (a->inst[i].alive || a->inst[i].exit_due || a->inst[i].inflight.len)
			return error_set(err, EBUSY, "algorithm: instance %d has not ended", i);
	for (int i = 0; i < a->ninst; i++)
		algo_instance_recycle(&a->inst[i]);
	a->call_timeout_ns = call_timeout_ns(a);
	a->next_id = 0;
	a->stopping = a->stopped_told = false;
	a->paused = a->frozen = a->closing = false;
	a->paused_since_ns = a->paused_total_ns = 0;
	a->stats = (struct algorithm_stats){ 0 };
	a->pauses = 0;
	return 0;
}

/* The package; under --user also the user, whose environment the children start from. */
static int load_package(struct algorithm *a, const char *dir, struct error *err)
{
	char env[3][512] = { "", "", "" };
	char *base[4] = { env[0], env[1], NULL, NULL };
	int rc;

	if (!a->opts.user)
		return algo_package_load(&a->pkg, dir, NULL, err);
	if ((rc = resolve_user(a, a->opts.user, env, err)) < 0)
		return rc;
	base[2] = env[2][0] ? env[2] : NULL;
	return algo_package_load(&a->pkg, dir, base, err);
}

int algorithm_open(const char *package_dir, const struct algorithm_options *opts,
		   struct algorithm **out, struct error *err)
{
	struct algorithm *a;
	int rc, slots;

	*out = NULL;
	if ((rc = algo_host_new(opts, &a, err)) < 0 || !a)
		return rc < 0 ? rc : -ENOMEM;
	/* What a host killed with SIGKILL left; its children died with it (PR_SET_PDEATHSIG). */
	algo_remove_leftovers();
	if ((rc = load_package(a, package_dir, err)) < 0)
		goto fail;
	slots = (int)(2 * (int64_t)a->opts.instances * a->pkg.limits.max_inflight);
	if (slots < 4)
		slots = 4;
	if (a->opts.pool_slots > 0)
		slots = a->opts.pool_slots;
	if ((rc = shm_pool_create(&a->pool, slots, a->opts.slot_size,
				  a->has_user ? a->gid : (gid_t)-1, err)) < 0 ||
	    (rc = algo_host_add_instances(a, err)) < 0)
		goto fail;
	/* A child that cannot even be executed is the caller's error, not a crash to retry. */
	for (int i = 0; i < a->ninst; i++) {
		if ((rc = algo_instance_spawn(&a->inst[i], err)) < 0)
			goto fail;
	}
	*out = a;
	return 0;
fail:
	algorithm_close(a);
	return rc;
}

static void maybe_stopped(struct algorithm *a)
{
	if (!a->stopping || a->stopped_told)
		return;
	for (int i = 0; i < a->ninst; i++)
		if (a->inst[i].alive || a->inst[i].exit_due)
			return;
	a->stopped_told = true;
	if (a->opts.on_stopped)
		a->opts.on_stopped(a->opts.arg);
}

void algorithm_stop(struct algorithm *a)
{
	if (a->stopping)
		return;
	a->stopping = true;
	fail_queue(a, ALGORITHM_STOPPED, stopped_message);
	for (int i = 0; i < a->ninst; i++)
		algo_instance_stop(&a->inst[i]);
	maybe_stopped(a);
}

void algorithm_close(struct algorithm *a)
{
	bool alive = false;

	if (!a)
		return;
	/* Nothing is held back any more: what waited for a pause to end is delivered now. */
	a->closing = true;
	if (a->inst)
		algorithm_resume(a);
	for (int i = 0; a->inst && i < a->ninst; i++)
		alive |= a->inst[i].alive;
	if (alive) {
		algorithm_stop(a);
		while (!a->stopped_told)
			ev_run(a->loop, EVRUN_ONCE);
	}
	for (int i = 0; i < a->ninst; i++)
		algo_instance_free(&a->inst[i]);
	free(a->inst);
	shm_pool_destroy(&a->pool);
	algo_package_free(&a->pkg);
	event_builder_free(a->eb);
	free(a);
}
