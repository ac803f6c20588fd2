/* Buffered writes to an fd that never leave a partial line behind silently. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <collector/fd_writer.h>

void fd_writer_init(struct fd_writer *w, int fd, size_t high_water)
{
	w->fd = fd;
	w->buf = (struct buffer){ 0 };
	w->high_water = high_water;
	w->mid_line = false;
	w->count_lines = false;
	w->lines = 0;
}

/* A writer whose lines are its units (one event each) counts them as they go out. */
static void count_written(struct fd_writer *w, size_t n)
{
	const char *p = w->buf.data, *end = w->buf.data + n;

	w->written += n;
	while (w->count_lines && (p = memchr(p, '\n', (size_t)(end - p)))) {
		w->lines++;
		p++;
	}
}

void fd_writer_free(struct fd_writer *w)
{
	buffer_free(&w->buf);
}

int fd_writer_flush(struct fd_writer *w)
{
	size_t done = 0;
	int rc = 0;

	while (done < w->buf.len) {
		ssize_t n = write(w->fd, w->buf.data + done, w->buf.len - done);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		rc = (n < 0) ? -errno : -EIO;
		if (rc == -EWOULDBLOCK)
			rc = -EAGAIN;
		break;
	}
	if (done > 0)
		w->mid_line = w->buf.data[done - 1] != '\n';
	count_written(w, done);
	buffer_consume(&w->buf, done);
	return rc;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fd_writer_finish_line(struct fd_writer *w, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (w->mid_line && w->buf.len > 0) {
		const char *nl = memchr(w->buf.data, '\n', w->buf.len);
		size_t want = nl ? (size_t)(nl - w->buf.data) + 1 : w->buf.len;
		struct pollfd p = { .fd = w->fd, .events = POLLOUT };
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
		n = write(w->fd, w->buf.data, want);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n > 0) {
			w->mid_line = (size_t)n < want || w->buf.data[n - 1] != '\n';
			count_written(w, (size_t)n);
			buffer_consume(&w->buf, (size_t)n);
		}
	}
	return 0;
}
