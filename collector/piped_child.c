/* A child's stdout and stderr as lines on the loop, with timeout, grace period and backpressure. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <collector/clock.h>
#include <collector/piped_child.h>

/* Reads per wake-up: enough to batch, few enough to stay fair to other fds. */
#define READS_PER_WAKEUP 4
/*
 * After the child exits its tree is killed and the pipes reach EOF at once;
 * a process that escaped both process group and cgroup may hold them open:
 * past this bound what it already wrote is read, and the pipes are closed.
 */
#define DRAIN_S (PIPED_CHILD_DRAIN_MS / 1000.)

static void pause_reading(struct piped_child *pc)
{
	pc->paused = true;
	ev_io_stop(pc->loop, &pc->out.io);
	ev_io_stop(pc->loop, &pc->err.io);
}

/* Deliver buffered lines until there are none or the owner says wait. */
static void deliver(struct piped_stream *s)
{
	struct piped_child *pc = s->pc;
	struct line l;

	while (pc->ops->can_take(pc->arg)) {
		if (!line_framer_next(&s->framer, &l))
			return;
		pc->ops->on_line(pc->arg, s->is_stderr, &l);
	}
	if (!pc->paused)
		pause_reading(pc);
}

static void close_stream(struct piped_stream *s)
{
	ev_io_stop(s->pc->loop, &s->io);
	if (s->open) {
		close(s->io.fd);
		s->open = false;
	}
	if (s->is_stderr)
		s->pc->child.err_fd = -1;
	else
		s->pc->child.out_fd = -1;
}

/* The run is over once the child is reaped and both pipes are drained. */
static void maybe_end(struct piped_child *pc)
{
	if (!pc->running || pc->alive || pc->out.open || pc->err.open)
		return;
	pc->running = false;
	ev_timer_stop(pc->loop, &pc->timeout_w);
	ev_timer_stop(pc->loop, &pc->kill_w);
	ev_timer_stop(pc->loop, &pc->drain_w);
	pc->ops->on_end(pc->arg);
}

static void finish_if_drained(struct piped_stream *s)
{
	if (line_framer_done(&s->framer)) {
		close_stream(s);
		maybe_end(s->pc);
	}
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct piped_stream *s = w->data;
	struct piped_child *pc = s->pc;

	(void)loop;
	(void)revents;
	for (int i = 0; i < READS_PER_WAKEUP && !pc->paused; i++) {
		ssize_t n = line_framer_read(&s->framer, w->fd);

		if (n == -EAGAIN && !pc->drained)
			break;
		if (n == -EAGAIN) {
			/* Past the drain bound an empty pipe is the end of the stream. */
			pc->cut = true;
			line_framer_finish(&s->framer);
		} else if (n < 0) {
			pc->ops->on_read_error(pc->arg, s->is_stderr, (int)n);
			line_framer_finish(&s->framer);
		}
		deliver(s);
		if (n <= 0)
			break;
	}
	finish_if_drained(s);
}

/* Signal the child's process group and, through the owner, the rest of its tree. */
static int signal_tree(struct piped_child *pc, int sig)
{
	int n = pc->ops->signal_tree ? pc->ops->signal_tree(pc->arg, sig) : -1;

	if (n < 0 && sig == SIGKILL)
		n = child_group_size(pc->child.pid);
	child_kill_group(&pc->child, sig);
	return n < 0 ? 0 : n;
}

static void read_now(struct piped_stream *s)
{
	if (s->open && !s->pc->paused)
		on_readable(s->pc->loop, &s->io, 0);
}

static void on_drain(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct piped_child *pc = w->data;

	(void)loop;
	(void)revents;
	pc->drained = true;
	read_now(&pc->out);
	read_now(&pc->err);
}

static void on_child_exit(struct ev_loop *loop, ev_child *w, int revents)
{
	struct piped_child *pc = w->data;

	(void)revents;
	ev_child_stop(loop, w);
	pc->alive = false;
	pc->wait_status = w->rstatus;
	/* Like systemd's control-group mode: nothing the child left behind survives it. */
	pc->left = signal_tree(pc, SIGKILL);
	/* Its end is its exit: its pipes get a bounded time to drain. */
	if (pc->out.open || pc->err.open) {
		ev_timer_set(&pc->drain_w, DRAIN_S, 0.);
		ev_timer_start(loop, &pc->drain_w);
	}
	maybe_end(pc);
}

static void on_kill(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct piped_child *pc = w->data;

	(void)loop;
	(void)revents;
	if (pc->alive)
		signal_tree(pc, SIGKILL);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct piped_child *pc = w->data;

	(void)loop;
	(void)revents;
	pc->timed_out = true;
	piped_child_terminate(pc);
}

