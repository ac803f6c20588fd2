/* The ssl loader's ring buffer read inside the runner: its records put back together into calls. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "ssl_ring.h"

/* Calls whose records are still arriving: one per thread in a call, normally one or two. */
#define PENDING_SLOTS 64
/*
 * The ring buffer is read on a timer, not at the kernel's wake-ups: a wake-up costs the traced
 * process an interrupt and a cross-CPU wake in the middle of its call (~50 µs on a VM we
 * measured), a timer costs it nothing. Every SSL_RING_BUSY_S while records keep coming, every
 * SSL_RING_IDLE_S once a read found none; the loader still wakes the runner when a quarter of
 * the ring is waiting.
 */
#define SSL_RING_BUSY_S 0.005
#define SSL_RING_IDLE_S 0.1

/* A call whose records are being put together. */
struct pending {
	bool used;
	struct ssl_record head; /* the header of its first record */
	unsigned have;		/* bytes received so far, in order */
	bool gap;		/* a record was lost on the way */
	unsigned char *data;
};

struct ssl_ring {
	struct ev_loop *loop;
	int fd;
	struct ring_buffer *rb;
	ev_io io;
	ev_timer poll;
	ssl_call_fn fn;
	void *arg;
	bool stopped;  /* the callback said stop */
	unsigned used; /* pending slots in use */
	size_t max_payload;
	long long boot_to_wall;
	unsigned long long incomplete;
	struct pending pending[PENDING_SLOTS];
};

static long long boot_to_wall_ns(void)
{
	struct timespec wall, boot;

	clock_gettime(CLOCK_REALTIME, &wall);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	return (wall.tv_sec - boot.tv_sec) * 1000000000LL + (wall.tv_nsec - boot.tv_nsec);
}

/* Hand one call to the callback; @return what it said. */
static bool deliver(struct ssl_ring *sr, const struct ssl_record *r, const void *data,
		    size_t captured, bool incomplete)
{
	struct ssl_call c = {
		.kind = r->kind,
		.func = ssl_func_name(r->func),
		.lib = ssl_func_lib(r->func),
		.write = ssl_func_writes(r->func),
		.ts_ns = (long long)r->ts_ns + sr->boot_to_wall,
		.pid = (int)r->pid,
		.tid = (int)r->tid,
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
	if (incomplete)
		sr->incomplete++;
	return sr->fn(sr->arg, &c);
}

static bool deliver_pending(struct ssl_ring *sr, struct pending *p)
{
	p->used = false;
	sr->used--;
	return deliver(sr, &p->head, p->data, p->have, p->gap);
}

/* The slot of @p r's call, a free one, or one freed by giving up on an older call. */
static struct pending *find_pending(struct ssl_ring *sr, const struct ssl_record *r, bool *go_on)
{
	struct pending *free_slot = NULL, *oldest = NULL;

	for (int i = 0; i < PENDING_SLOTS; i++) {
		struct pending *p = &sr->pending[i];

		if (!p->used) {
			free_slot = free_slot ? free_slot : p;
			continue;
		}
		if (p->head.tid == r->tid) {
			if (p->head.ts_ns == r->ts_ns && p->head.conn == r->conn)
				return p;
			/* The thread moved on: the rest of its previous call was lost. */
			p->gap = true;
			*go_on = deliver_pending(sr, p) && *go_on;
			return p;
		}
		if (!oldest || p->head.ts_ns < oldest->head.ts_ns)
			oldest = p;
	}
	if (free_slot)
		return free_slot;
	oldest->gap = true;
	*go_on = deliver_pending(sr, oldest) && *go_on;
	return oldest;
}

static bool add_data(struct ssl_ring *sr, const struct ssl_record *r, size_t size)
{
	unsigned n = r->chunk_len;
	bool last, go_on = true;
	struct pending *p;

	if (n > SSL_CHUNK || offsetof(struct ssl_record, data) + n > size)
		n = 0;
	/* The last record of a call, or a read of user memory that failed. */
	last = r->offset + SSL_CHUNK >= r->captured || n < r->chunk_len || r->chunk_len == 0;
	/* Most calls fit one record: read them where they are. */
	if (r->offset == 0 && last && !sr->used)
		return deliver(sr, r, r->data, n, n < r->chunk_len);
	p = find_pending(sr, r, &go_on);
	if (!p->used) {
		p->used = true;
		sr->used++;
		p->head = *r;
		p->have = 0;
		p->gap = false;
	}
	if (!p->data)
		p->data = malloc(sr->max_payload);
	if (!p->data || r->offset != p->have || n < r->chunk_len)
		p->gap = true;
	else if (r->offset + n <= sr->max_payload) {
		memcpy(p->data + r->offset, r->data, n);
		p->have += n;
	}
	if (last)
		go_on = deliver_pending(sr, p) && go_on;
	return go_on;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct ssl_ring *sr = ctx;
	const struct ssl_record *r = data;
	bool go_on = true;

	if (size < offsetof(struct ssl_record, data))
		return 0;
	if (r->kind == SSL_RECORD_DATA)
		go_on = add_data(sr, r, size);
	else if (r->kind == SSL_RECORD_HANDSHAKE || r->kind == SSL_RECORD_CLOSE)
		go_on = deliver(sr, r, NULL, 0, false);
	/* This record is consumed either way; the next ones wait. */
	return go_on ? 0 : -EAGAIN;
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
	sr->max_payload = max_payload;
	sr->boot_to_wall = boot_to_wall_ns();
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
	for (int i = 0; i < PENDING_SLOTS; i++)
		if (sr->pending[i].used) {
			sr->pending[i].gap = true;
			deliver_pending(sr, &sr->pending[i]);
		}
}

unsigned long long ssl_ring_incomplete(const struct ssl_ring *sr)
{
	return sr ? sr->incomplete : 0;
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
	for (int i = 0; i < PENDING_SLOTS; i++)
		free(sr->pending[i].data);
	free(sr);
}
