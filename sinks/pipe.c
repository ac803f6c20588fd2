/* The pipe and fifo sinks: JSON lines into a command's stdin or a named pipe, resent after a restart. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include <collector/buffer.h>
#include <collector/child.h>
#include <collector/child_cgroup.h>
#include <collector/clock.h>
#include <collector/event_encoder.h>
#include <collector/line_framer.h>
#include <collector/log.h>
#include <collector/sink.h>

#define PIPE_HIGH_WATER ((size_t)256 * 1024)
#define BACKOFF_MIN 0.1
#define BACKOFF_MAX 5.0
#define STABLE_RUN_NS 2000000000LL /* a run this long resets the backoff */
#define FINISH_MS 5000		   /* at the end: time for the command to exit after EOF */
#define POLL_S 0.1		   /* how often a pipe with unread lines is looked at */
#define OUTPUT_LINES_PER_S 20	   /* the command's output copied to our stderr, at most */
#define OUTPUT_MAX_LINE 1024	   /* longer lines of it are cut */

enum pipe_kind { KIND_COMMAND, KIND_FIFO };

struct pipe_sink {
	struct sink_ctx *ctx;
	enum pipe_kind kind;
	char *target; /* the shell command, or the fifo's path */
	int fd;	      /* write end; -1 while down */
	struct child child;
	bool alive;	   /* the command runs and is not reaped */
	bool killed;	   /* we signalled it: its end says nothing of its own failure */
	uint64_t run_read; /* lines the command read since it started */
	uint64_t lost;	   /* lines read by a command that then failed at the end */
	int64_t started_ns;
	struct event_encoder *enc;
	struct buffer out;  /* encoded, not yet in the pipe */
	struct buffer sent; /* in the pipe, perhaps not read yet: resent after a restart */
	bool want_ready;    /* write or flush said -EAGAIN */
	double backoff;
	uint64_t restarts;
	uint64_t resent_bytes;
	ev_io writable;
	ev_io child_out, child_err; /* the command's own output, copied to stderr */
	struct line_framer out_lines, err_lines;
	ev_child reaper;
	ev_timer retry;
	struct child_cgroup cg; /* holds the command's whole tree; none when ndirs is 0 */
	/* the reader's progress */
	ev_timer poll;		 /* looks at the pipe while lines wait in it */
	int64_t progress_ns;	 /* when the reader last took a line, or nothing waited */
	int64_t stall_logged_ns; /* when a stall was last reported */
	int64_t stall_log_ns;	 /* --stall-log: how often */
	/* the command's output: a window of OUTPUT_LINES_PER_S lines per second */
	int64_t window_ns;
	unsigned window_lines;
	uint64_t output_dropped; /* lines not copied in the current report period */
	uint64_t output_dropped_total;
};

static const struct option_spec pipe_options[] = {
	{ .name = "command",
	  .type = OPT_STRING,
	  .required = true,
	  .help = "command line run by /bin/sh; its stdin gets the JSON lines" },
	{ .name = "stall-log",
	  .type = OPT_DURATION,
	  .def = "10s",
	  .help = "say that the reader has read nothing, this often while it does not" },
	SINK_SPOOL_OPTIONS,
	{ 0 },
};

static const struct option_spec fifo_options[] = {
	{ .name = "path",
	  .type = OPT_STRING,
	  .required = true,
	  .help = "named pipe to write to (created with mode 0640 when missing)" },
	{ .name = "stall-log",
	  .type = OPT_DURATION,
	  .def = "10s",
	  .help = "say that the reader has read nothing, this often while it does not" },
	SINK_SPOOL_OPTIONS,
	{ 0 },
};

static uint64_t count_lines(const char *p, size_t len)
{
	uint64_t n = 0;
	const char *end = p + len;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p++;
	}
	return n;
}

/*
 * Forget what the reader has taken, up to the last whole line it read: the
 * pipe still holds FIONREAD bytes, the rest of `sent` was read.
 */
