/*
 * JSON line to event with yajl's streaming parser. Members are kept as the
 * exact bytes of the line: yajl_get_bytes_consumed() inside a callback is the
 * end of the token just parsed, which gives every top-level member's span
 * without re-encoding it.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include <collector/buffer.h>
#include <collector/json_decoder.h>

#include "event_pool.h"

/* Free event blocks a decoder keeps: the default queue's bytes (4 MiB). */
#define POOL_MAX_BYTES ((size_t)4 << 20)

enum envelope_key { KEY_OTHER, KEY_TYPE, KEY_PID, KEY_TID, KEY_PPID, KEY_COMM, KEY_DATA };

struct json_decoder {
	yajl_handle h;
	char *default_type;
	/* per line */
	const char *line;
	int depth;
	int values;
	const char *fail; /* reason a callback cancelled the parse */
	size_t prev_end;  /* end of the last top-level token */
	size_t value_end; /* end of the top-level object */
	size_t member_start;
	size_t key_end;
	enum envelope_key key;
	bool taken; /* the member went into the envelope */
	/* results */
	char type[EVENT_TYPE_MAX];
	size_t type_len;
	char comm[EVENT_COMM_MAX];
	size_t comm_len;
	int32_t ids[3]; /* pid, tid, ppid */
	uint32_t flags;
	int kept; /* members kept for data */
	bool kept_only_data;
	struct span data_value;
	struct span first;     /* the first member kept, copied only when others follow */
	struct buffer members; /* "{" and the members kept, from the second one on */
	struct event_pool *pool;
	struct buffer fixed; /* the line with lone surrogates replaced */
	bool repaired;	     /* the last line needed it */
	bool utf8_checked;   /* lines come checked (a line framer's): yajl need not */
};

