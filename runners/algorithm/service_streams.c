/* The algorithm service's streams: frames from a camera, result subscriptions, health watches. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_tree.h>

#include "collector/algorithm/v1/algorithm.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "protocol.h"
#include "service.h"

#define DEFAULT_MAX_PENDING 8

typedef Collector__Algorithm__V1__Frame Frame;
typedef Collector__Algorithm__V1__CallOutcome CallOutcome;

/* ---- StreamFrames: results in the frames' order, drops counted and said ---- */

struct fitem {
	struct fstream *fs;
	Frame *frame; /* holds inline pixels until the outcome */
	uint64_t call_id;
	bool done, dropped;
	CallOutcome outcome;
	struct fitem *next;
};

struct fstream {
	struct svc_call *c;
	char *source;
	uint32_t max_pending;
	uint64_t dropped;
	struct fitem *head, *tail;
	size_t pending; /* items not yet answered */
	bool half_closed, ended;
};

static void fstream_maybe_free(struct fstream *fs)
{
	if (!fs->ended || fs->head)
		return;
	svc_counters(svc_of(fs->c))->streams--;
	svc_unref(fs->c);
	free(fs->source);
	free(fs);
}

static void fitem_free(struct fitem *it)
{
	if (it->done)
		svc_outcome_free(&it->outcome);
	collector__algorithm__v1__frame__free_unpacked(it->frame, NULL);
	free(it);
}

/* Send the answered items at the head: a later frame's result waits for an earlier one's. */
static void flush(struct fstream *fs)
{
	struct svc_call *c = fs->c;

	while (fs->head && fs->head->done) {
		struct fitem *it = fs->head;
		Collector__Algorithm__V1__FrameResult r =
			COLLECTOR__ALGORITHM__V1__FRAME_RESULT__INIT;

		r.source = fs->source ? fs->source : (char *)"";
		r.frame_id = it->frame->frame_id;
		r.result = &it->outcome;
		r.dropped_total = fs->dropped;
		svc_send(c, &r.base);
		fs->head = it->next;
		if (!fs->head)
			fs->tail = NULL;
		fitem_free(it);
	}
	if (fs->half_closed && !fs->head)
		svc_finish(c, GRPC_STATUS_OK, 0, NULL);
	fstream_maybe_free(fs);
}

static void frame_done(void *arg, const struct algorithm_result *res)
{
	struct fitem *it = arg;
	struct fstream *fs = it->fs;

	svc_outcome_fill(&it->outcome, res, NULL);
	/* The host's queue was full: the frame is dropped like one the stream had no room for. */
	if (res->code == ALGORITHM_NO_CAPACITY) {
		it->outcome.outcome = (char *)"dropped";
		fs->dropped++;
		svc_counters(svc_of(fs->c))->frames_dropped++;
	}
	it->done = true;
	fs->pending--;
	flush(fs);
}

static void drop(struct fstream *fs, struct fitem *it, const char *why)
{
	struct algorithm_result res = { .code = ALGORITHM_NO_CAPACITY,
					.message = why,
					.instance = -1 };

	fs->pending++;
	frame_done(it, &res);
}

static void on_frame(struct svc_call *c, const uint8_t *data, size_t len)
{
	struct fstream *fs = svc_state(c);
	struct service *s = svc_of(c);
	struct algorithm_image img;
	struct fitem *it;
	bool has;
	int detail = SVC_BAD_INPUT;
	const char *bad;
	Frame *f = collector__algorithm__v1__frame__unpack(NULL, len, data);

	if (!f || !(it = calloc(1, sizeof(*it)))) {
		if (f)
			collector__algorithm__v1__frame__free_unpacked(f, NULL);
		svc_bad_request(c);
		return;
	}
	if (!fs->source) {
		fs->source = strdup(f->source);
		fs->max_pending = f->max_pending ? f->max_pending : DEFAULT_MAX_PENDING;
	}
	it->fs = fs;
	it->frame = f;
	if (fs->tail)
		fs->tail->next = it;
	else
		fs->head = it;
	fs->tail = it;
	if ((bad = svc_image_of(s, f->image, &img, &has, &detail))) {
		struct algorithm_result res = { .code = ALGORITHM_BAD_INPUT,
						.message = bad,
						.instance = -1 };

		fs->pending++;
		frame_done(it, &res);
		return;
	}
	if (fs->pending >= fs->max_pending) {
		if (has)
			algorithm_image_free(svc_algo(s), (void *)img.data);
		drop(fs, it, "the stream has max_pending frames in flight: frame dropped");
		return;
	}
	fs->pending++;
	it->call_id = algorithm_submit_info(
		svc_algo(s), "execute", f->params_json && *f->params_json ? f->params_json : "{}",
		has ? &img : NULL, &(struct algorithm_call_info){ .source = fs->source },
		frame_done, it);
}

