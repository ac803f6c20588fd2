/* Filling struct error. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <collector/error.h>

int error_set(struct error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}

int error_prefix(struct error *err, const char *fmt, ...)
{
	char prefix[ERROR_MSG_MAX];
	char joined[2 * ERROR_MSG_MAX];
	va_list ap;

	if (!err)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(joined, sizeof(joined), "%s%s", prefix, err->msg);
	snprintf(err->msg, sizeof(err->msg), "%.*s", ERROR_MSG_MAX - 1, joined);
	return -err->code;
}
