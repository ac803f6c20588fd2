/* The file sink: appends whole JSON lines to a file, rotating, compressing and pruning it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include <collector/clock.h>
#include <collector/event_encoder.h>
#include <collector/fd_writer.h>
#include <collector/sink.h>

#include "line_tail.h"
#include "rotated_name.h"
#include "rotation_worker.h"

/*
 * Batches of 256 KiB, not the queue's 4 MiB: measured (issue 26), a whole
 * queue drain per write(2) cost the collector ~10% more CPU, the kernel's
 * copy into the page cache missing the caches (copy_folio_from_iter_atomic
 * 3.7% of the samples at 256 KiB, 12-13% at 4 MiB); the calls saved were few.
 */
#define FILE_HIGH_WATER ((size_t)256 * 1024)
/* Backoff of the retries on a full filesystem under the block policy. */
#define FULL_RETRY_FIRST 0.1
#define FULL_RETRY_MAX 5.0

enum fsync_policy { FSYNC_NEVER, FSYNC_BATCH, FSYNC_INTERVAL };

struct file_sink {
	struct sink_ctx *ctx;
	char *path; /* absolute, so rotated names read back from the directory match */
	char *pattern;
	struct fd_writer out;
	struct event_encoder *enc;
	off_t size;	   /* bytes of whole lines in the file */
	off_t batch_start; /* size when the current batch began */
	enum fsync_policy fsync;
	int64_t fsync_interval_ns;
	int64_t last_sync_ns;
	int64_t rotate_size;
	int64_t rotate_age_ns;
	uint64_t next_seq;
	uint64_t torn_cut;     /* torn lines cut on open */
	uint64_t rotations;    /* files rotated away */
	uint64_t recreated;    /* times the open file was found deleted and created again */
	uint64_t full_retries; /* writes retried on a full filesystem */
	bool rotate_due;       /* the age timer fired during a batch */
	bool ending;	       /* destroy: a full filesystem fails the batch, no more retries */
	struct rotation_worker *worker;
	ev_timer age_timer;
	ev_timer full_timer; /* the next retry on a full filesystem */
	double full_backoff; /* seconds until that retry */
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
	{ .name = "rotate-size",
	  .type = OPT_SIZE,
	  .def = "0",
	  .help = "rotate once the file holds this many bytes (0: never)" },
	{ .name = "rotate-age",
	  .type = OPT_DURATION,
	  .def = "0",
	  .help = "rotate a non-empty file this long after it was opened (0: never)" },
	{ .name = "rotate-name",
	  .type = OPT_STRING,
	  .def = "{path}.{seq}",
	  .help = "name of a rotated file: {path}, {seq} (6+ digits, rising), {time} (UTC)" },
	{ .name = "keep",
	  .type = OPT_INT,
	  .def = "0",
	  .help = "rotated files to keep, oldest removed first (0: all)" },
	{ .name = "compress",
	  .type = OPT_ENUM,
	  .def = "none",
	  .choices = "none|gzip",
	  .help = "gzip rotated files (NAME.gz) on a worker thread" },
	{ .name = "gzip-level",
	  .type = OPT_INT,
	  .def = "1",
	  .help = "zlib level of compress=gzip, 1 (fast) to 9 (small)" },
	{ 0 },
};

static void on_full_retry(struct ev_loop *loop, ev_timer *w, int revents);

/* A crash may have left half a line at the end: cut back to the last '\n'. */
static int cut_torn_tail(struct file_sink *s, struct error *err)
{
	off_t whole, end;
	int rc = line_tail_find(s->out.fd, &whole, &end);

	if (rc < 0)
		return error_set(err, -rc, "read %s: %s", s->path, strerror(-rc));
	if (whole < end) {
		if (ftruncate(s->out.fd, whole) < 0)
			return error_set(err, errno, "truncate %s: %s", s->path, strerror(errno));
		s->torn_cut++;
		sink_report_error(s->ctx,
				  "%s: cut a torn last line of %lld bytes (%llu cut so far)",
				  s->path, (long long)(end - whole),
				  (unsigned long long)s->torn_cut);
	}
	s->size = s->batch_start = whole;
	return 0;
}