static void trim_sent(struct pipe_sink *s)
{
	int unread = 0;
	size_t read_len;
	const char *nl;

	if (s->sent.len == 0 || ioctl(s->fd, FIONREAD, &unread) < 0)
		return;
	read_len = s->sent.len - ((size_t)unread < s->sent.len ? (size_t)unread : s->sent.len);
	nl = read_len ? memrchr(s->sent.data, '\n', read_len) : NULL;
	if (nl) {
		size_t taken = (size_t)(nl - s->sent.data) + 1;

		/* One event is one line: each line the reader took whole is delivered. */
		uint64_t lines = count_lines(s->sent.data, taken);

		s->run_read += lines;
		sink_delivery_report(s->ctx, lines, 0);
		buffer_consume(&s->sent, taken);
		s->progress_ns = clock_mono_ns();
	}
}

static void schedule_retry(struct pipe_sink *s)
{
	ev_timer_stop(sink_loop(s->ctx), &s->retry);
	ev_timer_set(&s->retry, s->backoff, 0.);
	ev_timer_start(sink_loop(s->ctx), &s->retry);
	s->backoff = s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : s->backoff * 2;
}

/* The reader is gone: put what it did not read in front of what waits. */
static void went_down(struct pipe_sink *s)
{
	struct buffer both = { 0 };

	if (s->fd < 0)
		return;
	trim_sent(s);
	if (s->sent.len) {
		if (buffer_append(&both, s->sent.data, s->sent.len) < 0 ||
		    buffer_append(&both, s->out.data, s->out.len) < 0) {
			sink_report_error(s->ctx, "out of memory keeping unread lines");
			buffer_free(&both);
		} else {
			s->resent_bytes += s->sent.len;
			buffer_free(&s->out);
			s->out = both;
		}
		s->sent.len = 0;
	}
	ev_io_stop(sink_loop(s->ctx), &s->writable);
	close(s->fd);
	s->fd = -1;
	if (s->kind == KIND_FIFO)
		schedule_retry(s);
	else if (s->alive) {
		s->killed = true;
		child_kill_group(&s->child, SIGTERM);
	}
	/* A command is restarted once it is reaped. */
}

/* Write what is buffered: 0 when all of it is in the pipe, else -EAGAIN. */
static int write_out(struct pipe_sink *s)
{
	while (s->out.len) {
		ssize_t n;

		if (s->fd < 0)
			return -EAGAIN;
		n = write(s->fd, s->out.data, s->out.len);
		if (n > 0) {
			if (s->sent.len == 0)
				s->progress_ns = clock_mono_ns();
			if (buffer_append(&s->sent, s->out.data, (size_t)n) < 0)
				return -ENOMEM;
			buffer_consume(&s->out, (size_t)n);
			ev_timer_again(sink_loop(s->ctx), &s->poll);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			trim_sent(s);
			ev_io_start(sink_loop(s->ctx), &s->writable);
			return -EAGAIN;
		}
		sink_report_error(s->ctx, "write to %s: %s; resending after a restart", s->target,
				  n < 0 ? strerror(errno) : "wrote nothing");
		went_down(s);
		return -EAGAIN;
	}
	trim_sent(s);
	return 0;
}

static void wake_core(struct pipe_sink *s)
{
	if (s->want_ready) {
		s->want_ready = false;
		sink_ready(s->ctx);
	}
}

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct pipe_sink *s = w->data;

	(void)revents;
	ev_io_stop(loop, w);
	if (write_out(s) == 0)
		wake_core(s);
}

static void up(struct pipe_sink *s)
{
	s->started_ns = clock_mono_ns();
	if (s->out.len && write_out(s) < 0)
		return;
	wake_core(s);
}

/*
 * While lines wait in the pipe: count what the reader takes (nothing else
 * wakes the sink once all is written) and say, every STALL_LOG_S, that it
 * has taken nothing.
 */
