/* The algorithm service's unary methods: Execute, PreExecute, ExecuteBatch, slots, metrics, health. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector/algorithm/v1/algorithm.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "service.h"

#define MAX_BATCH 256
#define MAX_LEASE 64

typedef Collector__Algorithm__V1__ExecuteRequest ExecuteRequest;
typedef Collector__Algorithm__V1__Image Image;
typedef Collector__Algorithm__V1__CallOutcome CallOutcome;

const char *svc_image_of(struct service *s, const void *image_msg, struct algorithm_image *out,
			 bool *has, int *detail)
{
	const Image *im = image_msg;

	*has = false;
	if (!im || im->pixels_case == COLLECTOR__ALGORITHM__V1__IMAGE__PIXELS__NOT_SET)
		return NULL;
	*out = (struct algorithm_image){ .width = im->width,
					 .height = im->height,
					 .channels = im->channels,
					 .stride = im->stride,
					 .format = im->format };
	if (im->pixels_case == COLLECTOR__ALGORITHM__V1__IMAGE__PIXELS_DATA) {
		out->data = im->data.data;
		out->size = im->data.len;
	} else {
		out->data = svc_lease_take(svc_leases(s), im->slot->slot, im->slot->lease);
		out->size = im->size ? im->size : (size_t)im->stride * (size_t)im->height;
		if (!out->data) {
			*detail = SVC_BAD_LEASE;
			return "the slot is not leased with that token (expired, used or "
			       "released): "
			       "LeaseSlot again";
		}
	}
	*has = true;
	return NULL;
}

static char *dup_span(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

void svc_outcome_fill(void *outcome_msg, const struct algorithm_result *res, const char *tag)
{
	CallOutcome *o = outcome_msg;
	int detail = 0;

	collector__algorithm__v1__call_outcome__init(o);
	o->id = res->id;
	o->instance = res->instance;
	o->outcome = (char *)algorithm_code_name(res->code);
	svc_status_of(res->code, &detail);
	o->code = detail;
	o->message = strdup(res->message);
	o->data_json = res->json ? dup_span(res->json, res->json_len) : strdup("");
	o->latency_us = res->latency_ns / 1000;
	o->tag = strdup(tag ? tag : "");
}

void svc_outcome_free(void *outcome_msg)
{
	CallOutcome *o = outcome_msg;

	free(o->message);
	free(o->data_json);
	free(o->tag);
}

static const char *params_of(const char *json)
{
	return json && *json ? json : "{}";
}

/* ---- Execute, PreExecute ---- */

struct exec_ctx {
	struct svc_call *c;
	ExecuteRequest *req;
	uint64_t id;
};

static void exec_done(void *arg, const struct algorithm_result *res)
{
	struct exec_ctx *x = arg;
	struct svc_call *c = x->c;

	if (svc_state(c) == x)
		svc_set_state(c, NULL);
	if (res->code == ALGORITHM_OK) {
		Collector__Algorithm__V1__ExecuteResponse r =
			COLLECTOR__ALGORITHM__V1__EXECUTE_RESPONSE__INIT;
		char *data = res->json ? dup_span(res->json, res->json_len) : NULL;

		r.id = res->id;
		r.instance = res->instance;
		r.data_json = data ? data : (char *)"";
		r.latency_us = res->latency_ns / 1000;
		r.tag = x->req->tag;
		svc_send(c, &r.base);
		svc_finish(c, GRPC_STATUS_OK, 0, NULL);
		free(data);
	} else {
		int detail;
		grpc_status_code st = svc_status_of(res->code, &detail);

		svc_finish(c, st, detail, "%s: %s%s%.*s", algorithm_code_name(res->code),
			   res->message, res->json ? " " : "", res->json ? (int)res->json_len : 0,
			   res->json ? res->json : "");
	}
	collector__algorithm__v1__execute_request__free_unpacked(x->req, NULL);
	free(x);
	svc_unref(c);
}

