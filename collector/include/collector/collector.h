/**
 * @file
 * Embedding the collector: build a pipeline of runners, routes and sinks, run it.
 */
#ifndef COLLECTOR_COLLECTOR_H
#define COLLECTOR_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <collector/error.h>
#include <collector/options.h>

struct ev_loop;
struct collector;

/** The version of this library and binary. */
#define COLLECTOR_VERSION "0.1.0"

/** Exit codes of collector_run() and of the `collector` binary. */
enum collector_exit {
	COLLECTOR_EXIT_OK = 0,	   /**< runners succeeded, every event delivered */
	COLLECTOR_EXIT_FAILED = 1, /**< a runner failed, timed out or could not start */
	COLLECTOR_EXIT_USAGE = 2,  /**< bad command line or configuration */
	COLLECTOR_EXIT_LOSS = 3,   /**< events were dropped or not delivered */
};

/** Bounds of one sink's queue. */
struct queue_limits {
	size_t max_events;  /**< most events queued (default 4096) */
	size_t max_bytes;   /**< most bytes queued (default 4 MiB) */
	const char *policy; /**< "block" (default), "drop_oldest", "drop_newest" */
};

/** Default queue limits, used when a field of struct queue_limits is 0/NULL. */
#define QUEUE_DEFAULT_EVENTS 4096
/** Default byte limit of a sink queue. */
#define QUEUE_DEFAULT_BYTES (4u << 20)

/** Totals over a whole run, exact. */
struct collector_stats {
	uint64_t emitted;     /**< events published by runners */
	uint64_t delivered;   /**< events sinks accepted and flushed */
	uint64_t dropped;     /**< events dropped by queue policies */
	uint64_t failed;      /**< events a sink rejected for good */
	uint64_t undelivered; /**< events still queued when the run ended */
	uint64_t lost;	      /**< events runners could not build (out of memory) */
	uint64_t filtered;    /**< events a filter (--where) kept from the sinks: not a loss */
};

/**
 * Create an empty collector.
 * @param loop the loop to run on; libev's default loop when runners watch
 *        children (the exec runner does)
 * @param err filled on failure (may be NULL)
 * @return the collector (free it with collector_free()), or NULL with @p err
 *         filled (ENOMEM).
 */
struct collector *collector_new(struct ev_loop *loop, struct error *err);

/**
 * Add a sink instance, which its type's create() opens now.
 * @param c the collector, not yet running
 * @param name the instance's name, unique among sinks (copied; at most
 *        EVENT_RUNNER_MAX bytes, a longer one is refused with EINVAL)
 * @param type a registered sink type
 * @param opts finished options for that type; always taken over (freed
 *        with the collector, or at once on failure)
 * @param limits its queue's bounds, or NULL for the defaults
 * @param err filled on failure (may be NULL)
 * @return 0, or a negative code with @p err: ENOENT for an unknown type,
 *         EEXIST for a name in use, ENOSPC past the sink limit, EINVAL for a
 *         bad policy, or what create() failed with.
 */
int collector_add_sink(struct collector *c, const char *name, const char *type,
		       struct options *opts, const struct queue_limits *limits, struct error *err);

/**
 * Add a runner instance, built now by its type's create().
 * @param c the collector, not yet running
 * @param name the instance's name, unique among runners and not "collector"
 *        (copied; at most EVENT_RUNNER_MAX bytes, a longer one is refused)
 * @param type a registered runner type
 * @param opts finished options for that type; always taken over (freed
 *        with the collector, or at once on failure)
 * @param err filled on failure (may be NULL)
 * @return 0, or a negative code with @p err: ENOENT for an unknown type,
 *         EEXIST for a name in use, ENOMEM, or what create() failed with.
 */
int collector_add_runner(struct collector *c, const char *name, const char *type,
			 struct options *opts, struct error *err);

/**
 * Route matching events to some sinks. Without any route every event goes
 * to every sink.
 * @param c the collector, not yet running
 * @param runner the runner instance whose events match, NULL for any
 * @param type_glob the glob event types match ("exec.*"), NULL for any
 * @param sinks the names of the sinks they go to
 * @param nsinks how many names
 * @param err filled on failure (may be NULL)
 * @return 0, or -ENOENT naming an unknown runner or sink, -ENOMEM.
 */
int collector_add_route(struct collector *c, const char *runner, const char *type_glob,
			char *const *sinks, int nsinks, struct error *err);

/**
 * Stop gracefully after a while.
 * @param c the collector
 * @param ns how long to run, 0 (the default) for no limit
 */
void collector_set_duration(struct collector *c, int64_t ns);

/**
 * Speak as a runtime node: a collector.node event at start and, with state
 * "stopping", when a graceful stop begins; a collector.heartbeat event every
 * @p heartbeat_ns (docs/events.md). Off unless called.
 * @param c the collector, not yet running
 * @param node_id the node's id, or NULL for /etc/machine-id (else the host name)
 * @param heartbeat_ns the heartbeat interval, > 0
 * @param err filled on failure (may be NULL)
 * @return 0, or -ENOMEM with @p err filled.
 */
int collector_set_node(struct collector *c, const char *node_id, int64_t heartbeat_ns,
		       struct error *err);

/**
 * Bound the graceful shutdown; what is still queued then is undelivered.
 * @param c the collector
 * @param ns the longest shutdown (default 10 s)
 */
