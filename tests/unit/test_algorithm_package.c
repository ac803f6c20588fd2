/* Unit tests of the algorithm runner's manifest loader, shared-memory pool and PPM/PGM reader. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <valgrind/valgrind.h>

#include "../../runners/algorithm/package.h"
#include "../../runners/algorithm/pnm.h"
#include "../../runners/algorithm/shm_pool.h"

static char dir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/collector-ut.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const void *text, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static int load(const char *manifest, struct algo_package *p, struct error *err)
{
	write_file("manifest.json", manifest, strlen(manifest));
	return algo_package_load(p, dir, NULL, err);
}

static void expect_error(const char *manifest, const char *fragment)
{
	struct algo_package p;
	struct error err = { 0 };

	assert_true(load(manifest, &p, &err) < 0);
	if (!strstr(err.msg, fragment))
		fail_msg("'%s' does not mention '%s'", err.msg, fragment);
	assert_non_null(strstr(err.msg, "manifest.json"));
}

static void test_defaults_and_paths(void **state)
{
	struct algo_package p;
	struct error err = { 0 };
	char want[128];

	(void)state;
	assert_int_equal(
		load("{\"name\":\"a\",\"protocol\":1,\"entry_point\":\"./run.sh\"}", &p, &err), 0);
	snprintf(want, sizeof(want), "%s/./run.sh", p.dir);
	assert_string_equal(p.argv[0], want);
	assert_null(p.argv[1]);
	assert_string_equal(p.config_json, "{}");
	assert_int_equal(p.limits.call_timeout_ms, 1000);
	assert_int_equal(p.limits.max_inflight, 1);
	assert_int_equal(p.limits.handshake_timeout_ms, 2000);
	assert_int_equal(p.limits.max_line_bytes, 1 << 20);
	assert_int_equal(p.limits.memory_mb, 0);
	algo_package_free(&p);
}

static void test_venv_env_config_limits(void **state)
{
	struct algo_package p;
	struct error err = { 0 };
	char want[160];
	bool has_env = false, has_path = false;

	(void)state;
	assert_int_equal(load("{\"name\":\"a\",\"protocol\":1,\"entry_point\":[\"python3\",\"m."
			      "py\"],"
			      "\"venv\":\".venv\",\"env\":{\"OMP_NUM_THREADS\":\"1\"},"
			      "\"config\":{\"t\":[1,2]},\"limits\":{\"memory_mb\":64,"
			      "\"max_inflight\":4}}",
			      &p, &err),
			 0);
	snprintf(want, sizeof(want), "%s/.venv/bin/python3", p.dir);
	assert_string_equal(p.argv[0], want);
	assert_string_equal(p.argv[1], "m.py");
	assert_string_equal(p.config_json, "{\"t\":[1,2]}");
	assert_int_equal(p.limits.memory_mb, 64);
	assert_int_equal(p.limits.max_inflight, 4);
	snprintf(want, sizeof(want), "PATH=%s/.venv/bin:", p.dir);
	for (size_t i = 0; i < p.env_count; i++) {
		has_env |= strcmp(p.env[i], "OMP_NUM_THREADS=1") == 0;
		has_path |= strncmp(p.env[i], want, strlen(want)) == 0;
	}
	assert_true(has_env);
	assert_true(has_path);
	algo_package_free(&p);
}

static void test_errors_name_the_field(void **state)
{
	(void)state;
	expect_error("{\"name\":\"a\",\"protocol\":1}", "\"entry_point\" is required");
	expect_error("{\"protocol\":1,\"entry_point\":\"x\"}", "\"name\" is required");
	expect_error("{\"name\":\"a\",\"entry_point\":\"x\"}", "\"protocol\" is required");
	expect_error("{\"name\":\"a\",\"protocol\":2,\"entry_point\":\"x\"}", "not supported");
	expect_error("{\"name\":\"a\",\"protocol\":1,\"entry_point\":[\"x\",3]}", "[1]");
	expect_error("{\"name\":\"a\",\"protocol\":1,\"entry_point\":\"x\",\"env\":{\"A\":1}}",
		     "\"env\".\"A\"");
	expect_error("{\"name\":\"a\",\"protocol\":1,\"entry_point\":\"x\","
		     "\"limits\":{\"memory_mb\":-1}}",
		     "\"memory_mb\"");
	expect_error("{\"name\":\"a\",", "invalid JSON");
}

static void test_pool_lease_release_unlink(void **state)
{
	struct shm_pool pool;
	struct error err = { 0 };
	char path[96];
	int a, b;

	(void)state;
	assert_int_equal(shm_pool_create(&pool, 2, 4096, (gid_t)-1, &err), 0);
	snprintf(path, sizeof(path), "/dev/shm%s", pool.name);
	assert_int_equal(access(path, F_OK), 0);
	a = shm_pool_lease(&pool);
	b = shm_pool_lease(&pool);
	assert_true(a >= 0 && b >= 0 && a != b);
	assert_int_equal(shm_pool_lease(&pool), -1);
	assert_int_equal(shm_pool_offset(&pool, b) - shm_pool_offset(&pool, a),
			 (uint64_t)(b - a) * 4096);
	memset(shm_pool_slot(&pool, a), 7, 4096);
	shm_pool_release(&pool, a);
	assert_int_equal(shm_pool_lease(&pool), a);
	shm_pool_destroy(&pool);
	assert_int_equal(access(path, F_OK), -1);
}

#define SLOT (64 * 1024)

/* A child truncating the pool under the host: the host's writes survive, the damage shows. */
/*
 * Valgrind hands a SIGBUS from a mapping past its file's end to the handler
 * without si_addr, so the pool guard cannot tell its own faults: these run in
 * the normal and the ASan builds only.
 */
