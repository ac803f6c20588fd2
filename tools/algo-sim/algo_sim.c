/* algo-sim: a sample algorithm child with switches that simulate every kind of misbehaviour. */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

struct sim {
	long latency_us, crash_after, exit_code, hang_after, leak_mb, spin_ms, garbage_every;
	long long_line, stderr_lines, slow_start_ms, fail_every, protocol;
	const char *crash_mode;
	bool ignore_shutdown, no_hello, no_pong, no_checksum;
	long calls;
	const char *map_name;
	const unsigned char *map;
	size_t map_len;
};

static void usage(void)
{
	fputs("usage: algo-sim [--latency-us N] [--crash-after N] [--crash-mode segv|abort|exit]\n"
	      "  [--exit-code N] [--hang-after N] [--leak-mb N] [--spin-ms N] [--garbage-every N]\n"
	      "  [--long-line BYTES] [--stderr-lines N] [--ignore-shutdown] [--slow-start-ms N]\n"
	      "  [--no-hello] [--protocol N] [--fail-every N] [--no-pong]\n"
	      "  [--no-checksum]\n",
	      stderr);
}

static int parse_args(struct sim *s, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "latency-us", required_argument, 0, 'l' },
		{ "crash-after", required_argument, 0, 'c' },
		{ "crash-mode", required_argument, 0, 'm' },
		{ "exit-code", required_argument, 0, 'e' },
		{ "hang-after", required_argument, 0, 'H' },
		{ "leak-mb", required_argument, 0, 'L' },
		{ "spin-ms", required_argument, 0, 's' },
		{ "garbage-every", required_argument, 0, 'g' },
		{ "long-line", required_argument, 0, 'o' },
		{ "stderr-lines", required_argument, 0, 'E' },
		{ "ignore-shutdown", no_argument, 0, 'i' },
		{ "slow-start-ms", required_argument, 0, 'S' },
		{ "no-hello", no_argument, 0, 'n' },
		{ "protocol", required_argument, 0, 'p' },
		{ "fail-every", required_argument, 0, 'f' },
		{ "no-pong", no_argument, 0, 'N' },
		{ "no-checksum", no_argument, 0, 'C' },
		{ 0 },
	};
	int c;

	s->crash_mode = "segv";
	s->exit_code = 3;
	s->protocol = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		long v = optarg ? strtol(optarg, NULL, 10) : 0;

		switch (c) {
		case 'l':
			s->latency_us = v;
			break;
		case 'c':
			s->crash_after = v;
			break;
		case 'm':
			s->crash_mode = optarg;
			break;
		case 'e':
			s->exit_code = v;
			break;
		case 'H':
			s->hang_after = v;
			break;
		case 'L':
			s->leak_mb = v;
			break;
		case 's':
			s->spin_ms = v;
			break;
		case 'g':
			s->garbage_every = v;
			break;
		case 'o':
			s->long_line = v;
			break;
		case 'E':
			s->stderr_lines = v;
			break;
		case 'i':
			s->ignore_shutdown = true;
			break;
		case 'S':
			s->slow_start_ms = v;
			break;
		case 'n':
			s->no_hello = true;
			break;
		case 'p':
			s->protocol = v;
			break;
		case 'f':
			s->fail_every = v;
			break;
		case 'N':
			s->no_pong = true;
			break;
		case 'C':
			s->no_checksum = true;
			break;
		default:
			usage();
			return -1;
		}
	}
	return 0;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0)
		;
}

