/* Unit tests for bpf/ssl_targets.c and bpf/x86_code.c: where the ssl probes go in a file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ssl_targets.h"
#include "x86_code.h"

#define LIBSSL "/usr/lib/x86_64-linux-gnu/libssl.so.3"

static int count_prog(const struct ssl_plan *p, enum ssl_prog prog)
{
	int n = 0;

	for (int i = 0; i < p->n; i++)
		n += p->sites[i].prog == prog;
	return n;
}

/* libssl: the internal functions that SSL_read_ex and SSL_write_ex call, not the public ones. */
static void test_libssl_internal_functions(void **state)
{
	static struct ssl_plan p;

	(void)state;
	if (access(LIBSSL, R_OK) != 0)
		skip();
	assert_true(ssl_targets_plan(LIBSSL, &p) > 0);
	assert_string_equal(p.how, "symbols");
	assert_int_equal(count_prog(&p, SSL_PROG_SSL_READ_INTERNAL), 1);
	assert_int_equal(count_prog(&p, SSL_PROG_SSL_WRITE_INTERNAL), 1);
	assert_int_equal(count_prog(&p, SSL_PROG_SSL_READ), 0);
	assert_int_equal(count_prog(&p, SSL_PROG_SSL_READ_EX), 0);
	/* Both internal functions, the handshake: each with a return probe; SSL_free without. */
	assert_int_equal(count_prog(&p, SSL_PROG_LEAVE), 3);
	assert_int_equal(p.functions, 4);
}

static void test_no_tls(void **state)
{
	static struct ssl_plan p;
	char path[] = "/tmp/test_ssl_targets.XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_int_equal(ssl_targets_plan("/bin/true", &p), 0);
	assert_non_null(strstr(p.why, "no TLS function"));
	assert_true(fd >= 0);
	/* Shorter than an ELF header: a stale errno must not be taken for the answer. */
	errno = ENOENT;
	assert_int_equal(write(fd, "not an ELF file\n", 16), 16);
	close(fd);
	assert_int_equal(ssl_targets_plan(path, &p), 0);
	assert_string_equal(p.why, "not an x86-64 ELF file");
	unlink(path);
	assert_int_equal(ssl_targets_plan("/nonexistent/x", &p), -ENOENT);
}

static void test_ret_sites(void **state)
{
	/* push %rbp; ret; xor %eax,%eax; ret; int3 padding */
	const uint8_t code[] = { 0x55, 0xc3, 0x31, 0xc0, 0xc3, 0xcc, 0xcc };
	/* ret; then a byte that is no x86-64 instruction (0x06: push %es) */
	const uint8_t bad[] = { 0xc3, 0x06, 0x06 };
	uint64_t rets[4];

	(void)state;
	assert_int_equal(x86_ret_sites(code, sizeof(code), 0x1000, rets, 4), 2);
	assert_int_equal(rets[0], 0x1001);
	assert_int_equal(rets[1], 0x1004);
	assert_int_equal(x86_ret_sites(code, sizeof(code), 0x1000, rets, 1), -E2BIG);
	assert_int_equal(x86_ret_sites(bad, sizeof(bad), 0x1000, rets, 4), -EILSEQ);
}

static void test_calls(void **state)
{
	/* sub $8,%rsp; call +0x10 (to 0x2019); jmp to itself; ret */
	const uint8_t code[] = { 0x48, 0x83, 0xec, 0x08, 0xe8, 0x10,
				 0x00, 0x00, 0x00, 0xeb, 0xfe, 0xc3 };
	uint64_t target = 0;

	(void)state;
	assert_int_equal(x86_first_call(code, sizeof(code), 0x2000, &target), 0);
	assert_int_equal(target, 0x2019);
	assert_true(x86_calls(code, sizeof(code), 0x2000, 0x2019));
	assert_false(x86_calls(code, sizeof(code), 0x2000, 0x2020));
	assert_int_equal(x86_first_call(code + 9, 3, 0x2009, &target), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libssl_internal_functions),
		cmocka_unit_test(test_no_tls),
		cmocka_unit_test(test_ret_sites),
		cmocka_unit_test(test_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
