/**
 * @file
 * The sink interface: a destination that receives routed events.
 */
#ifndef COLLECTOR_SINK_H
#define COLLECTOR_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include <collector/error.h>
#include <collector/event.h>
#include <collector/metrics.h>
#include <collector/options.h>

struct ev_loop;

/**
 * The options of a durable spool in front of a sink (docs/sinks.md,
 * "Spool"): put them at the end of a delivering sink's options table, before
 * its { 0 }. The core reads them; the sink never sees the spool.
 */
#define SINK_SPOOL_OPTIONS                                                                 \
	{ .name = "spool",                                                                 \
	  .type = OPT_STRING,                                                              \
	  .help = "directory of a durable spool: events wait there until delivered" },     \
		{ .name = "spool-size",                                                    \
		  .type = OPT_SIZE,                                                        \
		  .def = "1GiB",                                                           \
		  .help = "bytes the spool may take on disk" },                            \
		{ .name = "spool-full",                                                    \
		  .type = OPT_ENUM,                                                        \
		  .choices = "block|drop_oldest",                                          \
		  .def = "block",                                                          \
		  .help = "a full spool stops the runners, or drops its oldest segment" }, \
	{                                                                                  \
		.name = "spool-fsync", .type = OPT_ENUM, .choices = "none|batch|interval", \
		.def = "batch",                                                            \
		.help = "when spooled events reach the disk: never forced, every batch, "  \
			"once a second"                                                    \
	}

/** What the core gives a sink instance. Opaque. */
struct sink_ctx;

/**
 * A sink implementation, registered under @c name with registry_add_sink().
 *
 * The core pops events from the sink's bounded queue and calls write() for
 * each, then flush() at the end of a batch. A sink that cannot take more
 * returns -EAGAIN and calls sink_ready() once it can; the event stays queued.
 * An event counts as delivered once a flush() after its write() returned 0,
 * or, for a sink that called sink_reports_deliveries(), once the sink says so
 * with sink_delivery_report().
 * Every callback runs on the loop's thread; @c self is what create() returned.
 */
struct sink_ops {
	const char *name;		   /**< "stdout", "file", ... */
	const char *summary;		   /**< one line for `collector list` */
	const struct option_spec *options; /**< its options table */
	/**
	 * Name of the option a CLI spec's text after "NAME:" sets
	 * (`file:PATH` sets "path"), or NULL when the sink takes none.
	 */
	const char *spec_option;

	/**
	 * Build an instance (open files, connect). @p opts is owned by the
	 * core and lives as long as the instance, as a runner's.
	 * Returns the instance, or NULL with @p err filled.
	 */
	void *(*create)(struct sink_ctx *ctx, const struct options *opts, struct error *err);
	/**
	 * Take one event (borrowed: copy what must outlive the call, or
	 * event_ref() it). Returns 0 when taken, -EAGAIN when full (retry after
	 * sink_ready()), another negative code when the event failed for good.
	 */
	int (*write)(void *self, const struct event *ev);
	/**
	 * End of a batch: push buffered bytes out. Returns 0 when nothing is
	 * pending, -EAGAIN when output is still pending (sink_ready() follows),
	 * another negative code when the batch failed.
	 */
	int (*flush)(void *self);
	/** Reopen files (SIGHUP, logrotate). May be NULL. */
	void (*reopen)(void *self);
	/** Free everything; called after the last flush. */
	void (*destroy)(void *self);
	/**
	 * Add this instance's own samples (bytes written, retries, ...) on each
	 * scrape of /metrics. May be NULL.
	 */
	void (*metrics)(void *self, struct metrics_writer *w);
};

/**
 * The loop the sink must put its watchers on.
 * @param ctx the sink's context
 * @return the collector's libev loop.
 */
struct ev_loop *sink_loop(struct sink_ctx *ctx);

/**
 * The sink instance's name (for messages).
 * @param ctx the sink's context
 * @return the name, owned by the core, valid as long as the instance.
 */
const char *sink_name(const struct sink_ctx *ctx);

/**
 * Whether the sink's queue has the block policy: its runners wait rather than
 * lose events, so a sink may hold a batch through a passing failure (a full
 * disk) and retry it, instead of failing it.
 * @param ctx the sink's context
 * @return true under the block policy.
 */
bool sink_blocks(const struct sink_ctx *ctx);

/**
 * Whether the sink should give up its end waits now: after the loop has
 * ended, a SIGTERM or SIGINT (a second stop signal) cuts a sink's last flush
 * short; what is left is counted as not delivered. For destroy(), checked
 * between slices of a long wait.
 * @param ctx the sink's context
 * @return true once such a signal came after the loop.
 */
bool sink_stop_now(const struct sink_ctx *ctx);

/**
 * The sink can take events again (after -EAGAIN from write or flush).
 * @param ctx the sink's context
 */
void sink_ready(struct sink_ctx *ctx);

/**
 * Declare, from create(), that this sink settles its written events itself
 * with sink_delivery_report() (for example on a broker's acknowledgement):
 * flush() then only pushes them on, and they stay in flight, neither
 * delivered nor failed, for as long as the sink keeps them; the end of a run
 * waits for them up to the shutdown timeout. Without it flush() settles every
 * event written before it.
 * @param ctx the sink's context
 */
void sink_reports_deliveries(struct sink_ctx *ctx);

/**
 * The ticket of the event being written: valid inside write() only. A sink
 * whose deliveries complete out of order (several partitions or requests in
 * flight) passes it back to sink_delivery_settle() for that one event, so a
 * spool acknowledges exactly the events delivered.
 * @param ctx the sink's context
 * @return the ticket.
 */
uint64_t sink_write_ticket(const struct sink_ctx *ctx);

/**
 * One event written earlier has settled (for a sink that called
 * sink_reports_deliveries()), in any order: the same as
 * sink_delivery_report() with a count of one, for that very event.
 * @param ctx the sink's context
 * @param ticket what sink_write_ticket() said while it was written
 * @param delivered true when delivered, false when lost for good
 */
void sink_delivery_settle(struct sink_ctx *ctx, uint64_t ticket, bool delivered);

/**
 * Events written earlier have settled: @p delivered reached their destination,
 * @p failed are lost for good (both counted). Only for a sink that called
 * sink_reports_deliveries(); reports beyond what is in flight are ignored.
 * @param ctx the sink's context
 * @param delivered how many were delivered
 * @param failed how many failed
 */
void sink_delivery_report(struct sink_ctx *ctx, uint64_t delivered, uint64_t failed);

/**
 * Events this sink reported delivered were lost after all: a reader that took
 * them and then failed (a pipe command that read lines and exited non-zero).
 * They are counted failed (the delivered count stays: counters only grow),
 * told in a `collector.loss` event once the sink delivers again, and the run
 * exits 3.
 * @param ctx the sink's context
 * @param events how many were lost
 */
void sink_report_lost(struct sink_ctx *ctx, uint64_t events);

/**
 * Report a failure of the sink: logged as "sink NAME: message".
 * @param ctx the sink's context
 * @param fmt printf format of the message, followed by its arguments
 */
void sink_report_error(struct sink_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
