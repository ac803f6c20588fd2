/**
 * @file
 * The runner interface: a source of events driven by the collector's loop.
 */
#ifndef COLLECTOR_RUNNER_H
#define COLLECTOR_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include <collector/error.h>
#include <collector/event.h>
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

/** The lower-case name of @p s ("running", "timeout", ...). */
const char *runner_status_name(enum runner_status s);

/** What the core gives a runner: emit events, learn of backpressure. */
struct runner_ctx;

/** A runner implementation, registered under @c name. */
struct runner_ops {
	const char *name;		   /**< "exec", "process", ... */
	const char *summary;		   /**< one line for `collector list` */
	const struct option_spec *options; /**< its options table */

	/**
	 * Build an instance from validated options (the "builder").
	 * @return the instance, or NULL with @p err filled.
	 */
	void *(*create)(struct runner_ctx *ctx, const struct options *opts, struct error *err);
	/** Begin producing events. @return 0 or a negative code with @p err. */
	int (*start)(void *self, struct error *err);
	/**
	 * Stop gracefully (SIGTERM, drain, SIGKILL after its grace period).
	 * The runner calls runner_finished() once it is done.
	 */
	void (*stop)(void *self);
	/** Backpressure cleared: runner_can_emit() is true again. */
	void (*resume)(void *self);
	/** Free everything; after this no child, fd or watcher remains. */
	void (*destroy)(void *self);
};

/** The loop the runner must put its watchers on. */
struct ev_loop *runner_loop(struct runner_ctx *ctx);

/** The runner instance's name (for messages). */
const char *runner_name(const struct runner_ctx *ctx);

/**
 * False while a sink this runner feeds with the block policy is full: the
 * runner should stop reading its source until its resume() is called.
 */
bool runner_can_emit(struct runner_ctx *ctx);

/**
 * Publish @p ev (the runner's reference is taken over): the context sets
 * runner, seq and, when zero, ts_ns, then routes it to the sinks. Emitting
 * while runner_can_emit() is false is allowed and overfills by one event.
 */
void runner_emit(struct runner_ctx *ctx, struct event *ev);

/**
 * Emit a `collector.error` event for bad input from the source: what went
 * wrong (@p reason, a short snake_case word), where (@p line, @p offset;
 * 0 when unknown), a human message and a sample of the offending bytes.
 */
void runner_report_error(struct runner_ctx *ctx, const char *reason, uint64_t line, uint64_t offset,
			 const char *sample, size_t sample_len, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/** Tell the core the runner has ended with @p status (after stop or by itself). */
void runner_finished(struct runner_ctx *ctx, enum runner_status status);

#endif