static void skip_under_valgrind(void)
{
	if (RUNNING_ON_VALGRIND)
		skip();
}

static void test_pool_survives_truncation(void **state)
{
	struct shm_pool pool;
	struct error err = { 0 };
	struct stat st;
	char path[96];
	const uint8_t *view;
	int a, b, fd;

	(void)state;
	skip_under_valgrind();
	assert_int_equal(shm_pool_create(&pool, 4, SLOT, (gid_t)-1, &err), 0);
	snprintf(path, sizeof(path), "/dev/shm%s", pool.name);
	a = shm_pool_lease(&pool);
	assert_false(shm_pool_spoiled(&pool, a));
	assert_int_equal(truncate(path, 0), 0);
	memset(shm_pool_slot(&pool, a), 9, SLOT); /* SIGBUS without the guard */
	assert_true(shm_pool_spoiled(&pool, a));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4 * SLOT);
	assert_int_equal(shm_pool_check(&pool), 0);
	/* A resize the host did not run into is found by the check. */
	assert_int_equal(truncate(path, SLOT), 0);
	assert_int_equal(shm_pool_check(&pool), 1);
	assert_int_equal(shm_pool_check(&pool), 0);
	/* What the host writes now is what a child reads. */
	b = shm_pool_lease(&pool);
	assert_false(shm_pool_spoiled(&pool, b));
	memset(shm_pool_slot(&pool, b), 5, SLOT);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	view = mmap(NULL, 4 * SLOT, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(view != MAP_FAILED);
	assert_int_equal(view[shm_pool_offset(&pool, b) + SLOT - 1], 5);
	munmap((void *)view, 4 * SLOT);
	shm_pool_destroy(&pool);
}

/* A SIGBUS that is not a pool's stays what it was: the process does not go on. */
static void test_pool_guard_leaves_other_faults(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	skip_under_valgrind();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct shm_pool pool;
		struct error err = { 0 };
		char name[64];
		volatile uint8_t *other;
		int fd;

		signal(SIGBUS, SIG_DFL); /* not cmocka's handler, which would go on testing */
		snprintf(name, sizeof(name), "/collector-ut.%d", (int)getpid());
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
		shm_unlink(name);
		if (fd < 0 || ftruncate(fd, 4096) < 0 ||
		    shm_pool_create(&pool, 1, 4096, (gid_t)-1, &err) < 0)
			_exit(2);
		other = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (other == MAP_FAILED || ftruncate(fd, 0) < 0)
			_exit(2);
		other[0] = 1;
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* By SIGBUS, or by the sanitizer's report of it in an ASan build. */
	assert_true(WIFSIGNALED(status) ? WTERMSIG(status) == SIGBUS : WEXITSTATUS(status) == 1);
}

/* For a child of another user: readable in its group, writable and resizable by the host only. */
static void test_pool_reader_group(void **state)
{
	struct shm_pool pool;
	struct error err = { 0 };
	struct stat st;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(shm_pool_create(&pool, 1, 4096, 65534, &err), 0);
	assert_int_equal(fstat(pool.fd, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(st.st_mode & 0777, 0640);
	shm_pool_destroy(&pool);
}

static void test_pnm(void **state)
{
	static const char ppm[] = "P6\n# comment\n2 1\n255\n\x01\x02\x03\x04\x05\x06";
	static const char pgm[] = "P5 3 2 255\n\x01\x02\x03\x04\x05\x06";
	struct pnm_image img;
	struct error err = { 0 };
	char path[128];

	(void)state;
	write_file("a.ppm", ppm, sizeof(ppm) - 1);
	snprintf(path, sizeof(path), "%s/a.ppm", dir);
	assert_int_equal(pnm_load(&img, path, &err), 0);
	assert_int_equal(img.meta.width, 2);
	assert_int_equal(img.meta.channels, 3);
	assert_int_equal(img.meta.stride, 6);
	assert_string_equal(img.meta.format, "rgb8");
	assert_memory_equal(img.pixels, "\x01\x02\x03\x04\x05\x06", 6);
	pnm_free(&img);

	write_file("b.pgm", pgm, sizeof(pgm) - 1);
	snprintf(path, sizeof(path), "%s/b.pgm", dir);
	assert_int_equal(pnm_load(&img, path, &err), 0);
	assert_int_equal(img.meta.height, 2);
	assert_string_equal(img.meta.format, "gray8");
	pnm_free(&img);

	write_file("c.ppm", ppm, sizeof(ppm) - 3);
	snprintf(path, sizeof(path), "%s/c.ppm", dir);
	assert_true(pnm_load(&img, path, &err) < 0);
	assert_non_null(strstr(err.msg, "truncated"));
	write_file("d.ppm", "P3\n1 1\n255\n1 2 3\n", 17);
	snprintf(path, sizeof(path), "%s/d.ppm", dir);
	assert_true(pnm_load(&img, path, &err) < 0);
	assert_null(img.pixels);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_paths),
		cmocka_unit_test(test_venv_env_config_limits),
		cmocka_unit_test(test_errors_name_the_field),
		cmocka_unit_test(test_pool_lease_release_unlink),
		cmocka_unit_test(test_pool_survives_truncation),
		cmocka_unit_test(test_pool_guard_leaves_other_faults),
		cmocka_unit_test(test_pool_reader_group),
		cmocka_unit_test(test_pnm),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