static void execute_method(struct svc_call *c, const uint8_t *data, size_t len, const char *method)
{
	struct service *s = svc_of(c);
	struct exec_ctx *x;
	struct algorithm_image img;
	bool has;
	int detail = SVC_BAD_INPUT;
	const char *bad;
	uint64_t id;

	ExecuteRequest *req = collector__algorithm__v1__execute_request__unpack(NULL, len, data);

	if (!req) {
		svc_bad_request(c);
		return;
	}
	if ((bad = svc_image_of(s, req->image, &img, &has, &detail))) {
		svc_finish(c, GRPC_STATUS_FAILED_PRECONDITION, detail, "%s", bad);
		collector__algorithm__v1__execute_request__free_unpacked(req, NULL);
		return;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		if (has)
			algorithm_image_free(svc_algo(s), (void *)img.data);
		svc_finish(c, GRPC_STATUS_RESOURCE_EXHAUSTED, SVC_INTERNAL, "out of memory");
		collector__algorithm__v1__execute_request__free_unpacked(req, NULL);
		return;
	}
	x->c = c;
	x->req = req;
	svc_ref(c);
	svc_set_state(c, x);
	id = algorithm_submit_info(
		svc_algo(s), method, params_of(req->params_json), has ? &img : NULL,
		&(struct algorithm_call_info){ .source = req->source, .tag = req->tag }, exec_done,
		x);
	if (svc_state(c) == x)
		x->id = id;
}

static void on_execute(struct svc_call *c, const uint8_t *data, size_t len)
{
	execute_method(c, data, len, "execute");
}

static void on_pre_execute(struct svc_call *c, const uint8_t *data, size_t len)
{
	execute_method(c, data, len, "pre_execute");
}

/* A caller gone before its call left the queue takes the call with it. */
static void on_exec_end(struct svc_call *c, bool cancelled)
{
	struct exec_ctx *x = svc_state(c);

	if (cancelled && x)
		algorithm_cancel(svc_algo(svc_of(c)), x->id);
}

static const struct svc_method execute = { .path = "/collector.algorithm.v1.Algorithm/Execute",
					   .on_message = on_execute,
					   .on_end = on_exec_end };
static const struct svc_method pre_execute = { .path = "/collector.algorithm.v1.Algorithm/"
						       "PreExecute",
					       .on_message = on_pre_execute,
					       .on_end = on_exec_end };

/* ---- ExecuteBatch ---- */

struct batch_item {
	struct batch *b;
	size_t index;
	uint64_t id;
	bool done;
};

struct batch {
	struct svc_call *c;
	Collector__Algorithm__V1__ExecuteBatchRequest *req;
	size_t remaining;
	bool submitting; /* outcomes that come while the calls are made wait for the last */
	CallOutcome *outcomes;
	CallOutcome **ptrs;
	struct batch_item *items;
};

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->req->n_calls; i++)
		if (b->items[i].done)
			svc_outcome_free(&b->outcomes[i]);
	collector__algorithm__v1__execute_batch_request__free_unpacked(b->req, NULL);
	free(b->outcomes);
	free(b->ptrs);
	free(b->items);
	free(b);
}

static void batch_step(struct batch *b);

static void batch_done(void *arg, const struct algorithm_result *res)
{
	struct batch_item *it = arg;
	struct batch *b = it->b;

	svc_outcome_fill(&b->outcomes[it->index], res, b->req->calls[it->index]->tag);
	it->done = true;
	batch_step(b);
}

/* One call (or the submission) less to wait for; the answer once none is left. */
static void batch_step(struct batch *b)
{
	struct svc_call *c = b->c;

	if (--b->remaining > 0 || b->submitting)
		return;
	if (svc_state(c) == b)
		svc_set_state(c, NULL);
	{
		Collector__Algorithm__V1__ExecuteBatchResponse r =
			COLLECTOR__ALGORITHM__V1__EXECUTE_BATCH_RESPONSE__INIT;

		r.n_results = b->req->n_calls;
		r.results = b->ptrs;
		svc_send(c, &r.base);
		svc_finish(c, GRPC_STATUS_OK, 0, NULL);
	}
	batch_free(b);
	svc_unref(c);
}

