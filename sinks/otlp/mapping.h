/*
 * Events to OTLP messages: every event a LogRecord, every http.response a
 * Span as well, built as protobuf-c structs in a per-batch arena.
 */
#ifndef SINKS_OTLP_MAPPING_H
#define SINKS_OTLP_MAPPING_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include <collector/event.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue otlp_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue otlp_any;
typedef Opentelemetry__Proto__Logs__V1__LogRecord otlp_log;
typedef Opentelemetry__Proto__Trace__V1__Span otlp_span;

/* Most attributes one record carries; more are counted in dropped_attributes_count. */
#define OTLP_ATTRS_MAX 64
/* Objects nested deeper in data than this become one attribute holding their JSON text. */
#define OTLP_DEPTH_MAX 4

/* Bump allocation for one batch: everything a batch's messages point to. */
struct otlp_arena {
	struct otlp_chunk *chunks;
};

/* One batch: its records, spans and what they point into. */
struct otlp_batch {
	struct otlp_arena arena;
	otlp_log **logs;
	size_t nlogs, logs_cap;
	otlp_span **spans;
	size_t nspans, spans_cap;
	yajl_val *trees; /* parsed data, alive until reset: attributes point into them */
	size_t ntrees, trees_cap;
	uint64_t rng; /* trace and span ids */
};

/* The collector's resource attributes, built once per sink. */
struct otlp_resource {
	otlp_kv *kvs[8];
	otlp_kv kv_store[8];
	otlp_any any_store[8];
	size_t n;
	char host[256];
	char container[80];
};

/* Fill @p r: service.name @p service, host.name, process.pid, container.id when known. */
void otlp_resource_init(struct otlp_resource *r, const char *service);

/* Map @p ev into @p b. 0, or -ENOMEM. */
int otlp_map_event(struct otlp_batch *b, const struct event *ev, int64_t now_ns);

/* Forget the batch's records, keep its memory for the next one. */
void otlp_batch_reset(struct otlp_batch *b);

/* Free everything. */
void otlp_batch_free(struct otlp_batch *b);

#endif
