/* The OTLP mapping of events: LogRecords (and http.response Spans) with flattened, bounded attributes. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "mapping.h"

#define CHUNK_SIZE ((size_t)64 * 1024)

struct otlp_chunk {
	struct otlp_chunk *next;
	size_t used, size;
	_Alignas(16) char mem[];
};

static void *arena_alloc(struct otlp_arena *a, size_t n)
{
	struct otlp_chunk *c = a->chunks;

	n = (n + 15) & ~(size_t)15;
	if (!c || c->size - c->used < n) {
		size_t size = n > CHUNK_SIZE ? n : CHUNK_SIZE;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->used = 0;
		c->size = size;
		c->next = a->chunks;
		a->chunks = c;
	}
	c->used += n;
	return c->mem + c->used - n;
}

static char *arena_strndup(struct otlp_arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Keep the newest chunk for the next batch, free the rest. */
static void arena_reset(struct otlp_arena *a)
{
	struct otlp_chunk *c = a->chunks;

	if (!c)
		return;
	while (c->next) {
		struct otlp_chunk *n = c->next->next;

		free(c->next);
		c->next = n;
	}
	c->used = 0;
}

/* An array of @p n pointers in the arena. */
static void *arena_ptrs(struct otlp_arena *a, size_t n)
{
	return arena_alloc(a, n * sizeof(void *));
}

/* Room for one more pointer in a realloc'd array of pointers. */
static int grow(void **arr, size_t *cap, size_t n)
{
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*arr, (*cap ? *cap * 2 : 256) * sizeof(void *));
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = *cap ? *cap * 2 : 256;
	return 0;
}

