/* The end of the last whole line of a file, found by reading backwards from its end. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "line_tail.h"

int line_tail_find(int fd, off_t *whole, off_t *end)
{
	char buf[4096];
	off_t size = lseek(fd, 0, SEEK_END), pos;

	if (size < 0)
		return -errno;
	*end = size;
	for (pos = size; pos > 0;) {
		size_t n = pos < (off_t)sizeof(buf) ? (size_t)pos : sizeof(buf);
		ssize_t got = pread(fd, buf, n, pos - (off_t)n);
		char *nl;

		if (got < 0)
			return -errno;
		if (got != (ssize_t)n)
			return -EIO;
		nl = memrchr(buf, '\n', n);
		if (nl) {
			*whole = pos - (off_t)n + (off_t)(nl - buf) + 1;
			return 0;
		}
		pos -= (off_t)n;
	}
	*whole = 0;
	return 0;
}
