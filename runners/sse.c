/* Server-sent events: the line and field rules of the HTML standard's event-stream format. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

void sse_parser_init(struct sse_parser *p, size_t max_data, sse_message_fn on_message, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->max_data = max_data;
	p->retry_ms = -1;
	p->on_message = on_message;
	p->arg = arg;
}

void sse_parser_free(struct sse_parser *p)
{
	buffer_free(&p->line);
	buffer_free(&p->data);
	buffer_free(&p->event);
	buffer_free(&p->id);
}

static int set_text(struct buffer *b, const char *s, size_t n)
{
	b->len = 0;
	if (buffer_append(b, s, n) < 0 || buffer_append(b, "", 1) < 0)
		return -ENOMEM;
	return 0;
}

static int dispatch(struct sse_parser *p)
{
	struct sse_message m = { .retry_ms = p->retry_ms };

	/* An event without data is not dispatched; its type and retry reset all the same. */
	if (p->data.len > 0 || p->data_truncated) {
		/* The last data line's \n is not part of the data. */
		if (p->data.len > 0 && p->data.data[p->data.len - 1] == '\n')
			p->data.len--;
		if (buffer_append(&p->data, "", 1) < 0)
			return -ENOMEM;
		m.data = p->data.data;
		m.data_len = p->data.len - 1;
		m.data_truncated = p->data_truncated;
		m.event = p->event.len > 1 ? p->event.data : "message";
		m.id = p->has_id ? p->id.data : NULL;
		p->on_message(p->arg, &m);
	}
	p->data.len = 0;
	p->event.len = 0;
	p->data_truncated = false;
	p->retry_ms = -1;
	return 0;
}

static int add_data(struct sse_parser *p, const char *v, size_t n)
{
	size_t room = p->max_data > p->data.len ? p->max_data - p->data.len : 0;

	if (n + 1 > room) {
		p->data_truncated = true;
		n = room;
		return buffer_append(&p->data, v, n);
	}
	if (buffer_append(&p->data, v, n) < 0 || buffer_append(&p->data, "\n", 1) < 0)
		return -ENOMEM;
	return 0;
}

/* A retry value of ASCII digits only; the line is not NUL-terminated, so copy it first. */
static void retry(struct sse_parser *p, const char *value, size_t len)
{
	char digits[18];

	if (len == 0 || len >= sizeof(digits))
		return;
	memcpy(digits, value, len);
	digits[len] = '\0';
	if (strspn(digits, "0123456789") == len)
		p->retry_ms = strtoll(digits, NULL, 10);
}

static int field(struct sse_parser *p, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	size_t name_len = colon ? (size_t)(colon - line) : len;
	const char *value = colon ? colon + 1 : line + len;
	size_t value_len = len - (size_t)(value - line);

	if (value_len > 0 && value[0] == ' ') {
		value++;
		value_len--;
	}
	if (name_len == 4 && memcmp(line, "data", 4) == 0)
		return add_data(p, value, value_len);
	if (name_len == 5 && memcmp(line, "event", 5) == 0)
		return set_text(&p->event, value, value_len);
	if (name_len == 2 && memcmp(line, "id", 2) == 0 && !memchr(value, '\0', value_len)) {
		p->has_id = true;
		return set_text(&p->id, value, value_len);
	}
	if (name_len == 5 && memcmp(line, "retry", 5) == 0)
		retry(p, value, value_len);
	return 0;
}

static int end_line(struct sse_parser *p)
{
	int rc = 0;

	if (p->line.len == 0 && !p->line_too_long)
		rc = dispatch(p);
	else if (p->line.len > 0 && p->line.data[0] != ':')
		rc = field(p, p->line.data, p->line.len);
	p->line.len = 0;
	p->line_too_long = false;
	return rc;
}

int sse_parser_feed(struct sse_parser *p, const char *bytes, size_t len)
{
	size_t i = 0;

	while (i < len) {
		char c = bytes[i];

		if (p->after_cr && c == '\n') {
			p->after_cr = false;
			i++;
			continue;
		}
		p->after_cr = false;
		if (c == '\r' || c == '\n') {
			p->after_cr = c == '\r';
			if (end_line(p) < 0)
				return -ENOMEM;
			i++;
			continue;
		}
		/* A run of ordinary bytes up to the next line end. */
		size_t j = i;

		while (j < len && bytes[j] != '\r' && bytes[j] != '\n')
			j++;
		if (p->line.len + (j - i) > p->max_data + 16) {
			size_t room = p->max_data + 16 - p->line.len;

			p->line_too_long = true;
			p->data_truncated = true;
			if (buffer_append(&p->line, bytes + i, room < j - i ? room : j - i) < 0)
				return -ENOMEM;
		} else if (buffer_append(&p->line, bytes + i, j - i) < 0) {
			return -ENOMEM;
		}
		i = j;
	}
	return 0;
}
