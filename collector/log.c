/* Diagnostics on stderr, text or JSON, one line per message, with repeats rate-limited. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_gen.h>

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

static int64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * May a message of @fmt be printed now? Sets *@suppressed to the count
 * suppressed in the window that just ended, to be said with it.
 */
static bool admit(const char *fmt, unsigned *suppressed)
{
	int64_t now = monotonic_ns();
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

static void write_json(enum log_level level, const char *msg)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	struct timespec ts;
	char when[40];
	const unsigned char *text;
	size_t len;

	if (!g)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	len = format_rfc3339_ns((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, when);
	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *)"ts", 2);
	yajl_gen_string(g, (const unsigned char *)when, len);
	yajl_gen_string(g, (const unsigned char *)"level", 5);
	yajl_gen_string(g, (const unsigned char *)level_names[level], strlen(level_names[level]));
	yajl_gen_string(g, (const unsigned char *)"msg", 3);
	yajl_gen_string(g, (const unsigned char *)msg, strlen(msg));
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &text, &len);
	/* One fwrite per message keeps lines whole when stderr is shared. */
	fprintf(stderr, "%.*s\n", (int)len, text);
	yajl_gen_free(g);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[1024], line[1100];
	unsigned suppressed;
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
	if (line_format == LOG_JSON) {
		write_json(level, msg);
		return;
	}
	snprintf(line, sizeof(line), "collector: %s: %s\n", level_names[level], msg);
	fputs(line, stderr);
}
