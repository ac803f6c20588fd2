/* Counts events per type in an open-addressing table (types are few: a run has tens). */
#include <stdlib.h>
#include <string.h>

#include "type_counts.h"

#define SLOTS 512 /* a power of two, twice TYPE_COUNTS_MAX: probes stay short */

struct type_counts {
	int index[SLOTS]; /* 1 + position in names/counts, 0: free */
	char *names[TYPE_COUNTS_MAX];
	uint64_t counts[TYPE_COUNTS_MAX];
	int n;
	uint64_t other; /* past TYPE_COUNTS_MAX types, or a name that could not be copied */
};

struct type_counts *type_counts_new(void)
{
	return calloc(1, sizeof(struct type_counts));
}

void type_counts_free(struct type_counts *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n; i++)
		free(t->names[i]);
	free(t);
}

static unsigned hash(struct span s)
{
	unsigned h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < s.len; i++)
		h = (h ^ (unsigned char)s.ptr[i]) * 16777619u;
	return h;
}

void type_counts_add(struct type_counts *t, struct span type)
{
	unsigned slot = hash(type) & (SLOTS - 1);

	for (; t->index[slot]; slot = (slot + 1) & (SLOTS - 1)) {
		int i = t->index[slot] - 1;

		if (strlen(t->names[i]) == type.len &&
		    memcmp(t->names[i], type.ptr, type.len) == 0) {
			t->counts[i]++;
			return;
		}
	}
	if (t->n == TYPE_COUNTS_MAX || !(t->names[t->n] = strndup(type.ptr, type.len))) {
		t->other++;
		return;
	}
	t->counts[t->n] = 1;
	t->index[slot] = ++t->n;
}

const char *type_counts_at(const struct type_counts *t, int i, uint64_t *count)
{
	if (i < t->n) {
		*count = t->counts[i];
		return t->names[i];
	}
	*count = t->other;
	return i == t->n && t->other ? "(other types)" : NULL;
}
