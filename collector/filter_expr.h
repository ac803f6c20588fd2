/* Field filter expressions (`--where`): parsed once, then evaluated over each event's fields. */
#ifndef COLLECTOR_FILTER_EXPR_H
#define COLLECTOR_FILTER_EXPR_H

#include <stdbool.h>

#include <collector/error.h>
#include <collector/event_view.h>

/* Deepest nesting of parentheses and `not` an expression may have. */
#define FILTER_EXPR_DEPTH 64

struct filter_expr;

/*
 * Parse @p text: comparisons (== != < <= > >=, ~ and !~ for globs, == and
 * != with a '*' in a string also glob), `and`, `or`, `not` (&& || !),
 * parentheses, numbers, "strings" or 'strings', true, false, null and
 * dotted field paths (type, comm, pid, data.status, ...).
 * @return the expression, or NULL with @p err saying at which column what
 *         was expected (EINVAL), or ENOMEM.
 */
struct filter_expr *filter_expr_parse(const char *text, struct error *err);

/*
 * Whether @p v matches. A missing field makes every comparison on it false;
 * an array field matches when one of its elements does.
 */
bool filter_expr_match(const struct filter_expr *f, const struct event_view *v);

/* Free @p f; NULL is ignored. */
void filter_expr_free(struct filter_expr *f);

#endif
