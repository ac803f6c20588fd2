/* A ring of event pointers with limits in events and in bytes. */
#include <stdlib.h>
#include <string.h>

#include "event_queue.h"

static const char *const policy_names[] = { "block", "drop_oldest", "drop_newest" };

int queue_policy_parse(const char *s, enum queue_policy *out)
{
	for (int i = 0; i < 3; i++) {
		if (strcmp(s, policy_names[i]) == 0) {
			*out = (enum queue_policy)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *queue_policy_name(enum queue_policy p)
{
	return policy_names[p];
}

int event_queue_init(struct event_queue *q, size_t max_events, size_t max_bytes,
		     enum queue_policy policy, struct error *err)
{
	size_t size = 16;

	memset(q, 0, sizeof(*q));
	if (max_events == 0 || max_bytes == 0)
		return error_set(err, EINVAL, "queue limits must be positive");
	if (max_events > (1u << 24))
		return error_set(err, EINVAL, "queue limit of %zu events is above 16777216",
				 max_events);
	/* Room for forced pushes beyond the limit: the ring grows when needed. */
	while (size < max_events + 1)
		size *= 2;
	q->ring = calloc(size, sizeof(struct event *));
	if (!q->ring)
		return error_set(err, ENOMEM, "out of memory for a %zu-event queue", max_events);
	q->mask = size - 1;
	q->max_events = max_events;
	q->max_bytes = max_bytes;
	q->policy = policy;
	return 0;
}

void event_queue_free(struct event_queue *q)
{
	while (q->count)
		event_queue_pop(q);
	free(q->ring);
	q->ring = NULL;
}

bool event_queue_full(const struct event_queue *q)
{
	if (q->count == 0)
		return false;
	return q->count >= q->max_events || q->bytes >= q->max_bytes;
}

static bool would_fit(const struct event_queue *q, const struct event *ev)
{
	if (q->count == 0)
		return true;
	return q->count < q->max_events && q->bytes + ev->size <= q->max_bytes;
}

static int grow(struct event_queue *q)
{
	size_t size = (q->mask + 1) * 2;
	struct event **ring;

	/* Queue limits keep the ring far below SIZE_MAX; a doubling must still not wrap. */
	if (size <= q->mask)
		return -ENOMEM;
	ring = calloc(size, sizeof(struct event *));
	if (!ring)
		return -ENOMEM;
	for (size_t i = 0; i < q->count; i++)
		ring[i] = q->ring[(q->head + i) & q->mask];
	free(q->ring);
	q->ring = ring;
	q->mask = size - 1;
	q->head = 0;
	return 0;
}

static void store(struct event_queue *q, struct event *ev)
{
	q->ring[(q->head + q->count) & q->mask] = event_ref(ev);
	q->count++;
	q->bytes += ev->size;
	q->stats.pushed++;
}

enum queue_push_result event_queue_push(struct event_queue *q, struct event *ev, bool force)
{
	bool dropped = false;

	if (!force && !would_fit(q, ev)) {
		switch (q->policy) {
		case QUEUE_BLOCK:
			q->stats.refused++;
			return QUEUE_REFUSED;
		case QUEUE_DROP_NEWEST:
			q->stats.dropped_newest++;
			return QUEUE_DROPPED;
		case QUEUE_DROP_OLDEST:
			while (q->count > 0 && !would_fit(q, ev)) {
				event_queue_pop(q);
				q->stats.popped--;
				q->stats.dropped_oldest++;
			}
			dropped = true;
			break;
		}
	}
	if (q->count == q->mask + 1 && grow(q) < 0) {
		q->stats.dropped_newest++;
		return QUEUE_DROPPED;
	}
	store(q, ev);
	return dropped ? QUEUE_PUSHED_DROPPED : QUEUE_PUSHED;
}

struct event *event_queue_peek(const struct event_queue *q)
{
	return q->count ? q->ring[q->head] : NULL;
}

void event_queue_pop(struct event_queue *q)
{
	struct event *ev;

	if (!q->count)
		return;
	ev = q->ring[q->head];
	q->ring[q->head] = NULL;
	q->head = (q->head + 1) & q->mask;
	q->count--;
	q->bytes -= ev->size;
	q->stats.popped++;
	event_unref(ev);
}
