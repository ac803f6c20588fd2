/**
 * @file
 * Diagnostics of the collector itself: one line per message on stderr.
 */
#ifndef COLLECTOR_LOG_H
#define COLLECTOR_LOG_H

#include <stdint.h>

/** Messages of one format string printed per window before suppression. */
#define LOG_BURST 10
/** Length of the suppression window. */
#define LOG_BURST_SECONDS 5

/** Message levels, most severe first. */
enum log_level {
	LOG_ERROR, /**< something failed */
	LOG_WARN,  /**< something is wrong but the run goes on */
	LOG_INFO,  /**< what an operator wants to know (the default) */
	LOG_DEBUG, /**< details for a developer */
};

/**
 * Print only messages at @p level or more severe (default LOG_INFO).
 * @param level the least severe level printed
 */
void log_set_level(enum log_level level);

/** How each message is written. */
enum log_format {
	LOG_TEXT, /**< "collector: LEVEL: message" (the default) */
	LOG_JSON, /**< {"ts":"RFC 3339","level":"LEVEL","msg":"message"} */
};

/**
 * Choose the line format of every later message.
 * @param format text or JSON
 */
void log_set_format(enum log_format format);

/**
 * Parse a level name.
 * @param s "error", "warn", "info" or "debug"
 * @param out set to the level
 * @return 0, or -EINVAL for another name (@p out unchanged).
 */
int log_parse_level(const char *s, enum log_level *out);

/**
 * Print one message as "collector: LEVEL: message" and a newline, cut at
 * 1 KiB; one write per message keeps lines whole on a shared stderr. Never
 * blocks: what stderr cannot take now waits in a bounded buffer (written
 * when stderr is writable again, see log_attach_loop()); lines beyond it are
 * dropped and counted (log_dropped_total()), and once stderr takes lines
 * again a line says how many were dropped.
 * @param level the message's level
 * @param fmt printf format, followed by its arguments
 */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct ev_loop;

/**
 * Write lines waiting for stderr from @p loop when stderr is writable.
 * @param loop the loop (its thread is the one that logs)
 */
void log_attach_loop(struct ev_loop *loop);

/** Stop watching stderr from the loop (before the loop goes away). */
void log_detach_loop(void);

/**
 * At the end: wait up to @p timeout_ms for stderr to take the lines still
 * waiting; those it does not take are dropped (counted).
 * @param timeout_ms how long to wait in all
 */
void log_drain(int timeout_ms);

/**
 * Log lines dropped because stderr did not take them (for /metrics).
 * @return the count since the start.
 */
uint64_t log_dropped_total(void);

/** log_msg() at LOG_ERROR. */
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
/** log_msg() at LOG_WARN. */
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
/** log_msg() at LOG_INFO. */
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
/** log_msg() at LOG_DEBUG. */
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
