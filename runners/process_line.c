/* Decodes a process-loader line with yajl callbacks, generating the event's data as it parses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "process_line.h"

enum field {
	FIELD_NONE,
	FIELD_TYPE,
	FIELD_TS_NS,
	FIELD_PID,
	FIELD_TID,
	FIELD_PPID,
	FIELD_COMM,
};

enum member {
	MEMBER_OTHER,
	MEMBER_FILENAME,
	MEMBER_ARGV,
	MEMBER_COUNT,
	MEMBER_THREAD,
};

static void print_to_buffer(void *ctx, const char *s, size_t len)
{
	buffer_append(ctx, s, len);
}

static bool key_is(const unsigned char *key, size_t len, const char *name)
{
	return len == strlen(name) && memcmp(key, name, len) == 0;
}

static enum field envelope_field(const unsigned char *key, size_t len)
{
	static const char *const names[] = {
		[FIELD_TYPE] = "type", [FIELD_TS_NS] = "ts_ns", [FIELD_PID] = "pid",
		[FIELD_TID] = "tid",   [FIELD_PPID] = "ppid",	[FIELD_COMM] = "comm"
	};

	for (int f = FIELD_TYPE; f <= FIELD_COMM; f++)
		if (key_is(key, len, names[f]))
			return (enum field)f;
	return FIELD_NONE;
}

static void copy_str(char *dst, size_t size, const unsigned char *s, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* An integer's text to its value; 0 for anything else (a fraction, an exponent). */
static long long integer_of(const char *s, size_t len)
{
	char buf[32], *end;
	long long v;

	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtoll(buf, &end, 10);
	return errno || *end ? 0 : v;
}

/* A top-level "filename" or "argv" value ended: remember where its value is. */
static void end_member(struct process_line_decoder *d)
{
	struct process_line *l = &d->line;
	size_t at = d->member_at, len = l->data.len - d->member_at;
	/* The generator wrote the separator, the key as it was and a colon before the value. */
	size_t skip = (len && l->data.data[at] == ',') +
		      strlen(d->member == MEMBER_FILENAME ? "\"filename\":" : "\"argv\":");

	if (skip > len)
		return;
	at += skip;
	len -= skip;
	if (d->member == MEMBER_FILENAME) {
		l->filename_at = at;
		l->filename_len = len;
	} else if (d->member == MEMBER_ARGV) {
		l->argv_at = at;
		l->argv_len = len;
	}
	d->member = MEMBER_OTHER;
}

/*
 * A scalar value at the current place. @return true when it fills the
 * envelope (or is skipped with it) and must not be generated.
 */
static bool take_scalar(struct process_line_decoder *d)
{
	if (d->skip_depth)
		return true;
	if (d->depth != 1)
		return false;
	if (d->field) {
		d->field = FIELD_NONE;
		return true;
	}
	return false;
}

static void after_value(struct process_line_decoder *d)
{
	if (d->depth == 1 && d->member)
		end_member(d);
}

static int on_null(void *ctx)
{
	struct process_line_decoder *d = ctx;

	if (!take_scalar(d)) {
		yajl_gen_null(d->gen);
		after_value(d);
	}
	return 1;
}

static int on_boolean(void *ctx, int value)
{
	struct process_line_decoder *d = ctx;

	if (take_scalar(d))
		return 1;
	if (d->depth == 1 && d->member == MEMBER_THREAD)
		d->line.thread = value != 0;
	yajl_gen_bool(d->gen, value);
	after_value(d);
	return 1;
}

static int on_number(void *ctx, const char *s, size_t len)
{
	struct process_line_decoder *d = ctx;
	struct process_line *l = &d->line;
	int field = d->depth == 1 && !d->skip_depth ? d->field : FIELD_NONE;

	if (take_scalar(d)) {
		if (field == FIELD_TS_NS)
			l->ts_ns = integer_of(s, len);
		else if (field == FIELD_PID)
			l->pid = integer_of(s, len);
		else if (field == FIELD_TID)
			l->tid = integer_of(s, len);
		else if (field == FIELD_PPID)
			l->ppid = integer_of(s, len);
		return 1;
	}
	if (d->depth == 1 && d->member == MEMBER_COUNT)
		l->count = integer_of(s, len);
	/* The number's own text: no round trip through double. */
	yajl_gen_number(d->gen, s, len);
	after_value(d);
	return 1;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct process_line_decoder *d = ctx;
	struct process_line *l = &d->line;
	int field = d->depth == 1 && !d->skip_depth ? d->field : FIELD_NONE;

	if (take_scalar(d)) {
		if (field == FIELD_TYPE) {
			copy_str(l->type, sizeof(l->type), s, len);
		} else if (field == FIELD_COMM) {
			copy_str(l->comm, sizeof(l->comm), s, len);
			l->has_comm = true;
		}
		return 1;
	}
	yajl_gen_string(d->gen, s, len);
	after_value(d);
	return 1;
}

