/* Metric samples gathered per scrape and rendered in Prometheus text format. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics_writer.h"

void metrics_writer_init(struct metrics_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void metrics_writer_free(struct metrics_writer *w)
{
	free(w->samples);
	free(w->children);
	memset(w, 0, sizeof(*w));
}

void metrics_writer_scope(struct metrics_writer *w, const char *label, const char *value)
{
	w->scope_label = label;
	w->scope_value = value;
}

/* Append name="value" to @labels, escaping as the text format asks. */
static void append_label(char *labels, size_t size, const char *name, const char *value)
{
	size_t len = strlen(labels);

	if (!value)
		value = "";
	if (len + 4 >= size)
		return;
	len += (size_t)snprintf(labels + len, size - len, "%s%s=\"", len ? "," : "", name);
	for (const char *p = value; *p && len + 4 < size; p++) {
		if (*p == '\\' || *p == '"') {
			labels[len++] = '\\';
			labels[len++] = *p;
		} else if (*p == '\n') {
			labels[len++] = '\\';
			labels[len++] = 'n';
		} else {
			labels[len++] = *p;
		}
	}
	if (len + 1 < size)
		labels[len++] = '"';
	labels[len] = '\0';
}

static struct metrics_sample *new_sample(struct metrics_writer *w, int kind, const char *family,
					 const char *suffix, const char *help, double value)
{
	struct metrics_sample *s;

	if (w->nsamples == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct metrics_sample *grown = realloc(w->samples, cap * sizeof(*grown));

		if (!grown) {
			w->out_of_memory = true;
			return NULL;
		}
		w->samples = grown;
		w->cap = cap;
	}
	s = &w->samples[w->nsamples];
	*s = (struct metrics_sample){ .family = family,
				      .suffix = suffix,
				      .help = help,
				      .kind = kind,
				      .value = value,
				      .order = w->nsamples };
	if (w->scope_label)
		append_label(s->labels, sizeof(s->labels), w->scope_label, w->scope_value);
	w->nsamples++;
	return s;
}

void metrics_add(struct metrics_writer *w, enum metric_kind kind, const char *name,
		 const char *help, double value)
{
	new_sample(w, kind, name, "", help, value);
}

void metrics_add_labeled(struct metrics_writer *w, enum metric_kind kind, const char *name,
			 const char *help, const char *label, const char *label_value, double value)
{
	struct metrics_sample *s = new_sample(w, kind, name, "", help, value);

	if (s)
		append_label(s->labels, sizeof(s->labels), label, label_value);
}

void metrics_add_histogram(struct metrics_writer *w, const char *name, const char *help,
			   const double *bounds, const uint64_t *counts, size_t n, double sum)
{
	uint64_t cumulative = 0;
	char le[32];

	for (size_t i = 0; i <= n; i++) {
		struct metrics_sample *s;

		cumulative += counts[i];
		s = new_sample(w, METRIC_HISTOGRAM, name, "_bucket", help, (double)cumulative);
		if (!s)
			return;
		if (i < n)
			snprintf(le, sizeof(le), "%g", bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		append_label(s->labels, sizeof(s->labels), "le", le);
	}
	new_sample(w, METRIC_HISTOGRAM, name, "_sum", help, sum);
	new_sample(w, METRIC_HISTOGRAM, name, "_count", help, (double)cumulative);
}

int proc_usage(pid_t pid, double *cpu_seconds, uint64_t *rss_bytes)
{
	char path[64], buf[1024];
	unsigned long long field[25] = { 0 };
	char *p, *save = NULL, *tok;
	FILE *f;
	int n = 3;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!p)
		return -EINVAL;
	/* After "pid (comm)", whose comm may hold spaces: state is field 3, then numbers. */
	for (tok = strtok_r(p + 1, " ", &save); tok && n < 25;
	     tok = strtok_r(NULL, " ", &save), n++)
		if (n > 3)
			field[n] = strtoull(tok, NULL, 10);
	if (n < 25)
		return -EINVAL;
	/* utime is field 14, stime 15, rss (pages) 24. */
	*cpu_seconds = (double)(field[14] + field[15]) / (double)sysconf(_SC_CLK_TCK);
	*rss_bytes = field[24] * (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}

void metrics_add_child(struct metrics_writer *w, pid_t pid, const char *state)
{
	struct metrics_child *c;
	struct metrics_sample *s;
	char pid_text[16];
	bool sink;

	if (w->nchildren == w->cap_children) {
		size_t cap = w->cap_children ? w->cap_children * 2 : 8;
		struct metrics_child *grown = realloc(w->children, cap * sizeof(*grown));

		if (!grown) {
			w->out_of_memory = true;
			return;
		}
		w->children = grown;
		w->cap_children = cap;
	}
	c = &w->children[w->nchildren++];
	memset(c, 0, sizeof(*c));
	snprintf(c->owner, sizeof(c->owner), "%s", w->scope_value ? w->scope_value : "");
	c->pid = pid;
	snprintf(c->state, sizeof(c->state), "%s", state);
	c->measured = proc_usage(pid, &c->cpu_seconds, &c->rss_bytes) == 0;
	if (!c->measured)
		return;
	snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
	sink = w->scope_label && strcmp(w->scope_label, "sink") == 0;
	s = new_sample(w, METRIC_COUNTER,
		       sink ? "collector_sink_child_cpu_seconds_total" :
			      "collector_runner_child_cpu_seconds_total",
		       "", "CPU time (user and system) of a child process", c->cpu_seconds);
	if (s)
		append_label(s->labels, sizeof(s->labels), "pid", pid_text);
	s = new_sample(w, METRIC_GAUGE,
		       sink ? "collector_sink_child_rss_bytes" : "collector_runner_child_rss_bytes",
		       "", "resident memory of a child process", (double)c->rss_bytes);
	if (s)
		append_label(s->labels, sizeof(s->labels), "pid", pid_text);
}

static int by_family(const void *a, const void *b)
{
	const struct metrics_sample *x = a, *y = b;
	int c = strcmp(x->family, y->family);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static const char *kind_name(int kind)
{
	return kind == METRIC_COUNTER ? "counter" : kind == METRIC_GAUGE ? "gauge" : "histogram";
}

int metrics_render(struct metrics_writer *w, struct buffer *out)
{
	char line[512];

	if (w->out_of_memory)
		return -ENOMEM;
	qsort(w->samples, w->nsamples, sizeof(*w->samples), by_family);
	for (size_t i = 0; i < w->nsamples; i++) {
		const struct metrics_sample *s = &w->samples[i];
		int n;

		if (i == 0 || strcmp(s->family, w->samples[i - 1].family) != 0) {
			n = snprintf(line, sizeof(line), "# HELP %s %s\n# TYPE %s %s\n", s->family,
				     s->help, s->family, kind_name(s->kind));
			if (buffer_append(out, line, (size_t)n) < 0)
				return -ENOMEM;
		}
		n = snprintf(line, sizeof(line), "%s%s%s%s%s %.16g\n", s->family, s->suffix,
			     s->labels[0] ? "{" : "", s->labels, s->labels[0] ? "}" : "", s->value);
		if (n >= (int)sizeof(line))
			n = (int)sizeof(line) - 1;
		if (buffer_append(out, line, (size_t)n) < 0)
			return -ENOMEM;
	}
	return 0;
}
