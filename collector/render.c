/* The readable view's table engine: picks the table, prints its header, aligns and fits a row. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <collector/render.h>

#include "render_table.h"
#include "term_escape.h"

struct renderer {
	struct render_opts opts;
	const struct render_column *last; /* the table whose header was printed last */
	void *state;
	struct render_row row;
	struct buffer line;
};

struct renderer *renderer_new(const struct render_opts *opts)
{
	struct renderer *r = calloc(1, sizeof(*r));

	if (!r || !(r->state = render_types_state_new())) {
		free(r);
		return NULL;
	}
	r->opts = *opts;
	return r;
}

void renderer_free(struct renderer *r)
{
	if (!r)
		return;
	render_types_state_free(r->state);
	buffer_free(&r->row.rest);
	buffer_free(&r->line);
	free(r);
}

int render_terminal_width(int fd)
{
	struct winsize ws;
	const char *cols = getenv("COLUMNS");
	long n = cols ? strtol(cols, NULL, 10) : 0;

	if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return n > 0 && n < 100000 ? (int)n : 0;
}

/* Display columns of UTF-8 text: one per character (continuation bytes do not count). */
static int columns_of(const char *s, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* Append @p s padded (or cut) to @p width columns; width 0: as it is. */
static void put_cell(struct buffer *b, const char *s, int width, bool right)
{
	size_t len = strlen(s);
	int cols = columns_of(s, len), pad = width > cols ? width - cols : 0;

	if (width > 0 && cols > width) {
		/* Cut on a character boundary; the last column shows the cut. */
		size_t i = 0;

		for (int c = 0; i < len && c < width - 1; c++)
			for (i++; i < len && ((unsigned char)s[i] & 0xc0) == 0x80; i++)
				;
		buffer_append(b, s, i);
		buffer_append(b, "~", 1);
		return;
	}
	for (int i = 0; right && i < pad; i++)
		buffer_append(b, " ", 1);
	buffer_append(b, s, len);
	for (int i = 0; !right && i < pad; i++)
		buffer_append(b, " ", 1);
}

/* Cut @p b (one line, no newline yet) to @p width columns, marking the cut with '~'. */
static void fit(struct buffer *b, size_t from, int width)
{
	int c = 0;

	if (width <= 0 || columns_of(b->data + from, b->len - from) <= width)
		return;
	for (size_t i = from; i < b->len; i++) {
		if (((unsigned char)b->data[i] & 0xc0) != 0x80 && ++c == width) {
			b->len = i;
			buffer_append(b, "~", 1);
			return;
		}
	}
}

static const char *tone_color(enum render_tone t)
{
	static const char *const colors[] = { "", "\033[32m", "\033[1;31m", "\033[2m" };

	return colors[t];
}

/* The columns of @p k in one line: the header, or the row. */
static void put_line(struct renderer *r, const struct render_kind *k, bool header)
{
	const struct render_column *col = k->columns;
	size_t start = r->line.len;
	bool color = r->opts.color && (header || r->row.tone != TONE_PLAIN);

	if (color)
		buffer_append(&r->line, header ? "\033[1m" : tone_color(r->row.tone),
			      strlen(header ? "\033[1m" : tone_color(r->row.tone)));
	for (int i = 0; col[i].title; i++) {
		bool last = !col[i + 1].title;

		if (header)
			put_cell(&r->line, col[i].title, last ? 0 : col[i].width, col[i].right);
		else if (last && r->row.rest.len)
			buffer_append(&r->line, r->row.rest.data, r->row.rest.len);
		else if (!last)
			put_cell(&r->line, r->row.cell[i], col[i].width, col[i].right);
		if (!last)
			buffer_append(&r->line, " ", 1);
	}
	while (r->line.len > start && r->line.data[r->line.len - 1] == ' ')
		r->line.len--;
	fit(&r->line, start, r->opts.width);
	if (color)
		buffer_append(&r->line, "\033[0m", 4);
	buffer_append(&r->line, "\n", 1);
}

static const struct render_kind *kind_of(const char *type)
{
	const struct render_kind *k = render_kinds;

	while (fnmatch(k->glob, type, 0) != 0)
		k++;
	return k;
}

int renderer_row(struct renderer *r, struct event_view *v, struct buffer *out)
{
	const struct render_kind *k = kind_of(v->type);
	int headers = 0;

	if (!r->opts.forks && strcmp(v->type, "process.fork") == 0)
		return -1;
	/* Names, lines and arguments come from anyone: shown, never obeyed. */
	term_escape_tree(v->root);
	v->type = event_view_str(v, "type", 0);
	memset(r->row.cell, 0, sizeof(r->row.cell));
	r->row.rest.len = 0;
	r->row.tone = TONE_PLAIN;
	r->line.len = 0;
	k->fill(v, &r->row, r->state);
	/* The rest may hold a newline of a nested value's text: never a second line. */
	for (size_t i = 0; i < r->row.rest.len; i++)
		if (r->row.rest.data[i] == '\n' || r->row.rest.data[i] == '\r')
			r->row.rest.data[i] = ' ';
	if (k->columns != r->last) {
		put_line(r, k, true);
		r->last = k->columns;
		headers = 1;
	}
	put_line(r, k, false);
	if (buffer_append(out, r->line.data, r->line.len) < 0)
		return -ENOMEM;
	return headers;
}
