/* An event's data object built with yajl_gen, emitted or counted lost when memory ran out. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include <collector/buffer.h>
#include <collector/event_builder.h>

struct event_builder {
	yajl_gen gen;
	struct buffer out;
	bool failed; /* an append ran out of memory (or yajl_gen refused a call) */
	bool closed; /* the data object is closed: finish() was called */
};

static void print_to_out(void *ctx, const char *s, size_t len)
{
	struct event_builder *b = ctx;

	if (!b->failed && buffer_append(&b->out, s, len) < 0)
		b->failed = true;
}

/* A refused call (a key where a value belongs, ...) loses the event like a failed append. */
static void check(struct event_builder *b, yajl_gen_status st)
{
	if (st != yajl_gen_status_ok)
		b->failed = true;
}

struct event_builder *event_builder_new(void)
{
	struct event_builder *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->gen = yajl_gen_alloc(NULL);
	if (!b->gen) {
		free(b);
		return NULL;
	}
	yajl_gen_config(b->gen, yajl_gen_print_callback, print_to_out, b);
	return b;
}

void event_builder_free(struct event_builder *b)
{
	if (!b)
		return;
	yajl_gen_free(b->gen);
	buffer_free(&b->out);
	free(b);
}

void event_builder_begin(struct event_builder *b)
{
	yajl_gen_reset(b->gen, NULL);
	b->out.len = 0;
	b->failed = false;
	b->closed = false;
	check(b, yajl_gen_map_open(b->gen));
}

void event_builder_key(struct event_builder *b, const char *key)
{
	check(b, yajl_gen_string(b->gen, (const unsigned char *)key, strlen(key)));
}

static void key_of(struct event_builder *b, const char *key)
{
	if (key)
		event_builder_key(b, key);
}

void event_builder_str(struct event_builder *b, const char *key, const char *value)
{
	if (value)
		event_builder_strn(b, key, value, strlen(value));
	else
		event_builder_null(b, key);
}

void event_builder_strn(struct event_builder *b, const char *key, const char *value, size_t len)
{
	key_of(b, key);
	check(b, yajl_gen_string(b->gen, (const unsigned char *)(len ? value : ""), len));
}

void event_builder_int(struct event_builder *b, const char *key, long long value)
{
	key_of(b, key);
	check(b, yajl_gen_integer(b->gen, value));
}

/* yajl_gen_integer takes a long long: the digits go in as a number literal. */
void event_builder_uint(struct event_builder *b, const char *key, unsigned long long value)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%llu", value);

	key_of(b, key);
	check(b, yajl_gen_number(b->gen, num, (size_t)n));
}

void event_builder_bool(struct event_builder *b, const char *key, bool value)
{
	key_of(b, key);
	check(b, yajl_gen_bool(b->gen, value));
}

void event_builder_null(struct event_builder *b, const char *key)
{
	key_of(b, key);
	check(b, yajl_gen_null(b->gen));
}

/* yajl_gen_double prints 17 significant digits; a percentage or a rate needs a fixed few. */
void event_builder_double(struct event_builder *b, const char *key, double value, int decimals)
{
	char num[400]; /* DBL_MAX has 309 digits before the point */
	int n;

	if (!isfinite(value)) {
		event_builder_null(b, key);
		return;
	}
	if (decimals < 0)
		decimals = 0;
	if (decimals > 17)
		decimals = 17;
	n = snprintf(num, sizeof(num), "%.*f", decimals, value);
	if (decimals > 0) {
		while (n > 0 && num[n - 1] == '0')
			n--;
		if (n > 0 && num[n - 1] == '.')
			n--;
	}
	key_of(b, key);
	check(b, yajl_gen_number(b->gen, num, (size_t)n));
}

/* yajl_gen_number writes its text verbatim, with the separators yajl_gen owes the position. */
void event_builder_raw(struct event_builder *b, const char *key, const char *json, size_t len)
{
	key_of(b, key);
	check(b, yajl_gen_number(b->gen, json, len));
}

void event_builder_open_object(struct event_builder *b, const char *key)
{
	key_of(b, key);
	check(b, yajl_gen_map_open(b->gen));
}

void event_builder_close_object(struct event_builder *b)
{
	check(b, yajl_gen_map_close(b->gen));
}

void event_builder_open_array(struct event_builder *b, const char *key)
{
	key_of(b, key);
	check(b, yajl_gen_array_open(b->gen));
}

void event_builder_close_array(struct event_builder *b)
{
	check(b, yajl_gen_array_close(b->gen));
}

void event_builder_fail(struct event_builder *b)
{
	b->failed = true;
}

int event_builder_finish(struct event_builder *b, struct span *data)
{
	if (!b->closed) {
		b->closed = true;
		check(b, yajl_gen_map_close(b->gen));
	}
	if (b->failed) {
		*data = (struct span){ 0 };
		return -ENOMEM;
	}
	*data = (struct span){ b->out.data, b->out.len };
	return 0;
}

struct event *event_builder_event(struct event_builder *b, const char *type, struct span comm)
{
	struct span data;

	if (event_builder_finish(b, &data) < 0)
		return NULL;
	return event_new(span_str(type), comm, data);
}

void event_builder_emit(struct event_builder *b, struct runner_ctx *ctx, const char *type,
			int32_t pid)
{
	struct event *ev = event_builder_event(b, type, (struct span){ 0 });

	if (!ev) {
		runner_emit_failed(ctx, type);
		return;
	}
	if (pid > 0)
		event_set_pid(ev, pid);
	runner_emit(ctx, ev);
}