/*
 * Only a regular file named by the path itself: a symbolic link another user
 * planted in a writable directory (or a FIFO, a device) is refused before a
 * byte is read or cut, so no other file is written through it.
 */
static int open_file(struct file_sink *s, struct error *err)
{
	/* Read access lets a torn tail be found; O_NONBLOCK keeps a FIFO from blocking. */
	int fd = open(s->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		      0640);
	struct stat st;

	if (fd < 0 && errno == ELOOP)
		return error_set(err, EINVAL,
				 "%s is a symbolic link: the file sink writes only to a regular "
				 "file, not through a link (name the file itself)",
				 s->path);
	if (fd < 0 && errno != EISDIR)
		return error_set(err, errno, "open %s: %s", s->path, strerror(errno));
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return error_set(err, EINVAL,
				 "%s is not a regular file: the file sink writes only to a "
				 "regular file (name another path)",
				 s->path);
	}
	/* Regular files never block; appends stay blocking writes. */
	fcntl(fd, F_SETFL, O_APPEND);
	s->out.fd = fd;
	if (cut_torn_tail(s, err) < 0) {
		close(fd);
		s->out.fd = -1;
		return -err->code;
	}
	return 0;
}

static void report_rotation(void *arg, const char *msg)
{
	struct file_sink *s = arg;

	sink_report_error(s->ctx, "rotation: %s", msg);
}

/* Continue the sequence after the newest rotated file; finish compressions a crash cut short. */
static void found_rotated(void *arg, const char *name, uint64_t seq, int gz)
{
	struct file_sink *s = arg;

	if (seq >= s->next_seq)
		s->next_seq = seq + 1;
	if (!gz && s->worker && rotation_worker_submit(s->worker, name) < 0)
		sink_report_error(s->ctx, "rotation: out of memory");
}

/* Move the live file aside and start a new one; called between batches. */
static void rotate(struct file_sink *s)
{
	char name[PATH_MAX];
	struct error err = { 0 };
	int old = s->out.fd;

	s->rotate_due = false;
	if (s->rotate_age_ns > 0)
		ev_timer_again(sink_loop(s->ctx), &s->age_timer);
	if (s->size == 0)
		return;
	if (s->fsync != FSYNC_NEVER && fdatasync(old) < 0)
		sink_report_error(s->ctx, "fdatasync %s: %s", s->path, strerror(errno));
	if (rotated_name_format(s->pattern, s->path, s->next_seq, time(NULL), name, sizeof(name)) <
	    0) {
		sink_report_error(s->ctx, "rotation: name too long for %s", s->path);
		return;
	}
	if (rename(s->path, name) < 0) {
		sink_report_error(s->ctx, "rename %s to %s: %s", s->path, name, strerror(errno));
		return;
	}
	s->next_seq++;
	s->rotations++;
	if (open_file(s, &err) < 0) {
		sink_report_error(s->ctx, "rotation: %s (writing on in the old file)", err.msg);
		if (rename(name, s->path) < 0)
			sink_report_error(s->ctx, "rename %s back: %s", name, strerror(errno));
		s->out.fd = old;
		return;
	}
	close(old);
	if (rotation_worker_submit(s->worker, name) < 0)
		sink_report_error(s->ctx, "rotation: out of memory");
}

static bool between_batches(const struct file_sink *s)
{
	return s->out.buf.len == 0 && s->batch_start == s->size;
}

static void on_age(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct file_sink *s = w->data;

	(void)loop;
	(void)revents;
	if (between_batches(s))
		rotate(s);
	else
		s->rotate_due = true;
}

/* An absolute path: rotated names are matched against directory entries. */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX], *out;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

static void file_free(struct file_sink *s)
{
	rotation_worker_free(s->worker);
	if (ev_is_active(&s->age_timer))
		ev_timer_stop(sink_loop(s->ctx), &s->age_timer);
	ev_timer_stop(sink_loop(s->ctx), &s->full_timer);
	if (s->out.fd >= 0)
		close(s->out.fd);
	fd_writer_free(&s->out);
	event_encoder_free(s->enc);
	free(s->pattern);
	free(s->path);
	free(s);
}

