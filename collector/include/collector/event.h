/**
 * @file
 * The typed event every runner produces and every sink consumes.
 */
#ifndef COLLECTOR_EVENT_H
#define COLLECTOR_EVENT_H

#include <stdint.h>

#include <collector/span.h>

/** Recycled event blocks (private to the library; see event.pool). */
struct event_pool;

/** Flags saying which optional envelope fields an event carries. */
enum event_flags {
	EVENT_HAS_PID = 1u << 0,  /**< @c pid is set */
	EVENT_HAS_TID = 1u << 1,  /**< @c tid is set */
	EVENT_HAS_PPID = 1u << 2, /**< @c ppid is set */
	EVENT_HAS_ID = 1u << 3,	  /**< @c id is set (event_id_new()) */
};

/**
 * One event: the envelope of docs/events.md plus a JSON @c data value.
 *
 * Events are reference counted and immutable once emitted: the runner
 * context fills @c seq, @c ts_ns and @c runner, the router hands the same
 * event to every matching sink, and the last event_unref() frees it.
 * All spans point into the event's own allocation (one block per event,
 * recycled through a pool where a decoder makes many).
 */
struct event {
	uint32_t refs;	    /**< reference count; see event_ref() */
	uint32_t flags;	    /**< enum event_flags */
	uint64_t seq;	    /**< per-runner sequence number, gap-free */
	int64_t ts_ns;	    /**< wall-clock time, ns since the Unix epoch */
	int32_t pid;	    /**< process id, when EVENT_HAS_PID */
	int32_t tid;	    /**< thread id, when EVENT_HAS_TID */
	int32_t ppid;	    /**< parent process id, when EVENT_HAS_PPID */
	uint32_t size;	    /**< bytes this event accounts for in queues */
	struct span type;   /**< dotted type name, e.g. "exec.line" */
	struct span runner; /**< runner instance name */
	struct span comm;   /**< command name, empty when unknown */
	struct span data;   /**< one valid JSON value, usually an object */
	uint8_t id[16];	    /**< the event id (a ULID), set by runner_emit(); see event_id_text() */
	struct event_pool *pool; /**< private: the pool event_unref() returns it to, or NULL */
	char storage[];		 /**< backing bytes of the spans above */
};

/** Characters of an event id's text (a ULID), without the NUL. */
#define EVENT_ID_TEXT 26

/**
 * Give @p ev a new id: a ULID, 48 bits of its time in milliseconds and 80
 * random bits (a per-process generator seeded by getrandom()), so ids are
 * unique across restarts and hosts and sort by time. runner_emit() calls it
 * for events that have none.
 * @param ev the event
 */
void event_id_new(struct event *ev);

/**
 * The id as 26 characters of Crockford base32 (the ULID text form).
 * @param ev the event
 * @param out room for EVENT_ID_TEXT characters and a NUL
 */
void event_id_text(const struct event *ev, char out[EVENT_ID_TEXT + 1]);

/** Longest type name; decoders reject longer input. */
#define EVENT_TYPE_MAX 128
/** Longest command name kept in an event. */
#define EVENT_COMM_MAX 64
/** Longest runner instance name. */
#define EVENT_RUNNER_MAX 64

/**
 * Allocate an event with a copy of @p type, @p comm and @p data.
 *
 * The runner name is reserved but filled later by runner_emit().
 *
 * @param type dotted type name ("ticker.tick")
 * @param comm command name, or an empty span; cut at EVENT_COMM_MAX bytes
 * @param data one complete, valid JSON value (build it with yajl_gen or take
 *        it from json_decoder); an empty span stands for `{}`
 * @return the event, whose one reference the caller owns, or NULL when out
 *         of memory or larger than 4 GiB.
 */
struct event *event_new(struct span type, struct span comm, struct span data);

/**
 * Take one more reference to @p ev; release it with event_unref().
 * @param ev the event
 * @return @p ev.
 */
static inline struct event *event_ref(struct event *ev)
{
	ev->refs++;
	return ev;
}

/**
 * Drop one reference; the last one frees the event.
 * @param ev the event, or NULL (ignored)
 */
void event_unref(struct event *ev);

/**
 * Set the runner name (done once by the runner context).
 * @param ev the event, not yet emitted
 * @param runner the name; cut at EVENT_RUNNER_MAX bytes
 */
void event_set_runner(struct event *ev, struct span runner);

/**
 * Set the process id and flag it as present.
 * @param ev the event, not yet emitted
 * @param pid the process id
 */
void event_set_pid(struct event *ev, int32_t pid);

#endif
