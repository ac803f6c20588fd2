/* Escapes control characters in parsed JSON before a CLI prints it on a terminal. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "term_escape.h"

/* Bytes of the control character at @p p (0: none): C0, DEL, or C1 in UTF-8 (C2 80..9F). */
static size_t control_at(const unsigned char *p)
{
	if (*p < 0x20 || *p == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return 0;
}

/* @return @p s escaped (malloc'd), or NULL when it needs nothing or memory ran out. */
static char *escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 0, n;
	bool found = false;
	char *out, *o;

	for (; *p; p += n ? n : 1) {
		n = control_at(p);
		found |= n > 0;
		len += n == 1 ? 4 : n == 2 ? 6 : 1;
	}
	if (!found || !(out = malloc(len + 1)))
		return NULL;
	o = out;
	for (p = (const unsigned char *)s; *p; p += n ? n : 1) {
		n = control_at(p);
		if (n == 1)
			o += sprintf(o, "\\x%02x", *p);
		else if (n == 2)
			o += sprintf(o, "\\u%04x", p[1]);
		else
			*o++ = (char)*p;
	}
	*o = '\0';
	return out;
}

void term_blank_controls(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++) {
		size_t n = control_at(p);

		if (n)
			memset(p, '?', n);
		if (n == 2)
			p++;
	}
}

/* @p *s escaped in place; yajl_tree_free() releases strings and keys with free(). */
static void escape_string(char **s)
{
	char *e = escape(*s);

	if (e) {
		free(*s);
		*s = e;
	} else {
		term_blank_controls(*s);
	}
}

void term_escape_tree(yajl_val v)
{
	if (YAJL_IS_STRING(v)) {
		escape_string(&v->u.string);
	} else if (YAJL_IS_OBJECT(v)) {
		/* Member names are the sender's too. */
		for (size_t i = 0; i < v->u.object.len; i++) {
			escape_string((char **)&v->u.object.keys[i]);
			term_escape_tree(v->u.object.values[i]);
		}
	} else if (YAJL_IS_ARRAY(v)) {
		for (size_t i = 0; i < v->u.array.len; i++)
			term_escape_tree(v->u.array.values[i]);
	}
}