static int setup_rotation(struct file_sink *s, const struct options *opts, struct error *err)
{
	bool gzip = strcmp(options_str(opts, "compress"), "gzip") == 0;
	int64_t level = options_int(opts, "gzip-level"), keep = options_int(opts, "keep");
	int rc;

	s->rotate_size = options_int(opts, "rotate-size");
	s->rotate_age_ns = options_int(opts, "rotate-age");
	if (level < 1 || level > 9)
		return error_set(err, EINVAL, "gzip-level %lld: expected 1 to 9", (long long)level);
	if (keep < 0 || keep > INT_MAX)
		return error_set(err, EINVAL, "keep %lld: expected 0 or more", (long long)keep);
	if (rotated_name_check(s->pattern, err) < 0)
		return -err->code;
	if (s->rotate_size <= 0 && s->rotate_age_ns <= 0)
		return 0;
	s->worker = rotation_worker_new(sink_loop(s->ctx), s->pattern, s->path,
					gzip ? (int)level : 0, (int)keep, report_rotation, s, err);
	if (!s->worker)
		return -err->code;
	rc = rotation_scan(s->pattern, s->path, found_rotated, s);
	if (rc < 0)
		return error_set(err, -rc, "list rotated files of %s: %s", s->path, strerror(-rc));
	if (s->rotate_age_ns > 0) {
		ev_timer_init(&s->age_timer, on_age, 0., (double)s->rotate_age_ns / 1e9);
		s->age_timer.data = s;
		ev_timer_again(sink_loop(s->ctx), &s->age_timer);
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
	if (!s) {
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	s->ctx = ctx;
	s->next_seq = 1;
	fd_writer_init(&s->out, -1, FILE_HIGH_WATER);
	ev_init(&s->age_timer, on_age);
	ev_init(&s->full_timer, on_full_retry);
	s->full_timer.data = s;
	s->full_backoff = FULL_RETRY_FIRST;
	if (!(s->path = absolute(path)) ||
	    !(s->pattern = strdup(options_str(opts, "rotate-name"))) ||
	    !(s->enc = event_encoder_new())) {
		error_set(err, ENOMEM, "out of memory");
		file_free(s);
		return NULL;
	}
	s->fsync = strcmp(fs, "batch") == 0    ? FSYNC_BATCH :
		   strcmp(fs, "interval") == 0 ? FSYNC_INTERVAL :
						 FSYNC_NEVER;
	s->fsync_interval_ns = options_int(opts, "fsync-interval");
	if (setup_rotation(s, opts, err) < 0 || open_file(s, err) < 0) {
		file_free(s);
		return NULL;
	}
	return s;
}

/* Take the current batch back out of the file (the core counts its events as failed). */
static int fail_batch(struct file_sink *s, int rc)
{
	if (ftruncate(s->out.fd, s->batch_start) < 0)
		sink_report_error(s->ctx, "truncate %s: %s", s->path, strerror(errno));
	s->size = s->batch_start;
	s->out.buf.len = 0;
	s->out.mid_line = false;
	return rc;
}

/*
 * Someone deleted the open file: what is written to it is lost. Create it
 * again. Part of the current batch already in the deleted file fails the
 * batch, counted; otherwise the whole batch goes to the new file.
 */
static int check_deleted(struct file_sink *s)
{
	struct error err = { 0 };
	struct stat st;
	int old = s->out.fd;
	bool lost = s->size > s->batch_start;

	if (fstat(old, &st) < 0 || st.st_nlink > 0)
		return 0;
	if (open_file(s, &err) < 0) {
		sink_report_error(s->ctx, "%s was deleted and cannot be created again: %s", s->path,
				  err.msg);
		s->out.fd = old;
		return -ENOENT;
	}
	close(old);
	s->recreated++;
	sink_report_error(s->ctx, "%s was deleted while open: created it again%s (%llu so far)",
			  s->path, lost ? "; the batch being written is lost" : "",
			  (unsigned long long)s->recreated);
	return lost ? -ENOENT : 0;
}

static void on_full_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	sink_ready(((struct file_sink *)w->data)->ctx);
}

/*
 * The filesystem is full. Under the block policy the events wait (queued,
 * the runners paused) and the write is retried with a growing backoff;
 * under a drop policy the batch fails, so the run goes on.
 */
static int wait_for_space(struct file_sink *s, int rc)
{
	if (s->ending || !sink_blocks(s->ctx)) {
		sink_report_error(s->ctx, "write %s: %s", s->path, strerror(-rc));
		return fail_batch(s, rc);
	}
	s->full_retries++;
	sink_report_error(s->ctx,
			  "write %s: %s; retrying in %.1fs (the block policy keeps the events)",
			  s->path, strerror(-rc), s->full_backoff);
	ev_timer_set(&s->full_timer, s->full_backoff, 0.);
	ev_timer_start(sink_loop(s->ctx), &s->full_timer);
	s->full_backoff = s->full_backoff * 2 > FULL_RETRY_MAX ? FULL_RETRY_MAX :
								 s->full_backoff * 2;
	return -EAGAIN;
}

/*
 * Write the buffer. On failure the whole batch is taken back out of the file
 * (the core counts its events as failed), so the file keeps only whole lines.
 */
static int push(struct file_sink *s)
{
	uint64_t before = s->out.written;
	int rc;

	if (ev_is_active(&s->full_timer))
		return -EAGAIN;
	if (s->out.buf.len && (rc = check_deleted(s)) < 0)
		return fail_batch(s, rc);
	rc = fd_writer_flush(&s->out);
	s->size += (off_t)(s->out.written - before);
	if (rc == 0) {
		s->full_backoff = FULL_RETRY_FIRST;
		return 0;
	}
	if (rc == -ENOSPC || rc == -EDQUOT)
		return wait_for_space(s, rc);
	sink_report_error(s->ctx, "write %s: %s", s->path, strerror(-rc));
	return fail_batch(s, rc);
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
	    (s->fsync == FSYNC_INTERVAL &&
	     clock_mono_ns() - s->last_sync_ns >= s->fsync_interval_ns)) {
		if (fdatasync(s->out.fd) < 0) {
			sink_report_error(s->ctx, "fdatasync %s: %s", s->path, strerror(errno));
			return -errno;
		}
		s->last_sync_ns = clock_mono_ns();
	}
	s->batch_start = s->size;
	/* Rotation only between batches: every rotated file ends on a delivered event. */
	if (s->rotate_due || (s->rotate_size > 0 && s->size >= s->rotate_size))
		rotate(s);
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

	s->ending = true;
	ev_timer_stop(sink_loop(s->ctx), &s->full_timer);
	if (s->out.buf.len)
		push(s);
	file_free(s);
}

