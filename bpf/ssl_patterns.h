/* OpenSSL's read/write functions in a stripped binary, found by code patterns of known builds. */
#ifndef COLLECTOR_BPF_SSL_PATTERNS_H
#define COLLECTOR_BPF_SSL_PATTERNS_H

#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"

/* A function's address and size; size 0: not found. */
struct ssl_fn {
	uint64_t addr, size;
};

/* OpenSSL's functions in one file. */
struct ssl_openssl_fns {
	struct ssl_fn read, write, read_ex, write_ex, handshake, free;
	const char *version; /* the build whose pattern matched */
};

/*
 * Find SSL_read, SSL_write, SSL_read_ex and SSL_write_ex by the patterns of the OpenSSL
 * builds this collector knows (see docs/ssl.md), each match checked: it must be the only
 * one, and SSL_read_ex and SSL_write_ex must call the internal functions where the pattern
 * puts them. @return 0, or -ENOENT with @p why saying what failed.
 */
int ssl_patterns_find(const struct elf_image *im, struct ssl_openssl_fns *f, char *why,
		      size_t why_size);

#endif
