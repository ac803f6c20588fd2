/* OTLP request bodies: protobuf-c packing or OTLP JSON (hex ids, lowerCamelCase, int64 as strings), gzip. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>
#include <zlib.h>

#include <collector/collector.h>

#include "encode.h"

#define SCOPE_NAME "collector"

typedef Opentelemetry__Proto__Common__V1__InstrumentationScope otlp_scope;

/* ---- protobuf ---- */

/* Append @p m packed (protobuf-c's generic calls: one request type or the other). */
static int pack_message(const ProtobufCMessage *m, struct buffer *out)
{
	size_t n = protobuf_c_message_get_packed_size(m);

	if (buffer_reserve(out, n) < 0)
		return -ENOMEM;
	out->len += protobuf_c_message_pack(m, (uint8_t *)out->data + out->len);
	return 0;
}

static int pack_logs(const struct otlp_resource *res, const struct otlp_batch *b,
		     struct buffer *out)
{
	Opentelemetry__Proto__Resource__V1__Resource r =
		OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
	otlp_scope scope = OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	Opentelemetry__Proto__Logs__V1__ScopeLogs sl =
		OPENTELEMETRY__PROTO__LOGS__V1__SCOPE_LOGS__INIT;
	Opentelemetry__Proto__Logs__V1__ResourceLogs rl =
		OPENTELEMETRY__PROTO__LOGS__V1__RESOURCE_LOGS__INIT;
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest req =
		OPENTELEMETRY__PROTO__COLLECTOR__LOGS__V1__EXPORT_LOGS_SERVICE_REQUEST__INIT;
	Opentelemetry__Proto__Logs__V1__ResourceLogs *rls[1] = { &rl };
	Opentelemetry__Proto__Logs__V1__ScopeLogs *sls[1] = { &sl };

	r.attributes = (otlp_kv **)res->kvs;
	r.n_attributes = res->n;
	scope.name = (char *)SCOPE_NAME;
	scope.version = (char *)COLLECTOR_VERSION;
	sl.scope = &scope;
	sl.log_records = b->logs;
	sl.n_log_records = b->nlogs;
	rl.resource = &r;
	rl.scope_logs = sls;
	rl.n_scope_logs = 1;
	req.resource_logs = rls;
	req.n_resource_logs = 1;
	return pack_message(&req.base, out);
}

static int pack_spans(const struct otlp_resource *res, const struct otlp_batch *b,
		      struct buffer *out)
{
	Opentelemetry__Proto__Resource__V1__Resource r =
		OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
	otlp_scope scope = OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	Opentelemetry__Proto__Trace__V1__ScopeSpans ss =
		OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
	Opentelemetry__Proto__Trace__V1__ResourceSpans rs =
		OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req =
		OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
	Opentelemetry__Proto__Trace__V1__ResourceSpans *rss[1] = { &rs };
	Opentelemetry__Proto__Trace__V1__ScopeSpans *sss[1] = { &ss };

	r.attributes = (otlp_kv **)res->kvs;
	r.n_attributes = res->n;
	scope.name = (char *)SCOPE_NAME;
	scope.version = (char *)COLLECTOR_VERSION;
	ss.scope = &scope;
	ss.spans = b->spans;
	ss.n_spans = b->nspans;
	rs.resource = &r;
	rs.scope_spans = sss;
	rs.n_scope_spans = 1;
	req.resource_spans = rss;
	req.n_resource_spans = 1;
	return pack_message(&req.base, out);
}

/* ---- OTLP JSON ---- */

static void key(yajl_gen g, const char *k)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
}

static void str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* 64-bit integers are JSON strings in OTLP JSON. */
static void u64_str(yajl_gen g, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	str(g, num);
}

static void hex(yajl_gen g, ProtobufCBinaryData id)
{
	char text[2 * 16 + 1];

	for (size_t i = 0; i < id.len && i < 16; i++)
		snprintf(text + 2 * i, 3, "%02x", id.data[i]);
	yajl_gen_string(g, (const unsigned char *)text, 2 * (id.len < 16 ? id.len : 16));
}

static void any_value(yajl_gen g, const otlp_any *v)
{
	char num[24];

	yajl_gen_map_open(g);
	switch (v->value_case) {
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
		key(g, "stringValue");
		str(g, v->string_value);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
		key(g, "intValue");
		snprintf(num, sizeof(num), "%" PRId64, v->int_value);
		str(g, num);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
		key(g, "doubleValue");
		yajl_gen_double(g, v->double_value);
		break;
	case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
		key(g, "boolValue");
		yajl_gen_bool(g, v->bool_value);
		break;
	default:
		break;
	}
	yajl_gen_map_close(g);
}

