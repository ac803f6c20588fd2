/* Shared loader plumbing: JSON lines out, clean signal handling, clear failures. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "loader_util.h"
#include "system_checks.h"

/* Pending output that is written at once, whatever the flush interval. */
#define LOADER_FLUSH_BYTES ((size_t)64 * 1024)

static volatile sig_atomic_t stopping;
static bool verbose_log;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose_log)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void loader_setup(bool verbose)
{
	struct sigaction sa = { .sa_handler = on_signal };

	verbose_log = verbose;
	libbpf_set_print(print_libbpf);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Programs stay attached while the loader lives: die with the runner. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static void out_print(void *ctx, const char *s, size_t len)
{
	struct loader_out *o = ctx;

	if (o->len + len > o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 65536;
		char *p;

		while (cap < o->len + len)
			cap *= 2;
		p = realloc(o->buf, cap);
		if (!p) {
			o->failed = true;
			return;
		}
		o->buf = p;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, len);
	o->len += len;
}

int loader_out_init(struct loader_out *o)
{
	o->gen = yajl_gen_alloc(NULL);
	if (!o->gen)
		return -ENOMEM;
	yajl_gen_config(o->gen, yajl_gen_print_callback, out_print, o);
	o->flush_ms = LOADER_FLUSH_MS;
	return 0;
}

void loader_out_free(struct loader_out *o)
{
	if (o->gen)
		yajl_gen_free(o->gen);
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

yajl_gen loader_begin(struct loader_out *o)
{
	yajl_gen_reset(o->gen, NULL);
	yajl_gen_map_open(o->gen);
	return o->gen;
}

void loader_end(struct loader_out *o)
{
	yajl_gen_map_close(o->gen);
	out_print(o, "\n", 1);
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int loader_flush(struct loader_out *o)
{
	size_t done = 0;

	while (done < o->len) {
		ssize_t n = write(STDOUT_FILENO, o->buf + done, o->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			o->failed = true;
			return -errno;
		}
		done += (size_t)n;
	}
	o->len = 0;
	return 0;
}

void loader_gen_strn(yajl_gen g, const char *key, const char *value, size_t len)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
	yajl_gen_string(g, (const unsigned char *)value, len);
}

void loader_gen_str(yajl_gen g, const char *key, const char *value)
{
	loader_gen_strn(g, key, value, strlen(value));
}

void loader_gen_int(yajl_gen g, const char *key, long long value)
{
	yajl_gen_string(g, (const unsigned char *)key, strlen(key));
	yajl_gen_integer(g, value);
}

long long loader_boot_to_wall_ns(void)
{
	struct timespec wall, boot;

	clock_gettime(CLOCK_REALTIME, &wall);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	return (wall.tv_sec - boot.tv_sec) * 1000000000LL + (wall.tv_nsec - boot.tv_nsec);
}

int loader_check_pid(pid_t pid, struct error *err)
{
	if (pid > 0 && kill(pid, 0) < 0 && errno == ESRCH)
		return error_set(err, ESRCH, "no process %d (--pid names a running process)",
				 (int)pid);
	return 0;
}

/* A decimal pid at @s followed by @stop, or -1. */
static pid_t pid_at(const char *s, char stop)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != stop || v <= 0 || v > INT32_MAX)
		return -1;
	return (pid_t)v;
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;
	char *close_paren;
	pid_t ppid = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	/* "pid (comm) S ppid ...": comm may hold spaces and parentheses. */
	if (fgets(buf, sizeof(buf), f) && (close_paren = strrchr(buf, ')')) &&
	    close_paren[1] == ' ' && close_paren[2] && close_paren[3] == ' ')
		ppid = pid_at(close_paren + 4, ' ');
	fclose(f);
	return ppid;
}

int loader_descendants(pid_t root, pid_t *pids, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t all[32768], parents[32768];
	int n = 0, found = 0;
	bool grew = true;

	while (d && (de = readdir(d)) && n < 32768) {
		pid_t pid = pid_at(de->d_name, '\0');

		if (pid > 0) {
			all[n] = pid;
			parents[n++] = parent_of(pid);
		}
	}
	if (d)
		closedir(d);
	/* Fixed point: add every process whose parent is already in the set. */
	while (grew && found < max) {
		grew = false;
		for (int i = 0; i < n && found < max; i++) {
			bool in = parents[i] == root, known = false;

			for (int j = 0; j < found && !in; j++)
				in = parents[i] == pids[j];
			for (int j = 0; j < found && !known; j++)
				known = all[i] == pids[j];
			if (in && !known) {
				pids[found++] = all[i];
				grew = true;
			}
		}
	}
	return found;
}

