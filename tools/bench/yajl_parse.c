/*
 * yajl_parse: the parser ceiling of `make bench`. Reads JSON lines on stdin
 * and parses each one with yajl, nothing else: no callbacks, no events, no
 * output. The collector's exec runner must parse every line too (one yajl
 * handle, one yajl_parse() per line), so its events/s over this program's is
 * how close the pipeline runs to its parser.
 *
 *   gen N | yajl_parse
 *
 * Reads are 64 KiB like the collector's framer. At the end it prints
 * `parsed N lines, M invalid` on stderr; exit status 0, or 1 on a read error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

#define CHUNK ((size_t)64 * 1024)
#define MAX_LINE ((size_t)1024 * 1024)

struct counts {
	unsigned long long lines;
	unsigned long long invalid;
};

/* One handle for every line, as the collector's decoder; a failed line gets a new one. */
static yajl_handle fresh(yajl_handle h)
{
	if (h)
		yajl_free(h);
	h = yajl_alloc(NULL, NULL, NULL);
	if (!h) {
		fprintf(stderr, "yajl_parse: out of memory\n");
		exit(1);
	}
	yajl_config(h, yajl_allow_multiple_values, 1);
	/* The exec runner's decoder skips yajl's UTF-8 check too: its framer checked the line. */
	yajl_config(h, yajl_dont_validate_strings, 1);
	return h;
}

/* Parse the whole lines of buf[0, len); returns the bytes consumed. */
static size_t parse_lines(yajl_handle *h, const char *buf, size_t len, struct counts *n)
{
	size_t start = 0;
	const char *nl;

	while ((nl = memchr(buf + start, '\n', len - start))) {
		size_t end = (size_t)(nl - buf);

		if (yajl_parse(*h, (const unsigned char *)buf + start, end - start) !=
		    yajl_status_ok) {
			n->invalid++;
			*h = fresh(*h);
		}
		n->lines++;
		start = end + 1;
	}
	return start;
}

int main(void)
{
	char *buf = malloc(MAX_LINE + CHUNK);
	yajl_handle h = fresh(NULL);
	struct counts n = { 0, 0 };
	size_t have = 0;

	if (!buf) {
		fprintf(stderr, "yajl_parse: out of memory\n");
		return 1;
	}
	for (;;) {
		size_t room = MAX_LINE + CHUNK - have;
		ssize_t r = read(0, buf + have, room < CHUNK ? room : CHUNK);
		size_t used;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "yajl_parse: read: %s\n", strerror(errno));
			return 1;
		}
		if (r == 0)
			break;
		have += (size_t)r;
		used = parse_lines(&h, buf, have, &n);
		memmove(buf, buf + used, have - used);
		have -= used;
		/* A line longer than the buffer is one invalid line, as the framer cuts it. */
		if (have == MAX_LINE + CHUNK) {
			n.lines++;
			n.invalid++;
			have = 0;
		}
	}
	yajl_free(h);
	free(buf);
	fprintf(stderr, "parsed %llu lines, %llu invalid\n", n.lines, n.invalid);
	return 0;
}
