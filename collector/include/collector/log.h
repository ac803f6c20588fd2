/**
 * @file
 * Diagnostics of the collector itself: one line per message on stderr.
 */
#ifndef COLLECTOR_LOG_H
#define COLLECTOR_LOG_H

/** Message levels, most severe first. */
enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/** Only messages at @p level or more severe are printed (default LOG_INFO). */
void log_set_level(enum log_level level);

/** Parse "error", "warn", "info", "debug". @return 0 or -EINVAL. */
int log_parse_level(const char *s, enum log_level *out);

/** Print one message (a newline is added). */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
