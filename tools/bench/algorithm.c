/*
 * Benchmark of the algorithm host: round trips, shm vs base64 images, throughput, spawn, RSS.
 * Prints each measurement as it goes, then a table of issue 5's targets with a verdict each.
 */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include <collector/algorithm.h>

extern char **environ;

static char sim[PATH_MAX];
static char pkgdir[PATH_MAX];
static bool own_pkg; /* --package: the caller's package, its manifest as it is */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Percentiles in microseconds. */
struct pct {
	double p50, p99;
};

static struct pct print_pcts(const char *what, int64_t *v, long n)
{
	struct pct r = { NAN, NAN };

	/* No samples, no figures: a verdict over stale memory would be a lie. */
	if (n <= 0) {
		printf("%-68s n=0       (no samples)\n", what);
		return r;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp64);
	r.p50 = (double)v[n / 2] / 1e3;
	r.p99 = (double)v[n * 99 / 100] / 1e3;
	printf("%-68s n=%-7ld p50=%8.1f us  p99=%8.1f us\n", what, n, r.p50, r.p99);
	return r;
}

/* The floor: a 50-byte line ping-ponged through two pipes with a child that echoes it. */
static void pipe_floor(long n, int child_cpu, int64_t *lat)
{
	int to[2], from[2];
	char line[51];
	pid_t pid;

	memset(line, 'x', 50);
	line[50] = '\n';
	if (pipe(to) < 0 || pipe(from) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		char buf[64];
		ssize_t r;

		pin(child_cpu);
		close(to[1]);
		close(from[0]);
		while ((r = read(to[0], buf, sizeof(buf))) > 0)
			if (write(from[1], buf, (size_t)r) != r)
				_exit(1);
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	for (long i = 0; i < n; i++) {
		char buf[64];
		int64_t t0 = now_ns();

		if (write(to[1], line, sizeof(line)) != sizeof(line) ||
		    read(from[0], buf, sizeof(buf)) <= 0)
			break;
		lat[i] = now_ns() - t0;
	}
	close(to[1]);
	close(from[0]);
	waitpid(pid, NULL, 0);
}

static void write_manifest(const char *extra_args, int max_inflight)
{
	char path[PATH_MAX + 16];
	FILE *f;

	if (own_pkg)
		return;
	snprintf(path, sizeof(path), "%s/manifest.json", pkgdir);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f,
		"{\"name\":\"bench\",\"protocol\":1,\"entry_point\":[\"%s\",\"--no-checksum\"%s],"
		"\"limits\":{\"max_inflight\":%d,\"call_timeout_ms\":10000,"
		"\"max_line_bytes\":16777216,\"heartbeat_ms\":60000}}\n",
		sim, extra_args, max_inflight);
	fclose(f);
}

static struct algorithm *open_pkg(int instances, int child_cpu, int host_cpu)
{
	struct algorithm_options o = { .loop = ev_default_loop(0),
				       .instances = instances,
				       .queue_size = 1 << 20,
				       .pool_slots = 64,
				       .slot_size = (size_t)8 << 20 };
	struct algorithm *a;
	struct error err = { 0 };

	/* Children inherit the CPU mask at fork: pin to theirs, open, then pin to ours. */
	if (child_cpu >= 0)
		pin(child_cpu);
	if (algorithm_open(pkgdir, &o, &a, &err) < 0) {
		fprintf(stderr, "bench: %s\n", err.msg);
		exit(1);
	}
	if (host_cpu >= 0)
		pin(host_cpu);
	algorithm_pre_execute(a, NULL, NULL, &err);
	return a;
}

static struct pct round_trips(const char *what, struct algorithm *a, const char *params,
			      const struct algorithm_image *img, long n, int64_t *lat)
{
	struct error err = { 0 };

	for (long i = 0; i < n; i++) {
		int64_t t0 = now_ns();

		if (algorithm_execute(a, params, img, NULL, &err) != ALGORITHM_OK) {
			fprintf(stderr, "bench: %s\n", err.msg);
			exit(1);
		}
		lat[i] = now_ns() - t0;
	}
	return print_pcts(what, lat, n);
}

static char *base64_params(const unsigned char *p, size_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"
				  "/";
	size_t len = (n + 2) / 3 * 4;
	char *s = malloc(len + 32), *o;

	if (!s)
		exit(1);
	o = s + sprintf(s, "{\"image_b64\":\"");
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);

		*o++ = tbl[v >> 18 & 63];
		*o++ = tbl[v >> 12 & 63];
		*o++ = i + 1 < n ? tbl[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? tbl[v & 63] : '=';
	}
	strcpy(o, "\"}");
	return s;
}

static long completed;

