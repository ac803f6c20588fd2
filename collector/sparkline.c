/* A series of numbers as one line of bar characters (▁▂▃▄▅▆▇█, or ASCII where the terminal is not UTF-8). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sparkline.h"

static const char *const bars_utf8[8] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
static const char *const bars_ascii[8] = { "_", ".", "-", ":", "=", "+", "*", "#" };

bool sparkline_utf8(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };

	/* The first one set decides, as setlocale() would. */
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
	}
	return false;
}

void sparkline(const double *v, size_t n, size_t width, bool utf8, char *out, size_t size)
{
	const char *const *bars = utf8 ? bars_utf8 : bars_ascii;
	size_t cols = n < width ? n : width, len = 0;
	double lo = v[0], hi = v[0];

	out[0] = '\0';
	if (n < 2 || cols == 0)
		return;
	for (size_t i = 1; i < n; i++) {
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
	}
	for (size_t c = 0; c < cols; c++) {
		size_t from = c * n / cols, to = (c + 1) * n / cols;
		double top = v[from];
		int level;

		for (size_t i = from + 1; i < to; i++)
			top = v[i] > top ? v[i] : top;
		level = hi > lo ? (int)((top - lo) / (hi - lo) * 7.0 + 0.5) : 0;
		if (len + strlen(bars[level]) >= size)
			break;
		len += (size_t)snprintf(out + len, size - len, "%s", bars[level]);
	}
}
