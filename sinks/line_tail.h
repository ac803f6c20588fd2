/* The end of the last whole line of a file: what survives of it after a crash mid-write. */
#ifndef SINKS_LINE_TAIL_H
#define SINKS_LINE_TAIL_H

#include <sys/types.h>

/*
 * Find where the file's last whole line ends (0 when it has none): every
 * byte after that offset belongs to a torn line. Sets @p whole and @p end
 * (the file's size). Returns 0 or -errno.
 */
int line_tail_find(int fd, off_t *whole, off_t *end);

#endif
