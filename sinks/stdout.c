/* The stdout sink: JSON lines, or a readable colour view with --pretty. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include <collector/event_encoder.h>
#include <collector/fd_writer.h>
#include <collector/sink.h>

#define STDOUT_HIGH_WATER ((size_t)256 * 1024)

struct stdout_sink {
	struct sink_ctx *ctx;
	struct fd_writer out;
	struct event_encoder *enc;
	ev_io writable;
	int saved_flags; /* fd flags to restore, or -1 */
	bool pretty;
	bool color;
	bool broken;	   /* the reader went away */
	uint64_t buffered; /* events in the buffer, not yet whole on stdout */
};

static const struct option_spec stdout_options[] = {
	{ .name = "pretty",
	  .type = OPT_BOOL,
	  .def = "false",
	  .cli_global = true,
	  .help = "readable one-line view instead of JSON (coloured on a terminal)" },
	{ .name = "color",
	  .type = OPT_ENUM,
	  .def = "auto",
	  .choices = "auto|always|never",
	  .help = "colours in the pretty view" },
	{ 0 },
};

static void on_writable(struct ev_loop *loop, ev_io *w, int revents);

static void *stdout_create(struct sink_ctx *ctx, const struct options *opts, struct error *err)
{
	struct stdout_sink *s = calloc(1, sizeof(*s));
	const char *color = options_str(opts, "color");
	struct stat st;

	if (!s || !(s->enc = event_encoder_new())) {
		free(s);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	s->ctx = ctx;
	s->pretty = options_bool(opts, "pretty");
	s->color = strcmp(color, "always") == 0 || (strcmp(color, "auto") == 0 && isatty(1));
	fd_writer_init(&s->out, STDOUT_FILENO, STDOUT_HIGH_WATER);
	/* An event is delivered once its line is whole on stdout: a reader that
	 * leaves (head -1) makes only the lines it did not get a loss. */
	s->out.count_lines = true;
	sink_reports_deliveries(ctx);
	s->saved_flags = -1;
	/* A pipe reader may be slow: never block the loop on it. A terminal or
	 * file shares its flags with other processes, so those stay blocking. */
	if (fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		s->saved_flags = fcntl(STDOUT_FILENO, F_GETFL);
		if (s->saved_flags >= 0)
			fcntl(STDOUT_FILENO, F_SETFL, s->saved_flags | O_NONBLOCK);
	}
	ev_io_init(&s->writable, on_writable, STDOUT_FILENO, EV_WRITE);
	s->writable.data = s;
	return s;
}

static void pretty_line(struct stdout_sink *s, const struct event *ev, struct buffer *b)
{
	time_t sec = (time_t)(ev->ts_ns / 1000000000);
	const char *dim = s->color ? "\033[2m" : "", *bold = s->color ? "\033[1;36m" : "";
	const char *reset = s->color ? "\033[0m" : "";
	char head[512];
	struct tm tm;
	int n;

	if (span_eq(ev->type, "collector.error") || span_eq(ev->type, "collector.loss"))
		bold = s->color ? "\033[1;31m" : "";
	localtime_r(&sec, &tm);
	n = snprintf(head, sizeof(head), "%s%02d:%02d:%02d.%03d%s %s%.*s%s %s%.*s", dim, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, (int)(ev->ts_ns % 1000000000 / 1000000), reset, bold,
		     (int)ev->type.len, ev->type.ptr, reset, dim, (int)ev->runner.len,
		     ev->runner.ptr);
	if (ev->flags & EVENT_HAS_PID)
		n += snprintf(head + n, sizeof(head) - (size_t)n, " pid=%d", ev->pid);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "%s ", reset);
	buffer_append(b, head, (size_t)n);
	buffer_append(b, ev->data.ptr, ev->data.len);
	buffer_append(b, "\n", 1);
}

/* The events whose lines went out whole since the last report are delivered. */
static void report_lines(struct stdout_sink *s, uint64_t lines_before)
{
	uint64_t done = s->out.lines - lines_before;

	s->buffered -= done;
	if (done)
		sink_delivery_report(s->ctx, done, 0);
}

/* Push bytes out; on a full pipe wait for it to drain. */
static int push(struct stdout_sink *s)
{
	uint64_t lines = s->out.lines;
	int rc = fd_writer_flush(&s->out);

	report_lines(s, lines);
	if (rc == -EAGAIN) {
		ev_io_start(sink_loop(s->ctx), &s->writable);
		return -EAGAIN;
	}
	if (rc < 0) {
		sink_report_error(s->ctx,
				  "write to stdout: %s (%llu events written whole, %llu more lost)",
				  strerror(-rc), (unsigned long long)s->out.lines,
				  (unsigned long long)s->buffered);
		sink_delivery_report(s->ctx, 0, s->buffered);
		s->buffered = 0;
		s->broken = true;
		s->out.buf.len = 0;
	}
	return rc;
}

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct stdout_sink *s = w->data;

	(void)revents;
	if (push(s) == -EAGAIN)
		return;
	ev_io_stop(loop, w);
	sink_ready(s->ctx);
}

static int stdout_write(void *self, const struct event *ev)
{
	struct stdout_sink *s = self;

	int rc;

	if (s->broken)
		return -EPIPE;
	if (fd_writer_full(&s->out) && (rc = push(s)) < 0)
		return rc;
	if (s->pretty)
		pretty_line(s, ev, &s->out.buf);
	else if ((rc = event_encoder_write(s->enc, ev, &s->out.buf)) < 0)
		return rc;
	s->buffered++;
	return 0;
}

static int stdout_flush(void *self)
{
	struct stdout_sink *s = self;

	/* A broken stdout already counted its events failed, each once. */
	if (s->broken)
		return 0;
	return s->out.buf.len ? push(s) : 0;
}

static void stdout_destroy(void *self)
{
	struct stdout_sink *s = self;

	uint64_t lines = s->out.lines;

	ev_io_stop(sink_loop(s->ctx), &s->writable);
	/* Leaving with bytes unwritten (a forced stop): at least end on a whole line. */
	if (s->out.mid_line && !s->broken && fd_writer_finish_line(&s->out, 1000) < 0)
		sink_report_error(s->ctx, "stdout ends inside a line: the reader did not take it");
	report_lines(s, lines);
	if (s->saved_flags >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, s->saved_flags);
	fd_writer_free(&s->out);
	event_encoder_free(s->enc);
	free(s);
}

static void stdout_metrics(void *self, struct metrics_writer *w)
{
	struct stdout_sink *s = self;

	metrics_add(w, METRIC_COUNTER, "collector_sink_bytes_written_total",
		    "bytes the sink wrote to its output", (double)s->out.written);
}

const struct sink_ops stdout_sink_ops = {
	.name = "stdout",
	.summary = "JSON lines on standard output (--pretty for a readable view)",
	.options = stdout_options,
	.create = stdout_create,
	.write = stdout_write,
	.flush = stdout_flush,
	.destroy = stdout_destroy,
	.metrics = stdout_metrics,
};
