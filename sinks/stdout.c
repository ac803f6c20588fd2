/* The stdout sink: JSON lines, or the readable per-type tables with --pretty. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include <collector/event_encoder.h>
#include <collector/event_view.h>
#include <collector/fd_writer.h>
#include <collector/render.h>
#include <collector/sink.h>

#define STDOUT_HIGH_WATER ((size_t)256 * 1024)

struct stdout_sink {
	struct sink_ctx *ctx;
	struct fd_writer out;
	struct event_encoder *enc;
	ev_io writable;
	int saved_flags;	 /* fd flags to restore, or -1 */
	struct renderer *pretty; /* NULL: JSON lines */
	struct event_view view;
	/* Pretty view: header lines are no events. Their line numbers on stdout
	 * (in order, uint64_t each) are taken off the lines written whole. */
	struct buffer header_lines;
	uint64_t lines_buffered; /* newlines put in the buffer in all */
	uint64_t hidden;	 /* events the view hides (forks), delivered at the next flush */
	bool broken;		 /* the reader went away */
	uint64_t buffered;	 /* events in the buffer, not yet whole on stdout */
};

static const struct option_spec stdout_options[] = {
	{ .name = "pretty",
	  .type = OPT_BOOL,
	  .def = "false",
	  .cli_global = true,
	  .help = "readable tables instead of JSON, one per kind of event, fitted to the terminal "
		  "(coloured on a terminal)" },
	{ .name = "forks",
	  .type = OPT_BOOL,
	  .def = "false",
	  .cli_global = true,
	  .help = "show process.fork rows in the --pretty view (hidden by default)" },
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
	if (options_bool(opts, "pretty")) {
		struct render_opts ro = {
			.color = strcmp(color, "always") == 0 ||
				 (strcmp(color, "auto") == 0 && isatty(STDOUT_FILENO)),
			.forks = options_bool(opts, "forks"),
			.width = render_terminal_width(STDOUT_FILENO),
		};

		if (!(s->pretty = renderer_new(&ro))) {
			event_encoder_free(s->enc);
			free(s);
			error_set(err, ENOMEM, "out of memory");
			return NULL;
		}
	}
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

/* The readable row of @p ev; a hidden event (a fork) is delivered at the next flush. */
static int pretty_row(struct stdout_sink *s, const struct event *ev)
{
	struct error err = { 0 };
	int headers;

	if (event_view_from_event(&s->view, s->enc, ev, &err) < 0)
		return -ENOMEM;
	headers = renderer_row(s->pretty, &s->view, &s->out.buf);
	event_view_clear(&s->view);
	if (headers == -1) {
		/* Not from within write(): the core counts the event in flight after it. */
		s->hidden++;
		return 1;
	}
	if (headers < 0)
		return headers;
	for (int i = 0; i < headers; i++) {
		uint64_t line = ++s->lines_buffered;

		buffer_append(&s->header_lines, &line, sizeof(line));
	}
	s->lines_buffered++;
	return 0;
}

/* Header lines among the first @p lines written: they are not events. */
static uint64_t headers_written(struct stdout_sink *s, uint64_t lines)
{
	uint64_t n = 0, line;

	while (s->header_lines.len >= (n + 1) * sizeof(line)) {
		memcpy(&line, s->header_lines.data + n * sizeof(line), sizeof(line));
		if (line > lines)
			break;
		n++;
	}
	buffer_consume(&s->header_lines, n * sizeof(line));
	return n;
}

/* The events whose lines went out whole since the last report are delivered. */
static void report_lines(struct stdout_sink *s, uint64_t lines_before)
{
	uint64_t done = s->out.lines - lines_before;

	done -= headers_written(s, s->out.lines);
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
	if (s->pretty) {
		rc = pretty_row(s, ev);
		if (rc != 0)
			return rc < 0 ? rc : 0;
	} else if ((rc = event_encoder_write(s->enc, ev, &s->out.buf)) < 0) {
		return rc;
	}
	s->buffered++;
	return 0;
}

/* Events the view hides are delivered: there is nothing of them to write. */
static void report_hidden(struct stdout_sink *s)
{
	if (s->hidden)
		sink_delivery_report(s->ctx, s->hidden, 0);
	s->hidden = 0;
}

static int stdout_flush(void *self)
{
	struct stdout_sink *s = self;

	report_hidden(s);
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
	report_hidden(s);
	if (s->saved_flags >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, s->saved_flags);
	fd_writer_free(&s->out);
	event_encoder_free(s->enc);
	renderer_free(s->pretty);
	event_view_free(&s->view);
	buffer_free(&s->header_lines);
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
