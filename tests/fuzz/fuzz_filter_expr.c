/* Fuzz target: --where expressions and the readable view, over an expression line and an event line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <collector/event_view.h>
#include <collector/render.h>

#include "filter_expr.h"

/* An expression and its negation never both match: `not (E)` is the complement of E. */
static void check_complement(const char *expr, const struct filter_expr *f,
			     const struct event_view *v)
{
	size_t n = strlen(expr);
	char *neg = malloc(n + 8);
	struct filter_expr *g;

	if (!neg)
		return;
	snprintf(neg, n + 8, "not (%s)", expr);
	g = filter_expr_parse(neg, NULL);
	if (g && filter_expr_match(f, v) == filter_expr_match(g, v))
		abort();
	filter_expr_free(g);
	free(neg);
}

/* A row of the view is one line without control characters: an event cannot steer a terminal. */
static void check_render(struct event_view *v)
{
	struct render_opts o = { .width = 80 };
	struct renderer *r = renderer_new(&o);
	struct buffer out = { 0 };

	if (r && renderer_row(r, v, &out) >= 0) {
		if (!out.len || out.data[out.len - 1] != '\n')
			abort();
		for (size_t i = 0; i < out.len; i++)
			if ((unsigned char)out.data[i] < 0x20 && out.data[i] != '\n')
				abort();
	}
	buffer_free(&out);
	renderer_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t elen = nl ? (size_t)(nl - data) : size;
	char *expr = strndup((const char *)data, elen);
	struct error err = { 0 };
	struct event_view v = { 0 };
	struct filter_expr *f;

	if (!expr)
		return 0;
	f = filter_expr_parse(expr, &err);
	if (!f && strlen(expr) == elen && !strstr(err.msg, "column "))
		abort(); /* every parse error says where */
	if (nl && event_view_parse(&v, (const char *)nl + 1, size - elen - 1, NULL) == 0) {
		if (f)
			check_complement(expr, f, &v);
		check_render(&v);
	}
	event_view_free(&v);
	filter_expr_free(f);
	free(expr);
	return 0;
}
