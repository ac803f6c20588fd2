/* Diagnostics on stderr, text or JSON, one line per message, with repeats rate-limited, never blocking. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <yajl/yajl_gen.h>

#include <collector/clock.h>
#include <collector/error.h>
#include <collector/event_encoder.h>
#include <collector/log.h>

/* Format strings tracked for rate limiting; more share the least recent slot. */
#define LOG_TRACKED 32

struct log_window {
	const char *fmt; /* the call site's format string: its identity */
	int64_t start_ns;
	unsigned printed;
	unsigned suppressed;
};

/* Lines stderr did not take yet; beyond this, new lines are dropped (counted). */
#define LOG_PENDING_MAX (64 * 1024)

/*
 * The diagnostics' own descriptor: a pipe or terminal on stderr is opened
 * again non-blocking (a description of its own, so the flags of a stderr
 * shared with other processes stay as they are); a socket is sent to with
 * MSG_DONTWAIT; a regular file is written as it is.
 */
static struct {
	pthread_mutex_t lock;
	int fd;	     /* -1 until the first line */
	bool socket; /* send(MSG_DONTWAIT) */
	bool polled; /* stderr itself, not a file: poll before writing */
	char buf[LOG_PENDING_MAX];
	size_t len;
	uint64_t dropped; /* lines dropped in all */
	uint64_t unsaid;  /* dropped since the last line saying so */
	struct ev_loop *loop;
	ev_io writable;
} err_out = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

static enum log_level max_level = LOG_INFO;
static enum log_format line_format = LOG_TEXT;
static struct log_window windows[LOG_TRACKED];
static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level level)
{
	max_level = level;
}

void log_set_format(enum log_format format)
{
	line_format = format;
}

