/**
 * @file
 * Samples a runner or sink adds to the collector's metrics and status.
 *
 * The core calls a runner's or sink's metrics() callback on every scrape of
 * /metrics or /runners with a writer that already knows the instance: each
 * sample gets a `runner="NAME"` or `sink="NAME"` label. Samples of one name
 * from several instances are grouped into one Prometheus family.
 */
#ifndef COLLECTOR_METRICS_H
#define COLLECTOR_METRICS_H

#include <sys/types.h>

/** Where a metrics() callback writes its samples; owned by the core. */
struct metrics_writer;

/** Prometheus metric types. */
enum metric_kind {
	METRIC_COUNTER, /**< only grows; its name ends in _total */
	METRIC_GAUGE,	/**< goes up and down */
};

/**
 * Add one sample labelled with the instance.
 * @param w the writer passed to the callback
 * @param kind counter or gauge
 * @param name metric name, `[a-z_][a-z0-9_]*`, e.g. "collector_runner_restarts_total"
 * @param help one line for the family's HELP text (a static string)
 * @param value the sample
 */
void metrics_add(struct metrics_writer *w, enum metric_kind kind, const char *name,
		 const char *help, double value);

/**
 * Add one sample with one more label beside the instance's.
 * @param w the writer passed to the callback
 * @param kind counter or gauge
 * @param name metric name
 * @param help one line of HELP text (a static string)
 * @param label the extra label's name, e.g. "reason"
 * @param label_value its value (escaped by the writer)
 * @param value the sample
 */
void metrics_add_labeled(struct metrics_writer *w, enum metric_kind kind, const char *name,
			 const char *help, const char *label, const char *label_value,
			 double value);

/**
 * Report a child process of the instance: it is listed in /runners with
 * @p state, and its CPU time and RSS (read from /proc) become the samples
 * collector_runner_child_cpu_seconds_total and collector_runner_child_rss_bytes
 * (collector_sink_child_... for a sink), labelled with its pid.
 * @param w the writer passed to the callback
 * @param pid the child's process id
 * @param state a word for the child's state, e.g. "ready", "running", "exited"
 */
void metrics_add_child(struct metrics_writer *w, pid_t pid, const char *state);

#endif
