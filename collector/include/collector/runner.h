/**
 * @file
 * The runner interface: a source of events driven by the collector's loop.
 */
#ifndef COLLECTOR_RUNNER_H
#define COLLECTOR_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include <collector/buffer.h>
#include <collector/error.h>
#include <collector/event.h>
#include <collector/metrics.h>
#include <collector/options.h>

struct ev_loop;

/** Lifecycle status of a runner, as in the seeds' runner contract. */
enum runner_status {
	RUNNER_PENDING,	 /**< configured, not started */
	RUNNER_RUNNING,	 /**< producing events */
	RUNNER_SUCCESS,	 /**< finished normally */
	RUNNER_FAILED,	 /**< its work failed (non-zero exit, signal, ...) */
	RUNNER_TIMEOUT,	 /**< stopped by its timeout */
	RUNNER_CANCELED, /**< stopped by the user (SIGINT/SIGTERM) */
	RUNNER_ERROR,	 /**< could not run at all (spawn or load failure) */
};

/** How a runner is doing, as /healthz reports it. */
enum runner_health {
	RUNNER_HEALTHY,	 /**< working as configured */
	RUNNER_DEGRADED, /**< working, but not fully (restarting, losing events, ...) */
	RUNNER_FAILING,	 /**< not doing its work (circuit breaker open, loader lost, ...) */
};

/**
 * The name of a status.
 * @param s the status
 * @return its lower-case name ("running", "timeout", ...), a static string.
 */
const char *runner_status_name(enum runner_status s);

/** What the core gives a runner instance: emit events, learn of backpressure. Opaque. */
struct runner_ctx;

/**
 * A runner implementation, registered under @c name with registry_add_runner().
 *
 * The core calls create() while it is configured, start() once, then stop()
 * at most once (on SIGINT/SIGTERM or collector_stop()), resume() whenever
 * backpressure clears, and destroy() last, after the loop has ended. Every
 * callback runs on the loop's thread; @c self is what create() returned.
 */
struct runner_ops {
	const char *name;		   /**< "exec", "process", ... */
	const char *summary;		   /**< one line for `collector list` */
	const struct option_spec *options; /**< its options table */

	/**
	 * Build an instance from validated options (the "builder"); @p opts is
	 * owned by the core and lives as long as the instance.
	 * Returns the instance, or NULL with @p err filled.
	 */
	void *(*create)(struct runner_ctx *ctx, const struct options *opts, struct error *err);
	/**
	 * Begin producing events. Returns 0, or a negative code with @p err
	 * (the runner then ends with RUNNER_ERROR).
	 */
	int (*start)(void *self, struct error *err);
	/**
	 * Stop gracefully (SIGTERM, drain, SIGKILL after its grace period).
	 * The runner calls runner_finished() once it is done. May be NULL.
	 */
	void (*stop)(void *self);
	/** Backpressure cleared: runner_can_emit() is true again. May be NULL. */
	void (*resume)(void *self);
	/** Free everything; after this no child, fd or watcher remains. */
	void (*destroy)(void *self);
	/**
	 * Add this instance's own samples (restarts, children, ...) on each
	 * scrape of /metrics or /runners. May be NULL.
	 */
	void (*metrics)(void *self, struct metrics_writer *w);
	/**
	 * An operator's action on this instance, asked for through the local
	 * HTTP endpoint (`POST /runners/NAME/ACTION`, e.g. `collector
	 * reset-breaker NAME`). Appends a JSON value saying what it did to
	 * @p reply and returns 0; returns -ENOTSUP with @p err for an action it
	 * does not know, another negative code with @p err when it cannot do it
	 * now. Runs on the loop's thread while the instance runs. May be NULL
	 * (the runner has no actions). Added in plugin ABI 4.
	 */
	int (*control)(void *self, const char *action, struct buffer *reply, struct error *err);
	/**
	 * The runner's helper program (a BPF runner's loader), run as `collector
	 * loader NAME FLAGS` when the runner re-executes this binary: @p opts are
	 * the runner's own options, parsed from FLAGS. Returns the exit status.
	 * Only built-in runners have one; may be NULL. Added in plugin ABI 5.
	 */
	int (*loader_main)(const struct options *opts);
};

/**
 * The loop the runner must put its watchers on.
 * @param ctx the runner's context
 * @return the collector's libev loop.
 */
struct ev_loop *runner_loop(struct runner_ctx *ctx);

/**
 * The runner instance's name (for messages).
 * @param ctx the runner's context
 * @return the name, owned by the core, valid as long as the instance.
 */
const char *runner_name(const struct runner_ctx *ctx);

/**
 * The node's id when the collector speaks as a runtime node (--node,
 * --node-id, --heartbeat): lifecycle events then carry it, with the instance's
 * container_id, for a control plane's containers/ready (docs/events.md).
 * @param ctx the runner's context
 * @return the id, owned by the core, or NULL when the collector is no node.
 */
const char *runner_node_id(const struct runner_ctx *ctx);

/**
 * Whether the runner may emit now. It is false while a sink this runner feeds
 * with the block policy is full: the runner should then stop reading its
 * source until its resume() is called.
 * @param ctx the runner's context
 * @return true when the next event has room.
 */
bool runner_can_emit(struct runner_ctx *ctx);

/**
 * Publish an event: the context sets runner, seq and, when zero, ts_ns,
 * then routes it to the sinks. Emitting while runner_can_emit() is false is
 * allowed and overfills by one event.
 * @param ctx the runner's context
 * @param ev the event; the caller's reference is taken over
 */
void runner_emit(struct runner_ctx *ctx, struct event *ev);

/**
 * Count an event the runner could not build (event_new() failed: out of
 * memory) as lost: its seq number is skipped, so readers see the gap, it is
 * logged and counted, and the run ends with the loss exit status.
 * @param ctx the runner's context
 * @param type the type of the event that was lost
 */
void runner_emit_failed(struct runner_ctx *ctx, const char *type);

/**
 * Emit a `collector.error` event for bad input from the source and count it.
 * @param ctx the runner's context
 * @param reason what went wrong, a short snake_case word ("invalid_json")
 * @param line the input line number, 0 when unknown
 * @param offset the input byte offset, 0 when unknown
 * @param sample the offending bytes (the first 128 are kept), or NULL
 * @param sample_len their length
 * @param fmt printf format of a human message, followed by its arguments
 */
void runner_report_error(struct runner_ctx *ctx, const char *reason, uint64_t line, uint64_t offset,
			 const char *sample, size_t sample_len, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/**
 * Tell the core the runner has ended (after stop() or by itself); only the
 * first call counts. The instance is destroyed later, not here.
 * @param ctx the runner's context
 * @param status how it ended
 */
void runner_finished(struct runner_ctx *ctx, enum runner_status status);

/**
 * The name of a health state.
 * @param h the state
 * @return "ok", "degraded" or "failing" (static).
 */
const char *runner_health_name(enum runner_health h);

/**
 * Say how the runner is doing; /healthz and /runners report it with the
 * reason. A runner that never calls this is healthy while it runs.
 * @param ctx the runner's context
 * @param health the new state
 * @param fmt printf format of the reason (ignored when healthy), then its arguments
 */
void runner_set_health(struct runner_ctx *ctx, enum runner_health health, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