/* Index of the first byte in s[i, end) that is neither JSON whitespace nor @p sep. */
static size_t skip(const char *s, size_t i, size_t end, char sep)
{
	while (i < end &&
	       (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n' || s[i] == sep))
		i++;
	return i;
}

static size_t offset(struct json_decoder *d)
{
	return yajl_get_bytes_consumed(d->h);
}

static int cancel(struct json_decoder *d, const char *why)
{
	d->fail = why;
	return 0;
}

/* A top-level member's value ended at @p end: keep it unless it was envelope. */
static int end_member(struct json_decoder *d, size_t end)
{
	struct span m = { d->line + d->member_start, end - d->member_start };

	d->prev_end = end;
	if (d->taken)
		return 1;
	/* The usual line keeps one member, "data": its bytes are used in place. */
	if (d->kept++ == 0) {
		size_t vstart = skip(d->line, d->key_end, end, ':');

		d->first = m;
		d->kept_only_data = d->key == KEY_DATA;
		d->data_value = (struct span){ d->line + vstart, end - vstart };
		return 1;
	}
	d->kept_only_data = false;
	if (d->kept == 2 && (buffer_append(&d->members, "{", 1) < 0 ||
			     buffer_append(&d->members, d->first.ptr, d->first.len) < 0))
		return cancel(d, "out of memory");
	if (buffer_append(&d->members, ",", 1) < 0 || buffer_append(&d->members, m.ptr, m.len) < 0)
		return cancel(d, "out of memory");
	return 1;
}

static int scalar(struct json_decoder *d)
{
	if (d->depth == 0)
		return cancel(d, "top-level value is not an object");
	if (d->depth == 1)
		return end_member(d, offset(d));
	return 1;
}

static int on_null(void *ctx)
{
	return scalar(ctx);
}

static int on_boolean(void *ctx, int v)
{
	(void)v;
	return scalar(ctx);
}

static int on_number(void *ctx, const char *s, size_t len)
{
	struct json_decoder *d = ctx;
	int slot = d->key - KEY_PID;

	if (d->depth == 1 && slot >= 0 && slot <= 2 && len < 12) {
		char num[12];
		char *end;
		long v;

		memcpy(num, s, len);
		num[len] = '\0';
		v = strtol(num, &end, 10);
		if (*end == '\0' && v >= 0 && v <= INT32_MAX) {
			d->ids[slot] = (int32_t)v;
			d->flags |= 1u << slot; /* EVENT_HAS_PID, _TID, _PPID */
			d->taken = true;
		}
	}
	return scalar(d);
}

static bool valid_name(const unsigned char *s, size_t len, size_t max)
{
	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	struct json_decoder *d = ctx;

	if (d->depth == 1 && d->key == KEY_TYPE) {
		if (!valid_name(s, len, EVENT_TYPE_MAX))
			return cancel(d, "\"type\" must be 1 to 128 printable characters");
		memcpy(d->type, s, len);
		d->type_len = len;
		d->taken = true;
	} else if (d->depth == 1 && d->key == KEY_COMM && valid_name(s, len, EVENT_COMM_MAX)) {
		memcpy(d->comm, s, len);
		d->comm_len = len;
		d->taken = true;
	}
	return scalar(d);
}

/* Every top-level key comes through here: the length picks the one candidate to compare. */
static enum envelope_key classify(const unsigned char *k, size_t len)
{
	switch (len) {
	case 3:
		return memcmp(k, "pid", 3) == 0 ? KEY_PID :
		       memcmp(k, "tid", 3) == 0 ? KEY_TID :
						  KEY_OTHER;
	case 4:
		return memcmp(k, "type", 4) == 0 ? KEY_TYPE :
		       memcmp(k, "ppid", 4) == 0 ? KEY_PPID :
		       memcmp(k, "comm", 4) == 0 ? KEY_COMM :
		       memcmp(k, "data", 4) == 0 ? KEY_DATA :
						   KEY_OTHER;
	default:
		return KEY_OTHER;
	}
}

static int on_map_key(void *ctx, const unsigned char *k, size_t len)
{
	struct json_decoder *d = ctx;

	if (d->depth == 1) {
		d->member_start = skip(d->line, d->prev_end, offset(d), ',');
		d->key_end = offset(d);
		d->key = classify(k, len);
		d->taken = false;
	}
	return 1;
}

static int open_container(struct json_decoder *d, bool is_map)
{
	/* Readers downstream recurse on nesting (Python's json stops near 1000). */
	if (d->depth >= JSON_DECODER_MAX_DEPTH)
		return cancel(d, "invalid JSON: nested deeper than 128 levels");
	if (d->depth == 0) {
		if (!is_map)
			return cancel(d, "top-level value is not an object");
		if (d->values > 0)
			return cancel(d, "more than one JSON value on the line");
		d->prev_end = offset(d);
	}
	d->depth++;
	return 1;
}

static int close_container(struct json_decoder *d)
{
	d->depth--;
	if (d->depth == 1)
		return end_member(d, offset(d));
	if (d->depth == 0) {
		d->values++;
		d->value_end = offset(d);
	}
	return 1;
}

static int on_start_map(void *ctx)
{
	return open_container(ctx, true);
}

static int on_start_array(void *ctx)
{
	return open_container(ctx, false);
}

static int on_end(void *ctx)
{
	return close_container(ctx);
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end,
};

/* One handle serves every line; only a line that fails leaves it dirty. */
static int reset_handle(struct json_decoder *d)
{
	if (d->h)
		yajl_free(d->h);
	d->h = yajl_alloc(&callbacks, NULL, d);
	if (!d->h)
		return -ENOMEM;
	yajl_config(d->h, yajl_allow_multiple_values, 1);
	/* yajl's check is laxer than utf8_valid() (overlongs, surrogates pass): never needed after it. */
	if (d->utf8_checked)
		yajl_config(d->h, yajl_dont_validate_strings, 1);
	return 0;
}

struct json_decoder *json_decoder_new(const char *default_type)
{
	struct json_decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->default_type = strdup(default_type);
	d->pool = event_pool_new(POOL_MAX_BYTES);
	if (!d->default_type || !d->pool || reset_handle(d) < 0) {
		json_decoder_free(d);
		return NULL;
	}
	return d;
}

int json_decoder_utf8_checked(struct json_decoder *d)
{
	d->utf8_checked = true;
	return reset_handle(d);
}

void json_decoder_free(struct json_decoder *d)
{
	if (!d)
		return;
	if (d->h)
		yajl_free(d->h);
	buffer_free(&d->members);
	buffer_free(&d->fixed);
	event_pool_release(d->pool);
	free(d->default_type);
	free(d);
}

static void begin_line(struct json_decoder *d, const char *line)
{
	d->line = line;
	d->depth = 0;
	d->values = 0;
	d->fail = NULL;
	d->type_len = 0;
	d->comm_len = 0;
	d->flags = 0;
	d->kept = 0;
	d->kept_only_data = false;
	d->members.len = 0;
}

static struct event *fail_line(struct json_decoder *d, const unsigned char *line, size_t len,
			       yajl_status st, struct error *err)
{
	if (d->fail) {
		error_set(err, EBADMSG, "%s", d->fail);
	} else if (st == yajl_status_error) {
		unsigned char *msg = yajl_get_error(d->h, 0, line, len);
		size_t n = strcspn((const char *)msg, "\n");

		error_set(err, EBADMSG, "invalid JSON: %.*s", (int)n, (const char *)msg);
		yajl_free_error(d->h, msg);
	} else if (d->values == 0 && d->depth == 0 &&
		   skip((const char *)line, 0, len, ' ') == len) {
		error_set(err, ENODATA, "empty line");
	} else {
		error_set(err, EBADMSG, "incomplete JSON value");
	}
	if (reset_handle(d) < 0)
		error_set(err, ENOMEM, "out of memory");
	return NULL;
}

/* The value of 4 hex digits at @p p, or -1. */
static long hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)p[i];
		int x = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 :
					       -1;

		if (x < 0)
			return -1;
		v = v * 16 + x;
	}
	return v;
}

