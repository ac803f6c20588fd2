/* Crash -> algorithm.crash latency: kills the algorithm runner's children and times their reports. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The integer after "KEY": in an event line, or -1. */
static long long number_after(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
	int to_runner[2], from_runner[2], n, done = 0;
	int64_t *lat, killed_at = 0;
	pid_t runner, child = 0;
	FILE *in, *out;
	char *line = NULL;
	size_t cap = 0;

	if (argc != 4 || (n = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: algo_crash COLLECTOR PACKAGE_DIR CRASHES\n");
		return 2;
	}
	lat = calloc((size_t)n, sizeof(*lat));
	if (!lat || pipe(to_runner) < 0 || pipe(from_runner) < 0)
		return 1;
	runner = fork();
	if (runner == 0) {
		dup2(to_runner[0], 0);
		dup2(from_runner[1], 1);
		close(to_runner[1]);
		close(from_runner[0]);
		execl(argv[1], argv[1], "run", "algorithm", "--package", argv[2], "--calls", "-",
		      "--breaker-cooldown", "1ms", (char *)NULL);
		_exit(127);
	}
	close(to_runner[0]);
	close(from_runner[1]);
	in = fdopen(to_runner[1], "w");
	out = fdopen(from_runner[0], "r");
	/* One answered call per child keeps the restart backoff at zero; then SIGKILL it. */
	while (done < n && getline(&line, &cap, out) > 0) {
		if (strstr(line, "\"type\":\"algorithm.ready\"")) {
			child = (pid_t)number_after(line, "\"pid\":");
			fputs("{\"params\":{}}\n", in);
			fflush(in);
		} else if (strstr(line, "\"type\":\"algorithm.result\"") && child > 0) {
			killed_at = real_ns();
			kill(child, SIGKILL);
		} else if (strstr(line, "\"type\":\"algorithm.crash\"") && killed_at) {
			lat[done++] = number_after(line, "\"ts_ns\":") - killed_at;
			killed_at = 0;
			child = 0;
		}
	}
	fclose(in);
	while (getline(&line, &cap, out) > 0)
		;
	fclose(out);
	waitpid(runner, NULL, 0);
	free(line);
	if (done < n) {
		fprintf(stderr, "algo_crash: only %d of %d crashes reported\n", done, n);
		free(lat);
		return 1;
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
	printf("{\"crashes\":%d,\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}\n", n,
	       (double)lat[n / 2] / 1e3, (double)lat[(n * 99) / 100] / 1e3,
	       (double)lat[n - 1] / 1e3);
	free(lat);
	return 0;
}
