/* Benchmark of the algorithm host: round trips, shm vs base64 images, throughput, spawn, RSS. */
#include <fcntl.h>
#include <limits.h>
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
static char pkgdir[64];

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

static void print_pcts(const char *what, int64_t *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp64);
	printf("%-44s n=%-7ld p50=%8.1f us  p99=%8.1f us\n", what, n, (double)v[n / 2] / 1e3,
	       (double)v[n * 99 / 100] / 1e3);
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
	char path[96];
	FILE *f;

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

static void round_trips(const char *what, struct algorithm *a, const char *params,
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
	print_pcts(what, lat, n);
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

static void throughput(int instances, long n)
{
	struct algorithm *a = open_pkg(instances, -1, -1);
	int64_t t0 = now_ns();

	completed = 0;
	for (long i = 0; i < n; i++)
		algorithm_submit(a, "execute", "{}", NULL, on_done, NULL);
	algorithm_drain(a);
	printf("pipelined throughput, %d instance(s), max_inflight 16: %.0f calls/s (%ld ok)\n",
	       instances, (double)completed * 1e9 / (double)(now_ns() - t0), completed);
	algorithm_close(a);
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

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	long n_img = argc > 2 ? strtol(argv[2], NULL, 10) : n;
	long n_b64 = argc > 3 ? strtol(argv[3], NULL, 10) : 200;
	long big = n > n_img ? n : n_img;
	int64_t *lat = malloc((size_t)(big > 1000 ? big : 1000) * sizeof(int64_t));
	unsigned char *pixels = malloc((size_t)1920 * 1080 * 3);
	struct algorithm_image vga = { pixels, (size_t)640 * 480 * 3, 640, 480, 3, 1920, "rgb8" };
	struct algorithm_image hd = { pixels, (size_t)1920 * 1080 * 3, 1920, 1080, 3, 5760, "rgb8" };
	struct algorithm *a;
	ssize_t len = readlink("/proc/self/exe", sim, sizeof(sim) - 32);
	char *p;

	if (!lat || !pixels || len <= 0)
		return 1;
	sim[len] = '\0';
	p = strrchr(sim, '/');
	strcpy(p, "/../algo-sim/algo_sim");
	snprintf(pkgdir, sizeof(pkgdir), "/tmp/collector-bench.XXXXXX");
	if (!mkdtemp(pkgdir))
		return 1;
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
		printf("collector host RSS with 64 children: %ld KiB (%ld KiB before open)\n",
		       rss_kib(), before);
		algorithm_close(a);
	}
	memset(pixels, 3, (size_t)1920 * 1080 * 3);
	for (int cross = 0; cross < 2; cross++) {
		const char *place = cross ? "different CPUs" : "same CPU";
		char what[96];

		pin(0);
		pipe_floor(n, cross ? 1 : 0, lat);
		snprintf(what, sizeof(what), "floor: pipe ping-pong, %s", place);
		print_pcts(what, lat, n);
		a = open_pkg(1, cross ? 1 : 0, 0);
		snprintf(what, sizeof(what), "empty call, %s", place);
		round_trips(what, a, "{}", NULL, n, lat);
		snprintf(what, sizeof(what), "640x480x3 via shm, %s", place);
		round_trips(what, a, "{}", &vga, n_img, lat);
		snprintf(what, sizeof(what), "1920x1080x3 via shm, %s", place);
		round_trips(what, a, "{}", &hd, n_img, lat);
		{
			void *slot = algorithm_image_alloc(a, hd.size);
			struct algorithm_image inplace = hd;
			struct error err = { 0 };

			snprintf(what, sizeof(what), "1920x1080x3 written in place in shm, %s",
				 place);
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
			print_pcts(what, lat, n_img);
		}
		if (!cross) {
			char *b64 = base64_params(pixels, hd.size);

			round_trips("1920x1080x3 base64 in JSON, same CPU", a, b64, NULL, n_b64,
				    lat);
			free(b64);
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
	throughput(1, n);
	throughput(4, n);

	for (int i = 0; i < 20; i++)
		lat[i] = direct_start();
	print_pcts("algo-sim's own start (spawn to hello)", lat, 20);
	for (int i = 0; i < 20; i++) {
		int64_t t0 = now_ns();

		a = open_pkg(1, -1, -1); /* returns after a pre_execute round trip */
		lat[i] = now_ns() - t0;
		algorithm_close(a);
	}
	print_pcts("host: open to first result (spawn+ready+call)", lat, 20);

	{
		char path[96];

		snprintf(path, sizeof(path), "%s/manifest.json", pkgdir);
		unlink(path);
		rmdir(pkgdir);
	}
	free(lat);
	free(pixels);
	return 0;
}
