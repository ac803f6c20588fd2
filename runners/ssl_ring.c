/* The ssl loader's ring buffer read inside the runner: its records put back together into calls. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "loader_util.h"
#include "ssl_calls.h"
#include "ssl_ring.h"

/*
 * The ring buffer is read on a timer, not at the kernel's wake-ups: a wake-up costs the traced
 * process an interrupt and a cross-CPU wake in the middle of its call (~50 µs on a VM we
 * measured), a timer costs it nothing. Every SSL_RING_BUSY_S while records keep coming, every
 * SSL_RING_IDLE_S once a read found none; the loader still wakes the runner when a quarter of
 * the ring is waiting.
 */
#define SSL_RING_BUSY_S 0.005
#define SSL_RING_IDLE_S 0.1

struct ssl_ring {
	struct ev_loop *loop;
	int fd;
	struct ring_buffer *rb;
	ev_io io;
	ev_timer poll;
	ssl_call_fn fn;
	void *arg;
	bool stopped; /* the callback said stop */
	long long boot_to_wall;
	struct ssl_calls calls;
};

/* Hand one call to the callback; @return what it said. */
static bool deliver(void *arg, const struct ssl_record *r, const void *data, size_t captured,
		    bool incomplete)
{
	struct ssl_ring *sr = arg;
	struct ssl_call c = {
		.kind = r->kind,
		.func = ssl_func_name(r->func),
		.lib = ssl_func_lib(r->func),
		.write = ssl_func_writes(r->func),
		.ts_ns = (long long)r->ts_ns + sr->boot_to_wall,
		.pid = (int)r->pid,
		.tid = (int)r->tid,
		.cgroup_id = r->cgroup_id,
		.uid = r->uid,
		.ret = r->ret,
		.latency_ns = (long long)r->latency_ns,
		.len = r->len,
		.success = r->ret == 1,
		.data = data,
		.captured = captured,
		.truncated = captured < r->len,
		.incomplete = incomplete,
	};

	memcpy(c.comm, r->comm, SSL_COMM_LEN);
	c.comm[SSL_COMM_LEN] = '\0';
	snprintf(c.conn, sizeof(c.conn), "%u:%llx", r->pid, r->conn);
	return sr->fn(sr->arg, &c);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct ssl_ring *sr = ctx;

	/* This record is consumed either way; the next ones wait. */
	return ssl_calls_add(&sr->calls, data, size) ? 0 : -EAGAIN;
}

static void read_ring(struct ssl_ring *sr)
{
	int n;

	if (sr->stopped)
		return;
	n = ring_buffer__consume(sr->rb);
	if (n == -EAGAIN) {
		sr->stopped = true;
		ev_io_stop(sr->loop, &sr->io);
		ev_timer_stop(sr->loop, &sr->poll);
		return;
	}
	sr->poll.repeat = n > 0 ? SSL_RING_BUSY_S : SSL_RING_IDLE_S;
	ev_timer_again(sr->loop, &sr->poll);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	read_ring(w->data);
}

static void on_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	read_ring(w->data);
}

struct ssl_ring *ssl_ring_open(struct ev_loop *loop, pid_t pid, int fd, size_t max_payload,
			       ssl_call_fn fn, void *arg, struct error *err)
{
	struct ssl_ring *sr = calloc(1, sizeof(*sr));
	int pidfd = -1;

	if (!sr) {
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	sr->fd = -1;
	pidfd = pidfd_open(pid, 0);
	if (pidfd >= 0)
		sr->fd = pidfd_getfd(pidfd, fd, 0);
	if (sr->fd < 0) {
		error_set(err, errno, "cannot take the loader's ring buffer (fd %d of pid %d): %s",
			  fd, (int)pid, strerror(errno));
		if (pidfd >= 0)
			close(pidfd);
		free(sr);
		return NULL;
	}
	close(pidfd);
	sr->rb = ring_buffer__new(sr->fd, on_record, sr, NULL);
	if (!sr->rb) {
		error_set(err, errno, "cannot map the loader's ring buffer: %s", strerror(errno));
		ssl_ring_free(sr);
		return NULL;
	}
	sr->loop = loop;
	sr->fn = fn;
	sr->arg = arg;
	ssl_calls_init(&sr->calls, max_payload, deliver, sr);
	sr->boot_to_wall = loader_boot_to_wall_ns();
	/* The map's fd is readable when the kernel woke it: no epoll of libbpf's in between. */
	ev_io_init(&sr->io, on_io, sr->fd, EV_READ);
	sr->io.data = sr;
	ev_timer_init(&sr->poll, on_poll, SSL_RING_IDLE_S, SSL_RING_IDLE_S);
	sr->poll.data = sr;
	ev_io_start(loop, &sr->io);
	ev_timer_start(loop, &sr->poll);
	return sr;
}

void ssl_ring_resume(struct ssl_ring *sr)
{
	if (!sr || !sr->stopped)
		return;
	sr->stopped = false;
	ev_io_start(sr->loop, &sr->io);
	ev_timer_start(sr->loop, &sr->poll);
	read_ring(sr);
}

void ssl_ring_drain(struct ssl_ring *sr)
{
	if (!sr)
		return;
	/* The run is ending: what is left is delivered whatever the backpressure. */
	sr->stopped = false;
	while (ring_buffer__consume(sr->rb) == -EAGAIN)
		;
	ssl_calls_flush(&sr->calls);
}

unsigned long long ssl_ring_incomplete(const struct ssl_ring *sr)
{
	return sr ? sr->calls.incomplete : 0;
}

void ssl_ring_free(struct ssl_ring *sr)
{
	if (!sr)
		return;
	if (sr->loop) {
		ev_io_stop(sr->loop, &sr->io);
		ev_timer_stop(sr->loop, &sr->poll);
	}
	ring_buffer__free(sr->rb);
	if (sr->fd >= 0)
		close(sr->fd);
	ssl_calls_free(&sr->calls);
	free(sr);
}
