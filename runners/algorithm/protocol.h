/* The algorithm child protocol (docs/protocol.md): reading members, writing host messages. */
#ifndef COLLECTOR_ALGORITHM_PROTOCOL_H
#define COLLECTOR_ALGORITHM_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include <collector/buffer.h>

#define ALGO_PROTOCOL_VERSION 1
/* Deepest nesting of arrays and objects in a child's message: yajl_gen stops at 128. */
#define ALGO_MAX_NESTING 64

/* The member @p key of an object, or NULL. */
yajl_val algo_member(yajl_val obj, const char *key);

/* A JSON value as malloc'd compact text ("{}" for NULL), or NULL when out of memory. */
char *algo_json_text(yajl_val v);

/* Append a JSON value's compact text to @p out; returns 0 or -ENOMEM. */
int algo_json_append(struct buffer *out, yajl_val v);

/* Whether @p text nests arrays and objects at most @p max deep (strings are skipped). */
bool algo_json_nesting_ok(const char *text, size_t len, int max);

/* The longest prefix of the UTF-8 text @p s (@p len bytes) that is at most @p max and cuts no character. */
size_t algo_utf8_prefix(const char *s, size_t len, size_t max);

/* Whether @p text is exactly one valid JSON value. */
bool algo_json_valid(const char *text, size_t len);

/* Image placement of a call, when it has one. */
struct algo_call_image {
	const char *shm_name;
	uint64_t offset;
	uint64_t size;
	int width, height, channels, stride;
	const char *format;
};

/* The host's messages, each one line ending in '\n', appended to @p out. */
int algo_msg_hello(struct buffer *out, const char *host_version, const char *config_json,
		   int64_t heartbeat_ms);
int algo_msg_call(struct buffer *out, uint64_t id, const char *method, const char *params_json,
		  const struct algo_call_image *img);
int algo_msg_ping(struct buffer *out, uint64_t seq);
int algo_msg_shutdown(struct buffer *out);

#endif
