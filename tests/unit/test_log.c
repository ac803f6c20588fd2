/* Unit tests for diagnostics (collector/log.c): a stderr that takes nothing never blocks a message; drops are counted and said. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <collector/log.h>

/* Distinct format strings: the rate limit tracks 32 call sites, so these are never suppressed. */
#define FORMATS 64

static void test_full_stderr_never_blocks(void **state)
{
	static char fmts[FORMATS][32], pokes[FORMATS][32];
	char junk[4096], *got = malloc(1 << 20);
	int p[2], saved = dup(STDERR_FILENO);
	size_t n = 0;
	ssize_t r;

	(void)state;
	assert_non_null(got);
	got[0] = '\0';
	memset(junk, '.', sizeof(junk));
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	/* A reader that takes nothing: the pipe is full before the first line. */
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	fcntl(p[1], F_SETFL, 0);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	alarm(10); /* a blocking write would hang here: fail instead */
	for (int i = 0; i < FORMATS; i++)
		snprintf(fmts[i], sizeof(fmts[i]), "line %d of %%d %%s", i);
	for (int i = 0; i < 4000; i++)
		log_msg(LOG_ERROR, fmts[i % FORMATS], i,
			"0123456789012345678901234567890123456789");
	alarm(0);
	assert_true(log_dropped_total() > 0);
	/* The reader comes back: what waited comes out as it reads (each new line
	 * writes on), then a line saying how many were dropped. */
	for (int k = 0; k < FORMATS && !strstr(got, "log lines were dropped"); k++) {
		while ((r = read(p[0], got + n, (1 << 20) - 1 - n)) > 0)
			n += (size_t)r;
		got[n] = '\0';
		snprintf(pokes[k], sizeof(pokes[k]), "poke %d%%s", k);
		log_msg(LOG_ERROR, pokes[k], "");
	}
	dup2(saved, STDERR_FILENO);
	assert_non_null(strstr(got, "log lines were dropped: stderr did not take them in time"));
	close(p[0]);
	close(saved);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_stderr_never_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
