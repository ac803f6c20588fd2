/* Buffered writes to an fd that never leave a partial line behind silently. */
#include <errno.h>
#include <unistd.h>

#include <collector/fd_writer.h>

void fd_writer_init(struct fd_writer *w, int fd, size_t high_water)
{
	w->fd = fd;
	w->buf = (struct buffer){ 0 };
	w->high_water = high_water;
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
	buffer_consume(&w->buf, done);
	return rc;
}
