/* A misbehaving child for the health monitor's tests: leaks, spins, crashes or sleeps. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
	fprintf(stderr, "usage: health_child leak MIB_PER_S SECONDS | spin SECONDS | "
			"sleep SECONDS | segv | exit CODE\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every block leaked so far, linked through their first bytes: leaked, yet reachable. */
static void *blocks;

/* Touch @p rate MiB more every second, in tenths, for @p secs seconds. */
static int leak(double rate, double secs)
{
	size_t step = (size_t)(rate * 1024 * 1024 / 10) + sizeof(void *);
	double end = now_s() + secs;
	struct timespec tenth = { 0, 100000000 };

	while (now_s() < end) {
		char *p = malloc(step);

		if (!p)
			return 1;
		memset(p, 1, step);
		*(void **)p = blocks;
		blocks = p;
		nanosleep(&tenth, NULL);
	}
	return 0;
}

/* Spin for @p secs, then say what share of a CPU it got, as it measured it. */
static int spin(double secs)
{
	double start = now_s(), end = start + secs;
	volatile unsigned long n = 0;
	struct timespec cpu;

	while (now_s() < end)
		n++;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	printf("{\"type\":\"child.cpu\",\"cpu_percent\":%.1f}\n",
	       ((double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9) * 100. / (now_s() - start));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "leak") == 0)
		return leak(atof(argv[2]), atof(argv[3]));
	if (argc >= 3 && strcmp(argv[1], "spin") == 0)
		return spin(atof(argv[2]));
	if (argc >= 3 && strcmp(argv[1], "sleep") == 0) {
		struct timespec ts = { (time_t)atof(argv[2]), 0 };

		printf("{\"type\":\"child.ready\",\"pid\":%d}\n", (int)getpid());
		fflush(stdout);
		nanosleep(&ts, NULL);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "segv") == 0) {
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		return 1;
	}
	if (argc >= 3 && strcmp(argv[1], "exit") == 0)
		return atoi(argv[2]);
	usage();
	return 2;
}
