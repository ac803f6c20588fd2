/* Unit tests of container identity from cgroup paths: each runtime, both drivers, cgroup v1 and v2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../runners/container_id.h"

#define ID "4f1c2b8a9d3e7f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718"
#define POD "pod3c1e2a4b-5d6f-4a8b-9c0d-1e2f3a4b5c6d"
/* The systemd driver's slices of a Kubernetes pod and of a user's session. */
#define BURSTABLE "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" POD ".slice"
#define BESTEFFORT "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-" POD ".slice"
#define USER_SLICE "/user.slice/user-1000.slice/user@1000.service/user.slice"
#define UPPER_ID "4F1C2B8A9D3E7F60A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718"

static void expect(const char *path, const char *runtime)
{
	struct container_ref ref = { 0 };
	bool found = container_from_path(path, strlen(path), &ref);

	if (!runtime) {
		assert_false(found);
		return;
	}
	assert_true(found);
	assert_string_equal(ref.id, ID);
	assert_string_equal(ref.runtime, runtime);
}

static void test_runtimes_and_drivers(void **state)
{
	(void)state;
	/* docker: cgroupfs, systemd */
	expect("/docker/" ID, "docker");
	expect("/system.slice/docker-" ID ".scope", "docker");
	/* containerd under Kubernetes: systemd, cgroupfs (a bare id in the pod) */
	expect(BURSTABLE "/cri-containerd-" ID ".scope", "containerd");
	expect("/kubepods/burstable/" POD "/" ID, "cri");
	/* cri-o: systemd, cgroupfs */
	expect(BESTEFFORT "/crio-" ID ".scope", "cri-o");
	expect("/kubepods/besteffort/" POD "/crio-" ID, "cri-o");
	/* podman: systemd (user session too), cgroupfs */
	expect(USER_SLICE "/libpod-" ID ".scope", "podman");
	expect("/machine.slice/libpod-" ID ".scope/container", "podman");
	expect("/libpod_parent/libpod-" ID, "podman");
	expect("/libpod_parent/" ID, "podman");
}

static void test_not_containers(void **state)
{
	(void)state;
	expect("/", NULL);
	expect("/user.slice/user-1000.slice/session-3.scope", NULL);
	expect("/system.slice/docker.service", NULL);
	/* A runtime's monitor, a short or upper-case id, a bare id outside any runtime. */
	expect("/machine.slice/libpod-conmon-" ID ".scope", NULL);
	expect("/system.slice/docker-4f1c2b8a.scope", NULL);
	expect("/system.slice/"
	       "docker-4F1C2B8A9D3E7F60A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718.scope",
	       NULL);
	expect("/" ID, NULL);
}

static void test_proc_cgroup(void **state)
{
	static const char v2[] = "0::/system.slice/docker-" ID ".scope\n";
	static const char v1[] = "12:pids:/\n"
				 "11:memory:/docker/" ID "\n"
				 "1:name=systemd:/docker/" ID "\n";
	static const char host[] = "0::/user.slice/user-0.slice/session-1.scope\n";
	struct container_ref ref = { 0 };

	(void)state;
	assert_true(container_from_proc_cgroup(v2, strlen(v2), &ref));
	assert_string_equal(ref.runtime, "docker");
	assert_string_equal(ref.id, ID);
	memset(&ref, 0, sizeof(ref));
	assert_true(container_from_proc_cgroup(v1, strlen(v1), &ref));
	assert_string_equal(ref.id, ID);
	assert_false(container_from_proc_cgroup(host, strlen(host), &ref));
	assert_false(container_from_proc_cgroup("garbage", 7, &ref));
}

/* The cached answer is /proc's; a process that is gone has none, and none is remembered. */
static void test_of_cgroup(void **state)
{
	struct container_ref direct = { 0 }, cached = { 0 };
	bool in = container_of_pid(getpid(), &direct);

	(void)state;
	/* No cgroup id (an older loader's line): by the process. */
	assert_int_equal(container_of_cgroup(0, getpid(), &cached), in);
	assert_int_equal(container_of_cgroup(0, getpid(), &cached), in);
	if (in)
		assert_string_equal(cached.id, direct.id);
	/* Above the kernel's pid_max limit (4194304): never a process. */
	assert_false(container_of_pid(4194305, &cached));
	assert_false(container_of_cgroup(0, 4194305, &cached));
	/* An id no cgroup has, of no process. */
	assert_false(container_of_cgroup(~0ULL, 4194305, &cached));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runtimes_and_drivers),
		cmocka_unit_test(test_not_containers),
		cmocka_unit_test(test_proc_cgroup),
		cmocka_unit_test(test_of_cgroup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
