/* Benchmark driver: fork+execs /bin/true N times, one after another, and prints its wall time. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_EXECS 20000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One fork + exec of /bin/true; returns 0 when it exited 0, else -errno or -1. */
static int run_true(void)
{
	static char *const argv[] = { "true", NULL };
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execv("/bin/true", argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	long n = DEFAULT_EXECS;
	char *end;
	double start;

	if (argc > 2 || (argc == 2 && (n = strtol(argv[1], &end, 10), *end || n < 1))) {
		fprintf(stderr,
			"usage: process_burst [N]  (fork+exec /bin/true N times, default %d)\n",
			DEFAULT_EXECS);
		return 2;
	}
	start = now_s();
	for (long i = 0; i < n; i++) {
		int rc = run_true();

		if (rc < 0) {
			fprintf(stderr, "process_burst: run %ld of /bin/true failed: %s\n", i + 1,
				rc == -1 ? "it did not exit 0" : strerror(-rc));
			return 1;
		}
	}
	printf("pid=%d execs=%ld wall_s=%.3f\n", (int)getpid(), n, now_s() - start);
	return 0;
}
