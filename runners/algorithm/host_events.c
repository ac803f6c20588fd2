/* The algorithm host's events: names, the event builder's wrappers, container members, the algorithm.state event. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../container_name.h"
#include "host.h"

const char *algo_state_name(enum algo_state s)
{
	static const char *const names[] = { "starting",   "ready",  "busy",   "degraded",
					     "restarting", "broken", "stopped" };

	return s <= ALGO_STOPPED ? names[s] : "unknown";
}

/* A host without on_event gets no events: nothing is built then. */
static bool ev_off(const struct algorithm *a)
{
	return !a->opts.on_event;
}

void algo_ev_begin(struct algorithm *a)
{
	if (!ev_off(a))
		event_builder_begin(a->eb);
}

void algo_ev_str(struct algorithm *a, const char *key, const char *value)
{
	algo_ev_strn(a, key, value ? value : "", value ? strlen(value) : 0);
}

void algo_ev_strn(struct algorithm *a, const char *key, const char *value, size_t len)
{
	if (!ev_off(a))
		event_builder_strn(a->eb, key, value, len);
}

void algo_ev_int(struct algorithm *a, const char *key, long long value)
{
	if (!ev_off(a))
		event_builder_int(a->eb, key, value);
}

void algo_ev_raw(struct algorithm *a, const char *key, const char *json, size_t len)
{
	if (!ev_off(a))
		event_builder_raw(a->eb, key, json, len);
}

void algo_ev_array_open(struct algorithm *a, const char *key)
{
	if (!ev_off(a))
		event_builder_open_array(a->eb, key);
}

void algo_ev_array_close(struct algorithm *a)
{
	if (!ev_off(a))
		event_builder_close_array(a->eb);
}

void algo_instance_find_container(struct algo_instance *in)
{
	const char *name;

	in->container_name[0] = '\0';
	if (!container_of_pid(in->pid, &in->container))
		in->container.id[0] = '\0';
	name = in->container.id[0] ? container_name(&in->container) : NULL;
	if (name)
		snprintf(in->container_name, sizeof(in->container_name), "%s", name);
}

/* The container members of the event of child @p pid, when it runs in one. */
static void put_container(struct algorithm *a, pid_t pid)
{
	for (int i = 0; pid > 0 && i < a->ninst; i++) {
		const struct algo_instance *in = &a->inst[i];

		if (in->pid != pid || !in->container.id[0])
			continue;
		event_builder_str(a->eb, "container_id", in->container.id);
		event_builder_str(a->eb, "container_runtime", in->container.runtime);
		if (in->container_name[0])
			event_builder_str(a->eb, "container_name", in->container_name);
		return;
	}
}

/* Out of memory: the host's owner hears of the event, without data, and counts it lost. */
void algo_ev_emit(struct algorithm *a, const char *type, pid_t pid)
{
	struct span data;

	if (ev_off(a))
		return;
	/* On a node, algorithm.ready's container_id is the unit of work (session.c). */
	if (!(a->opts.node_id && strcmp(type, "algorithm.ready") == 0))
		put_container(a, pid);
	if (event_builder_finish(a->eb, &data) < 0)
		a->opts.on_event(a->opts.arg, type, pid, NULL, 0);
	else
		a->opts.on_event(a->opts.arg, type, pid, data.ptr, data.len);
}

void algo_set_state(struct algo_instance *in, enum algo_state s, const char *reason)
{
	struct algorithm *a = in->host;
	enum algo_state prev = in->state;

	if (prev == s)
		return;
	in->state = s;
	algo_ev_begin(a);
	algo_ev_int(a, "instance", in->index);
	algo_ev_str(a, "state", algo_state_name(s));
	algo_ev_str(a, "previous", algo_state_name(prev));
	algo_ev_str(a, "reason", reason);
	algo_ev_int(a, "inflight", (long long)in->inflight.len);
	algo_ev_emit(a, "algorithm.state", in->alive ? in->pid : 0);
}
