/**
 * @file
 * A growable byte buffer, the output side of encoders and writers.
 */
#ifndef COLLECTOR_BUFFER_H
#define COLLECTOR_BUFFER_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

/**
 * Bytes [0, len) of @c data are in use; the buffer owns @c data.
 * A zeroed struct is an empty buffer; buffer_free() releases it.
 */
struct buffer {
	char *data; /**< heap memory, NULL until the first append */
	size_t len; /**< bytes in use */
	size_t cap; /**< bytes allocated */
};

/**
 * Make room for @p extra more bytes.
 * @param b the buffer
 * @param extra bytes wanted beyond @c len
 * @return 0, or -ENOMEM (the buffer is unchanged).
 */
int buffer_reserve(struct buffer *b, size_t extra);

/**
 * Append @p n bytes, growing the buffer as needed.
 * @param b the buffer
 * @param p the bytes to copy
 * @param n how many bytes
 * @return 0, or -ENOMEM (the buffer is unchanged).
 */
static inline int buffer_append(struct buffer *b, const void *p, size_t n)
{
	/* Inline: encoders call this once per token, millions of times a second. */
	if (n == 0)
		return 0; /* memcpy to an unallocated buffer is undefined even for 0 bytes */
	if (b->cap - b->len < n && buffer_reserve(b, n) < 0)
		return -ENOMEM;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

/**
 * Drop the first @p n bytes (after a partial write); more than @c len empties it.
 * @param b the buffer
 * @param n bytes to drop from the front
 */
void buffer_consume(struct buffer *b, size_t n);

/**
 * Release the memory; the buffer is empty and reusable afterwards.
 * @param b the buffer
 */
void buffer_free(struct buffer *b);

#endif
