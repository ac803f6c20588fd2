/* Line framing over a byte stream: zero-copy for good lines, repair for bad ones. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <collector/codec.h>
#include <collector/line_framer.h>

/* Moving a short tail to the front is cheaper than growing the working set. */
#define COMPACT_TAIL_MAX 4096

int line_framer_init(struct line_framer *f, size_t max_line, struct error *err)
{
	memset(f, 0, sizeof(*f));
	if (max_line == 0)
		return error_set(err, EINVAL, "maximum line length must be positive");
	f->max_line = max_line;
	f->cap = max_line + LINE_FRAMER_CHUNK;
	f->buf = malloc(f->cap);
	if (!f->buf)
		return error_set(err, ENOMEM, "out of memory for a %zu-byte line buffer", f->cap);
	return 0;
}

void line_framer_reset(struct line_framer *f)
{
	f->start = f->end = f->scanned = 0;
	f->stream_off = 0;
	f->discarding = f->eof = false;
	memset(&f->stats, 0, sizeof(f->stats));
}

void line_framer_free(struct line_framer *f)
{
	free(f->buf);
	free(f->fixed);
	f->buf = f->fixed = NULL;
}

char *line_framer_space(struct line_framer *f, size_t *avail)
{
	size_t pending = f->end - f->start;

	if (f->start > 0 && (pending <= COMPACT_TAIL_MAX || f->cap - f->end < LINE_FRAMER_CHUNK)) {
		memmove(f->buf, f->buf + f->start, pending);
		f->start = 0;
		f->end = pending;
	}
	*avail = f->cap - f->end;
	return f->buf + f->end;
}

void line_framer_commit(struct line_framer *f, size_t n)
{
	f->end += n;
	f->stats.bytes += n;
}

ssize_t line_framer_read(struct line_framer *f, int fd)
{
	size_t avail;
	char *p = line_framer_space(f, &avail);
	ssize_t n;

	if (avail == 0)
		return -ENOBUFS;
	do
		n = read(fd, p, avail);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n == 0)
		line_framer_finish(f);
	else
		line_framer_commit(f, (size_t)n);
	return n;
}

size_t line_framer_feed(struct line_framer *f, const void *data, size_t len)
{
	size_t avail;
	char *p = line_framer_space(f, &avail);

	if (len > avail)
		len = avail;
	memcpy(p, data, len);
	line_framer_commit(f, len);
	return len;
}

void line_framer_finish(struct line_framer *f)
{
	f->eof = true;
}

bool line_framer_done(const struct line_framer *f)
{
	return f->eof && f->start == f->end;
}

size_t line_framer_pending(const struct line_framer *f)
{
	return f->end - f->start;
}

/* Copy @p s into f->fixed with every invalid subpart replaced by U+FFFD. */
static int utf8_repair(struct line_framer *f, const char *s, size_t n, size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t need = n * 3, o = 0;

	if (need > f->fixed_cap) {
		char *q = realloc(f->fixed, need);

		if (!q)
			return -ENOMEM;
		f->fixed = q;
		f->fixed_cap = need;
	}
	for (size_t i = 0; i < n;) {
		int len = utf8_sequence(p + i, n - i);

		if (len > 0) {
			memcpy(f->fixed + o, p + i, (size_t)len);
			o += (size_t)len;
			i += (size_t)len;
		} else {
			memcpy(f->fixed + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i += (size_t)-len;
		}
	}
	*out_len = o;
	return 0;
}

/*
 * Out of memory for the repaired copy: each byte of an invalid subpart
 * becomes '?' in place, so the line is still valid UTF-8 (its decoder may
 * rely on that: json_decoder_utf8_checked()).
 */
static void utf8_blank(char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		int len = utf8_sequence(s + i, n - i);

		if (len > 0) {
			i += (size_t)len;
			continue;
		}
		memset(s + i, '?', (size_t)-len);
		i += (size_t)-len;
	}
}

/* Cut at most max bytes without splitting a UTF-8 character. */
static size_t cut_point(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	/* Move the cut before a lead byte whose character would straddle it. */
	for (size_t i = 1; i <= 3 && i <= max; i++) {
		unsigned char c = (unsigned char)s[max - i];
		size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;

		if ((c & 0xC0) == 0x80)
			continue;
		return need > i && max - i > 0 ? max - i : max;
	}
	return max;
}

static void advance(struct line_framer *f, size_t n)
{
	f->start += n;
	f->stream_off += n;
	f->scanned = 0;
}

static void make_line(struct line_framer *f, struct line *out, size_t len, unsigned flags)
{
	char *p = f->buf + f->start;

	out->number = ++f->stats.lines;
	out->offset = f->stream_off;
	if (len > 0 && p[len - 1] == '\r' && !(flags & (LINE_TRUNCATED | LINE_NO_NEWLINE))) {
		len--;
		flags |= LINE_CRLF;
	}
	if (memchr(p, '\0', len)) {
		flags |= LINE_HAS_NUL;
		f->stats.nul++;
	}
	out->ptr = p;
	out->len = len;
	if (!utf8_valid(p, len)) {
		size_t fixed_len;

		if (utf8_repair(f, p, len, &fixed_len) == 0) {
			out->ptr = f->fixed;
			out->len = fixed_len;
		} else {
			utf8_blank(p, len);
		}
		flags |= LINE_INVALID_UTF8;
		f->stats.invalid_utf8++;
	}
	if (flags & LINE_TRUNCATED)
		f->stats.truncated++;
	out->flags = flags;
}

bool line_framer_next(struct line_framer *f, struct line *out)
{
	for (;;) {
		size_t pending = f->end - f->start;
		const char *base = f->buf + f->start;
		const char *nl = memchr(base + f->scanned, '\n', pending - f->scanned);

		if (f->discarding) {
			size_t drop = nl ? (size_t)(nl - base) + 1 : pending;

			f->stats.discarded += nl ? drop - 1 : drop;
			advance(f, drop);
			if (!nl)
				return false;
			f->discarding = false;
			continue;
		}
		if (nl) {
			size_t len = (size_t)(nl - base);
			unsigned flags = 0;

			/* The CR of a CRLF belongs to the terminator, not to the length. */
			if (len - (len > 0 && base[len - 1] == '\r') > f->max_line) {
				size_t cut = cut_point(base, len, f->max_line);

				f->stats.discarded += len - cut;
				len = cut;
				flags = LINE_TRUNCATED;
			}
			make_line(f, out, len, flags);
			advance(f, (size_t)(nl - base) + 1);
			return true;
		}
		f->scanned = pending;
		/* Over the limit, unless all that is over is the CR of a CRLF. */
		if (pending > f->max_line &&
		    !(pending == f->max_line + 1 && base[f->max_line] == '\r')) {
			size_t cut = cut_point(base, pending, f->max_line);

			make_line(f, out, cut, LINE_TRUNCATED);
			advance(f, cut);
			f->discarding = true;
			return true;
		}
		if (f->eof && pending > 0) {
			/* A CR held back in case an LF followed is only a byte too many now. */
			size_t len = pending > f->max_line ? cut_point(base, pending, f->max_line) :
							     pending;

			f->stats.discarded += pending - len;
			make_line(f, out, len,
				  LINE_NO_NEWLINE | (len < pending ? LINE_TRUNCATED : 0u));
			advance(f, pending);
			return true;
		}
		return false;
	}
}