static void batch_submit(struct service *s, struct batch *b, const char *method, size_t i)
{
	ExecuteRequest *req = b->req->calls[i];
	struct algorithm_image img;
	struct algorithm_result res = { .id = 0, .instance = -1 };
	bool has;
	int detail = SVC_BAD_INPUT;
	const char *bad = svc_image_of(s, req->image, &img, &has, &detail);
	uint64_t id;

	b->items[i] = (struct batch_item){ .b = b, .index = i };
	b->ptrs[i] = &b->outcomes[i];
	if (bad) {
		/* Its outcome now; the batch cannot end before the submission's own step. */
		res.code = ALGORITHM_BAD_INPUT;
		res.message = bad;
		svc_outcome_fill(&b->outcomes[i], &res, req->tag);
		b->items[i].done = true;
		b->remaining--;
		return;
	}
	id = algorithm_submit_info(
		svc_algo(s), method, params_of(req->params_json), has ? &img : NULL,
		&(struct algorithm_call_info){ .source = req->source, .tag = req->tag }, batch_done,
		&b->items[i]);
	b->items[i].id = id;
}

static void on_batch(struct svc_call *c, const uint8_t *data, size_t len)
{
	struct service *s = svc_of(c);
	struct batch *b;
	size_t n;
	const char *method;

	Collector__Algorithm__V1__ExecuteBatchRequest *req =
		collector__algorithm__v1__execute_batch_request__unpack(NULL, len, data);

	if (!req) {
		svc_bad_request(c);
		return;
	}
	n = req->n_calls;
	method = req->method && *req->method ? req->method : "execute";
	if (n == 0 || n > MAX_BATCH) {
		svc_finish(c, GRPC_STATUS_INVALID_ARGUMENT, SVC_BAD_INPUT,
			   "a batch holds 1 to %d calls, not %zu", MAX_BATCH, n);
		collector__algorithm__v1__execute_batch_request__free_unpacked(req, NULL);
		return;
	}
	b = calloc(1, sizeof(*b));
	if (b) {
		b->outcomes = calloc(n, sizeof(*b->outcomes));
		b->ptrs = calloc(n, sizeof(CallOutcome *));
		b->items = calloc(n, sizeof(*b->items));
	}
	if (!b || !b->outcomes || !b->ptrs || !b->items) {
		if (b) {
			free(b->outcomes);
			free(b->ptrs);
			free(b->items);
		}
		free(b);
		svc_finish(c, GRPC_STATUS_RESOURCE_EXHAUSTED, SVC_INTERNAL, "out of memory");
		collector__algorithm__v1__execute_batch_request__free_unpacked(req, NULL);
		return;
	}
	b->c = c;
	b->req = req;
	/* One more than the calls: the batch cannot end while it is still being submitted. */
	b->remaining = n + 1;
	b->submitting = true;
	svc_ref(c);
	svc_set_state(c, b);
	for (size_t i = 0; i < n; i++)
		batch_submit(s, b, method, i);
	b->submitting = false;
	batch_step(b);
}

static void on_batch_end(struct svc_call *c, bool cancelled)
{
	struct batch *b = svc_state(c);

	if (!cancelled || !b)
		return;
	for (size_t i = 0; i < b->req->n_calls && svc_state(c) == b; i++)
		if (!b->items[i].done)
			algorithm_cancel(svc_algo(svc_of(c)), b->items[i].id);
}

static const struct svc_method execute_batch = { .path = "/collector.algorithm.v1.Algorithm/"
							 "ExecuteBatch",
						 .on_message = on_batch,
						 .on_end = on_batch_end };

/* ---- LeaseSlot, ReleaseSlot ---- */

