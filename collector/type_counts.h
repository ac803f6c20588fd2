/* Events counted per type, for the summary at the end of a run. */
#ifndef COLLECTOR_TYPE_COUNTS_H
#define COLLECTOR_TYPE_COUNTS_H

#include <stdint.h>

#include <collector/span.h>

/* Distinct types counted one by one; more are counted together as "(other types)". */
#define TYPE_COUNTS_MAX 256

struct type_counts;

/* @return an empty table, or NULL when out of memory. */
struct type_counts *type_counts_new(void);

/* Free @p t; NULL is ignored. */
void type_counts_free(struct type_counts *t);

/* Count one event of @p type. */
void type_counts_add(struct type_counts *t, struct span type);

/* The @p i-th type in first-seen order with its count; NULL past the last. */
const char *type_counts_at(const struct type_counts *t, int i, uint64_t *count);

#endif