static bool high_surrogate(long u)
{
	return u >= 0xD800 && u <= 0xDBFF;
}

static bool low_surrogate(long u)
{
	return u >= 0xDC00 && u <= 0xDFFF;
}

/*
 * Count the \u escapes of lone surrogates in @p s; with @p fix (a copy of
 * @p s) replace each there by \ufffd, which has the same length. Outside a
 * string a backslash is invalid JSON anyway, so escapes are simply scanned.
 */
static size_t lone_surrogates(const char *s, size_t len, char *fix)
{
	static const char replacement[6] = { '\\', 'u', 'f', 'f', 'f', 'd' };
	size_t n = 0;

	for (size_t i = 0; i + 1 < len; i++) {
		long u;

		if (s[i] != '\\')
			continue;
		if (s[i + 1] != 'u' || i + 6 > len) {
			i++;
			continue;
		}
		u = hex4(s + i + 2);
		if (high_surrogate(u) && i + 12 <= len && s[i + 6] == '\\' && s[i + 7] == 'u' &&
		    low_surrogate(hex4(s + i + 8))) {
			i += 11;
			continue;
		}
		if (high_surrogate(u) || low_surrogate(u)) {
			if (fix)
				memcpy(fix + i, replacement, sizeof(replacement));
			n++;
		}
		i += 5;
	}
	return n;
}

/* The line to parse: @p line itself, or a copy with its lone surrogates replaced. */
static const char *repair(struct json_decoder *d, const char *line, size_t len)
{
	/* Most lines have no backslash at all: memchr finds that fastest. */
	const char *bs = memchr(line, '\\', len);
	size_t at = bs ? (size_t)(bs - line) : len;

	d->repaired = bs && lone_surrogates(bs, len - at, NULL);
	if (!d->repaired)
		return line;
	d->fixed.len = 0;
	if (buffer_append(&d->fixed, line, len) < 0)
		return NULL;
	lone_surrogates(bs, len - at, d->fixed.data + at);
	return d->fixed.data;
}

bool json_decoder_repaired(const struct json_decoder *d)
{
	return d->repaired;
}

/* The data object of the members kept: {} for none, else "{" members "}". */
static int members_object(struct json_decoder *d, struct span *data)
{
	if (d->kept == 0) {
		*data = (struct span){ "{}", 2 };
		return 0;
	}
	if (d->kept == 1 && (buffer_append(&d->members, "{", 1) < 0 ||
			     buffer_append(&d->members, d->first.ptr, d->first.len) < 0))
		return -ENOMEM;
	if (buffer_append(&d->members, "}", 1) < 0)
		return -ENOMEM;
	*data = (struct span){ d->members.data, d->members.len };
	return 0;
}

struct event *json_decoder_decode(struct json_decoder *d, const char *line, size_t len,
				  struct error *err)
{
	const unsigned char *text;
	struct span type, comm, data;
	struct event *ev;
	yajl_status st;

	line = repair(d, line, len);
	if (!line)
		goto oom;
	text = (const unsigned char *)line;
	begin_line(d, line);
	st = yajl_parse(d->h, text, len);
	if (st != yajl_status_ok || d->values != 1 || d->depth != 0)
		return fail_line(d, text, len, st, err);
	/* yajl holds back a trailing number for lookahead; refuse any trailing bytes. */
	if (skip(line, d->value_end, len, ' ') != len) {
		d->fail = "trailing data after the JSON object";
		return fail_line(d, text, len, st, err);
	}
	/*
	 * yajl's lexer takes vertical tab and form feed as whitespace; JSON does
	 * not, and kept members would carry them to strict readers downstream.
	 * Inside strings yajl refuses them already, so any left are whitespace.
	 */
	if (memchr(line, '\v', len) || memchr(line, '\f', len)) {
		d->fail = "invalid JSON: vertical tab or form feed outside a string";
		return fail_line(d, text, len, st, err);
	}

	type = d->type_len ? (struct span){ d->type, d->type_len } : span_str(d->default_type);
	comm = (struct span){ d->comm, d->comm_len };
	if (d->kept_only_data)
		data = d->data_value;
	else if (members_object(d, &data) < 0)
		goto oom;
	ev = event_pool_event(d->pool, type, comm, data);
	if (!ev)
		goto oom;
	ev->flags = d->flags;
	ev->pid = d->ids[0];
	ev->tid = d->ids[1];
	ev->ppid = d->ids[2];
	return ev;
oom:
	error_set(err, ENOMEM, "out of memory");
	return NULL;
}