int loader_fail(struct loader_error *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void loader_verdict(const char *fmt, ...)
{
	va_list ap;

	fputs(LOADER_ERROR_PREFIX, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void loader_explain_failure(const char *what, int err)
{
	struct check checks[CHECK_COUNT];
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

	self[len > 0 ? len : 0] = '\0';
	system_checks_run(checks);
	/* The usual cause first, in the words an operator acts on. */
	if (!checks[CHECK_CAPS].ok) {
		loader_verdict("need root or CAP_BPF + CAP_PERFMON: run as root, or setcap "
			       "cap_bpf,cap_perfmon+ep %s",
			       len > 0 ? self : "collector");
		return;
	}
	for (int i = 0; i < CHECK_COUNT; i++) {
		if (checks[i].needed_for_bpf && !checks[i].ok) {
			loader_verdict("cannot %s: %s: %s (fix: %s)", what, checks[i].name,
				       checks[i].detail, checks[i].fix);
			return;
		}
	}
	loader_verdict("cannot %s: %s (--log-level debug shows libbpf's messages)", what,
		       strerror(err));
}

void loader_ready(struct loader_out *o, const char *name)
{
	yajl_gen g = loader_begin(o);

	loader_gen_str(g, "type", "ready");
	loader_gen_str(g, "loader", name);
	loader_end(o);
	loader_flush(o);
}

int loader_poll(struct ring_buffer *rb, struct loader_out *o, void (*after_batch)(void *),
		void *arg)
{
	int64_t pending_since = 0; /* monotonic ms of the oldest unwritten line */

	while (!stopping && !o->failed) {
		int64_t now = monotonic_ms();
		int timeout = pending_since ? (int)(pending_since + o->flush_ms - now) : 100;
		int n = ring_buffer__poll(rb, timeout > 0 ? timeout : 0);

		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "loader: polling the ring buffer: %s\n", strerror(-n));
			return 1;
		}
		if (after_batch)
			after_batch(arg);
		if (o->len && !pending_since)
			pending_since = monotonic_ms();
		if (o->len && (o->len >= LOADER_FLUSH_BYTES ||
			       monotonic_ms() - pending_since >= o->flush_ms)) {
			loader_flush(o);
			pending_since = 0;
		}
	}
	if (o->len)
		loader_flush(o);
	return 0;
}

int loader_wait(struct loader_out *o, int period_ms, void (*tick)(void *), void *arg)
{
	struct timespec period = { .tv_sec = period_ms / 1000,
				   .tv_nsec = (long)(period_ms % 1000) * 1000000 };

	while (!stopping && !o->failed) {
		/* A signal cuts the sleep short: stopping is seen at once. */
		nanosleep(&period, NULL);
		tick(arg);
		if (o->len)
			loader_flush(o);
	}
	return 0;
}

/* Sleep @p ms unless a signal comes first (SIGTERM ends the wait early). */
static void nap_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

int loader_poll_paced(struct ring_buffer *rb, struct loader_out *o, unsigned int *reader_waiting,
		      void (*after_batch)(void *), void *arg)
{
	bool idle = true;

	while (!stopping && !o->failed) {
		bool timed = !idle && o->flush_ms > 0;
		int n = 0;

		if (!timed) {
			/* Ask for a wake-up, then take what came before the program saw the flag. */
			__atomic_store_n(reader_waiting, 1, __ATOMIC_SEQ_CST);
			n = ring_buffer__consume(rb);
			if (n == 0)
				n = ring_buffer__poll(rb, LOADER_IDLE_POLL_MS);
		}
		if (o->flush_ms > 0 && (timed || n > 0)) {
			/* Events flow and wake nobody: let them gather, take them on our own clock. */
			nap_ms(o->flush_ms);
			n = ring_buffer__consume(rb);
		}
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "loader: polling the ring buffer: %s\n", strerror(-n));
			return 1;
		}
		if (after_batch)
			after_batch(arg);
		if (o->len)
			loader_flush(o);
		idle = n <= 0;
	}
	/* What was submitted without a wake-up before the stop. */
	ring_buffer__consume(rb);
	if (after_batch)
		after_batch(arg);
	if (o->len)
		loader_flush(o);
	return 0;
}