static void on_frames_half_close(struct svc_call *c)
{
	struct fstream *fs = svc_state(c);

	if (!fs) {
		svc_finish(c, GRPC_STATUS_OK, 0, NULL);
		return;
	}
	fs->half_closed = true;
	flush(fs);
}

/* The client went away: what it queued is withdrawn, what runs ends unseen. */
static void on_frames_end(struct svc_call *c, bool cancelled)
{
	struct fstream *fs = svc_state(c);

	if (!fs)
		return;
	fs->ended = true;
	if (cancelled)
		for (struct fitem *it = fs->head; it; it = it->next)
			if (!it->done && it->call_id)
				algorithm_cancel(svc_algo(svc_of(c)), it->call_id);
	flush(fs);
}

static void on_frames_first(struct svc_call *c, const uint8_t *data, size_t len);

static const struct svc_method stream_frames = {
	.path = "/collector.algorithm.v1.Algorithm/StreamFrames",
	.client_stream = true,
	.server_stream = true,
	.on_message = on_frames_first,
	.on_half_close = on_frames_half_close,
	.on_end = on_frames_end,
};

/* The stream's record comes with its first message (the transport makes none). */
static void on_frames_first(struct svc_call *c, const uint8_t *data, size_t len)
{
	struct fstream *fs = svc_state(c);

	if (!fs) {
		fs = calloc(1, sizeof(*fs));
		if (!fs) {
			svc_finish(c, GRPC_STATUS_RESOURCE_EXHAUSTED, SVC_INTERNAL,
				   "out of memory");
			return;
		}
		fs->c = c;
		svc_ref(c);
		svc_set_state(c, fs);
		svc_counters(svc_of(c))->streams++;
	}
	on_frame(c, data, len);
}

/* ---- SubscribeResults ---- */

struct svc_sub {
	struct svc_call *c;
	Collector__Algorithm__V1__SubscribeRequest *req;
	size_t queue;
	uint64_t dropped;
	struct svc_sub *prev, *next;
};

static bool wanted(const struct svc_sub *sub, const char *source, int instance, const char *outcome)
{
	const Collector__Algorithm__V1__SubscribeRequest *r = sub->req;
	bool any = r->n_instances == 0, out = r->n_outcome == 0;

	if (*r->source && strcmp(r->source, source) != 0)
		return false;
	for (size_t i = 0; i < r->n_instances; i++)
		any |= r->instances[i] == instance;
	for (size_t i = 0; i < r->n_outcome; i++)
		out |= strcmp(r->outcome[i], outcome) == 0;
	return any && out;
}

static void deliver(struct service *s, const char *type, const char *json, size_t len)
{
	char ebuf[64], *copy = malloc(len + 1);
	yajl_val data, v;
	const char *source = "", *outcome = "alarm";
	int instance = -1;
	struct timespec ts;

	if (!copy)
		return;
	memcpy(copy, json, len);
	copy[len] = '\0';
	data = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
	if ((v = algo_member(data, "source")) && YAJL_IS_STRING(v))
		source = v->u.string;
	if ((v = algo_member(data, "instance")) && YAJL_IS_INTEGER(v))
		instance = (int)YAJL_GET_INTEGER(v);
	if (strcmp(type, "algorithm.result") == 0 && (v = algo_member(data, "outcome")) &&
	    YAJL_IS_STRING(v))
		outcome = v->u.string;
	clock_gettime(CLOCK_REALTIME, &ts);
	for (struct svc_sub *sub = svc_lists(s)->subs; sub; sub = sub->next) {
		Collector__Algorithm__V1__Result r = COLLECTOR__ALGORITHM__V1__RESULT__INIT;

		if (svc_done(sub->c) || !wanted(sub, source, instance, outcome))
			continue;
		/* A slow subscriber loses the newest results, counted, never the runner's pace. */
		if (svc_queued(sub->c) >= sub->queue) {
			sub->dropped++;
			svc_counters(s)->results_dropped++;
			continue;
		}
		r.type = (char *)type;
		r.source = (char *)source;
		r.instance = instance;
		r.outcome = (char *)outcome;
		r.json = copy;
		r.dropped_total = sub->dropped;
		r.timestamp_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		svc_send(sub->c, &r.base);
	}
	yajl_tree_free(data);
	free(copy);
}

