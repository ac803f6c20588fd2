/**
 * @file
 * Host API for algorithm packages: supervised children speaking docs/protocol.md.
 *
 * A host opens a package (algorithm_open()), which starts its instances;
 * submits calls, synchronously (algorithm_execute(), algorithm_pre_execute())
 * or asynchronously with a callback (algorithm_submit()); and closes it
 * (algorithm_close()). Everything runs on one libev loop: the caller's, or the
 * default loop when none is given. Callbacks run on that loop's thread.
 */
#ifndef COLLECTOR_ALGORITHM_H
#define COLLECTOR_ALGORITHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <collector/buffer.h>
#include <collector/error.h>
#include <collector/event_builder.h>

struct ev_loop;

/** The outcome of a call. */
enum algorithm_code {
	ALGORITHM_OK = 0,      /**< the child answered "ok": true */
	ALGORITHM_FAILED,      /**< the child answered "ok": false (its error is in the result) */
	ALGORITHM_TIMEOUT,     /**< no answer within call_timeout_ms; the child is restarted */
	ALGORITHM_CRASHED,     /**< the child died (or was killed) with the call in flight */
	ALGORITHM_BROKEN,      /**< every instance's circuit breaker is open: failed fast */
	ALGORITHM_PROTOCOL,    /**< the child broke the protocol for this call */
	ALGORITHM_BAD_INPUT,   /**< bad params JSON, method, or image */
	ALGORITHM_NO_CAPACITY, /**< the request queue is full */
	ALGORITHM_STOPPED,     /**< the host was stopped before the call was answered */
	ALGORITHM_BAD_OUTPUT,  /**< the answer cannot be trusted: the pool was resized meanwhile */
};

/**
 * The name of an outcome.
 * @param code the outcome
 * @return "ok", "failed", "timeout", "crashed", "broken", "protocol",
 *         "bad_input", "no_capacity", "stopped" or "bad_output".
 */
const char *algorithm_code_name(enum algorithm_code code);

/** An image handed to a call: written once into a shared-memory slot. */
struct algorithm_image {
	const void *data;   /**< the pixel bytes; must stay valid until the call's outcome */
	size_t size;	    /**< bytes at @c data */
	int width;	    /**< pixels per row */
	int height;	    /**< rows */
	int channels;	    /**< bytes per pixel (1 gray, 3 colour) */
	int stride;	    /**< bytes per row */
	const char *format; /**< "rgb8", "bgr8", "gray8" */
};

/** The outcome of one call, valid during the completion callback only. */
struct algorithm_result {
	uint64_t id;		  /**< the call's id */
	enum algorithm_code code; /**< the outcome */
	const char *message;	  /**< human explanation when not ALGORITHM_OK, else "" */
	const char *json;	  /**< "data" (ok) or "error" (failed) as JSON text, or NULL */
	size_t json_len;	  /**< length of @c json */
	int instance;		  /**< the instance that ran it, -1 when none */
	int64_t latency_ns;	  /**< submit to outcome */
};

/**
 * Completion callback of an asynchronous call.
 * @param arg the caller's argument
 * @param res the outcome
 */
typedef void (*algorithm_done_fn)(void *arg, const struct algorithm_result *res);

/** Options of algorithm_open(); zero means the default for every field. */
struct algorithm_options {
	struct ev_loop *loop; /**< the loop to run on (default: ev_default_loop) */
	int instances;	      /**< children of the package (default 1) */
	size_t queue_size;    /**< calls waiting for a child (default 1024) */
	int pool_slots; /**< shared-memory image slots (default 2 per instance * inflight, at least 4) */
	size_t slot_size;	     /**< bytes per slot (default 8 MiB) */
	const char *user;	     /**< run children as this user (default: as the host) */
	int64_t breaker_cooldown_ns; /**< time the breaker stays open (default 30 s) */
	int64_t call_timeout_ns;     /**< overrides the manifest's call_timeout_ms */
	/**
	 * A runtime node's id (runner_node_id()): algorithm.ready then carries
	 * node_id and container_id NAME/INSTANCE (docs/events.md). NULL: no node.
	 */
	const char *node_id;
	const char *name; /**< the NAME of container_id (default "algorithm") */
	/**
	 * Every lifecycle fact as an event: @p type is "algorithm.state",
	 * "algorithm.call", "algorithm.result", ... (docs/events.md), @p json its
	 * data object; @p json is NULL (and @p len 0) when the host ran out of
	 * memory building it: the event is lost. May be NULL.
	 */
	void (*on_event)(void *arg, const char *type, pid_t pid, const char *json, size_t len);
	/**
	 * Called with @p forking true just before a child is forked and false just
	 * after, so a watcher can follow the child from its first moment (see
	 * health_monitor_adopt_begin()). May be NULL.
	 */
	void (*on_forking)(void *arg, int instance, bool forking);
	/** A child was spawned (for watchers such as the health monitor). May be NULL. */
	void (*on_spawn)(void *arg, int instance, pid_t pid);
	/** A child was reaped with @p wait_status. May be NULL. */
	void (*on_exit)(void *arg, int instance, pid_t pid, int wait_status);
	/** Called once when algorithm_stop() has finished. May be NULL. */
	void (*on_stopped)(void *arg);
	void *arg; /**< passed to the callbacks above */
};