static uint64_t next_random(uint64_t *state)
{
	/* splitmix64: ids need to be unique, not secret */
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- attributes ---- */

struct attrs {
	struct otlp_arena *a;
	otlp_kv **kvs;
	size_t n;
	uint32_t dropped;
};

static otlp_any *add_attr(struct attrs *at, const char *key)
{
	otlp_kv *kv;
	otlp_any *v;

	if (at->n == OTLP_ATTRS_MAX) {
		at->dropped++;
		return NULL;
	}
	kv = arena_alloc(at->a, sizeof(*kv));
	v = arena_alloc(at->a, sizeof(*v));
	if (!kv || !v)
		return NULL;
	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(v);
	kv->key = (char *)key;
	kv->value = v;
	at->kvs[at->n++] = kv;
	return v;
}

static void attr_str(struct attrs *at, const char *key, char *s)
{
	otlp_any *v = add_attr(at, key);

	if (v) {
		v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		v->string_value = s;
	}
}

static void attr_int(struct attrs *at, const char *key, int64_t i)
{
	otlp_any *v = add_attr(at, key);

	if (v) {
		v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
		v->int_value = i;
	}
}

/* A value as its JSON text (arrays, objects past the depth bound). */
static char *json_text(struct otlp_arena *a, yajl_val v);

static void gen_value(yajl_gen g, yajl_val v)
{
	switch (v->type) {
	case yajl_t_string:
		yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
		break;
	case yajl_t_number:
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
		break;
	case yajl_t_object:
		yajl_gen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++) {
			yajl_gen_string(g, (const unsigned char *)v->u.object.keys[i],
					strlen(v->u.object.keys[i]));
			gen_value(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
		break;
	case yajl_t_array:
		yajl_gen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			gen_value(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
		break;
	case yajl_t_true:
	case yajl_t_false:
		yajl_gen_bool(g, v->type == yajl_t_true);
		break;
	default:
		yajl_gen_null(g);
	}
}

static char *json_text(struct otlp_arena *a, yajl_val v)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;
	char *s = NULL;

	if (!g)
		return NULL;
	gen_value(g, v);
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
		s = arena_strndup(a, (const char *)buf, len);
	yajl_gen_free(g);
	return s;
}

static void flatten(struct attrs *at, const char *prefix, yajl_val v, int depth);

static void attr_value(struct attrs *at, const char *key, yajl_val v, int depth)
{
	otlp_any *any;

	if (v->type == yajl_t_object && depth < OTLP_DEPTH_MAX) {
		flatten(at, key, v, depth + 1);
		return;
	}
	if (v->type == yajl_t_null)
		return;
	if (!(any = add_attr(at, key)))
		return;
	switch (v->type) {
	case yajl_t_string:
		any->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		any->string_value = v->u.string;
		break;
	case yajl_t_number:
		if (YAJL_IS_INTEGER(v)) {
			any->value_case =
				OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
			any->int_value = v->u.number.i;
		} else {
			any->value_case =
				OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
			any->double_value = v->u.number.d;
		}
		break;
	case yajl_t_true:
	case yajl_t_false:
		any->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
		any->bool_value = v->type == yajl_t_true;
		break;
	default: /* arrays, and objects past the depth bound: their JSON text */
		any->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		any->string_value = json_text(at->a, v);
		if (!any->string_value)
			any->string_value = (char *)"";
	}
}

/* data's members as dotted keys: {"counters":{"lines":3}} is counters.lines = 3. */
static void flatten(struct attrs *at, const char *prefix, yajl_val obj, int depth)
{
	for (size_t i = 0; i < obj->u.object.len; i++) {
		const char *k = obj->u.object.keys[i];
		char *key = (char *)k;

		if (prefix) {
			size_t pl = strlen(prefix), kl = strlen(k);

			if (!(key = arena_alloc(at->a, pl + kl + 2)))
				return;
			snprintf(key, pl + kl + 2, "%s.%s", prefix, k);
		}
		attr_value(at, key, obj->u.object.values[i], depth);
	}
}

/* ---- records ---- */

static bool type_has(struct span type, const char *word)
{
	return memmem(type.ptr, type.len, word, strlen(word)) != NULL;
}

static Opentelemetry__Proto__Logs__V1__SeverityNumber severity_of(struct span type,
								  const char **text)
{
	if (type_has(type, "crash") || type_has(type, "fatal")) {
		*text = "FATAL";
		return OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_FATAL;
	}
	if (type_has(type, "error") || type_has(type, "failed")) {
		*text = "ERROR";
		return OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR;
	}
	if (type_has(type, "loss") || type_has(type, "warn") || type_has(type, "unhealthy")) {
		*text = "WARN";
		return OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN;
	}
	*text = "INFO";
	return OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO;
}

static void envelope_attrs(struct attrs *at, const struct event *ev)
{
	attr_str(at, "collector.runner", arena_strndup(at->a, ev->runner.ptr, ev->runner.len));
	attr_int(at, "collector.seq", (int64_t)ev->seq);
	if (ev->flags & EVENT_HAS_ID) {
		char id[EVENT_ID_TEXT + 1];

		event_id_text(ev, id);
		attr_str(at, "log.record.uid", arena_strndup(at->a, id, EVENT_ID_TEXT));
	}
	if (ev->flags & EVENT_HAS_PID)
		attr_int(at, "process.pid", ev->pid);
	if (ev->flags & EVENT_HAS_TID)
		attr_int(at, "thread.id", ev->tid);
	if (ev->flags & EVENT_HAS_PPID)
		attr_int(at, "process.parent_pid", ev->ppid);
	if (ev->comm.len)
		attr_str(at, "process.command", arena_strndup(at->a, ev->comm.ptr, ev->comm.len));
}

static yajl_val parse_data(struct otlp_batch *b, const struct event *ev)
{
	char *text;
	yajl_val tree;

	if (!ev->data.len || grow((void **)&b->trees, &b->trees_cap, b->ntrees))
		return NULL;
	text = arena_strndup(&b->arena, ev->data.ptr, ev->data.len);
	if (!text || !(tree = yajl_tree_parse(text, NULL, 0)))
		return NULL;
	b->trees[b->ntrees++] = tree;
	return tree;
}

static const char *member_str(yajl_val data, const char *name)
{
	const char *path[] = { name, NULL };
	yajl_val v = data ? yajl_tree_get(data, path, yajl_t_string) : NULL;

	return v ? v->u.string : NULL;
}

static int64_t member_int(yajl_val data, const char *name)
{
	const char *path[] = { name, NULL };
	yajl_val v = data ? yajl_tree_get(data, path, yajl_t_number) : NULL;

	return v && YAJL_IS_INTEGER(v) ? v->u.number.i : 0;
}

static ProtobufCBinaryData random_id(struct otlp_batch *b, size_t n)
{
	uint8_t *p = arena_alloc(&b->arena, 16);
	uint64_t r[2] = { next_random(&b->rng), next_random(&b->rng) };

	if (p)
		memcpy(p, r, n);
	return (ProtobufCBinaryData){ .len = p ? n : 0, .data = p };
}

/* An http.response is one exchange: a span from its request's time to the response's. */
static int add_span(struct otlp_batch *b, const struct event *ev, yajl_val data, otlp_log *log)
{
	otlp_span *s = arena_alloc(&b->arena, sizeof(*s));
	Opentelemetry__Proto__Trace__V1__Status *st = arena_alloc(&b->arena, sizeof(*st));
	otlp_kv **kvs = arena_ptrs(&b->arena, 8);
	struct attrs at = { .a = &b->arena, .kvs = kvs };
	const char *method = member_str(data, "method"), *path = member_str(data, "path");
	const char *version = member_str(data, "version"), *conn = member_str(data, "conn");
	int64_t status = member_int(data, "status"), latency = member_int(data, "latency_ns");

	if (!s || !st || !kvs || grow((void **)&b->spans, &b->spans_cap, b->nspans))
		return -ENOMEM;
	opentelemetry__proto__trace__v1__span__init(s);
	opentelemetry__proto__trace__v1__status__init(st);
	s->trace_id = random_id(b, 16);
	s->span_id = random_id(b, 8);
	s->name = (char *)(method ? method : "HTTP");
	s->kind = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT;
	s->end_time_unix_nano = (uint64_t)ev->ts_ns;
	s->start_time_unix_nano = (uint64_t)(ev->ts_ns - (latency > 0 ? latency : 0));
	if (method)
		attr_str(&at, "http.request.method", (char *)method);
	if (path)
		attr_str(&at, "url.path", (char *)path);
	if (status)
		attr_int(&at, "http.response.status_code", status);
	if (version)
		attr_str(&at, "network.protocol.version", (char *)version);
	if (ev->flags & EVENT_HAS_PID)
		attr_int(&at, "process.pid", ev->pid);
	if (conn)
		attr_str(&at, "collector.conn", (char *)conn);
	s->attributes = kvs;
	s->n_attributes = at.n;
	/* A client span: 4xx and 5xx are errors. */
	st->code = status >= 400 ?
			   OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR :
			   OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_UNSET;
	s->status = st;
	/* The response's log record points at its span. */
	log->trace_id = s->trace_id;
	log->span_id = s->span_id;
	b->spans[b->nspans++] = s;
	return 0;
}

static void set_body(struct otlp_batch *b, otlp_log *log, yajl_val data)
{
	const char *text = member_str(data, "line");
	otlp_any *v;

	if (!text)
		text = member_str(data, "message");
	if (!text || !(v = arena_alloc(&b->arena, sizeof(*v))))
		return;
	opentelemetry__proto__common__v1__any_value__init(v);
	v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	v->string_value = (char *)text;
	log->body = v;
}

int otlp_map_event(struct otlp_batch *b, const struct event *ev, int64_t now_ns)
{
	otlp_log *log = arena_alloc(&b->arena, sizeof(*log));
	otlp_kv **kvs = arena_ptrs(&b->arena, OTLP_ATTRS_MAX);
	struct attrs at = { .a = &b->arena, .kvs = kvs };
	const char *sev_text;
	yajl_val data;

	if (!log || !kvs || grow((void **)&b->logs, &b->logs_cap, b->nlogs))
		return -ENOMEM;
	opentelemetry__proto__logs__v1__log_record__init(log);
	log->time_unix_nano = (uint64_t)ev->ts_ns;
	log->observed_time_unix_nano = (uint64_t)now_ns;
	log->event_name = arena_strndup(&b->arena, ev->type.ptr, ev->type.len);
	log->severity_number = severity_of(ev->type, &sev_text);
	log->severity_text = (char *)sev_text;
	if (!log->event_name)
		return -ENOMEM;
	envelope_attrs(&at, ev);
	data = parse_data(b, ev);
	if (data && YAJL_IS_OBJECT(data)) {
		flatten(&at, NULL, data, 1);
		set_body(b, log, data);
	} else if (data) {
		attr_value(&at, "data", data, OTLP_DEPTH_MAX);
	}
	log->attributes = kvs;
	log->n_attributes = at.n;
	log->dropped_attributes_count = at.dropped;
	b->logs[b->nlogs++] = log;
	if (ev->type.len == 13 && memcmp(ev->type.ptr, "http.response", 13) == 0)
		return add_span(b, ev, data, log);
	return 0;
}

void otlp_batch_reset(struct otlp_batch *b)
{
	for (size_t i = 0; i < b->ntrees; i++)
		yajl_tree_free(b->trees[i]);
	b->ntrees = b->nlogs = b->nspans = 0;
	arena_reset(&b->arena);
	if (!b->rng && getrandom(&b->rng, sizeof(b->rng), 0) != sizeof(b->rng))
		b->rng = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
}

void otlp_batch_free(struct otlp_batch *b)
{
	otlp_batch_reset(b);
	while (b->arena.chunks) {
		struct otlp_chunk *n = b->arena.chunks->next;

		free(b->arena.chunks);
		b->arena.chunks = n;
	}
	free(b->logs);
	free(b->spans);
	free(b->trees);
}

/* ---- resource ---- */

/* The container this collector runs in, from /proc/self/cgroup (docker's 64-hex id), if any. */
static void find_container(char *out, size_t size)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[512];

	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "/docker/");
		size_t n = 0;

		if (!p)
			continue;
		p += 8;
		while (n < 64 && strchr("0123456789abcdef", p[n]) && p[n])
			n++;
		if (n == 64 && n < size) {
			memcpy(out, p, n);
			out[n] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
}

static void resource_attr(struct otlp_resource *r, const char *key, const char *s, int64_t i)
{
	otlp_kv *kv = &r->kv_store[r->n];
	otlp_any *v = &r->any_store[r->n];

	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(v);
	kv->key = (char *)key;
	kv->value = v;
	if (s) {
		v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
		v->string_value = (char *)s;
	} else {
		v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
		v->int_value = i;
	}
	r->kvs[r->n] = kv;
	r->n++;
}

void otlp_resource_init(struct otlp_resource *r, const char *service)
{
	r->n = 0;
	if (gethostname(r->host, sizeof(r->host) - 1) < 0)
		snprintf(r->host, sizeof(r->host), "localhost");
	find_container(r->container, sizeof(r->container));
	resource_attr(r, "service.name", service, 0);
	resource_attr(r, "host.name", r->host, 0);
	resource_attr(r, "process.pid", NULL, getpid());
	if (r->container[0])
		resource_attr(r, "container.id", r->container, 0);
}