static void on_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pipe_sink *s = w->data;
	int64_t now = clock_mono_ns(), stalled;

	(void)revents;
	if (s->fd >= 0)
		trim_sent(s);
	if (s->fd < 0 || s->sent.len == 0) {
		ev_timer_stop(loop, w);
		return;
	}
	stalled = now - s->progress_ns;
	if (stalled >= s->stall_log_ns && now - s->stall_logged_ns >= s->stall_log_ns) {
		s->stall_logged_ns = now;
		sink_report_error(s->ctx,
				  "%s has read nothing for %llds: %llu events (%zu bytes) wait in "
				  "the pipe, %zu bytes behind them",
				  s->target, (long long)(stalled / 1000000000LL),
				  (unsigned long long)count_lines(s->sent.data, s->sent.len),
				  s->sent.len, s->out.len);
	}
}

static void report_dropped_output(struct pipe_sink *s)
{
	if (!s->output_dropped)
		return;
	sink_report_error(s->ctx,
			  "%llu lines of the output of '%s' were not copied to stderr (over %d "
			  "lines/s, or stderr full)",
			  (unsigned long long)s->output_dropped, s->target, OUTPUT_LINES_PER_S);
	s->output_dropped = 0;
}

/* Copy one line of the command's output unless over the rate or stderr has no room now. */
static void copy_line(struct pipe_sink *s, const struct line *l)
{
	int64_t now = clock_mono_ns();
	struct pollfd pfd = { .fd = STDERR_FILENO, .events = POLLOUT };
	struct iovec iov[2] = { { (void *)l->ptr, l->len }, { "\n", 1 } };

	if (now - s->window_ns >= 1000000000LL) {
		report_dropped_output(s);
		s->window_ns = now;
		s->window_lines = 0;
	}
	/* POLLOUT on a pipe means PIPE_BUF bytes of room: a cut line never blocks. */
	if (s->window_lines >= OUTPUT_LINES_PER_S || poll(&pfd, 1, 0) != 1 ||
	    !(pfd.revents & POLLOUT) || writev(STDERR_FILENO, iov, 2) < 0) {
		s->output_dropped++;
		s->output_dropped_total++;
		return;
	}
	s->window_lines++;
}

/* The command's stdout and stderr go to ours (stderr), rate-limited, so its messages are seen. */
static void on_child_output(struct ev_loop *loop, ev_io *w, int revents)
{
	struct pipe_sink *s = w->data;
	struct line_framer *f = w == &s->child_out ? &s->out_lines : &s->err_lines;
	ssize_t n = line_framer_read(f, w->fd);
	struct line l;

	(void)revents;
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		line_framer_finish(f);
		ev_io_stop(loop, w);
	}
	while (line_framer_next(f, &l))
		copy_line(s, &l);
}

static void close_child_output(struct pipe_sink *s)
{
	ev_io_stop(sink_loop(s->ctx), &s->child_out);
	ev_io_stop(sink_loop(s->ctx), &s->child_err);
	child_close_pipes(&s->child);
	report_dropped_output(s);
}

/* The command is reaped: what is left of its tree (cgroup, process group) goes too. */
static void kill_tree(struct pipe_sink *s)
{
	child_kill_group(&s->child, SIGKILL);
	child_cgroup_destroy(&s->cg);
}