void collector_set_shutdown_timeout(struct collector *c, int64_t ns);

/**
 * Start every runner and run the loop until they have all finished (or a
 * stop was asked for) and the queues are drained and sinks flushed, or the
 * shutdown timeout passed. SIGINT and SIGTERM stop gracefully (a second one
 * stops at once), SIGHUP reopens sink files. Runners are destroyed before it
 * returns; sinks with collector_free().
 * @param c the collector; run it once
 * @return an enum collector_exit value.
 */
int collector_run(struct collector *c);

/**
 * Ask a running collector to stop gracefully: every runner's stop().
 * @param c the collector
 */
void collector_stop(struct collector *c);

/**
 * The totals so far.
 * @param c the collector
 * @param out filled with a copy
 */
void collector_get_stats(const struct collector *c, struct collector_stats *out);

struct filter_expr;

/**
 * Pass only the events that match @p f to the sinks (`--where`); the others
 * are counted in collector_stats.filtered. The collector's own reports
 * (`collector.*`) always pass. Takes @p f (freed with the collector).
 * @param c the collector
 * @param f the parsed expression
 * @return 0, or -ENOMEM (@p f is freed).
 */
int collector_set_filter(struct collector *c, struct filter_expr *f);

/**
 * Count the events of each type for collector_write_summary().
 * @param c the collector
 * @return 0 or -ENOMEM.
 */
int collector_count_types(struct collector *c);

/**
 * Write the run's summary for a person: duration, events per type, each
 * sink's delivered/failed/dropped, losses, each runner's outcome and what
 * @p exit_code means. Call after collector_run().
 * @param c the collector
 * @param f where to write (stderr)
 * @param exit_code what collector_run() returned
 */
void collector_write_summary(const struct collector *c, FILE *f, int exit_code);

/**
 * Destroy every runner and sink and free the collector.
 * @param c the collector, or NULL (ignored)
 */
void collector_free(struct collector *c);

/**
 * Call @p fn on SIGHUP, after every sink reopened its files: the host
 * re-reads what it can apply safely (the CLI re-reads its configuration file).
 * @param c the collector
 * @param fn the callback, run on the loop; NULL for none
 * @param arg passed to @p fn
 */
void collector_on_reload(struct collector *c, void (*fn)(void *arg), void *arg);

/**
 * Serve /metrics (Prometheus text), /healthz and /runners (JSON) over HTTP
 * on the collector's loop while collector_run() runs.
 * @param c the collector
 * @param addr "HOST:PORT" (an IPv4 address, or "[IPv6]:PORT"); port 0 picks a free one
 * @param err filled on failure
 * @return 0, or a negative code with @p err (EINVAL for a bad address,
 *         EADDRINUSE, EEXIST when already serving).
 */
int collector_serve_http(struct collector *c, const char *addr, struct error *err);

/**
 * Let collector_serve_http() listen on a non-loopback address (it refuses
 * one otherwise). Call before it.
 * @param c the collector
 * @param allow_public whether other machines may be served
 */
void collector_set_http_public(struct collector *c, bool allow_public);

/**
 * The address collector_serve_http() listens on, with the port it got.
 * @param c the collector
 * @return "HOST:PORT", owned by the collector; NULL when not serving.
 */
const char *collector_http_address(const struct collector *c);

struct buffer;

/**
 * Append the collector's metrics in Prometheus text format to @p out.
 * @param c the collector
 * @param out a buffer of the caller's
 * @return 0 or -ENOMEM.
 */
int collector_render_metrics(struct collector *c, struct buffer *out);

/**
 * Append the collector's status (collector, runners with their children,
 * sinks) as one JSON object to @p out, as /runners serves it.
 * @param c the collector
 * @param out a buffer of the caller's
 * @return 0 or -ENOMEM.
 */
int collector_render_status(struct collector *c, struct buffer *out);

/**
 * As collector_render_status(); unless @p detailed, without the collector's
 * pid and the runners' children (pids, states, CPU, RSS): the view for a
 * client that has not shown the control token.
 * @param c the collector
 * @param out a buffer of the caller's
 * @param detailed whether to include pids and children
 * @return 0 or -ENOMEM.
 */
int collector_render_status_view(struct collector *c, struct buffer *out, bool detailed);

/**
 * Append {"status":"ok|degraded|failing","reasons":[...]} to @p out, as
 * /healthz serves it.
 * @param c the collector
 * @param out a buffer of the caller's
 * @param health set to the health it reports
 * @return 0 or -ENOMEM.
 */
int collector_render_health(struct collector *c, struct buffer *out, int *health);

/**
 * Ask a running runner instance to do an operator's action (its
 * runner_ops.control), e.g. "reset-breaker" for the algorithm runner; the
 * HTTP endpoint serves it as `POST /runners/NAME/ACTION`.
 * @param c the collector
 * @param runner the instance's name
 * @param action the action, lower-case letters, digits, '-' and '_'
 * @param reply what the runner did, one JSON value, is appended here
 * @param err filled on failure
 * @return 0, or -ENOENT (no such runner), -EINVAL (not an action name),
 *         -ENOTSUP (the runner has no such action), -EAGAIN (not running),
 *         or the runner's own error.
 */
int collector_runner_action(struct collector *c, const char *runner, const char *action,
			    struct buffer *reply, struct error *err);

#endif
