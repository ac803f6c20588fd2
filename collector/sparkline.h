/* A series of numbers as one line of bar characters (▁▂▃▄▅▆▇█, or ASCII where the terminal is not UTF-8). */
#ifndef COLLECTOR_SPARKLINE_H
#define COLLECTOR_SPARKLINE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the locale's environment (LC_ALL, LC_CTYPE, LANG) says UTF-8. */
bool sparkline_utf8(void);

/*
 * @p n values in @p out, at most @p width characters (the largest of each
 * stretch when there are more values), scaled from their minimum to maximum.
 * @p out gets "" when @p n < 2.
 */
void sparkline(const double *v, size_t n, size_t width, bool utf8, char *out, size_t size);

#endif
