/* Records the ssl BPF program sends to its loader (shared by both sides). */
#ifndef COLLECTOR_BPF_SSL_H
#define COLLECTOR_BPF_SSL_H

#define SSL_COMM_LEN 16
/* Payload bytes one ring-buffer record carries; a call's capture spans several. */
#define SSL_CHUNK 16384
/* A record of a call this small takes a slot of this size, not SSL_CHUNK. */
#define SSL_SMALL_CHUNK 2048
/* Payload bytes of each record the loader reserves and discards to write every page of a fresh
 * ring buffer once: with its 8-byte header a record spans SSL_PREFAULT_SPAN bytes, a whole number
 * of pages. */
#define SSL_PREFAULT_SPAN 65536
#define SSL_PREFAULT_RECORD (SSL_PREFAULT_SPAN - 8)
/* Records per call at most: the capture limit is SSL_CHUNK * SSL_MAX_CHUNKS (256 KiB). */
#define SSL_MAX_CHUNKS 16

enum ssl_record_kind {
	SSL_RECORD_DATA = 1,
	SSL_RECORD_HANDSHAKE = 2,
	SSL_RECORD_CLOSE = 3, /* SSL_free or gnutls_deinit: the connection is gone */
};

enum ssl_func {
	SSL_FUNC_SSL_WRITE = 1,
	SSL_FUNC_SSL_READ = 2,
	SSL_FUNC_SSL_WRITE_EX = 3,
	SSL_FUNC_SSL_READ_EX = 4,
	SSL_FUNC_GNUTLS_SEND = 5,
	SSL_FUNC_GNUTLS_RECV = 6,
	SSL_FUNC_SSL_DO_HANDSHAKE = 7,
	SSL_FUNC_SSL_FREE = 8,
	SSL_FUNC_GNUTLS_DEINIT = 9,
	SSL_FUNC_SSL_READ_INTERNAL = 10,  /* what SSL_read, SSL_read_ex and the SSL BIO call */
	SSL_FUNC_SSL_WRITE_INTERNAL = 11, /* what SSL_write, SSL_write_ex and the SSL BIO call */
	SSL_FUNC_GO_WRITE = 12,		  /* Go's crypto/tls.(*Conn).Write */
	SSL_FUNC_GO_READ = 13,
	SSL_FUNC_GO_CLOSE = 14,
};

#ifndef __bpf__
/* The name of an enum ssl_func value, "?" for any other. */
static inline const char *ssl_func_name(unsigned f)
{
	static const char *const names[] = {
		"?",
		"SSL_write",
		"SSL_read",
		"SSL_write_ex",
		"SSL_read_ex",
		"gnutls_record_send",
		"gnutls_record_recv",
		"SSL_do_handshake",
		"SSL_free",
		"gnutls_deinit",
		"ssl_read_internal",
		"ssl_write_internal",
		"crypto/tls.(*Conn).Write",
		"crypto/tls.(*Conn).Read",
		"crypto/tls.(*Conn).Close",
	};

	return f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
}

/* Whether an enum ssl_func sends data (else it receives, or moves none). */
static inline int ssl_func_writes(unsigned f)
{
	return f == SSL_FUNC_SSL_WRITE || f == SSL_FUNC_SSL_WRITE_EX || f == SSL_FUNC_GNUTLS_SEND ||
	       f == SSL_FUNC_SSL_WRITE_INTERNAL || f == SSL_FUNC_GO_WRITE;
}

/* The library an enum ssl_func belongs to. */
static inline const char *ssl_func_lib(unsigned f)
{
	if (f >= SSL_FUNC_GO_WRITE && f <= SSL_FUNC_GO_CLOSE)
		return "go";
	return (f >= SSL_FUNC_GNUTLS_SEND && f <= SSL_FUNC_GNUTLS_RECV) ||
			       f == SSL_FUNC_GNUTLS_DEINIT ?
		       "gnutls" :
		       "openssl";
}
#endif

struct ssl_record {
	unsigned int kind;
	unsigned int func;
	unsigned int pid; /* thread group id */
	unsigned int tid;
	unsigned int uid;
	int ret;		  /* the function's return value (truncated to 32 bits) */
	unsigned long long ts_ns; /* CLOCK_BOOTTIME at the call's entry */
	unsigned long long latency_ns;
	unsigned long long conn; /* the SSL * or gnutls_session_t */
	/* The process's cgroup v2 id: its container is resolved in user space. */
	unsigned long long cgroup_id;
	unsigned int len;	/* bytes the call moved */
	unsigned int captured;	/* bytes captured over all of the call's records */
	unsigned int offset;	/* where this record's bytes start in the call's data */
	unsigned int chunk_len; /* bytes in data */
	char comm[SSL_COMM_LEN];
	char data[SSL_CHUNK];
};

#endif