/** An opened package and its instances; opaque. */
struct algorithm;

/**
 * Read @p package_dir/manifest.json, create the shared-memory pool and start
 * the instances (they become ready asynchronously; calls wait for them).
 * SIGPIPE is set to ignored when it has its default action. A SIGBUS handler
 * guards the pool's mapping (a child truncating the object costs the calls in
 * it ALGORITHM_BAD_OUTPUT, not the process) and chains to the handler it
 * found for every other SIGBUS. A child is killed when the thread that
 * started it ends (PR_SET_PDEATHSIG): this function's for the first, the
 * loop's for restarts; both must live as long as the host. Pools, temporary directories and cgroups of
 * hosts that died without cleaning up are removed here.
 * @param package_dir the package directory
 * @param opts options, or NULL for the defaults
 * @param out set to the handle
 * @param err filled on failure (bad manifest, cannot create the pool, ...)
 * @return 0 or a negative errno with @p err filled.
 */
int algorithm_open(const char *package_dir, const struct algorithm_options *opts,
		   struct algorithm **out, struct error *err);

/**
 * Queue a call; @p done is called exactly once with its outcome — possibly
 * before this returns (queue full, broken, bad input).
 * @param a the handle
 * @param method "execute", "pre_execute" or another method of the child
 * @param params_json one JSON value, or NULL for {}
 * @param image the image, or NULL
 * @param done the completion callback
 * @param arg its argument
 * @return the call's id.
 */
uint64_t algorithm_submit(struct algorithm *a, const char *method, const char *params_json,
			  const struct algorithm_image *image, algorithm_done_fn done, void *arg);

/** Who a call is for, echoed in its `algorithm.result` event; every member is optional. */
struct algorithm_call_info {
	const char *source; /**< the frame source or camera, or NULL */
	const char *tag;    /**< the caller's own id or label, or NULL */
	uint64_t line;	    /**< the calls-file line it came from, 0 when none */
};

/**
 * algorithm_submit() with who the call is for: @p info's members (copied)
 * appear in the call's `algorithm.result` as source, tag and line.
 * @param a the handle
 * @param method as for algorithm_submit()
 * @param params_json as for algorithm_submit()
 * @param image as for algorithm_submit()
 * @param info the caller's labels, or NULL
 * @param done the completion callback
 * @param arg its argument
 * @return the call's id.
 */
uint64_t algorithm_submit_info(struct algorithm *a, const char *method, const char *params_json,
			       const struct algorithm_image *image,
			       const struct algorithm_call_info *info, algorithm_done_fn done,
			       void *arg);

/**
 * Give a call the caller could not even make (its line was not a call, its image
 * unreadable) its outcome: ALGORITHM_BAD_INPUT with @p message, an id like any
 * call's and its `algorithm.result`, so that every request has exactly one
 * result. @p done is called before this returns.
 * @param a the handle
 * @param method the method asked for, or NULL ("execute")
 * @param info the caller's labels, or NULL
 * @param message why it was refused
 * @param done the completion callback
 * @param arg its argument
 * @return the call's id.
 */
uint64_t algorithm_reject(struct algorithm *a, const char *method,
			  const struct algorithm_call_info *info, const char *message,
			  algorithm_done_fn done, void *arg);

/**
 * Withdraw a call still waiting in the queue (its caller went away): it ends
 * at once as ALGORITHM_STOPPED and its slot returns to the pool. A call
 * already sent to a child runs to its outcome.
 * @param a the handle
 * @param id the call's id
 * @return true when the call was queued and is withdrawn.
 */
bool algorithm_cancel(struct algorithm *a, uint64_t id);

/** Outcome counts and the submit-to-outcome latency histogram since the open. */
struct algorithm_stats {
	uint64_t outcomes[10];	 /**< per enum algorithm_code */
	uint64_t latency_count;	 /**< calls with an outcome */
	double latency_sum_s;	 /**< their submit-to-outcome latencies added, in seconds */
	uint64_t latency_le[12]; /**< cumulative counts per bound of algorithm_latency_bounds_us */
};

/** Bounds of the latency histogram, in microseconds (12 of them; +Inf is latency_count). */
extern const uint64_t algorithm_latency_bounds_us[12];

/**
 * The host's outcome counts and latency histogram.
 * @param a the handle
 * @return them, valid as long as the handle.
 */
const struct algorithm_stats *algorithm_stats(const struct algorithm *a);

/**
 * Lend a free shared-memory slot so the host can write an image straight into
 * it (no copy at submit). Pass the pointer as the image's @c data to
 * algorithm_submit()/algorithm_execute(), which take the slot back when the
 * call has its outcome; or return an unused one with algorithm_image_free().
 * @param a the handle
 * @param size bytes needed (at most the slot size)
 * @return the slot's memory, or NULL when the pool is exhausted or @p size too big.
 */