static void init_stream(struct piped_child *pc, struct piped_stream *s, bool is_stderr)
{
	s->pc = pc;
	s->is_stderr = is_stderr;
	ev_init(&s->io, on_readable);
	s->io.data = s;
}

int piped_child_init(struct piped_child *pc, struct ev_loop *loop, size_t max_line,
		     const struct piped_child_ops *ops, void *arg, struct error *err)
{
	memset(pc, 0, sizeof(*pc));
	pc->loop = loop;
	pc->ops = ops;
	pc->arg = arg;
	pc->child = (struct child){ .pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1 };
	init_stream(pc, &pc->out, false);
	init_stream(pc, &pc->err, true);
	ev_child_init(&pc->child_w, on_child_exit, 0, 0);
	ev_init(&pc->timeout_w, on_timeout);
	ev_init(&pc->kill_w, on_kill);
	ev_init(&pc->drain_w, on_drain);
	pc->child_w.data = pc->timeout_w.data = pc->kill_w.data = pc->drain_w.data = pc;
	if (line_framer_init(&pc->out.framer, max_line, err) < 0)
		return -err->code;
	if (line_framer_init(&pc->err.framer, max_line, err) < 0) {
		line_framer_free(&pc->out.framer);
		return -err->code;
	}
	return 0;
}

static void open_stream(struct piped_stream *s, int fd)
{
	ev_io_set(&s->io, fd, EV_READ);
	s->open = true;
	ev_io_start(s->pc->loop, &s->io);
}

int piped_child_start(struct piped_child *pc, const struct child_spec *spec, int64_t timeout_ns,
		      int64_t grace_ns, struct error *err)
{
	int rc;

	pc->wait_status = 0;
	pc->timed_out = false;
	pc->paused = false;
	pc->drained = false;
	pc->cut = false;
	pc->left = 0;
	pc->grace_ns = grace_ns;
	pc->start_ns = clock_wall_ns();
	pc->start_mono_ns = clock_mono_ns();
	line_framer_reset(&pc->out.framer);
	line_framer_reset(&pc->err.framer);
	rc = child_spawn(spec, &pc->child, err);
	if (rc < 0)
		return rc;
	pc->alive = pc->running = true;
	ev_child_set(&pc->child_w, pc->child.pid, 0);
	ev_child_start(pc->loop, &pc->child_w);
	open_stream(&pc->out, pc->child.out_fd);
	open_stream(&pc->err, pc->child.err_fd);
	if (timeout_ns > 0) {
		ev_timer_set(&pc->timeout_w, (double)timeout_ns / 1e9, 0.);
		ev_timer_start(pc->loop, &pc->timeout_w);
	}
	return 0;
}

void piped_child_terminate(struct piped_child *pc)
{
	if (!pc->alive || ev_is_active(&pc->kill_w))
		return;
	signal_tree(pc, SIGTERM);
	ev_timer_set(&pc->kill_w, (double)pc->grace_ns / 1e9, 0.);
	ev_timer_start(pc->loop, &pc->kill_w);
}

void piped_child_resume(struct piped_child *pc)
{
	struct piped_stream *streams[2] = { &pc->out, &pc->err };

	pc->paused = false;
	for (int i = 0; i < 2 && !pc->paused; i++) {
		if (!streams[i]->open)
			continue;
		deliver(streams[i]);
		finish_if_drained(streams[i]);
	}
	for (int i = 0; i < 2 && !pc->paused; i++)
		if (streams[i]->open && !line_framer_done(&streams[i]->framer))
			ev_io_start(pc->loop, &streams[i]->io);
	/* Past the drain bound nothing may wake the reader: read what is there now. */
	for (int i = 0; i < 2 && pc->drained; i++)
		read_now(streams[i]);
}

void piped_child_free(struct piped_child *pc)
{
	if (pc->alive) {
		ev_child_stop(pc->loop, &pc->child_w);
		signal_tree(pc, SIGKILL);
		waitpid(pc->child.pid, NULL, 0);
		pc->alive = false;
	}
	close_stream(&pc->out);
	close_stream(&pc->err);
	child_close_pipes(&pc->child);
	ev_timer_stop(pc->loop, &pc->timeout_w);
	ev_timer_stop(pc->loop, &pc->kill_w);
	ev_timer_stop(pc->loop, &pc->drain_w);
	line_framer_free(&pc->out.framer);
	line_framer_free(&pc->err.framer);
}
