/* The summary of a run for a person, on stderr at its end: what came, what went where, what was lost. */
#include <stdio.h>

#include <collector/collector.h>

#include "pipeline_state.h"

static const char *exit_meaning(int code)
{
	switch (code) {
	case COLLECTOR_EXIT_OK:
		return "ok";
	case COLLECTOR_EXIT_FAILED:
		return "a runner failed";
	case COLLECTOR_EXIT_USAGE:
		return "usage or configuration error";
	case COLLECTOR_EXIT_LOSS:
		return "events were lost";
	default:
		return "unknown";
	}
}

static void write_types(const struct collector *c, FILE *f)
{
	const char *name;
	uint64_t n;

	for (int i = 0; c->types && (name = type_counts_at(c->types, i, &n)); i++)
		fprintf(f, "    %-32s %10llu\n", name, (unsigned long long)n);
}

static void write_sinks(const struct collector *c, FILE *f)
{
	fprintf(f, "  %-16s %-8s %10s %8s %8s %12s\n", "SINK", "TYPE", "DELIVERED", "FAILED",
		"DROPPED", "UNDELIVERED");
	for (int i = 0; i < c->nsinks; i++) {
		const struct sink_ctx *s = c->sinks[i];

		fprintf(f, "  %-16s %-8s %10llu %8llu %8llu %12llu\n", s->name, s->ops->name,
			(unsigned long long)s->delivered, (unsigned long long)s->failed,
			(unsigned long long)s->queue.stats.dropped_newest +
				(unsigned long long)s->queue.stats.dropped_oldest +
				(unsigned long long)s->spool_dropped,
			(unsigned long long)event_queue_len(&s->queue) + s->in_flight);
	}
}

static void write_runners(const struct collector *c, FILE *f)
{
	fprintf(f, "  %-16s %-10s %-9s %10s %8s %8s\n", "RUNNER", "TYPE", "OUTCOME", "EVENTS",
		"ERRORS", "LOST");
	for (int i = 0; i < c->nrunners; i++) {
		const struct runner_ctx *r = c->runners[i];

		fprintf(f, "  %-16s %-10s %-9s %10llu %8llu %8llu\n", r->name, r->ops->name,
			runner_status_name(r->status), (unsigned long long)r->emitted,
			(unsigned long long)r->errors, (unsigned long long)r->lost);
	}
}

void collector_write_summary(const struct collector *c, FILE *f, int exit_code)
{
	const struct collector_stats *st = &c->stats;
	int64_t end = c->end_mono_ns ? c->end_mono_ns : c->start_mono_ns;

	fprintf(f, "\nsummary: %.2f s, %llu events", (double)(end - c->start_mono_ns) / 1e9,
		(unsigned long long)st->emitted);
	if (c->filter)
		fprintf(f, " (%llu kept out by --where)", (unsigned long long)st->filtered);
	fprintf(f, "\n");
	write_types(c, f);
	write_sinks(c, f);
	if (st->dropped || st->failed || st->undelivered || st->lost)
		fprintf(f,
			"  losses: %llu dropped by full queues, %llu failed in sinks, %llu not "
			"delivered at the end, %llu not built (out of memory)\n",
			(unsigned long long)st->dropped, (unsigned long long)st->failed,
			(unsigned long long)st->undelivered, (unsigned long long)st->lost);
	else
		fprintf(f, "  losses: none\n");
	write_runners(c, f);
	fprintf(f, "  exit status %d: %s\n", exit_code, exit_meaning(exit_code));
}
