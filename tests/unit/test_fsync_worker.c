/* The fsync worker: syncs on its thread, tells each end, reports errors once, frees cleanly. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsync_worker.h"

static atomic_int ended;

static void on_done(void *arg)
{
	(void)arg;
	atomic_fetch_add(&ended, 1);
}

static int temp_file(void)
{
	char path[] = "/tmp/collector-fsync-worker.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, "x", 1), 1);
	return fd;
}

static void test_sync_ends_and_is_told(void **state)
{
	struct fsync_worker *w = fsync_worker_new(on_done, NULL);
	int result = -1;

	(void)state;
	atomic_store(&ended, 0);
	assert_non_null(w);
	assert_int_equal(fsync_worker_submit(w, temp_file()), 0);
	fsync_worker_wait(w);
	assert_false(fsync_worker_busy(w, &result));
	assert_int_equal(result, 0);
	assert_int_equal(atomic_load(&ended), 1);
	assert_int_equal(fsync_worker_submit(w, temp_file()), 0);
	fsync_worker_free(w); /* waits for the sync in flight */
	assert_int_equal(atomic_load(&ended), 2);
}

/* A pipe cannot be synced: the error comes back once, then 0. */
static void test_error_told_once(void **state)
{
	struct fsync_worker *w = fsync_worker_new(NULL, NULL);
	int p[2], result = 0;

	(void)state;
	assert_non_null(w);
	assert_int_equal(pipe(p), 0);
	close(p[1]);
	assert_int_equal(fsync_worker_submit(w, p[0]), 0);
	fsync_worker_wait(w);
	assert_false(fsync_worker_busy(w, &result));
	assert_int_equal(result, EINVAL);
	assert_false(fsync_worker_busy(w, &result));
	assert_int_equal(result, 0);
	fsync_worker_free(w);
}

/* The worker closes what it was given: no descriptor left behind. */
static void test_closes_its_descriptors(void **state)
{
	struct fsync_worker *w = fsync_worker_new(NULL, NULL);
	int fd = temp_file(), probe;

	(void)state;
	assert_int_equal(fsync_worker_submit(w, fd), 0);
	fsync_worker_wait(w);
	probe = dup(0);
	assert_int_equal(probe, fd); /* the lowest free number: fd was closed */
	close(probe);
	fsync_worker_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_ends_and_is_told),
		cmocka_unit_test(test_error_told_once),
		cmocka_unit_test(test_closes_its_descriptors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
