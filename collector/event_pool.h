/* Recycled event blocks: a decoder's steady state allocates nothing per event. */
#ifndef COLLECTOR_EVENT_POOL_H
#define COLLECTOR_EVENT_POOL_H

#include <stddef.h>

#include <collector/event.h>

/** Blocks up to this size are recycled; a bigger event is a plain malloc(). */
#define EVENT_POOL_BLOCK_MAX 4096

/** A pool: free lists of event blocks by size, owned by one producer (one thread). */
struct event_pool;

/**
 * Create a pool that keeps at most @p max_bytes of free blocks (what it keeps
 * were live events first, so the queues that held them bound it too).
 * @return the pool, or NULL when out of memory.
 */
struct event_pool *event_pool_new(size_t max_bytes);

/**
 * The owner lets go of @p p: its free blocks are freed now, the pool itself
 * once the last of its events is released (they may sit in sink queues).
 * @param p the pool, or NULL (ignored)
 */
void event_pool_release(struct event_pool *p);

/**
 * event_new() from the pool: the same event, a recycled block when one fits.
 * Events must be released on the pool's thread.
 */
struct event *event_pool_event(struct event_pool *p, struct span type, struct span comm,
			       struct span data);

/** Bytes an event of these strings takes (event_new()'s rules), 0 above 4 GiB. */
size_t event_alloc_size(struct span type, struct span comm, struct span data);

/** Build the event in @p block of event_alloc_size() bytes; returns @p block. */
struct event *event_init(void *block, size_t size, struct span type, struct span comm,
			 struct span data);

/** Return the block of @p ev (its last reference is gone) to its pool; event_unref() calls it. */
void event_pool_put(struct event *ev);

#endif