static void send_line(const char *s)
{
	fputs(s, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

static yajl_val get(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };

	return yajl_tree_get(obj, path, yajl_t_any);
}

static void crash(const struct sim *s)
{
	fprintf(stderr, "algo-sim: crashing on purpose (%s) after %ld calls\n", s->crash_mode,
		s->calls);
	fflush(stderr);
	if (strcmp(s->crash_mode, "abort") == 0)
		abort();
	if (strcmp(s->crash_mode, "exit") == 0)
		exit((int)s->exit_code);
	raise(SIGSEGV);
	_exit(139);
}

/* Sum of the image bytes: proves the child read the shared memory the host wrote. */
static int image_sum(struct sim *s, yajl_val call, unsigned long long *sum, long long *size)
{
	yajl_val name = get(call, "shared_mem_id"), off = get(call, "offset"),
		 len = get(call, "size");

	*sum = 0;
	*size = 0;
	if (!name || !YAJL_IS_STRING(name) || !off || !len)
		return 0;
	if (!s->map_name || strcmp(s->map_name, name->u.string) != 0) {
		int fd = shm_open(name->u.string, O_RDONLY, 0);
		struct stat st;

		if (fd < 0 || fstat(fd, &st) < 0)
			return -1;
		if (s->map)
			munmap((void *)s->map, s->map_len);
		s->map_len = (size_t)st.st_size;
		s->map = mmap(NULL, s->map_len, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (s->map == MAP_FAILED) {
			s->map = NULL;
			return -1;
		}
		free((void *)s->map_name);
		s->map_name = strdup(name->u.string);
	}
	long long o = YAJL_GET_INTEGER(off), n = YAJL_GET_INTEGER(len);

	if (o < 0 || n < 0 || (size_t)(o + n) > s->map_len)
		return -1;
	/* Benchmarks measure the transport: then only the first and last byte are read. */
	if (s->no_checksum && n > 0)
		*sum = (unsigned long long)s->map[o] + s->map[o + n - 1];
	for (long long i = 0; i < n && !s->no_checksum; i++)
		*sum += s->map[o + i];
	*size = n;
	return 0;
}

static void handle_call(struct sim *s, yajl_val call)
{
	yajl_val id = get(call, "id"), method = get(call, "method");
	long long nid = id && YAJL_IS_INTEGER(id) ? YAJL_GET_INTEGER(id) : -1;
	unsigned long long sum;
	long long size;
	char out[512];

	s->calls++;
	if (s->crash_after > 0 && s->calls >= s->crash_after)
		crash(s);
	if (s->hang_after > 0 && s->calls >= s->hang_after)
		for (;;)
			pause();
	for (long i = 0; i < s->stderr_lines; i++)
		fprintf(stderr, "algo-sim: call %lld noise line %ld\n", nid, i);
	if (s->leak_mb > 0) {
		char *p = malloc((size_t)s->leak_mb << 20);

		if (p)
			memset(p, 1, (size_t)s->leak_mb << 20);
	}
	if (s->spin_ms > 0) {
		int64_t until = mono_ns() + s->spin_ms * 1000000;

		while (mono_ns() < until)
			;
	}
	if (s->latency_us > 0)
		usleep((useconds_t)s->latency_us);
	if (s->garbage_every > 0 && s->calls % s->garbage_every == 0)
		send_line("this is not json {");
	if (s->long_line > 0) {
		for (long i = 0; i < s->long_line; i++)
			fputc('x', stdout);
		fputc('\n', stdout);
	}
	if (!method || !YAJL_IS_STRING(method) ||
	    (strcmp(method->u.string, "execute") != 0 &&
	     strcmp(method->u.string, "pre_execute") != 0)) {
		snprintf(out, sizeof(out),
			 "{\"type\":\"result\",\"id\":%lld,\"ok\":false,\"error\":{\"code\":"
			 "\"UNKNOWN_METHOD\",\"message\":\"algo-sim knows execute and "
			 "pre_execute\"}}",
			 nid);
	} else if (image_sum(s, call, &sum, &size) < 0) {
		snprintf(out, sizeof(out),
			 "{\"type\":\"result\",\"id\":%lld,\"ok\":false,\"error\":{\"code\":"
			 "\"INVALID_INPUT\",\"message\":\"cannot map the image\"}}",
			 nid);
	} else if (s->fail_every > 0 && s->calls % s->fail_every == 0) {
		snprintf(out, sizeof(out),
			 "{\"type\":\"result\",\"id\":%lld,\"ok\":false,\"error\":{\"code\":"
			 "\"SIMULATED\",\"message\":\"failure on call %ld\"}}",
			 nid, s->calls);
	} else {
		snprintf(out, sizeof(out),
			 "{\"type\":\"result\",\"id\":%lld,\"ok\":true,\"data\":{\"calls\":%ld,"
			 "\"image_bytes\":%lld,\"sum\":%llu}}",
			 nid, s->calls, size, sum);
	}
	send_line(out);
}

int main(int argc, char **argv)
{
	struct sim s = { 0 };
	char *line = NULL, errbuf[128], out[160];
	size_t cap = 0;
	ssize_t n;

	if (parse_args(&s, argc, argv) < 0)
		return 2;
	if (s.ignore_shutdown)
		signal(SIGTERM, SIG_IGN);
	if (s.slow_start_ms > 0)
		sleep_ms(s.slow_start_ms);
	if (!s.no_hello) {
		snprintf(out, sizeof(out),
			 "{\"type\":\"hello\",\"protocol\":%ld,\"name\":\"algo-sim\",\"version\":"
			 "\"1.0.0\",\"capabilities\":[\"execute\",\"pre_execute\"]}",
			 s.protocol);
		send_line(out);
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		yajl_val msg = yajl_tree_parse(line, errbuf, sizeof(errbuf));
		yajl_val type = msg ? get(msg, "type") : NULL;

		if (!type || !YAJL_IS_STRING(type)) {
			fprintf(stderr, "algo-sim: bad message from the host\n");
		} else if (strcmp(type->u.string, "call") == 0) {
			handle_call(&s, msg);
		} else if (strcmp(type->u.string, "ping") == 0 && !s.no_pong) {
			yajl_val seq = get(msg, "seq");

			snprintf(out, sizeof(out), "{\"type\":\"pong\",\"seq\":%lld}",
				 seq && YAJL_IS_INTEGER(seq) ? YAJL_GET_INTEGER(seq) : 0);
			send_line(out);
		} else if (strcmp(type->u.string, "hello") == 0) {
			send_line("{\"type\":\"log\",\"level\":\"info\",\"message\":\"algo-sim "
				  "ready\"}");
		} else if (strcmp(type->u.string, "shutdown") == 0 && !s.ignore_shutdown) {
			yajl_tree_free(msg);
			break;
		}
		yajl_tree_free(msg);
	}
	free(line);
	if (s.ignore_shutdown)
		for (;;)
			pause();
	if (s.map)
		munmap((void *)s.map, s.map_len);
	free((void *)s.map_name);
	return 0;
}
