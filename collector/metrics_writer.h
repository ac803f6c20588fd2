/* The core's side of struct metrics_writer: scopes, histograms, Prometheus text. */
#ifndef COLLECTOR_METRICS_WRITER_H
#define COLLECTOR_METRICS_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <collector/buffer.h>
#include <collector/metrics.h>

#define METRIC_HISTOGRAM 2

struct metrics_sample {
	const char *family;
	const char *suffix; /* "", "_bucket", "_sum", "_count" */
	const char *help;
	int kind;
	char labels[256];
	double value;
	size_t order;
};

struct metrics_child {
	char owner[64]; /* the scope's label value */
	pid_t pid;
	char state[32];
	bool measured; /* /proc could be read */
	double cpu_seconds;
	uint64_t rss_bytes;
};

struct metrics_writer {
	struct metrics_sample *samples;
	size_t nsamples, cap;
	struct metrics_child *children;
	size_t nchildren, cap_children;
	const char *scope_label; /* "runner", "sink" or NULL */
	const char *scope_value;
	bool out_of_memory;
};

void metrics_writer_init(struct metrics_writer *w);
void metrics_writer_free(struct metrics_writer *w);

/* Label every following sample with label="value"; NULL for none. */
void metrics_writer_scope(struct metrics_writer *w, const char *label, const char *value);

/* A histogram from per-bucket (not cumulative) counts; counts[n] is +Inf's. */
void metrics_add_histogram(struct metrics_writer *w, const char *name, const char *help,
			   const double *bounds, const uint64_t *counts, size_t n, double sum);

/* The samples in Prometheus text format 0.0.4, grouped by family. @return 0 or -ENOMEM. */
int metrics_render(struct metrics_writer *w, struct buffer *out);

/* CPU seconds (user + system) and resident bytes of @pid from /proc. @return 0 or -errno. */
int proc_usage(pid_t pid, double *cpu_seconds, uint64_t *rss_bytes);

#endif
