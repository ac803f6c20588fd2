/* Free lists of event blocks by size class (malloc's 16-byte chunks), bounded in bytes, released last by the last event. */
#include <stdbool.h>
#include <stdlib.h>

#include "event_pool.h"

#define CLASS_STEP 16
#define CLASSES ((EVENT_POOL_BLOCK_MAX + (int)sizeof(size_t)) / CLASS_STEP + 1)

/* A free block's first bytes link it to the next one of its class. */
struct free_block {
	struct free_block *next;
};

struct event_pool {
	struct free_block *free[CLASSES];
	size_t held;	  /* bytes in the free lists */
	size_t max_bytes; /* most bytes the free lists keep */
	size_t live;	  /* events out of this pool not yet released */
	bool released;	  /* the owner let go: free the pool with its last event */
};

struct event_pool *event_pool_new(size_t max_bytes)
{
	struct event_pool *p = calloc(1, sizeof(*p));

	if (p)
		p->max_bytes = max_bytes;
	return p;
}

static void drop_free_blocks(struct event_pool *p)
{
	for (int c = 0; c < CLASSES; c++) {
		while (p->free[c]) {
			struct free_block *b = p->free[c];

			p->free[c] = b->next;
			free(b);
		}
	}
	p->held = 0;
}

void event_pool_release(struct event_pool *p)
{
	if (!p)
		return;
	drop_free_blocks(p);
	p->released = true;
	if (p->live == 0)
		free(p);
}

/*
 * Blocks of 16k - 8 bytes: malloc's chunks are 16-byte multiples with an
 * 8-byte header, so a pooled event costs the memory malloc(size) would.
 */
static size_t block_size(int c)
{
	return (size_t)(c + 1) * CLASS_STEP - sizeof(size_t);
}

/* The class of a block of @p size bytes, -1 above EVENT_POOL_BLOCK_MAX. */
static int class_of(size_t size)
{
	return size <= EVENT_POOL_BLOCK_MAX ?
		       (int)((size + sizeof(size_t) + CLASS_STEP - 1) / CLASS_STEP) - 1 :
		       -1;
}

struct event *event_pool_event(struct event_pool *p, struct span type, struct span comm,
			       struct span data)
{
	size_t size = event_alloc_size(type, comm, data);
	int c = class_of(size);
	void *block;
	struct event *ev;

	if (size == 0)
		return NULL;
	if (c >= 0 && p->free[c]) {
		block = p->free[c];
		p->free[c] = p->free[c]->next;
		p->held -= block_size(c);
	} else {
		/* A block of the whole class, so any event of the class fits it later. */
		block = malloc(c >= 0 ? block_size(c) : size);
		if (!block)
			return NULL;
	}
	ev = event_init(block, size, type, comm, data);
	ev->pool = p;
	p->live++;
	return ev;
}

void event_pool_put(struct event *ev)
{
	struct event_pool *p = ev->pool;
	int c = class_of(ev->size);
	size_t bytes = c >= 0 ? block_size(c) : 0;

	p->live--;
	if (!p->released && c >= 0 && p->held + bytes <= p->max_bytes) {
		struct free_block *b = (struct free_block *)ev;

		b->next = p->free[c];
		p->free[c] = b;
		p->held += bytes;
		return;
	}
	free(ev);
	if (p->released && p->live == 0)
		free(p);
}
