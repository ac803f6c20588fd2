/* Encoding the host's protocol messages and reading members of the child's, with yajl. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include <collector/event_builder.h>

#include "protocol.h"
#include "../json_tree.h"

yajl_val algo_member(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };

	return obj ? yajl_tree_get(obj, path, yajl_t_any) : NULL;
}

struct gen_target {
	struct buffer *out;
	bool failed;
};

static void print_to_buffer(void *ctx, const char *s, size_t len)
{
	struct gen_target *t = ctx;

	if (!t->failed && buffer_append(t->out, s, len) < 0)
		t->failed = true;
}

int algo_json_append(struct buffer *out, yajl_val v)
{
	struct gen_target t = { out, false };
	size_t before = out->len;
	yajl_gen g;

	if (!v)
		return buffer_append(out, "{}", 2);
	g = yajl_gen_alloc(NULL);
	if (!g)
		return -ENOMEM;
	yajl_gen_config(g, yajl_gen_print_callback, print_to_buffer, &t);
	json_tree_gen(g, v);
	yajl_gen_free(g);
	if (t.failed) {
		out->len = before;
		return -ENOMEM;
	}
	return 0;
}

char *algo_json_text(yajl_val v)
{
	struct buffer b = { 0 };
	char *s;

	if (algo_json_append(&b, v) < 0 || buffer_append(&b, "", 1) < 0) {
		buffer_free(&b);
		return NULL;
	}
	s = strdup(b.data);
	buffer_free(&b);
	return s;
}

bool algo_json_nesting_ok(const char *text, size_t len, int max)
{
	bool in_string = false;
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				return false;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return true;
}

size_t algo_utf8_prefix(const char *s, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	/* Back off continuation bytes: the cut then falls before a character's first byte. */
	while (n > 0 && n < len && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* Whether @p text ends inside a string literal. */
static bool ends_in_string(const char *text, size_t len)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		if (in_string && text[i] == '\\')
			i++;
		else if (text[i] == '"')
			in_string = !in_string;
	}
	return in_string;
}

bool algo_json_valid(const char *text, size_t len)
{
	yajl_handle h = yajl_alloc(NULL, NULL, NULL);
	bool ok;

	if (!h)
		return false;
	ok = yajl_parse(h, (const unsigned char *)text, len) == yajl_status_ok &&
	     yajl_complete_parse(h) == yajl_status_ok;
	yajl_free(h);
	/* yajl takes an unterminated string after the value for a token still to come. */
	return ok && !ends_in_string(text, len);
}

/* A host message: built by @p build on a builder, appended to @p out as one line. */
static int message(struct buffer *out, void (*build)(struct event_builder *b, const void *arg),
		   const void *arg)
{
	struct event_builder *b = event_builder_new();
	struct span text;
	int rc = -ENOMEM;

	if (!b)
		return rc;
	event_builder_begin(b);
	build(b, arg);
	if (event_builder_finish(b, &text) == 0 && buffer_reserve(out, text.len + 1) == 0) {
		buffer_append(out, text.ptr, text.len);
		buffer_append(out, "\n", 1);
		rc = 0;
	}
	event_builder_free(b);
	return rc;
}

struct hello {
	const char *host_version;
	const char *config_json;
	int64_t heartbeat_ms;
};

static void build_hello(struct event_builder *b, const void *arg)
{
	const struct hello *h = arg;
	char host[64];

	snprintf(host, sizeof(host), "collector/%s", h->host_version);
	event_builder_str(b, "type", "hello");
	event_builder_int(b, "protocol", ALGO_PROTOCOL_VERSION);
	event_builder_str(b, "host", host);
	event_builder_raw(b, "config", h->config_json, strlen(h->config_json));
	event_builder_int(b, "heartbeat_ms", h->heartbeat_ms);
}

int algo_msg_hello(struct buffer *out, const char *host_version, const char *config_json,
		   int64_t heartbeat_ms)
{
	struct hello h = { host_version, config_json, heartbeat_ms };

	return message(out, build_hello, &h);
}

struct call {
	uint64_t id;
	const char *method;
	const char *params_json;
	const struct algo_call_image *img;
};

static void build_call(struct event_builder *b, const void *arg)
{
	const struct call *c = arg;
	const struct algo_call_image *img = c->img;

	event_builder_str(b, "type", "call");
	event_builder_uint(b, "id", c->id);
	event_builder_str(b, "method", c->method);
	event_builder_raw(b, "params", c->params_json, strlen(c->params_json));
	if (!img)
		return;
	event_builder_str(b, "shared_mem_id", img->shm_name);
	event_builder_uint(b, "offset", img->offset);
	event_builder_uint(b, "size", img->size);
	event_builder_open_object(b, "image_meta");
	event_builder_int(b, "width", img->width);
	event_builder_int(b, "height", img->height);
	event_builder_int(b, "channels", img->channels);
	event_builder_int(b, "stride", img->stride);
	event_builder_str(b, "format", img->format);
	event_builder_close_object(b);
}

int algo_msg_call(struct buffer *out, uint64_t id, const char *method, const char *params_json,
		  const struct algo_call_image *img)
{
	struct call c = { id, method, params_json, img };

	return message(out, build_call, &c);
}

static void build_ping(struct event_builder *b, const void *arg)
{
	event_builder_str(b, "type", "ping");
	event_builder_uint(b, "seq", *(const uint64_t *)arg);
}

int algo_msg_ping(struct buffer *out, uint64_t seq)
{
	return message(out, build_ping, &seq);
}

static void build_shutdown(struct event_builder *b, const void *arg)
{
	(void)arg;
	event_builder_str(b, "type", "shutdown");
}

int algo_msg_shutdown(struct buffer *out)
{
	return message(out, build_shutdown, NULL);
}
