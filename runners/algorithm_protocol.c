/* Encoding the host's protocol messages and reading members of the child's, with yajl. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "algorithm_protocol.h"
#include "json_tree.h"

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

static int appendf(struct buffer *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int appendf(struct buffer *out, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -EOVERFLOW;
	return buffer_append(out, tmp, (size_t)n);
}

int algo_msg_hello(struct buffer *out, const char *host_version, const char *config_json,
		   int64_t heartbeat_ms)
{
	if (appendf(out,
		    "{\"type\":\"hello\",\"protocol\":%d,\"host\":\"collector/%s\",\"config\":",
		    ALGO_PROTOCOL_VERSION, host_version) < 0 ||
	    buffer_append(out, config_json, strlen(config_json)) < 0 ||
	    appendf(out, ",\"heartbeat_ms\":%" PRId64 "}\n", heartbeat_ms) < 0)
		return -ENOMEM;
	return 0;
}

int algo_msg_call(struct buffer *out, uint64_t id, const char *method, const char *params_json,
		  const struct algo_call_image *img)
{
	/* The method is a checked word (letters, digits, _ - .): no escaping needed. */
	if (appendf(out, "{\"type\":\"call\",\"id\":%" PRIu64 ",\"method\":\"%s\",\"params\":", id,
		    method) < 0 ||
	    buffer_append(out, params_json, strlen(params_json)) < 0)
		return -ENOMEM;
	if (img && appendf(out,
			   ",\"shared_mem_id\":\"%s\",\"offset\":%" PRIu64 ",\"size\":%" PRIu64
			   ",\"image_meta\":{\"width\":%d,\"height\":%d,\"channels\":%d,\"stride\":"
			   "%d,"
			   "\"format\":\"%s\"}",
			   img->shm_name, img->offset, img->size, img->width, img->height,
			   img->channels, img->stride, img->format) < 0)
		return -ENOMEM;
	return buffer_append(out, "}\n", 2);
}

int algo_msg_ping(struct buffer *out, uint64_t seq)
{
	return appendf(out, "{\"type\":\"ping\",\"seq\":%" PRIu64 "}\n", seq);
}

int algo_msg_shutdown(struct buffer *out)
{
	return buffer_append(out, "{\"type\":\"shutdown\"}\n", 20);
}
