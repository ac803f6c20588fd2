/* Where to put the ssl probes in one file: TLS functions found by symbol, Go's table or pattern. */
#ifndef COLLECTOR_BPF_SSL_TARGETS_H
#define COLLECTOR_BPF_SSL_TARGETS_H

#include <stdbool.h>
#include <stdint.h>

/* The BPF program a site runs (the loader maps each to ssl.bpf.c's program). */
enum ssl_prog {
	SSL_PROG_SSL_WRITE,
	SSL_PROG_SSL_READ,
	SSL_PROG_SSL_WRITE_EX,
	SSL_PROG_SSL_READ_EX,
	SSL_PROG_HANDSHAKE,
	SSL_PROG_GNUTLS_SEND,
	SSL_PROG_GNUTLS_RECV,
	SSL_PROG_SSL_FREE,
	SSL_PROG_GNUTLS_DEINIT,
	SSL_PROG_SSL_READ_INTERNAL,
	SSL_PROG_SSL_WRITE_INTERNAL,
	SSL_PROG_GO_WRITE,
	SSL_PROG_GO_READ,
	SSL_PROG_GO_READ_RET, /* at one RET instruction of Go's Read */
	SSL_PROG_GO_CLOSE,
	SSL_PROG_LEAVE, /* the return probe of every C function */
	SSL_PROG_COUNT,
};

#define SSL_TARGETS_MAX_SITES 128

/* One probe: at @offset in the file (what the kernel's uprobe takes), @prog runs. */
struct ssl_site {
	uint64_t offset;
	enum ssl_prog prog;
	bool retprobe;
	const char *what; /* the function, for messages */
};

struct ssl_plan {
	struct ssl_site sites[SSL_TARGETS_MAX_SITES];
	int n;
	int functions; /* functions probed */
	char how[160]; /* how they were found: "symbols", "Go function table", a pattern */
	char why[320]; /* when none: why not */
};

/*
 * Find the TLS functions of @p path: OpenSSL (libssl, or linked in; stripped: by the
 * prologue patterns of ssl_patterns.c), BoringSSL, GnuTLS, Go's crypto/tls (symbols or
 * .gopclntab). @return the number of sites (0: plan->why says why), or -errno.
 */
int ssl_targets_plan(const char *path, struct ssl_plan *plan);

/* Whether @p path is a Go program with crypto/tls (what the system-wide mode adds of running ones). */
bool ssl_targets_is_go_tls(const char *path);

#endif