int log_parse_level(const char *s, enum log_level *out)
{
	for (int i = 0; i <= LOG_DEBUG; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * May a message of @fmt be printed now? Sets *@suppressed to the count
 * suppressed in the window that just ended, to be said with it.
 */
static bool admit(const char *fmt, unsigned *suppressed)
{
	int64_t now = clock_mono_ns();
	struct log_window *w = &windows[0];

	for (int i = 0; i < LOG_TRACKED; i++) {
		if (windows[i].fmt == fmt) {
			w = &windows[i];
			break;
		}
		if (windows[i].start_ns < w->start_ns)
			w = &windows[i];
	}
	*suppressed = 0;
	if (w->fmt != fmt || now - w->start_ns > LOG_BURST_SECONDS * 1000000000LL) {
		*suppressed = w->fmt == fmt ? w->suppressed : 0;
		*w = (struct log_window){ .fmt = fmt, .start_ns = now };
	}
	if (w->printed >= LOG_BURST) {
		w->suppressed++;
		return false;
	}
	w->printed++;
	return true;
}

static void open_out(void)
{
	struct stat st;
	int fd;

	err_out.fd = STDERR_FILENO;
	if (fstat(STDERR_FILENO, &st) < 0 || S_ISREG(st.st_mode))
		return;
	if (S_ISSOCK(st.st_mode)) {
		err_out.socket = true;
		return;
	}
	err_out.polled = true;
	fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;
	/* Above the standard descriptors, whichever of them are closed. */
	err_out.fd = fd > STDERR_FILENO ? fd : fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	if (fd <= STDERR_FILENO)
		close(fd);
	if (err_out.fd < 0)
		err_out.fd = STDERR_FILENO;
	else
		err_out.polled = false;
}

/* One write that never waits: -1 with EAGAIN when stderr cannot take bytes now. */
static ssize_t put(const char *p, size_t n)
{
	struct pollfd pf = { .fd = err_out.fd, .events = POLLOUT };

	if (err_out.socket)
		return send(err_out.fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (err_out.polled && (poll(&pf, 1, 0) != 1 || !(pf.revents & POLLOUT))) {
		errno = EAGAIN;
		return -1;
	}
	return write(err_out.fd, p, n);
}

static size_t count_lines(const char *p, size_t n)
{
	size_t lines = 0;

	for (const char *end = p + n; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		lines++;
	return lines;
}

static void append(const char *line, size_t n)
{
	if (err_out.len + n > sizeof(err_out.buf)) {
		err_out.dropped++;
		err_out.unsaid++;
		return;
	}
	memcpy(err_out.buf + err_out.len, line, n);
	err_out.len += n;
}

static size_t format_line(enum log_level level, const char *msg, char *line, size_t size);

/* Write what stderr takes now; lines it refuses for good (EPIPE) are dropped, counted. */
static void flush_out(void)
{
	while (err_out.len) {
		ssize_t n = put(err_out.buf, err_out.len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			err_out.dropped += count_lines(err_out.buf, err_out.len);
			err_out.len = 0;
			break;
		}
		memmove(err_out.buf, err_out.buf + n, err_out.len - (size_t)n);
		err_out.len -= (size_t)n;
		if (err_out.len == 0 && err_out.unsaid) {
			char msg[128], line[256];
			size_t len;

			snprintf(msg, sizeof(msg),
				 "%llu log lines were dropped: stderr did not take them in time",
				 (unsigned long long)err_out.unsaid);
			err_out.unsaid = 0;
			len = format_line(LOG_WARN, msg, line, sizeof(line));
			append(line, len);
		}
	}
	if (err_out.loop && err_out.len && !ev_is_active(&err_out.writable))
		ev_io_start(err_out.loop, &err_out.writable);
	else if (err_out.loop && !err_out.len && ev_is_active(&err_out.writable))
		ev_io_stop(err_out.loop, &err_out.writable);
}

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	pthread_mutex_lock(&err_out.lock);
	flush_out();
	pthread_mutex_unlock(&err_out.lock);
}

void log_attach_loop(struct ev_loop *loop)
{
	pthread_mutex_lock(&err_out.lock);
	if (err_out.fd < 0)
		open_out();
	err_out.loop = loop;
	ev_io_init(&err_out.writable, on_writable, err_out.fd, EV_WRITE);
	flush_out();
	pthread_mutex_unlock(&err_out.lock);
}

void log_detach_loop(void)
{
	pthread_mutex_lock(&err_out.lock);
	if (err_out.loop && ev_is_active(&err_out.writable))
		ev_io_stop(err_out.loop, &err_out.writable);
	err_out.loop = NULL;
	pthread_mutex_unlock(&err_out.lock);
}

void log_drain(int timeout_ms)
{
	struct pollfd pf = { .events = POLLOUT };
	int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * 1000000;

	pthread_mutex_lock(&err_out.lock);
	pf.fd = err_out.fd;
	flush_out();
	while (err_out.len && clock_mono_ns() < deadline) {
		poll(&pf, 1, (int)((deadline - clock_mono_ns()) / 1000000) + 1);
		flush_out();
	}
	if (err_out.len) {
		err_out.dropped += count_lines(err_out.buf, err_out.len);
		err_out.len = 0;
	}
	pthread_mutex_unlock(&err_out.lock);
}

uint64_t log_dropped_total(void)
{
	uint64_t n;

	pthread_mutex_lock(&err_out.lock);
	n = err_out.dropped;
	pthread_mutex_unlock(&err_out.lock);
	return n;
}

static size_t format_json(enum log_level level, const char *msg, char *line, size_t size)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	char when[40];
	const unsigned char *text;
	size_t len;
	int n;

	if (!g)
		return 0;
	len = format_rfc3339_ns(clock_wall_ns(), when);
	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *)"ts", 2);
	yajl_gen_string(g, (const unsigned char *)when, len);
	yajl_gen_string(g, (const unsigned char *)"level", 5);
	yajl_gen_string(g, (const unsigned char *)level_names[level], strlen(level_names[level]));
	yajl_gen_string(g, (const unsigned char *)"msg", 3);
	yajl_gen_string(g, (const unsigned char *)msg, strlen(msg));
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &text, &len);
	/* A line cut short would not parse: then none. */
	n = len + 1 < size ? snprintf(line, size, "%.*s\n", (int)len, text) : 0;
	yajl_gen_free(g);
	return (size_t)n;
}

static size_t format_line(enum log_level level, const char *msg, char *line, size_t size)
{
	int n;

	if (line_format == LOG_JSON)
		return format_json(level, msg, line, size);
	n = snprintf(line, size, "collector: %s: %s\n", level_names[level], msg);
	if (n < 0)
		return 0;
	if ((size_t)n >= size) {
		line[size - 2] = '\n';
		return size - 1;
	}
	return (size_t)n;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[1024], line[8192];
	unsigned suppressed;
	size_t len;
	va_list ap;
	int n;

	if (level > max_level || !admit(fmt, &suppressed))
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (suppressed && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, " (%u more like this were suppressed)",
			 suppressed);
	/* Behind lines stderr has not taken yet, in order; the loop writes them when it can. */
	pthread_mutex_lock(&err_out.lock);
	if (err_out.fd < 0)
		open_out();
	len = format_line(level, msg, line, sizeof(line));
	append(line, len);
	flush_out();
	pthread_mutex_unlock(&err_out.lock);
}