static int start_command(struct pipe_sink *s, struct error *err)
{
	static unsigned starts;
	char *argv[] = { "/bin/sh", "-c", s->target, NULL };
	struct child_spec spec = { .argv = argv, .stdin_pipe = true };
	char leaf[64];
	int rc;

	/* Where cgroups can be made (root), one holds the tree; else its process group does. */
	snprintf(leaf, sizeof(leaf), "collector-pipe.%d.%u", (int)getpid(), starts++);
	if (child_cgroup_create_tree(&s->cg, leaf, NULL) == 0) {
		spec.join_fds = s->cg.procs_fds;
		spec.njoin = s->cg.ndirs;
	}
	rc = child_spawn(&spec, &s->child, err);
	child_cgroup_close_fds(&s->cg);
	if (rc < 0) {
		child_cgroup_destroy(&s->cg);
		return rc;
	}
	line_framer_reset(&s->out_lines);
	line_framer_reset(&s->err_lines);
	s->alive = true;
	s->killed = false;
	s->run_read = 0;
	s->fd = s->child.in_fd;
	s->child.in_fd = -1;
	ev_io_set(&s->writable, s->fd, EV_WRITE);
	ev_io_set(&s->child_out, s->child.out_fd, EV_READ);
	ev_io_set(&s->child_err, s->child.err_fd, EV_READ);
	ev_io_start(sink_loop(s->ctx), &s->child_out);
	ev_io_start(sink_loop(s->ctx), &s->child_err);
	ev_child_set(&s->reaper, s->child.pid, 0);
	ev_child_start(sink_loop(s->ctx), &s->reaper);
	up(s);
	return 0;
}

/*
 * After the end of its input a command's exit status is its verdict on what
 * it read (a `curl --data-binary @-` posts only then): non-zero, or a signal
 * we did not send, loses the events it read in this run. A command that
 * dies mid-run is restarted and resent what it did not read instead.
 */
static void judge_end(struct pipe_sink *s, int st)
{
	bool failed = WIFSIGNALED(st) ? !s->killed : WEXITSTATUS(st) != 0;

	if (!failed || !s->run_read)
		return;
	sink_report_error(s->ctx,
			  "command '%s' %s %d at the end of its input: the %llu events it read "
			  "are counted lost (make it exit 0 once it has handled them)",
			  s->target, WIFSIGNALED(st) ? "was killed by signal" : "exited with",
			  WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
			  (unsigned long long)s->run_read);
	sink_report_lost(s->ctx, s->run_read);
	s->lost += s->run_read;
}

static void on_reaped(struct ev_loop *loop, ev_child *w, int revents)
{
	struct pipe_sink *s = w->data;
	int st = w->rstatus;

	(void)revents;
	ev_child_stop(loop, w);
	s->alive = false;
	went_down(s);
	kill_tree(s);
	close_child_output(s);
	s->child.pid = -1;
	if (clock_mono_ns() - s->started_ns >= STABLE_RUN_NS)
		s->backoff = BACKOFF_MIN;
	sink_report_error(s->ctx, "command '%s' %s %d; restarting in %.1fs (%zu bytes to resend)",
			  s->target, WIFSIGNALED(st) ? "killed by signal" : "exited with",
			  WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), s->backoff, s->out.len);
	schedule_retry(s);
}

static int open_fifo(struct pipe_sink *s)
{
	int fd = open(s->target, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	s->fd = fd;
	ev_io_set(&s->writable, fd, EV_WRITE);
	s->backoff = BACKOFF_MIN;
	up(s);
	return 0;
}

static void on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pipe_sink *s = w->data;
	struct error err = { 0 };
	int rc;

	(void)loop;
	(void)revents;
	if (s->kind == KIND_FIFO) {
		rc = open_fifo(s);
		/* ENXIO: no reader yet; keep waiting without blocking the loop. */
		if (rc < 0 && rc != -ENXIO)
			sink_report_error(s->ctx, "open %s: %s", s->target, strerror(-rc));
		if (rc < 0) {
			if (s->backoff > 0.5)
				s->backoff = 0.5;
			schedule_retry(s);
		}
		return;
	}
	s->restarts++;
	if (start_command(s, &err) < 0) {
		sink_report_error(s->ctx, "restart: %s", err.msg);
		schedule_retry(s);
	}
}