static void attributes(yajl_gen g, otlp_kv *const *kvs, size_t n)
{
	key(g, "attributes");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		key(g, "key");
		str(g, kvs[i]->key);
		key(g, "value");
		any_value(g, kvs[i]->value);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

static void resource_and_scope_open(yajl_gen g, const struct otlp_resource *res, const char *scoped)
{
	yajl_gen_map_open(g);
	key(g, "resource");
	yajl_gen_map_open(g);
	attributes(g, res->kvs, res->n);
	yajl_gen_map_close(g);
	key(g, scoped);
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	key(g, "scope");
	yajl_gen_map_open(g);
	key(g, "name");
	str(g, SCOPE_NAME);
	key(g, "version");
	str(g, COLLECTOR_VERSION);
	yajl_gen_map_close(g);
}

static void log_json(yajl_gen g, const otlp_log *l)
{
	yajl_gen_map_open(g);
	key(g, "timeUnixNano");
	u64_str(g, l->time_unix_nano);
	key(g, "observedTimeUnixNano");
	u64_str(g, l->observed_time_unix_nano);
	key(g, "severityNumber");
	yajl_gen_integer(g, l->severity_number);
	key(g, "severityText");
	str(g, l->severity_text);
	key(g, "eventName");
	str(g, l->event_name);
	if (l->body) {
		key(g, "body");
		any_value(g, l->body);
	}
	attributes(g, l->attributes, l->n_attributes);
	if (l->dropped_attributes_count) {
		key(g, "droppedAttributesCount");
		yajl_gen_integer(g, l->dropped_attributes_count);
	}
	if (l->trace_id.len) {
		key(g, "traceId");
		hex(g, l->trace_id);
		key(g, "spanId");
		hex(g, l->span_id);
	}
	yajl_gen_map_close(g);
}

static void span_json(yajl_gen g, const otlp_span *s)
{
	yajl_gen_map_open(g);
	key(g, "traceId");
	hex(g, s->trace_id);
	key(g, "spanId");
	hex(g, s->span_id);
	key(g, "name");
	str(g, s->name);
	key(g, "kind");
	yajl_gen_integer(g, s->kind);
	key(g, "startTimeUnixNano");
	u64_str(g, s->start_time_unix_nano);
	key(g, "endTimeUnixNano");
	u64_str(g, s->end_time_unix_nano);
	attributes(g, s->attributes, s->n_attributes);
	key(g, "status");
	yajl_gen_map_open(g);
	key(g, "code");
	yajl_gen_integer(g, s->status->code);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
}

static int json_encode(const struct otlp_resource *res, const struct otlp_batch *b, bool spans,
		       struct buffer *out)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	int rc = -ENOMEM;

	if (!g)
		return -ENOMEM;
	yajl_gen_map_open(g);
	key(g, spans ? "resourceSpans" : "resourceLogs");
	yajl_gen_array_open(g);
	resource_and_scope_open(g, res, spans ? "scopeSpans" : "scopeLogs");
	key(g, spans ? "spans" : "logRecords");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < (spans ? b->nspans : b->nlogs); i++) {
		if (spans)
			span_json(g, b->spans[i]);
		else
			log_json(g, b->logs[i]);
	}
	yajl_gen_array_close(g); /* records */
	yajl_gen_map_close(g);	 /* scope */
	yajl_gen_array_close(g); /* scopes */
	yajl_gen_map_close(g);	 /* resource */
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
		rc = buffer_append(out, buf, len);
	yajl_gen_free(g);
	return rc;
}

int otlp_encode(const struct otlp_resource *res, const struct otlp_batch *b, bool spans, bool json,
		struct buffer *out)
{
	if (json)
		return json_encode(res, b, spans, out);
	return spans ? pack_spans(res, b, out) : pack_logs(res, b, out);
}

int otlp_gzip(const char *in, size_t len, struct buffer *out)
{
	z_stream z = { 0 };
	int rc;

	out->len = 0;
	/* windowBits 15 + 16: a gzip header and trailer, as Content-Encoding: gzip wants. */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	if (buffer_reserve(out, deflateBound(&z, len)) < 0) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out->data;
	z.avail_out = (uInt)out->cap;
	rc = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -EIO;
}

static int64_t rejected_json(const char *body, size_t len, bool spans, char *msg, size_t msg_size)
{
	char text[4096];
	const char *count_path[] = { "partialSuccess",
				     spans ? "rejectedSpans" : "rejectedLogRecords", NULL };
	const char *msg_path[] = { "partialSuccess", "errorMessage", NULL };
	yajl_val tree, v;
	int64_t n = 0;

	snprintf(text, sizeof(text), "%.*s", (int)(len < sizeof(text) ? len : sizeof(text) - 1),
		 body);
	if (!(tree = yajl_tree_parse(text, NULL, 0)))
		return 0;
	/* int64 may come as a string or as a number */
	if ((v = yajl_tree_get(tree, count_path, yajl_t_any)))
		n = YAJL_IS_STRING(v)  ? strtoll(v->u.string, NULL, 10) :
		    YAJL_IS_INTEGER(v) ? v->u.number.i :
					 0;
	if ((v = yajl_tree_get(tree, msg_path, yajl_t_string)))
		snprintf(msg, msg_size, "%s", v->u.string);
	yajl_tree_free(tree);
	return n;
}

int64_t otlp_rejected(const char *body, size_t len, bool spans, bool json, char *msg,
		      size_t msg_size)
{
	int64_t n = 0;

	msg[0] = '\0';
	if (!body || !len)
		return 0;
	if (json)
		return rejected_json(body, len, spans, msg, msg_size);
	if (spans) {
		Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r =
			opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
				NULL, len, (const uint8_t *)body);

		if (r && r->partial_success) {
			n = r->partial_success->rejected_spans;
			snprintf(msg, msg_size, "%s", r->partial_success->error_message);
		}
		if (r)
			opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
				r, NULL);
		return n;
	}
	Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *r =
		opentelemetry__proto__collector__logs__v1__export_logs_service_response__unpack(
			NULL, len, (const uint8_t *)body);
	if (r && r->partial_success) {
		n = r->partial_success->rejected_log_records;
		snprintf(msg, msg_size, "%s", r->partial_success->error_message);
	}
	if (r)
		opentelemetry__proto__collector__logs__v1__export_logs_service_response__free_unpacked(
			r, NULL);
	return n;
}
