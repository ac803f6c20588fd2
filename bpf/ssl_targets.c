/* Where to put the ssl probes in one file: TLS functions found by symbol, Go's table or pattern. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "elf_image.h"
#include "go_funcs.h"
#include "ssl_patterns.h"
#include "ssl_targets.h"
#include "x86_code.h"

/* RET instructions probed in Go's Read at most (Go 1.19's has 7). */
#define GO_MAX_RETS 32

static void say(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

static int add(struct ssl_plan *p, const struct elf_image *im, uint64_t addr, enum ssl_prog prog,
	       bool retprobe, const char *what)
{
	long long off = elf_image_file_offset(im, addr);

	if (off < 0)
		return -ENOEXEC;
	if (p->n == SSL_TARGETS_MAX_SITES)
		return -E2BIG;
	p->sites[p->n++] = (struct ssl_site){ (uint64_t)off, prog, retprobe, what };
	return 0;
}

/* A C function: entry program, and the shared return probe when it returns something. */
static int add_function(struct ssl_plan *p, const struct elf_image *im, const struct ssl_fn *f,
			enum ssl_prog prog, bool returns, const char *what)
{
	int err;

	if (!f->size)
		return 0;
	err = add(p, im, f->addr, prog, false, what);
	if (!err && returns)
		err = add(p, im, f->addr, SSL_PROG_LEAVE, true, what);
	if (!err)
		p->functions++;
	return err;
}

static void symbol(const struct elf_image *im, const char *name, struct ssl_fn *f)
{
	if (!elf_image_symbol(im, name, &f->addr, &f->size))
		f->size = 0;
}

/*
 * The internal function that @p ex (SSL_read_ex) wraps and that @p pub (SSL_read) calls as
 * well: OpenSSL's ssl_read_internal, which every read takes, also the SSL BIO's (s_server
 * -www). @return false when they do not meet in one function.
 */
static bool internal_of(const struct elf_image *im, const struct ssl_fn *pub,
			const struct ssl_fn *ex, uint64_t *target)
{
	const uint8_t *code = ex->size ? elf_image_bytes(im, ex->addr, ex->size) : NULL;
	const uint8_t *pcode = pub->size ? elf_image_bytes(im, pub->addr, pub->size) : NULL;

	if (!code || !pcode || x86_first_call(code, ex->size, ex->addr, target) != 0)
		return false;
	return *target != pub->addr && x86_calls(pcode, pub->size, pub->addr, *target);
}

static int openssl_plan(const struct elf_image *im, struct ssl_plan *p)
{
	struct ssl_openssl_fns f = { 0 };
	uint64_t ri, wi;
	int err;

	symbol(im, "SSL_read", &f.read);
	symbol(im, "SSL_write", &f.write);
	symbol(im, "SSL_read_ex", &f.read_ex);
	symbol(im, "SSL_write_ex", &f.write_ex);
	if (f.read.size && f.write.size) {
		say(p->how, sizeof(p->how), "symbols");
	} else if ((err = ssl_patterns_find(im, &f, p->why, sizeof(p->why))) < 0) {
		return err == -ENOENT ? 0 : err;
	} else {
		say(p->how, sizeof(p->how), "prologue pattern of %s", f.version);
	}
	symbol(im, "SSL_do_handshake", &f.handshake);
	symbol(im, "SSL_free", &f.free);
	if (internal_of(im, &f.read, &f.read_ex, &ri) &&
	    internal_of(im, &f.write, &f.write_ex, &wi) && ri != wi) {
		struct ssl_fn r = { ri, 1 }, w = { wi, 1 };

		err = add_function(p, im, &r, SSL_PROG_SSL_READ_INTERNAL, true,
				   "ssl_read_internal");
		if (!err)
			err = add_function(p, im, &w, SSL_PROG_SSL_WRITE_INTERNAL, true,
					   "ssl_write_internal");
	} else {
		err = add_function(p, im, &f.read, SSL_PROG_SSL_READ, true, "SSL_read");
		if (!err)
			err = add_function(p, im, &f.write, SSL_PROG_SSL_WRITE, true, "SSL_write");
		if (!err)
			err = add_function(p, im, &f.read_ex, SSL_PROG_SSL_READ_EX, true,
					   "SSL_read_ex");
		if (!err)
			err = add_function(p, im, &f.write_ex, SSL_PROG_SSL_WRITE_EX, true,
					   "SSL_write_ex");
	}
	if (!err)
		err = add_function(p, im, &f.handshake, SSL_PROG_HANDSHAKE, true,
				   "SSL_do_handshake");
	if (!err)
		err = add_function(p, im, &f.free, SSL_PROG_SSL_FREE, false, "SSL_free");
	return err;
}

static int gnutls_plan(const struct elf_image *im, struct ssl_plan *p)
{
	struct ssl_fn send = { 0 }, recv = { 0 }, deinit = { 0 };
	int err;

	symbol(im, "gnutls_record_send", &send);
	symbol(im, "gnutls_record_recv", &recv);
	symbol(im, "gnutls_deinit", &deinit);
	if (!send.size && !recv.size)
		return 0;
	say(p->how, sizeof(p->how), "symbols");
	err = add_function(p, im, &send, SSL_PROG_GNUTLS_SEND, true, "gnutls_record_send");
	if (!err)
		err = add_function(p, im, &recv, SSL_PROG_GNUTLS_RECV, true, "gnutls_record_recv");
	if (!err)
		err = add_function(p, im, &deinit, SSL_PROG_GNUTLS_DEINIT, false, "gnutls_deinit");
	return err;
}

/* Go's Read returns through each of its RET instructions: no uretprobe on Go code (its stacks move). */
static int go_read_rets(const struct elf_image *im, struct ssl_plan *p, uint64_t entry,
			uint64_t end)
{
	uint64_t rets[GO_MAX_RETS];
	const uint8_t *code = elf_image_bytes(im, entry, end - entry);
	int n = code ? x86_ret_sites(code, end - entry, entry, rets, GO_MAX_RETS) : -ENOEXEC;
	int err = 0;

	if (n <= 0) {
		say(p->why, sizeof(p->why),
		    "crypto/tls.(*Conn).Read: its returns could not be found (%s)",
		    n == 0 ? "no RET" : strerror(-n));
		return n < 0 ? n : -ENOENT;
	}
	for (int i = 0; i < n && !err; i++)
		err = add(p, im, rets[i], SSL_PROG_GO_READ_RET, false, "crypto/tls.(*Conn).Read");
	return err;
}

static int go_plan(const struct elf_image *im, struct ssl_plan *p)
{
	uint64_t we = 0, wend = 0, re = 0, rend = 0, ce = 0, cend = 0;
	int err = go_func_find(im, "crypto/tls.(*Conn).Write", &we, &wend);

	if (err == -ENOEXEC)
		return 0;
	if (!err)
		err = go_func_find(im, "crypto/tls.(*Conn).Read", &re, &rend);
	if (err == -ENOENT) {
		say(p->why, sizeof(p->why), "a Go program without crypto/tls");
		return -ENOENT;
	}
	if (err == -ENOTSUP) {
		say(p->why, sizeof(p->why),
		    "a Go program older than Go 1.18, by its function table (supported: Go "
		    "1.18 and later)");
		return -ENOTSUP;
	}
	if (err)
		return err;
	say(p->how, sizeof(p->how), "%s",
	    elf_image_symbol(im, "crypto/tls.(*Conn).Read", &ce, &cend) ? "symbols" :
									  "Go function table "
									  "(.gopclntab)");
	err = add(p, im, we, SSL_PROG_GO_WRITE, false, "crypto/tls.(*Conn).Write");
	if (!err)
		err = add(p, im, re, SSL_PROG_GO_READ, false, "crypto/tls.(*Conn).Read");
	if (!err)
		err = go_read_rets(im, p, re, rend);
	if (!err && go_func_find(im, "crypto/tls.(*Conn).Close", &ce, &cend) == 0)
		err = add(p, im, ce, SSL_PROG_GO_CLOSE, false, "crypto/tls.(*Conn).Close");
	if (!err)
		p->functions += 3;
	return err;
}

int ssl_targets_plan(const char *path, struct ssl_plan *p)
{
	struct elf_image im;
	int err;

	memset(p, 0, sizeof(*p));
	err = elf_image_open(&im, path);
	if (err == -ENOEXEC) {
		say(p->why, sizeof(p->why), "not an x86-64 ELF file");
		return 0;
	}
	if (err)
		return err;
	if (go_is_go_binary(&im))
		err = go_plan(&im, p);
	else if ((err = gnutls_plan(&im, p)) == 0 && p->n == 0)
		err = openssl_plan(&im, p);
	elf_image_close(&im);
	if (err == -ENOENT || err == -ENOTSUP)
		return 0;
	if (!err && p->n == 0 && !p->why[0])
		say(p->why, sizeof(p->why),
		    "no TLS function: no symbol SSL_read, SSL_write, gnutls_record_recv or "
		    "crypto/tls.(*Conn).Read, and no known OpenSSL prologue pattern matched");
	return err < 0 ? err : p->n;
}

bool ssl_targets_is_go_tls(const char *path)
{
	struct elf_image im;
	uint64_t entry, end;
	bool yes;

	if (elf_image_open(&im, path) != 0)
		return false;
	yes = go_is_go_binary(&im) &&
	      go_func_find(&im, "crypto/tls.(*Conn).Read", &entry, &end) == 0;
	elf_image_close(&im);
	return yes;
}