static struct pipe_sink *new_sink(struct sink_ctx *ctx, enum pipe_kind kind, const char *target,
				  const struct options *opts, struct error *err)
{
	struct pipe_sink *s = calloc(1, sizeof(*s));

	if (!s || !(s->target = strdup(target)) || !(s->enc = event_encoder_new())) {
		if (s)
			free(s->target);
		free(s);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	if (line_framer_init(&s->out_lines, OUTPUT_MAX_LINE, err) < 0) {
		event_encoder_free(s->enc);
		free(s->target);
		free(s);
		return NULL;
	}
	if (line_framer_init(&s->err_lines, OUTPUT_MAX_LINE, err) < 0) {
		line_framer_free(&s->out_lines);
		event_encoder_free(s->enc);
		free(s->target);
		free(s);
		return NULL;
	}
	for (int i = 0; i < CHILD_CGROUP_MAX_DIRS; i++)
		s->cg.procs_fds[i] = -1;
	/* Delivered is read by the reader: the end waits for it up to the shutdown timeout. */
	sink_reports_deliveries(ctx);
	s->ctx = ctx;
	s->kind = kind;
	s->stall_log_ns = options_int(opts, "stall-log");
	s->fd = -1;
	s->child = (struct child){ .pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1 };
	s->backoff = BACKOFF_MIN;
	ev_init(&s->writable, on_writable);
	ev_init(&s->child_out, on_child_output);
	ev_init(&s->child_err, on_child_output);
	ev_init(&s->reaper, on_reaped);
	ev_init(&s->retry, on_retry);
	ev_init(&s->poll, on_poll);
	s->poll.repeat = POLL_S;
	s->writable.data = s->reaper.data = s->retry.data = s->poll.data = s;
	s->child_out.data = s->child_err.data = s;
	return s;
}

static void free_sink(struct pipe_sink *s)
{
	struct ev_loop *loop = sink_loop(s->ctx);

	ev_io_stop(loop, &s->writable);
	ev_timer_stop(loop, &s->retry);
	ev_timer_stop(loop, &s->poll);
	ev_child_stop(loop, &s->reaper);
	close_child_output(s);
	child_cgroup_destroy(&s->cg);
	if (s->fd >= 0)
		close(s->fd);
	line_framer_free(&s->out_lines);
	line_framer_free(&s->err_lines);
	buffer_free(&s->out);
	buffer_free(&s->sent);
	event_encoder_free(s->enc);
	free(s->target);
	free(s);
}

static void *pipe_create(struct sink_ctx *ctx, const struct options *opts, struct error *err)
{
	const char *cmd = options_str(opts, "command");
	struct pipe_sink *s;

	if (!cmd || !*cmd) {
		error_set(err, EINVAL, "pipe sink needs a command (pipe:CMD ARGS)");
		return NULL;
	}
	s = new_sink(ctx, KIND_COMMAND, cmd, opts, err);
	if (s && start_command(s, err) < 0) {
		free_sink(s);
		return NULL;
	}
	return s;
}

static void *fifo_create(struct sink_ctx *ctx, const struct options *opts, struct error *err)
{
	const char *path = options_str(opts, "path");
	struct pipe_sink *s;
	struct stat st;

	if (!path || !*path) {
		error_set(err, EINVAL, "fifo sink needs a path (fifo:PATH)");
		return NULL;
	}
	if (mkfifo(path, 0640) < 0 && errno != EEXIST) {
		error_set(err, errno, "mkfifo %s: %s", path, strerror(errno));
		return NULL;
	}
	if (stat(path, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		error_set(err, EINVAL, "%s is not a named pipe", path);
		return NULL;
	}
	s = new_sink(ctx, KIND_FIFO, path, opts, err);
	if (s && open_fifo(s) < 0)
		schedule_retry(s);
	return s;
}

static int pipe_write(void *self, const struct event *ev)
{
	struct pipe_sink *s = self;

	if (s->out.len >= PIPE_HIGH_WATER && write_out(s) < 0 && s->out.len >= PIPE_HIGH_WATER) {
		s->want_ready = true;
		return -EAGAIN;
	}
	return event_encoder_write(s->enc, ev, &s->out);
}

static int pipe_flush(void *self)
{
	struct pipe_sink *s = self;
	int rc = write_out(s);

	if (rc == -EAGAIN)
		s->want_ready = true;
	return rc;
}

/*
 * The loop is over: it waited for the reader to take every line up to the
 * shutdown timeout (the sink reports its deliveries), so what is still here
 * was counted not delivered. Say how much, close the pipe (EOF), give the
 * command FINISH_MS to exit, then kill its tree.
 */
static void finish(struct pipe_sink *s)
{
	int64_t deadline = clock_mono_ns() + (int64_t)FINISH_MS * 1000000;
	struct timespec pause = { 0, 5000000 };
	int st = 0;

	if (s->fd >= 0)
		trim_sent(s);
	if (s->out.len || s->sent.len)
		sink_report_error(s->ctx, "%llu events (%zu bytes) not read by %s",
				  (unsigned long long)count_lines(s->out.data, s->out.len) +
					  (unsigned long long)count_lines(s->sent.data,
									  s->sent.len),
				  s->out.len + s->sent.len, s->target);
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	if (!s->alive)
		return;
	while (waitpid(s->child.pid, &st, WNOHANG) == 0) {
		if (clock_mono_ns() >= deadline) {
			s->killed = true;
			child_kill_group(&s->child, SIGKILL);
			child_cgroup_signal(&s->cg, SIGKILL);
			waitpid(s->child.pid, &st, 0);
			break;
		}
		nanosleep(&pause, NULL);
	}
	judge_end(s, st);
	s->alive = false;
	ev_child_stop(sink_loop(s->ctx), &s->reaper);
	kill_tree(s);
}

static void pipe_destroy(void *self)
{
	struct pipe_sink *s = self;

	finish(s);
	free_sink(s);
}

static void pipe_metrics(void *self, struct metrics_writer *w)
{
	struct pipe_sink *s = self;

	metrics_add(w, METRIC_COUNTER, "collector_sink_restarts_total",
		    "pipe: times the command was started again", (double)s->restarts);
	metrics_add(w, METRIC_COUNTER, "collector_sink_resent_bytes_total",
		    "pipe: bytes written again after the command died unread",
		    (double)s->resent_bytes);
	metrics_add(w, METRIC_COUNTER, "collector_sink_lost_after_read_total",
		    "pipe: events read by a command that exited non-zero at the end (also in "
		    "failed)",
		    (double)s->lost);
	metrics_add(w, METRIC_GAUGE, "collector_sink_connected", "1 while the sink's pipe is open",
		    s->fd >= 0);
	metrics_add(w, METRIC_COUNTER, "collector_sink_output_lines_dropped_total",
		    "pipe: lines of the command's output not copied to stderr (rate limit)",
		    (double)s->output_dropped_total);
	if (s->kind == KIND_COMMAND && s->alive)
		metrics_add_child(w, s->child.pid, "running");
}

const struct sink_ops pipe_sink_ops = {
	.name = "pipe",
	.summary = "writes JSON lines to a command's stdin, restarting it (pipe:CMD ARGS)",
	.options = pipe_options,
	.spec_option = "command",
	.create = pipe_create,
	.write = pipe_write,
	.flush = pipe_flush,
	.destroy = pipe_destroy,
	.metrics = pipe_metrics,
};

const struct sink_ops fifo_sink_ops = {
	.name = "fifo",
	.summary = "writes JSON lines to a named pipe, waiting for a reader (fifo:PATH)",
	.options = fifo_options,
	.spec_option = "path",
	.create = fifo_create,
	.write = pipe_write,
	.flush = pipe_flush,
	.destroy = pipe_destroy,
	.metrics = pipe_metrics,
};