void *algorithm_image_alloc(struct algorithm *a, size_t size);

/**
 * Give back a slot from algorithm_image_alloc() that was not submitted.
 * @param a the handle
 * @param data the pointer algorithm_image_alloc() returned
 */
void algorithm_image_free(struct algorithm *a, void *data);

/**
 * Run @c execute and wait for it, running the loop.
 * @param a the handle
 * @param params_json one JSON value, or NULL for {}
 * @param image the image, or NULL
 * @param result_json set to the malloc'd "data" (ok) or "error" JSON, or NULL; free() it
 * @param err filled with the message when the outcome is not ALGORITHM_OK
 * @return the outcome.
 */
enum algorithm_code algorithm_execute(struct algorithm *a, const char *params_json,
				      const struct algorithm_image *image, char **result_json,
				      struct error *err);

/**
 * Run @c pre_execute (warm-up, no image) and wait for it.
 * @param a the handle
 * @param params_json one JSON value, or NULL for {}
 * @param result_json as for algorithm_execute()
 * @param err as for algorithm_execute()
 * @return the outcome.
 */
enum algorithm_code algorithm_pre_execute(struct algorithm *a, const char *params_json,
					  char **result_json, struct error *err);

/**
 * Run the loop until every submitted call has its outcome.
 * @param a the handle
 */
void algorithm_drain(struct algorithm *a);

/**
 * Calls submitted and not yet completed.
 * @param a the handle
 * @return their number.
 */
size_t algorithm_pending(const struct algorithm *a);

/**
 * Reset open circuit breakers: broken instances start again at once (their
 * `algorithm.state` reason is "circuit breaker reset").
 * @param a the handle
 * @return how many instances had their breaker open.
 */
int algorithm_reset(struct algorithm *a);

/**
 * Hold back because whoever takes the events cannot take more
 * (backpressure): stop reading the children's stdout and stderr (they block
 * in write(2) once their pipe is full), stop dispatching calls (they wait
 * in the queue) and freeze the clocks that judge the children — call
 * timeouts, the handshake timeout and the heartbeat — since the host, not
 * the child, is the one not reading. A child reaped meanwhile has its
 * remaining output, exit report and restart put off too. Submitting stays
 * allowed. Idempotent.
 * @param a the handle
 */
void algorithm_pause(struct algorithm *a);

/**
 * End a pause: deliver what waited (lines already read, put-off exits,
 * queued calls), then let the clocks go on with the time they had left and
 * read again. An event callback may pause again meanwhile; the clocks then
 * stay frozen. Does nothing when not paused.
 * @param a the handle
 */
void algorithm_resume(struct algorithm *a);

/**
 * Whether the host is paused.
 * @param a the handle
 * @return true between algorithm_pause() and algorithm_resume().
 */
bool algorithm_paused(const struct algorithm *a);

/**
 * Time spent paused.
 * @param a the handle
 * @return nanoseconds between algorithm_pause() and algorithm_resume() calls
 *         since the open, the current pause included.
 */
int64_t algorithm_paused_ns(const struct algorithm *a);

/**
 * What the host knows about an instance's end, for a crash report; call it from
 * the on_exit callback (before the calls in flight are failed). Adds members
 * to the object open in @p out: instance, kill_reason, uptime_ms,
 * calls_answered, stderr (up to the last 50 lines), calls_in_flight (id,
 * method, age_ms, params), timed_out_call (id, method, or null), restarts,
 * consecutive_failures, breaker ("closed" or "open"), package (name,
 * version), argv and limits.
 * @param a the handle
 * @param instance the instance on_exit named
 * @param wait_status the status on_exit passed
 * @param out the builder the members are added to
 * @param kill_reason set to why the host ended it ("call_timeout", "hang", ...), or NULL
 * @return true when the end was abnormal (signal, non-zero exit, or killed by
 *         the host for a timeout, hang or the like) rather than a stop.
 */
bool algorithm_describe_exit(const struct algorithm *a, int instance, int wait_status,
			     struct event_builder *out, const char **kill_reason);

/**
 * End one instance now (SIGTERM, then SIGKILL after the grace period) for
 * @p reason, e.g. before the OOM killer does; the restart policy applies.
 * @param a the handle
 * @param instance the instance
 * @param reason a static string, reported as its exit reason
 */
void algorithm_restart_instance(struct algorithm *a, int instance, const char *reason);

/**
 * Begin a graceful stop: queued calls fail with ALGORITHM_STOPPED, children
 * get `shutdown`, then SIGTERM and SIGKILL after their grace periods;
 * on_stopped is called once all are reaped.
 * @param a the handle
 */
void algorithm_stop(struct algorithm *a);

/**
 * Stop (waiting on the loop for a graceful end when it has not happened),
 * then free everything: no child, fd, temp dir, shm object or cgroup remains.
 * @param a the handle, or NULL
 */
void algorithm_close(struct algorithm *a);

#endif