static void on_lease(struct svc_call *c, const uint8_t *data, size_t len)
{
	struct service *s = svc_of(c);
	struct algorithm *a = svc_algo(s);
	Collector__Algorithm__V1__LeaseSlotRequest *req =
		collector__algorithm__v1__lease_slot_request__unpack(NULL, len, data);
	Collector__Algorithm__V1__Slot slots[MAX_LEASE], *ptrs[MAX_LEASE];
	Collector__Algorithm__V1__LeaseSlotResponse r =
		COLLECTOR__ALGORITHM__V1__LEASE_SLOT_RESPONSE__INIT;
	uint32_t want;

	if (!req) {
		svc_bad_request(c);
		return;
	}
	want = req->count ? req->count : 1;
	if (want > MAX_LEASE) {
		svc_finish(c, GRPC_STATUS_INVALID_ARGUMENT, SVC_BAD_INPUT,
			   "at most %d slots per LeaseSlot", MAX_LEASE);
	} else {
		for (uint32_t i = 0; i < want; i++) {
			uint64_t token;
			int slot = svc_lease(svc_leases(s), req->ttl_ms, &token);

			if (slot < 0)
				break;
			collector__algorithm__v1__slot__init(&slots[i]);
			slots[i].slot = (uint32_t)slot;
			slots[i].lease = token;
			slots[i].shm_name = a->pool.name;
			slots[i].offset = shm_pool_offset(&a->pool, slot);
			slots[i].size = a->pool.slot_size;
			ptrs[i] = &slots[i];
			r.n_slots++;
		}
		r.slots = ptrs;
		/* All or nothing: a partial lease would leave the client to juggle. */
		if (r.n_slots < want) {
			for (size_t i = 0; i < r.n_slots; i++)
				svc_lease_release(svc_leases(s), slots[i].slot, slots[i].lease);
			svc_finish(c, GRPC_STATUS_RESOURCE_EXHAUSTED, SVC_NO_CAPACITY,
				   "only %zu of %u slots are free (--pool-slots)", r.n_slots, want);
		} else {
			svc_send(c, &r.base);
			svc_finish(c, GRPC_STATUS_OK, 0, NULL);
		}
	}
	collector__algorithm__v1__lease_slot_request__free_unpacked(req, NULL);
}

static void on_release(struct svc_call *c, const uint8_t *data, size_t len)
{
	Collector__Algorithm__V1__ReleaseSlotRequest *req =
		collector__algorithm__v1__release_slot_request__unpack(NULL, len, data);
	Collector__Algorithm__V1__ReleaseSlotResponse r =
		COLLECTOR__ALGORITHM__V1__RELEASE_SLOT_RESPONSE__INIT;

	if (!req) {
		svc_bad_request(c);
		return;
	}
	for (size_t i = 0; i < req->n_slots; i++)
		r.released += svc_lease_release(svc_leases(svc_of(c)), req->slots[i]->slot,
						req->slots[i]->lease);
	svc_send(c, &r.base);
	svc_finish(c, GRPC_STATUS_OK, 0, NULL);
	collector__algorithm__v1__release_slot_request__free_unpacked(req, NULL);
}

static const struct svc_method lease_slot = { .path = "/collector.algorithm.v1.Algorithm/LeaseSlot",
					      .on_message = on_lease };
static const struct svc_method release_slot = { .path = "/collector.algorithm.v1.Algorithm/"
							"ReleaseSlot",
						.on_message = on_release };

/* ---- GetMetrics ---- */

static uint64_t rss_bytes(void)
{
	char line[128] = "", *p;
	long pages = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		/* "size resident ...": the second field, in pages. */
		if (fgets(line, sizeof(line), f) && (p = strchr(line, ' ')))
			pages = strtol(p + 1, NULL, 10);
		fclose(f);
	}
	return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Outcomes per second since a mark at most 10 s old. */
