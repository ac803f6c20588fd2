/* Event allocation: the envelope and its strings in one block. */
#include <stdlib.h>
#include <string.h>

#include <collector/event.h>

#include "event_pool.h"

static char *put(char *dst, struct span *field, struct span src)
{
	if (src.len)
		memcpy(dst, src.ptr, src.len);
	field->ptr = dst;
	field->len = src.len;
	return dst + src.len;
}

/* An empty data span stands for {}; comm is cut at EVENT_COMM_MAX. */
static void normalize(struct span *comm, struct span *data)
{
	static const struct span empty_object = { "{}", 2 };

	if (data->len == 0)
		*data = empty_object;
	if (comm->len > EVENT_COMM_MAX)
		comm->len = EVENT_COMM_MAX;
}

size_t event_alloc_size(struct span type, struct span comm, struct span data)
{
	size_t size;

	normalize(&comm, &data);
	size = sizeof(struct event) + EVENT_RUNNER_MAX + type.len + comm.len + data.len;
	return size > UINT32_MAX ? 0 : size;
}

struct event *event_init(void *block, size_t size, struct span type, struct span comm,
			 struct span data)
{
	struct event *ev = block;
	char *p;

	normalize(&comm, &data);
	memset(ev, 0, sizeof(*ev));
	ev->refs = 1;
	ev->size = (uint32_t)size;
	/* The runner name's room comes first so event_set_runner can fill it. */
	ev->runner.ptr = ev->storage;
	p = put(ev->storage + EVENT_RUNNER_MAX, &ev->type, type);
	p = put(p, &ev->comm, comm);
	put(p, &ev->data, data);
	return ev;
}

struct event *event_new(struct span type, struct span comm, struct span data)
{
	size_t size = event_alloc_size(type, comm, data);
	void *block = size ? malloc(size) : NULL;

	return block ? event_init(block, size, type, comm, data) : NULL;
}

void event_unref(struct event *ev)
{
	if (!ev || --ev->refs > 0)
		return;
	if (ev->pool)
		event_pool_put(ev);
	else
		free(ev);
}

void event_set_runner(struct event *ev, struct span runner)
{
	size_t n = runner.len < EVENT_RUNNER_MAX ? runner.len : EVENT_RUNNER_MAX;

	memcpy(ev->storage, runner.ptr, n);
	ev->runner.len = n;
}

void event_set_pid(struct event *ev, int32_t pid)
{
	ev->pid = pid;
	ev->flags |= EVENT_HAS_PID;
}
