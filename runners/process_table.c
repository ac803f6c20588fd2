/* Chained hash of pids with an age list: lookups O(1), eviction oldest-first. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "process_table.h"

struct entry {
	pid_t pid;
	size_t len;
	struct entry *next;  /* same bucket */
	struct entry *older; /* age list */
	struct entry *newer;
	char json[];
};

struct process_table {
	struct entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	size_t capacity;
	uint64_t evicted;
	struct entry *oldest;
	struct entry *newest;
};

struct process_table *process_table_new(size_t capacity)
{
	struct process_table *t = calloc(1, sizeof(*t));
	size_t n = 16;

	if (!t || capacity == 0) {
		free(t);
		return NULL;
	}
	while (n < capacity)
		n *= 2;
	t->buckets = calloc(n, sizeof(struct entry *));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->nbuckets = n;
	t->capacity = capacity;
	return t;
}

static struct entry **slot(const struct process_table *t, pid_t pid)
{
	struct entry **p = &t->buckets[(size_t)pid & (t->nbuckets - 1)];

	while (*p && (*p)->pid != pid)
		p = &(*p)->next;
	return p;
}

static void unlink_age(struct process_table *t, struct entry *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		t->newest = e->older;
}

void process_table_remove(struct process_table *t, pid_t pid)
{
	struct entry **p = slot(t, pid);
	struct entry *e = *p;

	if (!e)
		return;
	*p = e->next;
	unlink_age(t, e);
	t->count--;
	free(e);
}

int process_table_put(struct process_table *t, pid_t pid, const char *json, size_t len)
{
	struct entry *e;

	process_table_remove(t, pid);
	if (t->count == t->capacity) {
		process_table_remove(t, t->oldest->pid);
		t->evicted++;
	}
	e = malloc(sizeof(*e) + len);
	if (!e)
		return -ENOMEM;
	e->pid = pid;
	e->len = len;
	memcpy(e->json, json, len);
	e->next = t->buckets[(size_t)pid & (t->nbuckets - 1)];
	t->buckets[(size_t)pid & (t->nbuckets - 1)] = e;
	e->older = t->newest;
	e->newer = NULL;
	if (t->newest)
		t->newest->newer = e;
	else
		t->oldest = e;
	t->newest = e;
	t->count++;
	return 0;
}

const char *process_table_get(const struct process_table *t, pid_t pid, size_t *len)
{
	struct entry *e = *slot(t, pid);

	if (!e)
		return NULL;
	*len = e->len;
	return e->json;
}

size_t process_table_count(const struct process_table *t)
{
	return t->count;
}

uint64_t process_table_evicted(const struct process_table *t)
{
	return t->evicted;
}

void process_table_free(struct process_table *t)
{
	if (!t)
		return;
	while (t->oldest)
		process_table_remove(t, t->oldest->pid);
	free(t->buckets);
	free(t);
}
