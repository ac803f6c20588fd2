/* The ssl loader's ring buffer read inside the runner: its records put back together into calls. */
#ifndef RUNNERS_SSL_RING_H
#define RUNNERS_SSL_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <ev.h>

#include <collector/error.h>

#include "ssl.h"

/* One TLS call (or handshake, or close) as the analyzers see it, from either hand-over. */
struct ssl_call {
	unsigned kind;	  /* enum ssl_record_kind */
	const char *func; /* "SSL_read", ... */
	const char *lib;  /* "openssl" or "gnutls" */
	bool write;	  /* data the process sent, else received */
	long long ts_ns;  /* wall clock of the call's entry */
	int pid, tid;
	unsigned long long cgroup_id; /* the process's cgroup v2 id, 0 when unknown */
	long long uid, ret, latency_ns, len;
	bool success; /* a handshake that succeeded */
	char comm[SSL_COMM_LEN + 1];
	char conn[48];		   /* "pid:SSL pointer in hex" */
	const unsigned char *data; /* the captured bytes */
	size_t captured;
	bool truncated;	 /* the call moved more than was captured */
	bool incomplete; /* some of its records were lost */
	const char *b64; /* the captured bytes in base64 when they came so, else NULL */
};

/* Gets each call; @return false to stop the delivery until ssl_ring_resume(). */
typedef bool (*ssl_call_fn)(void *arg, const struct ssl_call *c);

struct ssl_ring;

/*
 * Take the ring buffer @p fd of process @p pid (the loader, which keeps it
 * attached) and read it on @p loop, @p max_payload bytes per call at most.
 * @return the reader, or NULL with @p err.
 */
struct ssl_ring *ssl_ring_open(struct ev_loop *loop, pid_t pid, int fd, size_t max_payload,
			       ssl_call_fn fn, void *arg, struct error *err);

/* Deliver again after the callback said stop. */
void ssl_ring_resume(struct ssl_ring *sr);

/* Deliver everything the ring holds, and the calls still missing records as incomplete. */
void ssl_ring_drain(struct ssl_ring *sr);

/* Calls delivered incomplete because records of theirs were lost. */
unsigned long long ssl_ring_incomplete(const struct ssl_ring *sr);

/* Stop reading, close the ring; NULL is a no-op. */
void ssl_ring_free(struct ssl_ring *sr);

#endif
