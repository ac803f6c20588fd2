/* A bounded FIFO of events with limits in events and bytes and a full policy. */
#ifndef COLLECTOR_EVENT_QUEUE_H
#define COLLECTOR_EVENT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <collector/error.h>
#include <collector/event.h>

/** What a full queue does with a new event. */
enum queue_policy {
	QUEUE_BLOCK,	   /**< refuse it: the producer must wait */
	QUEUE_DROP_OLDEST, /**< make room by dropping the oldest event */
	QUEUE_DROP_NEWEST, /**< drop the new event */
};

/** Parse "block", "drop_oldest", "drop_newest". @return 0 or -EINVAL. */
int queue_policy_parse(const char *s, enum queue_policy *out);

/** The name of @p p. */
const char *queue_policy_name(enum queue_policy p);

/** Exact counters of a queue. */
struct event_queue_stats {
	uint64_t pushed;	 /**< events accepted */
	uint64_t popped;	 /**< events taken out */
	uint64_t dropped_oldest; /**< accepted events later dropped for room */
	uint64_t dropped_newest; /**< events refused and dropped on arrival */
	uint64_t refused;	 /**< pushes refused under the block policy */
};

/** The queue; fields are private. */
struct event_queue {
	struct event **ring;
	size_t mask; /* ring size - 1, a power of two */
	size_t head; /* index of the oldest event */
	size_t count;
	size_t bytes;
	size_t max_events;
	size_t max_bytes;
	enum queue_policy policy;
	struct event_queue_stats stats;
};

/** Result of event_queue_push(). */
enum queue_push_result {
	QUEUE_PUSHED,	      /**< stored */
	QUEUE_PUSHED_DROPPED, /**< stored after dropping older events */
	QUEUE_DROPPED,	      /**< not stored, dropped (drop_newest) */
	QUEUE_REFUSED,	      /**< not stored, caller keeps it (block) */
};

/**
 * Prepare @p q for at most @p max_events events and @p max_bytes bytes.
 * @return 0 or a negative code with @p err.
 */
int event_queue_init(struct event_queue *q, size_t max_events, size_t max_bytes,
		     enum queue_policy policy, struct error *err);

/** Drop every queued event and free the ring. */
void event_queue_free(struct event_queue *q);

/**
 * True when a push now would not be stored as is. An event always fits in an
 * empty queue, so one event larger than max_bytes can still pass.
 */
bool event_queue_full(const struct event_queue *q);

/**
 * Offer @p ev, taking a new reference only when it is stored.
 * With @p force the limits are ignored (used for loss reports).
 */
enum queue_push_result event_queue_push(struct event_queue *q, struct event *ev, bool force);

/** The oldest event (borrowed), or NULL when empty. */
struct event *event_queue_peek(const struct event_queue *q);

/** Remove the oldest event and drop the queue's reference to it. */
void event_queue_pop(struct event_queue *q);

/** Number of queued events. */
static inline size_t event_queue_len(const struct event_queue *q)
{
	return q->count;
}

#endif
