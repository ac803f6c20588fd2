/* Reads lines through zlib's gzread (which passes plain files through), following rotations by inode. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include <collector/buffer.h>

#include "line_source.h"

/* Bytes read at a time. */
#define CHUNK ((size_t)64 * 1024)

struct line_source {
	char *path; /* NULL for stdin */
	gzFile gz;
	ino_t ino;
	dev_t dev;
	struct buffer buf; /* bytes read, from the current line on */
	size_t line_end;   /* bytes of buf that the last returned line used */
	bool skipping;	   /* inside a line too long to keep */
	unsigned long lineno;
};

static int open_path(struct line_source *s, struct error *err)
{
	int fd = s->path ? open(s->path, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO);
	struct stat st;

	if (fd < 0)
		return error_set(err, errno, "cannot open %s: %s", s->path ? s->path : "stdin",
				 strerror(errno));
	if (fstat(fd, &st) == 0) {
		s->ino = st.st_ino;
		s->dev = st.st_dev;
	}
	s->gz = gzdopen(fd, "rb");
	if (!s->gz) {
		close(fd);
		return error_set(err, ENOMEM, "out of memory");
	}
	gzbuffer(s->gz, (unsigned)CHUNK);
	return 0;
}

struct line_source *line_source_open(const char *path, struct error *err)
{
	struct line_source *s = calloc(1, sizeof(*s));

	if (!s || (strcmp(path, "-") != 0 && !(s->path = strdup(path)))) {
		free(s);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	if (open_path(s, err) < 0) {
		line_source_close(s);
		return NULL;
	}
	return s;
}

/* Read more bytes into the buffer. @return bytes read, 0 at the end (for now), or -errno. */
static int fill(struct line_source *s)
{
	int n, zerr;

	if (buffer_reserve(&s->buf, CHUNK) < 0)
		return -ENOMEM;
	n = gzread(s->gz, s->buf.data + s->buf.len, (unsigned)CHUNK);
	if (n < 0) {
		gzerror(s->gz, &zerr);
		return zerr == Z_ERRNO ? -errno : -EBADMSG;
	}
	s->buf.len += (size_t)n;
	/* At the end of a file that may grow: read on next time (zlib's idiom for it). */
	if (n == 0)
		gzclearerr(s->gz);
	return n;
}

int line_source_next(struct line_source *s, struct span *line, bool at_end)
{
	char *nl;
	int n;

	buffer_consume(&s->buf, s->line_end);
	s->line_end = 0;
	for (;;) {
		nl = s->buf.len ? memchr(s->buf.data, '\n', s->buf.len) : NULL;
		if (nl && s->skipping) {
			/* The end of an over-long line: drop it, go on after it. */
			buffer_consume(&s->buf, (size_t)(nl - s->buf.data) + 1);
			s->skipping = false;
			s->lineno++;
			return -EMSGSIZE;
		}
		if (nl) {
			*line = (struct span){ s->buf.data, (size_t)(nl - s->buf.data) };
			s->line_end = line->len + 1;
			s->lineno++;
			return 1;
		}
		if (s->buf.len > LINE_SOURCE_MAX) {
			s->skipping = true;
			s->buf.len = 0;
		}
		n = fill(s);
		if (n < 0)
			return n;
		if (n > 0)
			continue;
		if (!at_end || !s->buf.len || s->skipping)
			return 0;
		*line = (struct span){ s->buf.data, s->buf.len };
		s->line_end = s->buf.len;
		s->lineno++;
		return 1;
	}
}

bool line_source_reopen_if_replaced(struct line_source *s)
{
	struct stat st;
	gzFile old = s->gz;
	bool replaced, truncated;

	if (!s->path || stat(s->path, &st) < 0)
		return false;
	replaced = st.st_ino != s->ino || st.st_dev != s->dev;
	truncated = !replaced && st.st_size < (off_t)gzoffset(s->gz);
	if (!replaced && !truncated)
		return false;
	if (open_path(s, NULL) < 0) {
		s->gz = old;
		return false;
	}
	gzclose(old);
	s->buf.len = 0;
	s->line_end = 0;
	s->skipping = false;
	s->lineno = 0;
	return true;
}

unsigned long line_source_lineno(const struct line_source *s)
{
	return s->lineno;
}

void line_source_close(struct line_source *s)
{
	if (!s)
		return;
	if (s->gz)
		gzclose(s->gz);
	buffer_free(&s->buf);
	free(s->path);
	free(s);
}
