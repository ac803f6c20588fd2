/**
 * @file
 * Buffered writes of whole lines to an fd, blocking or non-blocking.
 */
#ifndef COLLECTOR_FD_WRITER_H
#define COLLECTOR_FD_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <collector/buffer.h>

/** An output fd with a buffer; the writer owns the buffer, not the fd. */
struct fd_writer {
	int fd;		   /**< destination */
	struct buffer buf; /**< bytes not yet written */
	size_t high_water; /**< fd_writer_full() above this many bytes */
	bool mid_line;	   /**< the fd has part of the buffer's first line */
	uint64_t written;  /**< bytes written to the fd in all (for metrics) */
	bool count_lines;  /**< count the whole lines written in @c lines */
	uint64_t lines;	   /**< with count_lines: newlines written to the fd in all */
};

/**
 * Set up a writer with an empty buffer.
 * @param w the writer
 * @param fd the destination (may be -1 until it is opened)
 * @param high_water buffered bytes at which fd_writer_full() turns true
 */
void fd_writer_init(struct fd_writer *w, int fd, size_t high_water);

/**
 * Free the buffer (the fd stays open).
 * @param w the writer
 */
void fd_writer_free(struct fd_writer *w);

/**
 * Whether the caller should flush before buffering more.
 * @param w the writer
 * @return true when the buffer holds at least high_water bytes.
 */
static inline bool fd_writer_full(const struct fd_writer *w)
{
	return w->buf.len >= w->high_water;
}

/**
 * Write out the buffer, retrying short writes and EINTR.
 * @param w the writer
 * @return 0 when empty, -EAGAIN when the fd is full (the rest stays
 *         buffered), or -errno on failure (the buffer is kept).
 */
int fd_writer_flush(struct fd_writer *w);

/**
 * Before giving up on a non-blocking fd: write the rest of a line it already
 * has part of, waiting at most @p timeout_ms for it to take the bytes, so a
 * reader never sees half a line. What follows that line stays buffered.
 * @param w the writer
 * @param timeout_ms how long to wait in all
 * @return 0 when the fd ends on a whole line, -ETIMEDOUT or -errno otherwise.
 */
int fd_writer_finish_line(struct fd_writer *w, int timeout_ms);

#endif
