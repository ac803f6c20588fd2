/**
 * @file
 * Errors as values: a code and a message the caller can print.
 */
#ifndef COLLECTOR_ERROR_H
#define COLLECTOR_ERROR_H

#include <errno.h>

/** Maximum length of an error message, including the terminating NUL. */
#define ERROR_MSG_MAX 256

/**
 * An error filled by a failing function.
 *
 * @c code is a positive errno value (EINVAL for bad input, ENOMEM, ...);
 * @c msg is a one-line, human-readable explanation. A zeroed struct means
 * "no error". The caller owns the struct; nothing in it needs freeing.
 */
struct error {
	int code;		 /**< positive errno value, 0 when unset */
	char msg[ERROR_MSG_MAX]; /**< NUL-terminated message */
};

/**
 * Fill @p err with @p code and a printf-style message (truncated to fit).
 *
 * @param err the error to fill, or NULL to only compute the return value
 * @param code a positive errno value
 * @param fmt printf format of the message, followed by its arguments
 * @return -code, so that a function can `return error_set(err, EINVAL, ...)`.
 */
int error_set(struct error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * Prefix the message already in @p err with a printf-style context
 * ("sink out: " + "open /x: Permission denied"); the code stays.
 *
 * @param err the error to amend, or NULL
 * @param fmt printf format of the prefix, followed by its arguments
 * @return -err->code, or -EINVAL when @p err is NULL.
 */
int error_prefix(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
