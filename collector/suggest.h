/* "Did you mean": the known name nearest a mistyped one, by edit distance. */
#ifndef COLLECTOR_SUGGEST_H
#define COLLECTOR_SUGGEST_H

#include <stddef.h>

/* The best candidate offered so far for @word. */
struct suggestion {
	const char *word;
	const char *best; /* NULL until a candidate is close enough */
	size_t distance;
};

void suggest_begin(struct suggestion *s, const char *word);

/* Consider @candidate (kept by pointer: it must outlive @s). */
void suggest_offer(struct suggestion *s, const char *candidate);

/*
 * " (did you mean 'PREFIXNAME'?)" for the nearest candidate within a third of the
 * word's length (at least 1, at most 3 edits), or "" when none is that close.
 */
const char *suggest_text(const struct suggestion *s, const char *prefix, char *out, size_t size);

/* suggest_text() for the registered runner type nearest @word. */
const char *suggest_runner_type(const char *word, char *out, size_t size);

/* suggest_text() for the registered sink type nearest @word. */
const char *suggest_sink_type(const char *word, char *out, size_t size);

#endif