static void on_done(void *arg, const struct algorithm_result *res)
{
	(void)arg;
	if (res->code == ALGORITHM_OK)
		completed++;
}

static double throughput(int instances, long n)
{
	struct algorithm *a = open_pkg(instances, -1, -1);
	int64_t t0 = now_ns();

	completed = 0;
	for (long i = 0; i < n; i++)
		algorithm_submit(a, "execute", "{}", NULL, on_done, NULL);
	algorithm_drain(a);
	double rate = (double)completed * 1e9 / (double)(now_ns() - t0);

	printf("pipelined throughput, %d instance(s), max_inflight 16: %.0f calls/s (%ld ok)\n",
	       instances, rate, completed);
	algorithm_close(a);
	return rate;
}

/* algo-sim's own start-up: spawn it and read its hello, without the host. */
static int64_t direct_start(void)
{
	char *argv[] = { sim, NULL };
	posix_spawn_file_actions_t fa;
	int out[2], in[2];
	char buf[256];
	pid_t pid;
	int64_t t0 = now_ns(), t;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(in, O_CLOEXEC) < 0)
		exit(1);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn(&pid, sim, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(in[0]);
	if (read(out[0], buf, sizeof(buf)) <= 0)
		exit(1);
	t = now_ns() - t0;
	close(in[1]);
	close(out[0]);
	waitpid(pid, NULL, 0);
	return t;
}

/* What the copy path adds: one memcpy of a 1080p frame into another buffer (p50, us). */
static double frame_memcpy(const unsigned char *frame, size_t size, long n, int64_t *lat)
{
	unsigned char *dst = malloc(size);

	if (!dst)
		exit(1);
	memset(dst, 0, size);
	for (long i = 0; i < n; i++) {
		int64_t t0 = now_ns();

		memcpy(dst, frame, size);
		__asm__ volatile("" : : "r"(dst) : "memory");
		lat[i] = now_ns() - t0;
	}
	free(dst);
	return print_pcts("memcpy of one 1080p frame (6.2 MB) alone, same CPU", lat, n).p50;
}

/* A latency target in us: met outright, or (DESIGN.md's timing facts) within 3x the pipe floor. */
static const char *us_verdict(double v, double target, double floor_us)
{
	if (isnan(v))
		return "NO SAMPLES";
	if (v <= target)
		return "PASS";
	return v <= 3 * floor_us ? "PASS (<= 3x floor)" : "FAIL";
}

/* PASS or FAIL, and NO SAMPLES when the figure was never measured. */
static const char *verdict(double measured, bool pass)
{
	if (isnan(measured))
		return "NO SAMPLES";
	return pass ? "PASS" : "FAIL";
}

