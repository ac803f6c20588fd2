/* The algorithm runner's gRPC service: its interface to the runner and its methods' transport. */
#ifndef COLLECTOR_ALGORITHM_SERVICE_H
#define COLLECTOR_ALGORITHM_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <grpc/grpc.h>
#include <grpc/status.h>
#include <protobuf-c/protobuf-c.h>

#include <collector/algorithm.h>
#include <collector/error.h>
#include <collector/metrics.h>
#include <collector/runner.h>

#include "host.h"

/* The runner's options of the service, for its option table. */
#define ALGO_SERVICE_OPTIONS                                                                    \
	{ .name = "listen",                                                                     \
	  .type = OPT_STRING,                                                                   \
	  .help = "serve collector.algorithm.v1 over gRPC on HOST:PORT (loopback unless "       \
		  "--listen-public) or unix:PATH (0660); docs/service.md" },                    \
		{ .name = "listen-public",                                                      \
		  .type = OPT_BOOL,                                                             \
		  .help = "allow a --listen address that is not loopback (needs --tls-cert)" }, \
		{ .name = "tls-cert",                                                           \
		  .type = OPT_STRING,                                                           \
		  .help = "PEM certificate chain of the gRPC service (with --tls-key)" },       \
		{ .name = "tls-key",                                                            \
		  .type = OPT_STRING,                                                           \
		  .help = "PEM private key of --tls-cert" },                                    \
		{ .name = "tls-client-ca",                                                      \
		  .type = OPT_STRING,                                                           \
		  .help = "PEM CA bundle: gRPC clients must present a certificate it signed" }, \
	{                                                                                       \
		.name = "service-queue", .type = OPT_INT, .def = "256",                         \
		.help = "results held per slow SubscribeResults client before the oldest "      \
			"are dropped"                                                           \
	}

/* Detail codes of failed calls (docs/service.md), sent as trailing metadata collector-code. */
enum svc_detail {
	SVC_SOURCE_NOT_FOUND = 1001,
	SVC_LOAD_FAILED = 2001,
	SVC_TIMEOUT = 3001,
	SVC_BAD_INPUT = 4001,
	SVC_NO_CAPACITY = 4002,
	SVC_BROKEN = 4003,
	SVC_CRASHED = 4004,
	SVC_STOPPING = 4005,
	SVC_PROTOCOL = 4006,
	SVC_BAD_OUTPUT = 4007,
	SVC_FAILED = 4008,
	SVC_BAD_LEASE = 4009,
	SVC_INTERNAL = 9999,
};

struct service;
struct svc_sources;

/* ---- the runner's side ---- */

/* The service's options make sense together (at create: a usage error). */
int service_check_options(const struct options *o, struct error *err);
/* Listen as the options say (no --listen: *out stays NULL, nothing listens). */
int service_start(struct runner_ctx *ctx, struct algorithm *algo, const struct options *o,
		  struct service **out, struct error *err);
/* SIGTERM: new calls get UNAVAILABLE, streams end, calls in flight go on. */
void service_stop(struct service *s);
/* After the host stopped: the last answers go out, then everything is released. */
void service_free(struct service *s);
/* Every event of the host, for SubscribeResults and the health watchers. */
void service_on_event(struct service *s, const char *type, const char *json, size_t len);
void service_metrics(struct service *s, struct metrics_writer *w);

/* ---- the methods' side (service.c is their transport) ---- */

struct svc_call;

struct svc_method {
	const char *path; /* "/package.Service/Method" */
	bool client_stream;
	bool server_stream;
	/* A request message (once for unary calls, once per message for client streams). */
	void (*on_message)(struct svc_call *c, const uint8_t *data, size_t len);
	/* The client has sent its last message (client streams only); may be NULL. */
	void (*on_half_close)(struct svc_call *c);
	/* The call is over, answered or cancelled: let go of the method's state; may be NULL. */
	void (*on_end)(struct svc_call *c, bool cancelled);
};

