/* Lines of a stored event file (plain, gzip, or stdin), read on and reopened when it is rotated. */
#ifndef COLLECTOR_LINE_SOURCE_H
#define COLLECTOR_LINE_SOURCE_H

#include <stdbool.h>

#include <collector/error.h>
#include <collector/span.h>

/* Longest line kept; a longer one is skipped and reported. */
#define LINE_SOURCE_MAX (16u << 20)

struct line_source;

/* Open @p path ("-": stdin); gzip files are decompressed. @return NULL with @p err (ENOENT, ...). */
struct line_source *line_source_open(const char *path, struct error *err);

/*
 * The next whole line (without its newline) in @p line, valid until the next
 * call. At the end, a last line without a newline is returned only when
 * @p at_end (a file still being written may finish it later).
 * @return 1 for a line, 0 when there is none now, -EMSGSIZE for a line too
 *         long (skipped), or -errno.
 */
int line_source_next(struct line_source *s, struct span *line, bool at_end);

/*
 * For --follow: when the path now names another file (rotated away, created
 * again) or the file was truncated, start reading the new one from its
 * beginning. Call after line_source_next() returned 0, so that nothing of
 * the old file is left. @return true when it switched.
 */
bool line_source_reopen_if_replaced(struct line_source *s);

/* The line number of the last line returned (1-based), for messages. */
unsigned long line_source_lineno(const struct line_source *s);

/* Close and free @p s; NULL is ignored. */
void line_source_close(struct line_source *s);

#endif
