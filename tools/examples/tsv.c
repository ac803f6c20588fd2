/* An example sink plugin: appends each event's type, seq and runner as a tab-separated line. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include <collector/fd_writer.h>
#include <collector/registry.h>

/* Buffer up to this much before pushing it out in the middle of a batch. */
#define TSV_HIGH_WATER ((size_t)64 * 1024)

struct tsv {
	struct sink_ctx *ctx;
	struct fd_writer out; /* its buffer; the fd in it is ours to close */
	ev_io writable;	      /* on while a FIFO reader is behind */
};

static const struct option_spec tsv_options[] = {
	{ .name = "path",
	  .type = OPT_STRING,
	  .required = true,
	  .help = "file or FIFO to append to (a file is created with mode 0640)" },
	{ 0 },
};

static void on_writable(struct ev_loop *loop, ev_io *w, int revents);

static void *tsv_create(struct sink_ctx *ctx, const struct options *opts, struct error *err)
{
	const char *path = options_str(opts, "path");
	struct tsv *t;
	int fd;

	/* Non-blocking: a FIFO whose reader is slow must not stall the loop. */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_CLOEXEC, 0640);
	if (fd < 0) {
		error_set(err, errno, "open %s: %s", path,
			  errno == ENXIO ? "a FIFO with no reader" : strerror(errno));
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	t->ctx = ctx;
	fd_writer_init(&t->out, fd, TSV_HIGH_WATER);
	ev_io_init(&t->writable, on_writable, fd, EV_WRITE);
	t->writable.data = t;
	return t;
}

/* Write the buffer out; when the fd is full, wait until it is writable again. */
static int push(struct tsv *t)
{
	int rc = fd_writer_flush(&t->out);

	if (rc == -EAGAIN) {
		ev_io_start(sink_loop(t->ctx), &t->writable);
		return rc;
	}
	if (rc < 0) {
		sink_report_error(t->ctx, "write: %s", strerror(-rc));
		t->out.buf.len = 0; /* the core counts the batch as failed */
	}
	return rc;
}

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tsv *t = w->data;

	(void)revents;
	if (push(t) == -EAGAIN)
		return;
	ev_io_stop(loop, w);
	sink_ready(t->ctx);
}

static int tsv_write(void *self, const struct event *ev)
{
	struct tsv *t = self;
	char line[EVENT_TYPE_MAX + EVENT_RUNNER_MAX + 32];
	int n;

	if (fd_writer_full(&t->out)) {
		int rc = push(t);

		/* -EAGAIN: this event stays queued; the core retries it after sink_ready(). */
		if (rc < 0)
			return rc;
	}
	n = snprintf(line, sizeof(line), "%.*s\t%" PRIu64 "\t%.*s\n", (int)ev->type.len,
		     ev->type.ptr, ev->seq, (int)ev->runner.len, ev->runner.ptr);
	return buffer_append(&t->out.buf, line, (size_t)n);
}

static int tsv_flush(void *self)
{
	struct tsv *t = self;

	return t->out.buf.len ? push(t) : 0;
}

static void tsv_destroy(void *self)
{
	struct tsv *t = self;

	ev_io_stop(sink_loop(t->ctx), &t->writable);
	/* A forced stop may leave bytes unwritten: at least end on a whole line. */
	if (t->out.mid_line && fd_writer_finish_line(&t->out, 1000) < 0)
		sink_report_error(t->ctx, "the output ends inside a line");
	close(t->out.fd);
	fd_writer_free(&t->out);
	free(t);
}

static const struct sink_ops tsv_ops = {
	.name = "tsv",
	.summary = "example plugin: type, seq and runner of each event as tab-separated lines",
	.options = tsv_options,
	.spec_option = "path",
	.create = tsv_create,
	.write = tsv_write,
	.flush = tsv_flush,
	.destroy = tsv_destroy,
};

const int collector_plugin_abi = COLLECTOR_PLUGIN_ABI;

int collector_plugin_init(struct error *err)
{
	return registry_add_sink(&tsv_ops, err);
}
