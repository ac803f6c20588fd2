/* "Did you mean": the known name nearest a mistyped one, by edit distance. */
#include <stdio.h>
#include <string.h>

#include <collector/registry.h>

#include "suggest.h"

/* Longest name compared; longer words get no suggestion. */
#define SUGGEST_MAX 64

/* Optimal string alignment distance: insertions, deletions, substitutions, swaps. */
static size_t distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	size_t d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];

	if (n > SUGGEST_MAX || m > SUGGEST_MAX)
		return (size_t)-1;
	for (size_t i = 0; i <= n; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
			size_t best = sub < del ? sub : del;

			best = best < ins ? best : ins;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[n][m];
}

void suggest_begin(struct suggestion *s, const char *word)
{
	size_t len = strlen(word);
	size_t most = len / 3;

	s->word = word;
	s->best = NULL;
	/* One more than the farthest accepted: a third of the word, 1 to 3 edits. */
	s->distance = (most < 1 ? 1 : most > 3 ? 3 : most) + 1;
}

void suggest_offer(struct suggestion *s, const char *candidate)
{
	size_t len = strlen(s->word);
	/* A word that begins a name ("proc") is one step from it. */
	size_t d = len >= 3 && strlen(candidate) > len && strncmp(candidate, s->word, len) == 0 ?
			   1 :
			   distance(s->word, candidate);

	if (d > 0 && d < s->distance) {
		s->best = candidate;
		s->distance = d;
	}
}

const char *suggest_text(const struct suggestion *s, const char *prefix, char *out, size_t size)
{
	if (!s->best)
		return "";
	snprintf(out, size, " (did you mean '%s%s'?)", prefix, s->best);
	return out;
}

const char *suggest_runner_type(const char *word, char *out, size_t size)
{
	struct suggestion sg;
	const struct runner_ops *r;

	suggest_begin(&sg, word);
	for (int i = 0; (r = registry_runner_at(i)); i++)
		suggest_offer(&sg, r->name);
	return suggest_text(&sg, "", out, size);
}

const char *suggest_sink_type(const char *word, char *out, size_t size)
{
	struct suggestion sg;
	const struct sink_ops *s;

	suggest_begin(&sg, word);
	for (int i = 0; (s = registry_sink_at(i)); i++)
		suggest_offer(&sg, s->name);
	return suggest_text(&sg, "", out, size);
}