static double qps(uint64_t total)
{
	static int64_t mark_ns;
	static uint64_t mark_total;
	int64_t now = clock_mono_ns();
	double q = mark_ns && now > mark_ns ?
			   (double)(total - mark_total) / algo_secs(now - mark_ns) :
			   0;

	if (!mark_ns || now - mark_ns > 10LL * 1000000000) {
		mark_ns = now;
		mark_total = total;
	}
	return q;
}

static void on_metrics(struct svc_call *c, const uint8_t *data, size_t len)
{
	struct service *s = svc_of(c);
	struct algorithm *a = svc_algo(s);
	const struct algorithm_stats *st = algorithm_stats(a);
	Collector__Algorithm__V1__Metrics m = COLLECTOR__ALGORITHM__V1__METRICS__INIT;
	uint64_t bounds[12], counts[12];

	(void)data;
	(void)len;
	m.calls_total = st->latency_count;
	m.calls_ok = st->outcomes[ALGORITHM_OK];
	m.success_rate = st->latency_count ? (double)m.calls_ok / (double)st->latency_count : 1.;
	m.qps = qps(st->latency_count);
	m.instances = (uint32_t)a->ninst;
	for (int i = 0; i < a->ninst; i++) {
		m.instances_ready += a->inst[i].state == ALGO_READY ||
				     a->inst[i].state == ALGO_BUSY;
		m.instances_broken += a->inst[i].state == ALGO_BROKEN;
		m.in_flight += a->inst[i].inflight.len;
	}
	m.queued = a->queue.len;
	m.slots_total = (uint32_t)a->pool.slots;
	m.slots_leased = (uint32_t)(a->pool.slots - a->pool.nfree);
	m.streams = svc_counters(s)->streams;
	m.frames_dropped = svc_counters(s)->frames_dropped;
	m.results_dropped = svc_counters(s)->results_dropped;
	for (int i = 0; i < 12; i++) {
		bounds[i] = algorithm_latency_bounds_us[i];
		counts[i] = st->latency_le[i];
	}
	m.n_latency_bucket_le_us = m.n_latency_bucket_count = 12;
	m.latency_bucket_le_us = bounds;
	m.latency_bucket_count = counts;
	m.latency_count = st->latency_count;
	m.latency_sum_seconds = st->latency_sum_s;
	m.rss_bytes = rss_bytes();
	svc_send(c, &m.base);
	svc_finish(c, GRPC_STATUS_OK, 0, NULL);
}

static const struct svc_method get_metrics = { .path = "/collector.algorithm.v1.Algorithm/"
						       "GetMetrics",
					       .on_message = on_metrics };

/* ---- grpc.health.v1.Health/Check ---- */

/* The status of @p service ("" or ours), or -1 when the server does not know it. */
int svc_health_of(const struct service *s, const char *service)
{
	if (*service && strcmp(service, "collector.algorithm.v1.Algorithm") != 0)
		return -1;
	return svc_serving(s) ?
		       GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING :
		       GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
}

static void on_check(struct svc_call *c, const uint8_t *data, size_t len)
{
	Grpc__Health__V1__HealthCheckRequest *req =
		grpc__health__v1__health_check_request__unpack(NULL, len, data);
	Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
	int status;

	if (!req) {
		svc_bad_request(c);
		return;
	}
	status = svc_health_of(svc_of(c), req->service);
	if (status < 0) {
		svc_finish(c, GRPC_STATUS_NOT_FOUND, 0, "unknown service %s", req->service);
	} else {
		r.status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)status;
		svc_send(c, &r.base);
		svc_finish(c, GRPC_STATUS_OK, 0, NULL);
	}
	grpc__health__v1__health_check_request__free_unpacked(req, NULL);
}

static const struct svc_method health_check = { .path = "/grpc.health.v1.Health/Check",
						.on_message = on_check };

const struct svc_method *const svc_call_methods[] = {
	&execute,      &pre_execute, &execute_batch, &lease_slot,
	&release_slot, &get_metrics, &health_check,  NULL,
};
