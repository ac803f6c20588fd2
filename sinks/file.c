/* The file sink: appends whole JSON lines to a file, with an fsync policy. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <collector/event_encoder.h>
#include <collector/fd_writer.h>
#include <collector/log.h>
#include <collector/sink.h>

#define FILE_HIGH_WATER ((size_t)256 * 1024)

enum fsync_policy { FSYNC_NEVER, FSYNC_BATCH, FSYNC_INTERVAL };

struct file_sink {
	struct sink_ctx *ctx;
	char *path;
	struct fd_writer out;
	struct event_encoder *enc;
	off_t size;	   /* bytes of whole lines in the file */
	off_t batch_start; /* size when the current batch began */
	enum fsync_policy fsync;
	int64_t fsync_interval_ns;
	int64_t last_sync_ns;
};

static const struct option_spec file_options[] = {
	{ .name = "path",
	  .type = OPT_STRING,
	  .required = true,
	  .help = "file to append to (created with mode 0640)" },
	{ .name = "fsync",
	  .type = OPT_ENUM,
	  .def = "never",
	  .choices = "never|batch|interval",
	  .help = "when to fdatasync: never (page cache), after every batch, or every "
		  "fsync-interval" },
	{ .name = "fsync-interval",
	  .type = OPT_DURATION,
	  .def = "1s",
	  .help = "period of the interval fsync policy" },
	{ 0 },
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A crash may have left half a line at the end: cut back to the last '\n'. */
static int cut_torn_tail(struct file_sink *s, struct error *err)
{
	char buf[4096];
	off_t end = lseek(s->out.fd, 0, SEEK_END), pos = end;

	while (pos > 0) {
		size_t n = pos < (off_t)sizeof(buf) ? (size_t)pos : sizeof(buf);
		ssize_t got = pread(s->out.fd, buf, n, pos - (off_t)n);

		if (got != (ssize_t)n)
			return error_set(err, errno ? errno : EIO, "read %s: %s", s->path,
					 strerror(errno));
		for (size_t i = n; i > 0; i--) {
			if (buf[i - 1] == '\n') {
				pos = pos - (off_t)n + (off_t)i;
				goto found;
			}
		}
		pos -= (off_t)n;
	}
found:
	if (pos < end) {
		if (ftruncate(s->out.fd, pos) < 0)
			return error_set(err, errno, "truncate %s: %s", s->path, strerror(errno));
		log_warn("file %s: cut a torn last line of %lld bytes", s->path,
			 (long long)(end - pos));
	}
	s->size = s->batch_start = pos;
	return 0;
}

static int open_file(struct file_sink *s, struct error *err)
{
	/* Read access lets a torn tail be found. */
	int fd = open(s->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

	if (fd < 0)
		return error_set(err, errno, "open %s: %s", s->path, strerror(errno));
	s->out.fd = fd;
	if (cut_torn_tail(s, err) < 0) {
		close(fd);
		s->out.fd = -1;
		return -err->code;
	}
	return 0;
}

static void *file_create(struct sink_ctx *ctx, const struct options *opts, struct error *err)
{
	const char *path = options_str(opts, "path");
	const char *fs = options_str(opts, "fsync");
	struct file_sink *s;

	if (!path || !*path) {
		error_set(err, EINVAL, "file sink needs a path (file:PATH)");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path)) || !(s->enc = event_encoder_new())) {
		if (s)
			free(s->path);
		free(s);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	s->ctx = ctx;
	s->fsync = strcmp(fs, "batch") == 0    ? FSYNC_BATCH :
		   strcmp(fs, "interval") == 0 ? FSYNC_INTERVAL :
						 FSYNC_NEVER;
	s->fsync_interval_ns = options_int(opts, "fsync-interval");
	fd_writer_init(&s->out, -1, FILE_HIGH_WATER);
	if (open_file(s, err) < 0) {
		event_encoder_free(s->enc);
		free(s->path);
		free(s);
		return NULL;
	}
	return s;
}

/*
 * Write the buffer. On failure the whole batch is taken back out of the file
 * (the core counts its events as failed), so the file keeps only whole lines.
 */
static int push(struct file_sink *s)
{
	size_t pending = s->out.buf.len;
	int rc = fd_writer_flush(&s->out);

	if (rc == 0) {
		s->size += (off_t)pending;
		return 0;
	}
	sink_report_error(s->ctx, "write %s: %s", s->path, strerror(-rc));
	if (ftruncate(s->out.fd, s->batch_start) < 0)
		sink_report_error(s->ctx, "truncate %s: %s", s->path, strerror(errno));
	s->size = s->batch_start;
	s->out.buf.len = 0;
	return rc;
}

static int file_write(void *self, const struct event *ev)
{
	struct file_sink *s = self;

	if (fd_writer_full(&s->out)) {
		int rc = push(s);

		if (rc < 0)
			return rc;
	}
	return event_encoder_write(s->enc, ev, &s->out.buf);
}

static int file_flush(void *self)
{
	struct file_sink *s = self;
	int rc = push(s);

	if (rc < 0)
		return rc;
	if (s->fsync == FSYNC_BATCH ||
	    (s->fsync == FSYNC_INTERVAL && now_ns() - s->last_sync_ns >= s->fsync_interval_ns)) {
		if (fdatasync(s->out.fd) < 0) {
			sink_report_error(s->ctx, "fdatasync %s: %s", s->path, strerror(errno));
			return -errno;
		}
		s->last_sync_ns = now_ns();
	}
	s->batch_start = s->size;
	return 0;
}

static void file_reopen(void *self)
{
	struct file_sink *s = self;
	struct error err = { 0 };
	int old = s->out.fd;

	push(s);
	if (open_file(s, &err) < 0) {
		sink_report_error(s->ctx, "reopen: %s (keeping the old file)", err.msg);
		s->out.fd = old;
		return;
	}
	close(old);
}

static void file_destroy(void *self)
{
	struct file_sink *s = self;

	if (s->out.buf.len)
		push(s);
	if (s->out.fd >= 0)
		close(s->out.fd);
	fd_writer_free(&s->out);
	event_encoder_free(s->enc);
	free(s->path);
	free(s);
}

const struct sink_ops file_sink_ops = {
	.name = "file",
	.summary = "appends JSON lines to a file (file:PATH)",
	.options = file_options,
	.spec_option = "path",
	.create = file_create,
	.write = file_write,
	.flush = file_flush,
	.reopen = file_reopen,
	.destroy = file_destroy,
};
