/**
 * @file
 * A non-owning view of bytes: pointer plus length, not NUL-terminated.
 */
#ifndef COLLECTOR_SPAN_H
#define COLLECTOR_SPAN_H

#include <stddef.h>
#include <string.h>

/** A byte range that does not own its memory. */
struct span {
	const char *ptr; /**< first byte; may be NULL when len is 0 */
	size_t len;	 /**< number of bytes */
};

/**
 * A span over a C string.
 * @param s a NUL-terminated string, or NULL
 * @return a span over its bytes without the NUL (empty for NULL); it borrows @p s.
 */
static inline struct span span_str(const char *s)
{
	struct span sp = { s, s ? strlen(s) : 0 };
	return sp;
}

/**
 * Compare a span with a C string.
 * @param a the span
 * @param s a NUL-terminated string
 * @return non-zero when @p a holds exactly the bytes of @p s.
 */
static inline int span_eq(struct span a, const char *s)
{
	size_t n = strlen(s);
	return a.len == n && (n == 0 || memcmp(a.ptr, s, n) == 0);
}

#endif