static void on_subscribe(struct svc_call *c, const uint8_t *data, size_t len)
{
	struct service *s = svc_of(c);
	struct svc_lists *l = svc_lists(s);
	struct svc_sub *sub = calloc(1, sizeof(*sub));

	if (sub)
		sub->req = collector__algorithm__v1__subscribe_request__unpack(NULL, len, data);
	if (!sub || !sub->req) {
		free(sub);
		svc_bad_request(c);
		return;
	}
	sub->c = c;
	sub->queue = sub->req->queue ? sub->req->queue : svc_subscriber_queue(s);
	sub->next = l->subs;
	if (l->subs)
		l->subs->prev = sub;
	l->subs = sub;
	svc_set_state(c, sub);
	svc_counters(s)->streams++;
}

static void on_subscribe_end(struct svc_call *c, bool cancelled)
{
	struct svc_sub *sub = svc_state(c);
	struct svc_lists *l = svc_lists(svc_of(c));

	(void)cancelled;
	if (!sub)
		return;
	if (sub->prev)
		sub->prev->next = sub->next;
	else
		l->subs = sub->next;
	if (sub->next)
		sub->next->prev = sub->prev;
	svc_counters(svc_of(c))->streams--;
	collector__algorithm__v1__subscribe_request__free_unpacked(sub->req, NULL);
	free(sub);
	svc_set_state(c, NULL);
}

static const struct svc_method subscribe = {
	.path = "/collector.algorithm.v1.Algorithm/SubscribeResults",
	.server_stream = true,
	.on_message = on_subscribe,
	.on_end = on_subscribe_end,
};

/* ---- grpc.health.v1.Health/Watch ---- */

struct svc_watch {
	struct svc_call *c;
	char *service;
	int last;
	struct svc_watch *prev, *next;
};

static void tell_health(struct svc_watch *w)
{
	Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
	int now = svc_health_of(svc_of(w->c), w->service);

	if (now < 0)
		now = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
	if (now == w->last)
		return;
	w->last = now;
	r.status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)now;
	svc_send(w->c, &r.base);
}

void svc_streams_health(struct service *s)
{
	for (struct svc_watch *w = svc_lists(s)->watches; w; w = w->next)
		tell_health(w);
}

static void on_watch(struct svc_call *c, const uint8_t *data, size_t len)
{
	struct svc_lists *l = svc_lists(svc_of(c));
	Grpc__Health__V1__HealthCheckRequest *req =
		grpc__health__v1__health_check_request__unpack(NULL, len, data);
	struct svc_watch *w = req ? calloc(1, sizeof(*w)) : NULL;

	if (w)
		w->service = strdup(req->service);
	if (req)
		grpc__health__v1__health_check_request__free_unpacked(req, NULL);
	if (!w || !w->service) {
		if (w)
			free(w);
		svc_bad_request(c);
		return;
	}
	w->c = c;
	w->last = -1;
	w->next = l->watches;
	if (l->watches)
		l->watches->prev = w;
	l->watches = w;
	svc_set_state(c, w);
	tell_health(w);
}

static void on_watch_end(struct svc_call *c, bool cancelled)
{
	struct svc_watch *w = svc_state(c);
	struct svc_lists *l = svc_lists(svc_of(c));

	(void)cancelled;
	if (!w)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		l->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	free(w->service);
	free(w);
	svc_set_state(c, NULL);
}

static const struct svc_method health_watch = {
	.path = "/grpc.health.v1.Health/Watch",
	.server_stream = true,
	.on_message = on_watch,
	.on_end = on_watch_end,
};

void svc_streams_event(struct service *s, const char *type, const char *json, size_t len)
{
	if (strcmp(type, "algorithm.state") == 0)
		svc_streams_health(s);
	if (svc_lists(s)->subs && (strcmp(type, "algorithm.result") == 0 || strcmp(type, "algorithm"
											 ".even"
											 "t") == 0))
		deliver(s, type, json, len);
}

const struct svc_method *const svc_stream_methods[] = { &stream_frames, &subscribe, &health_watch,
							NULL };