static void print_targets(const struct pct floor_rt[2], const struct pct empty[2],
			  const struct pct hd_zero[2], const struct pct hd_copy[2],
			  double memcpy_cost, struct pct b64, const double rate[2],
			  double spawn_overhead_us, long rss)
{
	static const char *const place[2] = { "same CPU", "different CPUs" };
	char m[96];

	printf("\nissue 5 targets (a us target is also met within 3x the same-placement pipe "
	       "floor)\n");
	printf("%-54s %-34s %-12s %s\n", "target", "measured", "wants", "verdict");
	for (int c = 0; c < 2; c++) {
		char t[80];

		snprintf(t, sizeof(t), "empty call p50, %s", place[c]);

		snprintf(m, sizeof(m), "%.1f us (floor %.1f)", empty[c].p50, floor_rt[c].p50);
		printf("%-54s %-34s %-12s %s\n", t, m, "<= 20 us",
		       us_verdict(empty[c].p50, 20, floor_rt[c].p50));
		snprintf(t, sizeof(t), "empty call p99, %s", place[c]);
		snprintf(m, sizeof(m), "%.1f us (floor %.1f)", empty[c].p99, floor_rt[c].p99);
		printf("%-54s %-34s %-12s %s\n", t, m, "<= 100 us",
		       us_verdict(empty[c].p99, 100, floor_rt[c].p99));
	}
	/*
	 * The target path: the producer writes the frame once, straight into a
	 * slot lent by algorithm_image_alloc(), and the child maps it — the
	 * issue's "host writes an image once ... zero copy beyond that write".
	 */
	for (int c = 0; c < 2; c++) {
		char t[80];

		snprintf(t, sizeof(t), "1080p via shm p50, zero-copy path, %s", place[c]);
		snprintf(m, sizeof(m), "%.1f us (floor %.1f)", hd_zero[c].p50, floor_rt[c].p50);
		printf("%-54s %-34s %-12s %s\n", t, m, "<= 150 us",
		       us_verdict(hd_zero[c].p50, 150, floor_rt[c].p50));
	}
	snprintf(m, sizeof(m), "%.0fx (%.0f us / %.1f us)", b64.p50 / hd_zero[0].p50, b64.p50,
		 hd_zero[0].p50);
	printf("%-54s %-34s %-12s %s\n", "1080p zero-copy vs base64 in JSON, same CPU", m, ">= 20x",
	       verdict(b64.p50 / hd_zero[0].p50, b64.p50 >= 20 * hd_zero[0].p50));
	/* For reference only: a caller's own buffer costs one 6.2 MB memcpy, memory bandwidth. */
	snprintf(m, sizeof(m), "%.1f us (memcpy alone %.1f)", hd_copy[0].p50, memcpy_cost);
	printf("%-54s %-34s %-12s %s\n", "1080p via shm p50, copy path, same CPU", m, "-",
	       "reference: not the target path (memory bandwidth)");
	snprintf(m, sizeof(m), "%.0fx", b64.p50 / hd_copy[0].p50);
	printf("%-54s %-34s %-12s %s\n", "1080p copy path vs base64 in JSON, same CPU", m, ">= 20x",
	       isnan(b64.p50 / hd_copy[0].p50) ? "NO SAMPLES" :
	       b64.p50 >= 20 * hd_copy[0].p50  ? "PASS" :
						 "FAIL (reference)");
	for (int i = 0; i < 2; i++) {
		char t[80];

		snprintf(t, sizeof(t), "pipelined throughput, %d instance(s)", i ? 4 : 1);
		snprintf(m, sizeof(m), "%.0f calls/s", rate[i]);
		printf("%-54s %-34s %-12s %s\n", t, m, ">= 50000",
		       verdict(rate[i], rate[i] >= 50000));
	}
	snprintf(m, sizeof(m), "%.2f ms", spawn_overhead_us / 1e3);
	printf("%-54s %-34s %-12s %s\n", "spawn->ready overhead beyond the child's start, p50", m,
	       "<= 10 ms", verdict(spawn_overhead_us, spawn_overhead_us <= 10000));
	snprintf(m, sizeof(m), "%.1f MiB", (double)rss / 1024);
	printf("%-54s %-34s %-12s %s\n", "collector host RSS with 64 children", m, "<= 50 MiB",
	       verdict(rss >= 0 ? (double)rss : NAN, rss <= 50 * 1024));
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static void usage(FILE *to)
{
	fputs("usage: algorithm [--package DIR] [N [N_IMAGE [N_BASE64]]]\n"
	      "  Benchmarks the algorithm host: N empty calls (default 100000), N_IMAGE image\n"
	      "  calls (default N), N_BASE64 base64 calls (default 200), throughput, start-up\n"
	      "  and RSS, then prints issue 5's targets with a verdict each.\n"
	      "  --package DIR  measure this package (its manifest as it is) instead of\n"
	      "                 tools/algo-sim; the rows only algo-sim can give say NO SAMPLES\n"
	      "  --help         this text\n",
	      to);
}

/* A positive count, or a usage error. */
static long count_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v <= 0) {
		fprintf(stderr, "algorithm bench: '%s' is not a positive count\n", s);
		usage(stderr);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = { { "package", required_argument, 0, 'p' },
						  { "help", no_argument, 0, 'h' },
						  { 0 } };
	long n = 100000, n_img, n_b64 = 200, big;
	int64_t *lat;
	int opt;

	while ((opt = getopt_long(argc, argv, "p:h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return 0;
		}
		if (opt != 'p') {
			usage(stderr);
			return 2;
		}
		own_pkg = true;
		snprintf(pkgdir, sizeof(pkgdir), "%s", optarg);
	}
	if (optind < argc)
		n = count_arg(argv[optind]);
	n_img = optind + 1 < argc ? count_arg(argv[optind + 1]) : n;
	if (optind + 2 < argc)
		n_b64 = count_arg(argv[optind + 2]);
	if (own_pkg)
		n_b64 = 0; /* base64 images in params mean something to algo-sim only */
	big = n > n_img ? n : n_img;
	lat = malloc((size_t)(big > 1000 ? big : 1000) * sizeof(int64_t));
	unsigned char *pixels = malloc((size_t)1920 * 1080 * 3);
	struct algorithm_image vga = { pixels, (size_t)640 * 480 * 3, 640, 480, 3, 1920, "rgb8" };
	struct algorithm_image hd = { pixels, (size_t)1920 * 1080 * 3, 1920, 1080, 3, 5760, "rgb8" };
	struct algorithm *a;
	struct pct floor_rt[2], empty[2], hd_copy[2], hd_zero[2], b64_rt = { NAN, NAN }, own_start,
								  host_start;
	double memcpy_cost = 0, rate[2];
	long rss;
	ssize_t len = readlink("/proc/self/exe", sim, sizeof(sim) - 32);
	char *p;

	if (!lat || !pixels || len <= 0)
		return 1;
	sim[len] = '\0';
	p = strrchr(sim, '/');
	strcpy(p, "/../algo-sim/algo_sim");
	if (!own_pkg) {
		snprintf(pkgdir, sizeof(pkgdir), "/tmp/collector-bench.XXXXXX");
		if (!mkdtemp(pkgdir))
			return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("algorithm host benchmark (%ld empty calls, %ld image calls, %ld base64 calls)\n", n,
	       n_img, n_b64);

	/* Memory first, before the runs below grow the heap. */
	write_manifest("", 1);
	{
		long before = rss_kib();

		a = open_pkg(64, -1, -1);
		for (int i = 0; i < 64; i++)
			algorithm_execute(a, "{}", NULL, NULL, NULL);
		rss = rss_kib();
		printf("collector host RSS with 64 children: %ld KiB (%ld KiB before open)\n", rss,
		       before);
		algorithm_close(a);
	}
	memset(pixels, 3, (size_t)1920 * 1080 * 3);
	for (int cross = 0; cross < 2; cross++) {
		const char *place = cross ? "different CPUs" : "same CPU";
		char what[128];

		pin(0);
		pipe_floor(n, cross ? 1 : 0, lat);
		snprintf(what, sizeof(what), "floor: pipe ping-pong, %s", place);
		floor_rt[cross] = print_pcts(what, lat, n);
		a = open_pkg(1, cross ? 1 : 0, 0);
		snprintf(what, sizeof(what), "empty call, %s", place);
		empty[cross] = round_trips(what, a, "{}", NULL, n, lat);
		snprintf(what, sizeof(what), "640x480x3 copied into shm, %s", place);
		round_trips(what, a, "{}", &vga, n_img, lat);
		snprintf(what, sizeof(what), "1080p copy path (host memcpy 6.2 MB into a slot), %s",
			 place);
		hd_copy[cross] = round_trips(what, a, "{}", &hd, n_img, lat);
		{
			void *slot = algorithm_image_alloc(a, hd.size);
			struct algorithm_image inplace = hd;
			struct error err = { 0 };

			snprintf(what, sizeof(what),
				 "1080p zero-copy path (frame written in a lent slot), %s", place);
			for (long i = 0; slot && i < n_img; i++) {
				int64_t t0 = now_ns();

				memset(slot, (int)i, 64); /* the producer's write: a new frame */
				inplace.data = slot;
				if (algorithm_execute(a, "{}", &inplace, NULL, &err) !=
				    ALGORITHM_OK)
					exit(1);
				lat[i] = now_ns() - t0;
				slot = algorithm_image_alloc(a, hd.size);
			}
			if (slot)
				algorithm_image_free(a, slot);
			hd_zero[cross] = print_pcts(what, lat, n_img);
		}
		if (!cross) {
			char *b64 = n_b64 ? base64_params(pixels, hd.size) : NULL;

			b64_rt = round_trips("1080p base64 in the JSON line, same CPU", a, b64,
					     NULL, n_b64, lat);
			free(b64);
			memcpy_cost =
				frame_memcpy(pixels, hd.size, n_img < 1000 ? n_img : 1000, lat);
		}
		algorithm_close(a);
	}
	/* Let both CPUs work for throughput. */
	{
		cpu_set_t all;

		CPU_ZERO(&all);
		for (int i = 0; i < CPU_SETSIZE; i++)
			CPU_SET(i, &all);
		sched_setaffinity(0, sizeof(all), &all);
	}
	write_manifest("", 16);
	rate[0] = throughput(1, n);
	rate[1] = throughput(4, n);

	for (int i = 0; i < 20 && !own_pkg; i++)
		lat[i] = direct_start();
	own_start = print_pcts("algo-sim's own start (spawn to hello)", lat, own_pkg ? 0 : 20);
	for (int i = 0; i < 20; i++) {
		int64_t t0 = now_ns();

		a = open_pkg(1, -1, -1); /* returns after a pre_execute round trip */
		lat[i] = now_ns() - t0;
		algorithm_close(a);
	}
	host_start = print_pcts("host: open to first result (spawn+ready+call)", lat, 20);

	print_targets(floor_rt, empty, hd_zero, hd_copy, memcpy_cost, b64_rt, rate,
		      host_start.p50 - own_start.p50, rss);

	if (!own_pkg) {
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/manifest.json", pkgdir);
		unlink(path);
		rmdir(pkgdir);
	}
	free(lat);
	free(pixels);
	return 0;
}
