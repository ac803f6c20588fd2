/**
 * @file
 * The sink interface: a destination that receives routed events.
 */
#ifndef COLLECTOR_SINK_H
#define COLLECTOR_SINK_H

#include <stdbool.h>

#include <collector/error.h>
#include <collector/event.h>
#include <collector/options.h>

struct ev_loop;

/** What the core gives a sink. */
struct sink_ctx;

/**
 * A sink implementation, registered under @c name.
 *
 * The core pops events from the sink's bounded queue and calls write() for
 * each, then flush() at the end of a batch. A sink that cannot take more
 * returns -EAGAIN and calls sink_ready() once it can; the event stays queued.
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

	/** Build an instance. @return it, or NULL with @p err filled. */
	void *(*create)(struct sink_ctx *ctx, const struct options *opts, struct error *err);
	/**
	 * Take one event (borrowed: copy what must outlive the call).
	 * @return 0 when taken, -EAGAIN when full (retry after sink_ready()),
	 *         another negative code when the event failed for good.
	 */
	int (*write)(void *self, const struct event *ev);
	/**
	 * End of a batch: push buffered bytes out.
	 * @return 0 when nothing is pending, -EAGAIN when output is still
	 *         pending (sink_ready() follows), another negative code on error.
	 */
	int (*flush)(void *self);
	/** Reopen files (SIGHUP, logrotate). May be NULL. */
	void (*reopen)(void *self);
	/** Free everything; called after the last flush. */
	void (*destroy)(void *self);
};

/** The loop the sink must put its watchers on. */
struct ev_loop *sink_loop(struct sink_ctx *ctx);

/** The sink instance's name (for messages). */
const char *sink_name(const struct sink_ctx *ctx);

/** The sink can take events again (after -EAGAIN from write or flush). */
void sink_ready(struct sink_ctx *ctx);

/** Report a failure of the sink (logged and counted). */
void sink_report_error(struct sink_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
