/* The collector's, runners' and sinks' state, shared by the pipeline and its status reports. */
#ifndef COLLECTOR_PIPELINE_STATE_H
#define COLLECTOR_PIPELINE_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include <collector/buffer.h>
#include <collector/collector.h>
#include <collector/event_builder.h>
#include <collector/runner.h>
#include <collector/sink.h>

#include <collector/event_encoder.h>
#include <collector/event_view.h>

#include "event_queue.h"
#include "filter_expr.h"
#include "router.h"
#include "type_counts.h"

/* Upper bounds (seconds) of the sink batch latency histogram's buckets. */
#define FLUSH_BUCKETS 12
extern const double flush_bucket_bounds[FLUSH_BUCKETS];

/* Distinct error reasons counted per runner; more share the last slot. */
#define ERROR_REASONS 8

struct error_reason_count {
	const char *reason; /* a string literal of the runner's */
	uint64_t count;
};

struct sink_ctx {
	struct collector *c;
	int index;
	char *name;
	const struct sink_ops *ops;
	struct options *opts; /* lives as long as the instance, as a runner's */
	void *self;
	struct event_queue queue;
	bool waiting;		 /* write or flush said -EAGAIN; sink_ready() ends it */
	bool dirty;		 /* written since the last successful flush */
	bool reports_deliveries; /* sink_delivery_report() settles written events, not flush() */
	uint64_t in_flight;	 /* written, neither delivered nor failed yet */
	uint64_t delivered;
	uint64_t failed;
	uint64_t drops_reported;
	uint64_t failures_reported; /* failed events told in a collector.loss event */
	struct spool *spool;	    /* spool=DIR: events wait on disk until delivered */
	bool spool_blocks;	    /* spool-full=block: a full spool stops the runners */
	uint64_t spool_lost_seen;   /* corrupt and torn records already counted failed */
	uint64_t spool_dropped;	    /* what drop_oldest dropped, kept when the spool closes */
	uint64_t ticket;	    /* the next write's (sink_write_ticket()) */
	uint64_t delivered_seen;    /* delivered when no failure waited to be told */
	/* CLOCK_MONOTONIC (clock_mono_ns()), as they are subtracted */
	int64_t batch_start_ns;			   /* first write of the batch being flushed */
	int64_t waiting_since_ns;		   /* when write or flush last said -EAGAIN */
	int64_t last_loss_ns;			   /* when the sink last dropped or failed events */
	uint64_t flush_buckets[FLUSH_BUCKETS + 1]; /* the last one: +Inf */
	double flush_seconds;
	uint64_t flushes;
};

struct runner_ctx {
	struct collector *c;
	char *name;
	const struct runner_ops *ops;
	void *self;
	struct options *opts;
	uint64_t seq;
	sink_mask blocking; /* reachable sinks with the block policy */
	sink_mask spooled;  /* reachable sinks with a spool (spool_syncing() holds reads) */
	bool paused;
	bool started;
	bool finished;
	enum runner_status status;
	uint64_t emitted;
	uint64_t filtered; /* events --where kept from the sinks */
	uint64_t lost;	   /* events it could not build (out of memory) */
	uint64_t errors;
	struct error_reason_count error_reasons[ERROR_REASONS];
	enum runner_health health;
	char health_reason[160];
	int64_t started_ns;	  /* CLOCK_MONOTONIC */
	int64_t finished_ns;	  /* CLOCK_MONOTONIC */
	struct event_builder *eb; /* for collector.error data, made on first use */
};

struct collector {
	struct ev_loop *loop;
	struct sink_ctx *sinks[ROUTER_MAX_SINKS];
	int nsinks;
	sink_mask all_sinks;
	struct runner_ctx **runners;
	int nrunners;
	int running;
	struct router *router;
	struct runner_ctx self_ctx; /* the "collector" runner of loss events */
	ev_check drain;
	ev_idle spin;
	ev_async spool_synced; /* a spool's sync thread ended a sync: on_drain resumes the runners */
	ev_signal sig_int, sig_term, sig_hup, sig_usr1;
	ev_timer shutdown_timer;
	ev_timer loss_timer;
	ev_timer duration_timer;
	int64_t shutdown_timeout_ns;
	int64_t duration_ns;
	bool stopping; /* runners were asked to stop */
	bool ending;   /* no runner left: drain, flush, leave */
	bool timed_out;
	bool ended;  /* the loop is over: the sinks' last flushes run without it */
	bool forced; /* a stop signal after the loop: sinks cut their end waits */
	int signals;
	int64_t start_ns;      /* CLOCK_REALTIME, reported as the start time */
	int64_t start_mono_ns; /* the same moment on CLOCK_MONOTONIC, for uptime */
	struct http_endpoint *http;
	bool http_public;	   /* a non-loopback address allowed (--metrics-public) */
	void (*reload)(void *arg); /* SIGHUP, after the sinks reopened */
	void *reload_arg;
	struct collector_stats stats;
	struct node *node;	   /* collector_set_node(), or NULL */
	int64_t end_mono_ns;	   /* when the sinks were done (CLOCK_MONOTONIC), for the summary */
	struct type_counts *types; /* events per type, for the summary; NULL: not counted */
	struct filter_expr *filter; /* --where; NULL: every event */
	struct event_encoder *filter_enc;
	struct event_view filter_view;
};

/* Log a status dump (SIGUSR1). */
void collector_log_status(struct collector *c);

/* The collector's health; each reason appended to @reasons (may be NULL) NUL-terminated. */
enum runner_health collector_health(struct collector *c, struct buffer *reasons);

#endif
