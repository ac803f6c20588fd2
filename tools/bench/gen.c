/*
 * gen: the benchmark's event source.
 *
 *   gen N [--rate EPS] [--count-file PATH]
 *
 * Prints N JSON lines of exactly LINE_SIZE (200) bytes each, newline included:
 *
 *   {"type":"bench.event","data":{"i":123,"pad":"xxxx...x"}}
 *
 * `i` counts from 0. JSON forbids leading zeros in numbers, so instead of
 * zero-padding `i` the pad string shrinks as `i` grows: every line has the same
 * length and is still valid JSON for jq and for the collector.
 *
 * Output goes out through a 64 KiB buffer of whole lines and plain write(2), so
 * the program always knows how many lines reached the pipe. SIGTERM/SIGINT stop
 * it: the line being written when the signal arrives is completed (so the
 * reader never sees half a line), nothing more is written. At exit it prints
 * `generated N` on stderr, N being the lines fully written, and with
 * --count-file also writes N to PATH (via a temporary file and rename, so a
 * reader sees the whole number or nothing). --rate limits it to EPS lines a
 * second on average.
 *
 * Exit status: 0 when all N lines were written or a stop signal cut it short,
 * 1 on a write error (e.g. the reader went away), 2 on bad usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_SIZE 200
#define BUF_LINES (65536 / LINE_SIZE) /* 327 lines: 65400 bytes */

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static const char prefix[] = "{\"type\":\"bench.event\",\"data\":{\"i\":";
static const char middle[] = ",\"pad\":\"";
static const char suffix[] = "\"}}\n";

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Writes line @i at @line: exactly LINE_SIZE bytes, the pad ('x') filling
 * whatever the digits of @i leave between the prefix and the suffix.
 */
static void fill_line(char *line, uint64_t i)
{
	char digits[24], *p = line;
	int nd = 0;

	do {
		digits[nd++] = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	memcpy(p, prefix, sizeof(prefix) - 1);
	p += sizeof(prefix) - 1;
	while (nd)
		*p++ = digits[--nd];
	memcpy(p, middle, sizeof(middle) - 1);
	p += sizeof(middle) - 1;
	memset(p, 'x', (size_t)(line + LINE_SIZE - (sizeof(suffix) - 1) - p));
	memcpy(line + LINE_SIZE - (sizeof(suffix) - 1), suffix, sizeof(suffix) - 1);
}

/* write(2) all of @len unless a stop is requested; returns bytes written, -errno on error. */
static ssize_t write_some(int fd, const char *p, size_t len, int *err)
{
	size_t off = 0;

	*err = 0;
	while (off < len) {
		ssize_t n;

		if (stop_requested)
			break;
		n = write(fd, p + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*err = errno;
			break;
		}
		off += (size_t)n;
	}
	return (ssize_t)off;
}

/* Completes a line cut short by a stop signal, ignoring further signals. */
static int finish_line(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void write_count_file(const char *path, uint64_t lines)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "gen: %s: %s\n", tmp, strerror(errno));
		return;
	}
	fprintf(f, "%llu\n", (unsigned long long)lines);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
}

static void usage(void)
{
	fprintf(stderr, "usage: gen N [--rate EPS] [--count-file PATH]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static char buf[BUF_LINES * LINE_SIZE];
	const char *count_file = NULL;
	uint64_t total = 0, written = 0;
	double rate = 0;
	int have_n = 0, status = 0, err = 0;
	struct sigaction sa;
	int64_t start;

	for (int i = 1; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc) {
			rate = strtod(argv[++i], &end);
			if (*end || rate <= 0)
				usage();
		} else if (strncmp(argv[i], "--rate=", 7) == 0) {
			rate = strtod(argv[i] + 7, &end);
			if (*end || rate <= 0)
				usage();
		} else if (strcmp(argv[i], "--count-file") == 0 && i + 1 < argc) {
			count_file = argv[++i];
		} else if (strncmp(argv[i], "--count-file=", 13) == 0) {
			count_file = argv[i] + 13;
		} else if (!have_n && argv[i][0] >= '0' && argv[i][0] <= '9') {
			errno = 0;
			total = strtoull(argv[i], &end, 10);
			if (*end || errno)
				usage();
			have_n = 1;
		} else {
			usage();
		}
	}
	if (!have_n)
		usage();

	/* No SA_RESTART: a stop signal interrupts a write blocked on a full pipe. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	start = mono_ns();
	while (written < total && !stop_requested) {
		uint64_t batch = total - written, base = written;
		size_t len;
		ssize_t n;

		if (batch > BUF_LINES)
			batch = BUF_LINES;
		if (rate > 0) {
			/* Small batches (about 10 ms worth) keep the rate smooth. */
			uint64_t small = (uint64_t)(rate / 100) + 1;
			double due;
			int64_t now;

			if (batch > small)
				batch = small;
			due = (double)written / rate;
			now = mono_ns() - start;
			if (due * 1e9 > (double)now) {
				int64_t wait = (int64_t)(due * 1e9) - now;
				struct timespec ts = { wait / 1000000000, wait % 1000000000 };

				nanosleep(&ts, NULL); /* EINTR by a stop: the loop checks */
				if (stop_requested)
					break;
			}
		}
		for (uint64_t k = 0; k < batch; k++)
			fill_line(buf + k * LINE_SIZE, base + k);
		len = (size_t)batch * LINE_SIZE;
		n = write_some(STDOUT_FILENO, buf, len, &err);
		if (n % LINE_SIZE && !err) {
			/* Stopped in the middle of a line: complete it, then stop. */
			size_t rest = LINE_SIZE - (size_t)n % LINE_SIZE;

			if (finish_line(STDOUT_FILENO, buf + n, rest) == 0)
				n += (ssize_t)rest;
			else
				err = errno;
		}
		written += (uint64_t)n / LINE_SIZE;
		if (err) {
			fprintf(stderr, "gen: write: %s\n", strerror(err));
			status = 1;
			break;
		}
	}
	if (count_file)
		write_count_file(count_file, written);
	fprintf(stderr, "generated %llu\n", (unsigned long long)written);
	return status;
}
