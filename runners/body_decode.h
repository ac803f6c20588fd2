/* HTTP bodies' Content-Encoding (gzip, deflate, br, zstd) decoded into at most a given size. */
#ifndef COLLECTOR_RUNNERS_BODY_DECODE_H
#define COLLECTOR_RUNNERS_BODY_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include <collector/buffer.h>

enum body_coding {
	BODY_IDENTITY, /* none, or "identity" */
	BODY_GZIP,     /* "gzip", "x-gzip" */
	BODY_DEFLATE,  /* "deflate": zlib, or raw deflate as some servers send */
	BODY_BR,       /* "br" */
	BODY_ZSTD,     /* "zstd" */
	BODY_UNKNOWN,  /* anything else, or several codings: left as it is */
};

/* The coding a Content-Encoding value names. */
enum body_coding body_coding_of(const char *content_encoding);

/* The name of @p c as events say it ("gzip", ...). */
const char *body_coding_name(enum body_coding c);

enum body_decoded {
	BODY_DECODED_WHOLE, /* all of it */
	BODY_DECODED_CUT,   /* the input ended early, or the output reached @p limit */
	BODY_DECODED_BAD,   /* not valid in that coding (or out of memory): @p out is empty */
};

/*
 * Decode @p n bytes of @p in (a body, or the first part of one) into @p out, replacing its
 * contents, never more than @p limit bytes: a small body that inflates to gigabytes (a
 * decompression bomb) costs @p limit bytes and the time to produce them.
 */
enum body_decoded body_decode(enum body_coding c, const void *in, size_t n, struct buffer *out,
			      size_t limit);

#endif
