/**
 * @file
 * Splits a byte stream into lines: partial reads, length limit, CRLF, UTF-8.
 */
#ifndef COLLECTOR_LINE_FRAMER_H
#define COLLECTOR_LINE_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <collector/error.h>

/** Flags of a framed line. */
enum line_flags {
	LINE_TRUNCATED = 1u << 0, /**< longer than the limit; the rest was discarded */
	LINE_INVALID_UTF8 =
		1u
		<< 1, /**< invalid UTF-8 was replaced with U+FFFD (with '?' bytes when out of memory) */
	LINE_HAS_NUL = 1u << 2,	   /**< contains NUL bytes (kept as they are) */
	LINE_CRLF = 1u << 3,	   /**< ended with CR LF; the CR was removed */
	LINE_NO_NEWLINE = 1u << 4, /**< last line of the stream, without '\\n' */
};

/** One framed line; @c ptr stays valid until the next framer call. */
struct line {
	const char *ptr; /**< line bytes without the terminator, valid UTF-8 */
	size_t len;	 /**< length of @c ptr */
	uint64_t number; /**< 1-based line number in the stream */
	uint64_t offset; /**< byte offset of the line's first byte */
	unsigned flags;	 /**< enum line_flags */
};

/** Running totals, exact at any time. */
struct line_framer_stats {
	uint64_t lines;	       /**< lines returned */
	uint64_t bytes;	       /**< bytes fed in */
	uint64_t truncated;    /**< lines over the limit */
	uint64_t discarded;    /**< bytes thrown away from over-long lines */
	uint64_t invalid_utf8; /**< lines that needed UTF-8 repair */
	uint64_t nul;	       /**< lines containing NUL */
};

/**
 * A line framer. The caller owns the struct and frees its buffers with
 * line_framer_free(); read only @c stats, the other fields are private.
 */
struct line_framer {
	char *buf;			/**< received bytes [start, end) */
	size_t cap;			/**< size of @c buf */
	size_t start;			/**< first byte not yet returned */
	size_t end;			/**< end of the received bytes */
	size_t scanned;			/**< bytes after start known to hold no '\\n' */
	size_t max_line;		/**< the line length limit */
	bool discarding;		/**< inside the tail of an over-long line */
	bool eof;			/**< the stream has ended */
	uint64_t stream_off;		/**< stream offset of buf[start] */
	char *fixed;			/**< UTF-8 repaired copy of the current line */
	size_t fixed_cap;		/**< size of @c fixed */
	struct line_framer_stats stats; /**< totals so far */
};

/** Default read size the framer keeps room for beyond the line limit. */
#define LINE_FRAMER_CHUNK ((size_t)64 * 1024)

/**
 * Prepare a framer; it allocates @p max_line + LINE_FRAMER_CHUNK bytes.
 * @param f the framer (its old contents are ignored)
 * @param max_line the longest line kept whole (> 0), in input bytes; longer ones
 *        are truncated. A line with invalid UTF-8 may come out longer, up to
 *        3 * max_line bytes, since each invalid byte becomes U+FFFD (3 bytes).
 * @param err filled on failure (may be NULL)
 * @return 0, or -ENOMEM / -EINVAL with @p err filled (nothing to free then).
 */
int line_framer_init(struct line_framer *f, size_t max_line, struct error *err);

/**
 * Forget all input and counters, ready for a new stream; keeps the buffers.
 * @param f the framer
 */
void line_framer_reset(struct line_framer *f);

/**
 * Release the framer's buffers.
 * @param f the framer
 */
void line_framer_free(struct line_framer *f);

/**
 * Where the next bytes go, for a caller that reads them itself.
 * @param f the framer
 * @param avail set to the room there; > 0 unless complete lines are still
 *        waiting to be taken with line_framer_next()
 * @return a pointer into the framer's buffer, valid until the next call.
 */
char *line_framer_space(struct line_framer *f, size_t *avail);

/**
 * Record that bytes were written at line_framer_space().
 * @param f the framer
 * @param n how many, at most the room it reported
 */
void line_framer_commit(struct line_framer *f, size_t n);

/**
 * Read once from @p fd into the framer.
 * @param f the framer
 * @param fd the fd to read (the framer does not own it)
 * @return bytes read, 0 at EOF (the framer is then finished), or -errno
 *         (-EAGAIN when nothing is ready on a non-blocking fd, -ENOBUFS when
 *         lines must be taken first).
 */
ssize_t line_framer_read(struct line_framer *f, int fd);

/**
 * Copy bytes in.
 * @param f the framer
 * @param data the bytes
 * @param len how many
 * @return how many fitted; take lines with line_framer_next() and feed the rest.
 */
size_t line_framer_feed(struct line_framer *f, const void *data, size_t len);

/**
 * Mark the end of the stream: a last unterminated line becomes available.
 * @param f the framer
 */
void line_framer_finish(struct line_framer *f);

/**
 * Whether the stream is over.
 * @param f the framer
 * @return true once finished and every line has been taken.
 */
bool line_framer_done(const struct line_framer *f);

/**
 * Take the next complete line.
 * @param f the framer
 * @param out filled with a line that stays valid until the next framer call
 * @return true and fill @p out, or false when more input is needed.
 */
bool line_framer_next(struct line_framer *f, struct line *out);

/**
 * Bytes received but not yet returned as lines.
 * @param f the framer
 * @return that count.
 */
size_t line_framer_pending(const struct line_framer *f);

#endif
