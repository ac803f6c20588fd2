/* Docker's multiplexed attach stream (no TTY): 8-byte frame headers, stdout and stderr interleaved. */
#ifndef COLLECTOR_RUNNERS_CONTAINER_MUX_H
#define COLLECTOR_RUNNERS_CONTAINER_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Frame header: stream (0 stdin, 1 stdout, 2 stderr), three zero bytes, big-endian length. */
#define MUX_HEADER 8

/* The decoder's state between chunks; zero it to start. */
struct mux {
	unsigned char hdr[MUX_HEADER];
	size_t have;	    /* header bytes so far */
	uint32_t remaining; /* payload bytes of the current frame still to come */
	int stream;	    /* of the current frame */
	uint64_t bad;	    /* frames with an unknown stream byte (their payload is dropped) */
};

/* Bytes of one stream. */
typedef void (*mux_out_fn)(void *arg, bool is_stderr, const char *p, size_t n);

/* Decode @p n bytes; every payload piece goes to @p out as it arrives. */
void mux_feed(struct mux *m, const char *p, size_t n, mux_out_fn out, void *arg);

#endif
