/* Buffered writes of whole lines to an fd, blocking or non-blocking. */
#ifndef COLLECTOR_FD_WRITER_H
#define COLLECTOR_FD_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include <collector/buffer.h>

/** An output fd with a buffer; the writer does not own the fd. */
struct fd_writer {
	int fd;             /**< destination */
	struct buffer buf;  /**< bytes not yet written */
	size_t high_water;  /**< fd_writer_full() above this many bytes */
};

/** Set up @p w for @p fd with a buffer limit of @p high_water bytes. */
void fd_writer_init(struct fd_writer *w, int fd, size_t high_water);

/** Free the buffer (the fd stays open). */
void fd_writer_free(struct fd_writer *w);

/** True when the buffer holds at least high_water bytes. */
static inline bool fd_writer_full(const struct fd_writer *w)
{
	return w->buf.len >= w->high_water;
}

/**
 * Write out the buffer, retrying short writes and EINTR.
 * @return 0 when empty, -EAGAIN when the fd is full (the rest stays
 *         buffered), or -errno on failure (the buffer is kept).
 */
int fd_writer_flush(struct fd_writer *w);

#endif
