/* Event allocation: the envelope and its strings in one block. */
#include <stdlib.h>
#include <string.h>

#include <collector/event.h>

static char *put(char *dst, struct span *field, struct span src)
{
	if (src.len)
		memcpy(dst, src.ptr, src.len);
	field->ptr = dst;
	field->len = src.len;
	return dst + src.len;
}

struct event *event_new(struct span type, struct span comm, struct span data)
{
	static const struct span empty_object = { "{}", 2 };
	struct event *ev;
	size_t size;
	char *p;

	if (data.len == 0)
		data = empty_object;
	if (comm.len > EVENT_COMM_MAX)
		comm.len = EVENT_COMM_MAX;
	size = sizeof(*ev) + EVENT_RUNNER_MAX + type.len + comm.len + data.len;
	if (size > UINT32_MAX)
		return NULL;
	ev = malloc(size);
	if (!ev)
		return NULL;
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

void event_unref(struct event *ev)
{
	if (ev && --ev->refs == 0)
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
