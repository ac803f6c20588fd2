/**
 * @file
 * Embedding the collector: build a pipeline of runners, routes and sinks, run it.
 */
#ifndef COLLECTOR_COLLECTOR_H
#define COLLECTOR_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

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
};

/**
 * Create an empty collector on @p loop (it must be libev's default loop when
 * runners watch children).
 * @return it, or NULL with @p err filled.
 */
struct collector *collector_new(struct ev_loop *loop, struct error *err);

/**
 * Add a sink instance named @p name of registered type @p type.
 * Takes ownership of @p opts (finished options for that sink type).
 * @return 0, or a negative code with @p err (the sink failed to open, ...).
 */
int collector_add_sink(struct collector *c, const char *name, const char *type,
		       struct options *opts, const struct queue_limits *limits, struct error *err);

/**
 * Add a runner instance; takes ownership of @p opts.
 * @return 0 or a negative code with @p err (bad options, unknown type).
 */
int collector_add_runner(struct collector *c, const char *name, const char *type,
			 struct options *opts, struct error *err);

/**
 * Route events of runner @p runner (NULL: any) whose type matches the glob
 * @p type_glob (NULL: any) to the @p nsinks sinks named in @p sinks.
 * Without any route every event goes to every sink.
 * @return 0, or -ENOENT naming an unknown sink.
 */
int collector_add_route(struct collector *c, const char *runner, const char *type_glob,
			char *const *sinks, int nsinks, struct error *err);

/** Stop gracefully after @p ns of running (0, the default: no limit). */
void collector_set_duration(struct collector *c, int64_t ns);

/** Bound the graceful shutdown (default 10 s). */
void collector_set_shutdown_timeout(struct collector *c, int64_t ns);

/**
 * Start every runner and run the loop until they have all finished (or a
 * stop was asked for) and the queues are drained and sinks flushed, or the
 * shutdown timeout passed. SIGINT and SIGTERM stop gracefully (a second one
 * stops at once), SIGHUP reopens sink files.
 * @return an enum collector_exit value.
 */
int collector_run(struct collector *c);

/** Ask a running collector to stop gracefully. */
void collector_stop(struct collector *c);

/** The totals so far. */
void collector_get_stats(const struct collector *c, struct collector_stats *out);

/** Destroy every runner and sink and free @p c; NULL is ignored. */
void collector_free(struct collector *c);

#endif