static void file_metrics(void *self, struct metrics_writer *w)
{
	struct file_sink *s = self;

	metrics_add(w, METRIC_COUNTER, "collector_sink_bytes_written_total",
		    "bytes the sink wrote to its output", (double)s->out.written);
	metrics_add(w, METRIC_COUNTER, "collector_sink_rotations_total", "file: files rotated away",
		    (double)s->rotations);
	metrics_add(w, METRIC_COUNTER, "collector_sink_torn_lines_cut_total",
		    "file: torn last lines cut when the file was opened", (double)s->torn_cut);
	metrics_add(w, METRIC_COUNTER, "collector_sink_file_recreated_total",
		    "file: times the open file was found deleted and created again",
		    (double)s->recreated);
	metrics_add(w, METRIC_COUNTER, "collector_sink_full_retries_total",
		    "file: writes retried on a full filesystem (block policy)",
		    (double)s->full_retries);
}

const struct sink_ops file_sink_ops = {
	.name = "file",
	.summary = "appends JSON lines to a file, rotating and gzipping it (file:PATH)",
	.options = file_options,
	.spec_option = "path",
	.create = file_create,
	.write = file_write,
	.flush = file_flush,
	.reopen = file_reopen,
	.destroy = file_destroy,
	.metrics = file_metrics,
};