static int on_start_map(void *ctx)
{
	struct process_line_decoder *d = ctx;

	if (d->depth++ == 0) {
		d->object = true;
		yajl_gen_map_open(d->gen);
		return 1;
	}
	if (!d->skip_depth && d->field) {
		d->skip_depth = d->depth;
		d->field = FIELD_NONE;
	}
	if (!d->skip_depth)
		yajl_gen_map_open(d->gen);
	return 1;
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
	struct process_line_decoder *d = ctx;

	if (d->skip_depth)
		return 1;
	if (d->depth == 1) {
		d->field = envelope_field(key, len);
		if (d->field == FIELD_PID)
			d->line.has_pid = true;
		if (d->field)
			return 1;
		if (key_is(key, len, "filename"))
			d->member = MEMBER_FILENAME;
		else if (key_is(key, len, "argv"))
			d->member = MEMBER_ARGV;
		else if (key_is(key, len, "count"))
			d->member = MEMBER_COUNT;
		else if (key_is(key, len, "thread"))
			d->member = MEMBER_THREAD;
		else
			d->member = MEMBER_OTHER;
		d->member_at = d->line.data.len;
	}
	yajl_gen_string(d->gen, key, len);
	return 1;
}

static int on_end_container(struct process_line_decoder *d, bool map)
{
	int depth = d->depth--;

	if (d->skip_depth) {
		if (depth == d->skip_depth)
			d->skip_depth = 0;
		return 1;
	}
	/* The data object stays open: process_line_add_raw() may add to it. */
	if (map && depth > 1)
		yajl_gen_map_close(d->gen);
	else if (!map)
		yajl_gen_array_close(d->gen);
	after_value(d);
	return 1;
}

static int on_end_map(void *ctx)
{
	return on_end_container(ctx, true);
}

static int on_start_array(void *ctx)
{
	struct process_line_decoder *d = ctx;

	/* A top-level array is not an object: generate nothing, the line is refused. */
	if (d->depth++ == 0)
		return 1;
	if (!d->skip_depth && d->field) {
		d->skip_depth = d->depth;
		d->field = FIELD_NONE;
	}
	if (!d->skip_depth)
		yajl_gen_array_open(d->gen);
	return 1;
}

static int on_end_array(void *ctx)
{
	return on_end_container(ctx, false);
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end_map,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end_array,
};

int process_line_decoder_init(struct process_line_decoder *d)
{
	memset(d, 0, sizeof(*d));
	d->gen = yajl_gen_alloc(NULL);
	if (!d->gen)
		return -ENOMEM;
	yajl_gen_config(d->gen, yajl_gen_print_callback, print_to_buffer, &d->line.data);
	return 0;
}

void process_line_decoder_free(struct process_line_decoder *d)
{
	if (d->gen)
		yajl_gen_free(d->gen);
	buffer_free(&d->line.data);
	memset(d, 0, sizeof(*d));
}

static void reset(struct process_line_decoder *d)
{
	struct buffer data = d->line.data;

	data.len = 0;
	memset(&d->line, 0, sizeof(d->line));
	d->line.data = data;
	d->depth = 0;
	d->field = FIELD_NONE;
	d->skip_depth = 0;
	d->member = MEMBER_OTHER;
	d->object = false;
	yajl_gen_reset(d->gen, NULL);
}

int process_line_decode(struct process_line_decoder *d, const char *text, size_t len, char *why,
			size_t why_size)
{
	yajl_handle h = yajl_alloc(&callbacks, NULL, d);
	yajl_status st;
	int rc = 0;

	if (!h)
		return -ENOMEM;
	reset(d);
	st = yajl_parse(h, (const unsigned char *)text, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	if (st != yajl_status_ok) {
		unsigned char *msg = yajl_get_error(h, 0, NULL, 0);

		snprintf(why, why_size, "%s", msg ? (const char *)msg : "invalid JSON");
		yajl_free_error(h, msg);
		rc = -EBADMSG;
	} else if (!d->object) {
		snprintf(why, why_size, "not a JSON object");
		rc = -EBADMSG;
	} else if (!d->line.data.data) {
		rc = -ENOMEM;
	}
	yajl_free(h);
	return rc;
}

void process_line_add_raw(struct process_line_decoder *d, const char *key, const char *json,
			  size_t len)
{
	yajl_gen_string(d->gen, (const unsigned char *)key, strlen(key));
	/* yajl_gen_number writes the text as it is, after the separator it owes. */
	yajl_gen_number(d->gen, json, len);
}

int process_line_close(struct process_line_decoder *d)
{
	yajl_gen_map_close(d->gen);
	return d->line.data.data ? 0 : -ENOMEM;
}