/* The methods of service_calls.c, service_streams.c and service_sources.c, NULL-terminated. */
extern const struct svc_method *const svc_call_methods[];
extern const struct svc_method *const svc_stream_methods[];
extern const struct svc_method *const svc_source_methods[];

struct algorithm *svc_algo(const struct service *s);
struct service *svc_of(const struct svc_call *c);
void *svc_state(const struct svc_call *c);
void svc_set_state(struct svc_call *c, void *state);
/* Keep the call's record while an answer is pending elsewhere (an algorithm call). */
void svc_ref(struct svc_call *c);
void svc_unref(struct svc_call *c);
/* The call has ended or its status is on the way: sending more is pointless. */
bool svc_done(const struct svc_call *c);
/* Messages queued and not yet written to the client. */
size_t svc_queued(const struct svc_call *c);
/* Queue a message; false when the call is done or memory ran out. */
bool svc_send(struct svc_call *c, const ProtobufCMessage *m);
/* End the call after the queued messages: status, and a detail code when not 0. */
void svc_finish(struct svc_call *c, grpc_status_code status, int detail, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Decode failure of a request: INVALID_ARGUMENT. */
void svc_bad_request(struct svc_call *c);
/* The gRPC status and detail code of a call's outcome. */
grpc_status_code svc_status_of(enum algorithm_code code, int *detail);
/* Health of @p service ("" or ours) as a grpc.health.v1 status, -1 when unknown. */
int svc_health_of(const struct service *s, const char *service);
/* Whether the service stopped taking calls (SIGTERM). */
bool svc_stopping(const struct service *s);
/* Every instance's breaker is open, or the runner is stopping: health says NOT_SERVING. */
bool svc_serving(const struct service *s);

/* Service-wide counters the methods keep (GetMetrics and /metrics). */
struct svc_counters {
	uint64_t frames_dropped;
	uint64_t results_dropped;
	uint32_t streams;
};
struct svc_counters *svc_counters(struct service *s);
/* The open subscriptions and health watches (service_streams.c keeps them). */
struct svc_sub;
struct svc_watch;
struct svc_lists {
	struct svc_sub *subs;
	struct svc_watch *watches;
};
struct svc_lists *svc_lists(struct service *s);
size_t svc_subscriber_queue(const struct service *s);

/* Pixels of a request's image (service_calls.c): NULL when fine (*has set when there is one). */
const char *svc_image_of(struct service *s, const void *image_msg, struct algorithm_image *out,
			 bool *has, int *detail);
/* An outcome message's fields from a result (strings copied; free with svc_outcome_free). */
void svc_outcome_fill(void *outcome_msg, const struct algorithm_result *res, const char *tag);
void svc_outcome_free(void *outcome_msg);

/* Slot leases (service_slots.c): slots a client writes images into. */
struct svc_leases;
struct svc_leases *svc_leases(struct service *s);
struct svc_sources *svc_sources(struct service *s);
int svc_leases_new(struct service *s, struct svc_leases **out);
void svc_leases_free(struct svc_leases *l);
/* Lease a slot for @p ttl_ms; -1 when the pool is exhausted. */
int svc_lease(struct svc_leases *l, uint32_t ttl_ms, uint64_t *token);
/* Give an unused lease back: false when @p token does not hold @p slot. */
bool svc_lease_release(struct svc_leases *l, uint32_t slot, uint64_t token);
/* Hand a lease to a call (the call frees the slot): its memory, or NULL when not leased. */
void *svc_lease_take(struct svc_leases *l, uint32_t slot, uint64_t token);
uint32_t svc_leases_held(const struct svc_leases *l);

/* Frame sources the runner feeds itself (service_sources.c). */
int svc_sources_new(struct service *s, struct svc_sources **out);
void svc_sources_stop(struct svc_sources *src);
void svc_sources_free(struct svc_sources *src);

/* Fan a host event out to subscribers and watchers (service_streams.c). */
void svc_streams_event(struct service *s, const char *type, const char *json, size_t len);
/* The health may have changed: Watch clients hear of it (service_streams.c). */
void svc_streams_health(struct service *s);

#endif
