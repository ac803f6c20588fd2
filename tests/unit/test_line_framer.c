/* Unit tests for the line framer (collector/line_framer.c): splitting, limits, CRLF, UTF-8 repair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <collector/codec.h>
#include <collector/line_framer.h>

#define FFFD "\xEF\xBF\xBD"

/* A line as the framer returned it, copied out (ptr is only valid until the next call). */
struct got_line {
	char *text;
	size_t len;
	uint64_t number;
	uint64_t offset;
	unsigned flags;
};

struct got {
	struct got_line *lines;
	size_t n;
	size_t cap;
};

/* What a line should be. */
struct want_line {
	const char *text;
	size_t len;
	uint64_t number;
	uint64_t offset;
	unsigned flags;
};

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->lines[i].text);
	free(g->lines);
	memset(g, 0, sizeof(*g));
}

/* Take every complete line from @p f into @p g. */
static void drain(struct line_framer *f, struct got *g)
{
	struct line l;

	while (line_framer_next(f, &l)) {
		struct got_line *gl;

		if (g->n == g->cap) {
			g->cap = g->cap ? g->cap * 2 : 16;
			g->lines = realloc(g->lines, g->cap * sizeof(*g->lines));
			assert_non_null(g->lines);
		}
		gl = &g->lines[g->n++];
		gl->text = malloc(l.len + 1);
		assert_non_null(gl->text);
		if (l.len)
			memcpy(gl->text, l.ptr, l.len);
		gl->text[l.len] = '\0';
		gl->len = l.len;
		gl->number = l.number;
		gl->offset = l.offset;
		gl->flags = l.flags;
	}
}

/* Feed @p len bytes (draining lines whenever the buffer is full). */
static void feed_all(struct line_framer *f, struct got *g, const char *data, size_t len)
{
	while (len > 0) {
		size_t n = line_framer_feed(f, data, len);

		data += n;
		len -= n;
		drain(f, g);
	}
	drain(f, g);
}

static void finish(struct line_framer *f, struct got *g)
{
	line_framer_finish(f);
	drain(f, g);
	assert_true(line_framer_done(f));
	assert_int_equal(line_framer_pending(f), 0);
}

static void assert_lines(const struct got *g, const struct want_line *w, size_t nw)
{
	assert_int_equal(g->n, nw);
	for (size_t i = 0; i < nw; i++) {
		assert_int_equal(g->lines[i].len, w[i].len);
		assert_memory_equal(g->lines[i].text, w[i].text, w[i].len);
		assert_int_equal(g->lines[i].number, w[i].number);
		assert_int_equal(g->lines[i].offset, w[i].offset);
		assert_int_equal(g->lines[i].flags, w[i].flags);
	}
}

static void assert_same_lines(const struct got *a, const struct got *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->lines[i].len, b->lines[i].len);
		assert_memory_equal(a->lines[i].text, b->lines[i].text, a->lines[i].len);
		assert_int_equal(a->lines[i].number, b->lines[i].number);
		assert_int_equal(a->lines[i].offset, b->lines[i].offset);
		assert_int_equal(a->lines[i].flags, b->lines[i].flags);
	}
}

static void assert_stats_equal(const struct line_framer_stats *a, const struct line_framer_stats *b)
{
	assert_int_equal(a->lines, b->lines);
	assert_int_equal(a->bytes, b->bytes);
	assert_int_equal(a->truncated, b->truncated);
	assert_int_equal(a->discarded, b->discarded);
	assert_int_equal(a->invalid_utf8, b->invalid_utf8);
	assert_int_equal(a->nul, b->nul);
}

#define S(lit) lit, sizeof(lit) - 1

/* One input segment (a raw line with its terminator) and the line it must give. */
struct segment {
	const char *raw;
	size_t raw_len;
	const char *text;
	size_t text_len;
	unsigned flags;
};

/* The mixed stream: CRLF, empty lines, NUL, bad UTF-8, multibyte text, unterminated end. */
static const struct segment mixed[] = {
	{ S("alpha\n"), S("alpha"), 0 },
	{ S("crlf line\r\n"), S("crlf line"), LINE_CRLF },
	{ S("\n"), S(""), 0 },
	{ S("\r\n"), S(""), LINE_CRLF },
	{ S("nul\0byte\n"), S("nul\0byte"), LINE_HAS_NUL },
	{ S("bad\xFF utf8\n"), S("bad" FFFD " utf8"), LINE_INVALID_UTF8 },
	{ S("multi \xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80\n"),
	  S("multi \xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80"), 0 },
	{ S("crlf bad \xC0\x80\r\n"), S("crlf bad " FFFD FFFD), LINE_INVALID_UTF8 | LINE_CRLF },
	{ S("0123456789abcdefghij\n"), S("0123456789abcdefghij"), 0 },
	{ S("last line"), S("last line"), LINE_NO_NEWLINE },
};

/* A stream for max_line 16 with over-long lines, some ending inside a character. */
static const struct segment longs[] = {
	{ S("short\n"), S("short"), 0 },
	{ S("0123456789abcdefXYZ\n"), S("0123456789abcdef"), LINE_TRUNCATED },
	{ S("next\r\n"), S("next"), LINE_CRLF },
	/* six 3-byte characters: the cut at 16 falls inside the sixth */
	{ S("\xE4\xB8\xAD\xE4\xB8\xAD\xE4\xB8\xAD\xE4\xB8\xAD\xE4\xB8\xAD\xE4\xB8\xAD\n"),
	  S("\xE4\xB8\xAD\xE4\xB8\xAD\xE4\xB8\xAD\xE4\xB8\xAD\xE4\xB8\xAD"), LINE_TRUNCATED },
	/* "a" and four emoji: the cut at 16 falls on the last byte of the fourth */
	{ S("a\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\n"),
	  S("a\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80"), LINE_TRUNCATED },
	{ S("exactly 16 bytes\n"), S("exactly 16 bytes"), 0 },
	{ S("\n"), S(""), 0 },
	{ S("abcdefghijklmnopqrstuvwxyz"), S("abcdefghijklmnop"), LINE_TRUNCATED },
};

struct stream {
	char *bytes;
	size_t len;
	struct want_line *want;
	size_t n;
	struct line_framer_stats stats;
};

static void stream_build(struct stream *s, const struct segment *seg, size_t n)
{
	size_t off = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < n; i++)
		s->len += seg[i].raw_len;
	s->bytes = malloc(s->len);
	s->want = calloc(n, sizeof(*s->want));
	assert_non_null(s->bytes);
	assert_non_null(s->want);
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		unsigned fl = seg[i].flags;
		size_t body = seg[i].raw_len;

		memcpy(s->bytes + off, seg[i].raw, seg[i].raw_len);
		s->want[i] = (struct want_line){ seg[i].text, seg[i].text_len, i + 1, off, fl };
		s->stats.lines++;
		if (fl & LINE_INVALID_UTF8)
			s->stats.invalid_utf8++;
		if (fl & LINE_HAS_NUL)
			s->stats.nul++;
		if (fl & LINE_TRUNCATED) {
			s->stats.truncated++;
			if (!(fl & LINE_NO_NEWLINE) && seg[i].raw[body - 1] == '\n')
				body--;
			s->stats.discarded += body - seg[i].text_len;
		}
		off += seg[i].raw_len;
	}
	s->stats.bytes = s->len;
}

static void stream_free(struct stream *s)
{
	free(s->bytes);
	free(s->want);
}

/* Feed @p s whole, then split in two at every offset, then byte by byte: all identical. */
static void check_every_split(const struct segment *seg, size_t nseg, size_t max_line)
{
	struct stream s;
	struct line_framer f;
	struct got whole = { 0 };

	stream_build(&s, seg, nseg);
	assert_int_equal(line_framer_init(&f, max_line, NULL), 0);

	feed_all(&f, &whole, s.bytes, s.len);
	finish(&f, &whole);
	assert_lines(&whole, s.want, s.n);
	assert_stats_equal(&f.stats, &s.stats);

	for (size_t cut = 0; cut <= s.len; cut++) {
		struct got g = { 0 };

		line_framer_reset(&f);
		feed_all(&f, &g, s.bytes, cut);
		feed_all(&f, &g, s.bytes + cut, s.len - cut);
		finish(&f, &g);
		assert_same_lines(&g, &whole);
		assert_stats_equal(&f.stats, &s.stats);
		got_free(&g);
	}

	{
		struct got g = { 0 };

		line_framer_reset(&f);
		for (size_t i = 0; i < s.len; i++)
			feed_all(&f, &g, s.bytes + i, 1);
		finish(&f, &g);
		assert_same_lines(&g, &whole);
		assert_stats_equal(&f.stats, &s.stats);
		got_free(&g);
	}

	got_free(&whole);
	line_framer_free(&f);
	stream_free(&s);
}

static void test_mixed_stream_every_split(void **state)
{
	(void)state;
	check_every_split(mixed, sizeof(mixed) / sizeof(mixed[0]), 1024);
}

static void test_long_lines_every_split(void **state)
{
	(void)state;
	check_every_split(longs, sizeof(longs) / sizeof(longs[0]), 16);
}

static void test_init_rejects_zero(void **state)
{
	struct line_framer f;
	struct error err = { 0 };

	(void)state;
	assert_int_equal(line_framer_init(&f, 0, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	line_framer_free(&f);
}

static void test_truncate_same_chunk(void **state)
{
	static const char in[] = "0123456789abcdefXYZ\nnext\n";
	const struct want_line want[] = {
		{ S("0123456789abcdef"), 1, 0, LINE_TRUNCATED },
		{ S("next"), 2, 20, 0 },
	};
	struct line_framer f;
	struct got g = { 0 };

	(void)state;
	assert_int_equal(line_framer_init(&f, 16, NULL), 0);
	assert_int_equal(line_framer_feed(&f, in, sizeof(in) - 1), sizeof(in) - 1);
	drain(&f, &g);
	assert_lines(&g, want, 2);
	assert_int_equal(f.stats.truncated, 1);
	assert_int_equal(f.stats.discarded, 3);
	assert_int_equal(f.stats.lines, 2);
	finish(&f, &g);
	assert_int_equal(g.n, 2);
	got_free(&g);
	line_framer_free(&f);
}

static void test_truncate_across_many_chunks(void **state)
{
	struct line_framer f;
	struct got g = { 0 };
	char chunk[10];
	const size_t total = 1000;
	const struct want_line want[] = {
		{ S("ABCDEFGHIJABCDEF"), 1, 0, LINE_TRUNCATED },
		{ S("next"), 2, 1001, 0 },
		{ S("tail"), 3, 1006, LINE_NO_NEWLINE },
	};

	(void)state;
	memcpy(chunk, "ABCDEFGHIJ", 10);
	assert_int_equal(line_framer_init(&f, 16, NULL), 0);
	for (size_t sent = 0; sent < total; sent += sizeof(chunk)) {
		feed_all(&f, &g, chunk, sizeof(chunk));
		/* the truncated part is out as soon as the limit is passed */
		assert_int_equal(g.n, sent + sizeof(chunk) > 16 ? 1 : 0);
	}
	assert_int_equal(f.stats.discarded, total - 16);
	feed_all(&f, &g, "\nnext\ntail", 10);
	finish(&f, &g);
	assert_lines(&g, want, 3);
	assert_int_equal(f.stats.truncated, 1);
	assert_int_equal(f.stats.discarded, total - 16);
	assert_int_equal(f.stats.lines, 3);
	assert_int_equal(f.stats.bytes, total + 10);
	got_free(&g);
	line_framer_free(&f);
}

/* Every place a cut can land relative to a multibyte character: never split. */
static void test_truncate_never_splits_utf8(void **state)
{
	static const char *const chars[] = { "\xC3\xA9", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80" };

	(void)state;
	for (size_t c = 0; c < 3; c++) {
		size_t clen = strlen(chars[c]);

		for (size_t prefix = 0; prefix < 8; prefix++) {
			char in[64];
			size_t n = 0;
			struct line_framer f;
			struct got g = { 0 };
			size_t expect_len;

			memset(in, 'x', prefix);
			n = prefix;
			for (int k = 0; k < 4; k++) {
				memcpy(in + n, chars[c], clen);
				n += clen;
			}
			in[n++] = '\n';
			assert_int_equal(line_framer_init(&f, 8, NULL), 0);
			feed_all(&f, &g, in, n);
			finish(&f, &g);
			assert_int_equal(g.n, 1);
			/* whole characters only: the longest prefix <= 8 on a boundary */
			expect_len = prefix >= 8 ? 8 : prefix + (8 - prefix) / clen * clen;
			if (n - 1 <= 8)
				expect_len = n - 1;
			assert_int_equal(g.lines[0].len, expect_len);
			assert_memory_equal(g.lines[0].text, in, expect_len);
			assert_int_equal(g.lines[0].flags & LINE_INVALID_UTF8, 0);
			assert_int_equal(g.lines[0].flags, n - 1 > 8 ? LINE_TRUNCATED : 0);
			assert_int_equal(f.stats.discarded, n - 1 - expect_len);
			got_free(&g);
			line_framer_free(&f);
		}
	}
}

static void test_invalid_utf8_replaced(void **state)
{
	static const struct segment bad[] = {
		{ S("a\x80z\n"), S("a" FFFD "z"), LINE_INVALID_UTF8 }, /* lone continuation */
		{ S("\xC0\x80\n"), S(FFFD FFFD), LINE_INVALID_UTF8 },  /* overlong NUL */
		{ S("\xED\xA0\x80\n"), S(FFFD FFFD FFFD), LINE_INVALID_UTF8 }, /* surrogate D800 */
		{ S("x\xE2\x82\n"), S("x" FFFD), LINE_INVALID_UTF8 }, /* truncated at end */
		{ S("\xE2\x82x\n"), S(FFFD "x"), LINE_INVALID_UTF8 }, /* truncated inside */
		{ S("\xF5\n"), S(FFFD), LINE_INVALID_UTF8 },	      /* never valid */
		{ S("\xF5\x80\x80\x80\n"), S(FFFD FFFD FFFD FFFD),
		  LINE_INVALID_UTF8 }, /* F5 lead + tails */
		{ S("\xF8\x88\x80\x80\x80\n"), S(FFFD FFFD FFFD FFFD FFFD),
		  LINE_INVALID_UTF8 },					       /* 5-byte form */
		{ S("\xC1\xBF\n"), S(FFFD FFFD), LINE_INVALID_UTF8 },	       /* overlong 2-byte */
		{ S("\xE0\x9F\xBF\n"), S(FFFD FFFD FFFD), LINE_INVALID_UTF8 }, /* overlong 3-byte */
		{ S("\xF0\x8F\xBF\xBF\n"), S(FFFD FFFD FFFD FFFD),
		  LINE_INVALID_UTF8 },				     /* overlong 4-byte */
		{ S("\xF0\x9F\x98\n"), S(FFFD), LINE_INVALID_UTF8 }, /* 3 of 4 bytes */
		{ S("\xF4\x90\x80\x80\n"), S(FFFD FFFD FFFD FFFD),
		  LINE_INVALID_UTF8 }, /* > U+10FFFF */
		{ S("ok \xFF\xFE ok\n"), S("ok " FFFD FFFD " ok"), LINE_INVALID_UTF8 },
		{ S("12345678\x80"
		    "12345678\n"),
		  S("12345678" FFFD "12345678"), LINE_INVALID_UTF8 },
		{ S("\xC3\xA9\n"), S("\xC3\xA9"), 0 },		       /* é */
		{ S("\xE4\xB8\xAD\n"), S("\xE4\xB8\xAD"), 0 },	       /* 中 */
		{ S("\xF0\x9F\x98\x80\n"), S("\xF0\x9F\x98\x80"), 0 }, /* 😀 */
		{ S("\xEF\xBF\xBD\n"), S(FFFD), 0 },		       /* a real U+FFFD */
		{ S("\xF4\x8F\xBF\xBF\n"), S("\xF4\x8F\xBF\xBF"), 0 }, /* U+10FFFF */
	};
	size_t n = sizeof(bad) / sizeof(bad[0]);
	struct stream s;
	struct line_framer f;
	struct got g = { 0 };

	(void)state;
	stream_build(&s, bad, n);
	assert_int_equal(line_framer_init(&f, 1024, NULL), 0);
	feed_all(&f, &g, s.bytes, s.len);
	finish(&f, &g);
	assert_lines(&g, s.want, s.n);
	assert_int_equal(f.stats.invalid_utf8, 15);
	assert_stats_equal(&f.stats, &s.stats);
	got_free(&g);
	line_framer_free(&f);
	stream_free(&s);
}

/* A valid line is returned in place; a repaired one comes from a separate copy. */
static void test_valid_line_is_zero_copy(void **state)
{
	struct line_framer f;
	struct line l;
	char *space;
	size_t avail;

	(void)state;
	assert_int_equal(line_framer_init(&f, 64, NULL), 0);
	space = line_framer_space(&f, &avail);
	assert_true(avail >= 64);
	memcpy(space, "\xE4\xB8\xAD ok\n", 7);
	line_framer_commit(&f, 7);
	assert_true(line_framer_next(&f, &l));
	assert_ptr_equal(l.ptr, space);
	assert_int_equal(l.len, 6);
	assert_false(line_framer_next(&f, &l));
	line_framer_free(&f);
}

static void test_read_from_pipe(void **state)
{
	struct stream s;
	struct line_framer f;
	struct got g = { 0 };
	int fds[2];
	ssize_t n;
	int reads = 0;

	(void)state;
	stream_build(&s, mixed, sizeof(mixed) / sizeof(mixed[0]));
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], s.bytes, s.len), (ssize_t)s.len);
	assert_int_equal(close(fds[1]), 0);
	assert_int_equal(line_framer_init(&f, 1024, NULL), 0);
	while ((n = line_framer_read(&f, fds[0])) > 0) {
		reads++;
		drain(&f, &g);
	}
	assert_int_equal(n, 0);
	assert_true(reads >= 1);
	drain(&f, &g);
	assert_true(line_framer_done(&f));
	assert_lines(&g, s.want, s.n);
	assert_stats_equal(&f.stats, &s.stats);
	/* a bad descriptor is reported as -errno */
	assert_int_equal(line_framer_read(&f, fds[1]), -EBADF);
	close(fds[0]);
	got_free(&g);
	line_framer_free(&f);
	stream_free(&s);
}

/* The pipe again, written in small pieces while the framer reads. */
static void test_read_from_pipe_in_pieces(void **state)
{
	static const char in[] = "one\ntwo\r\nthree";
	const struct want_line want[] = {
		{ S("one"), 1, 0, 0 },
		{ S("two"), 2, 4, LINE_CRLF },
		{ S("three"), 3, 9, LINE_NO_NEWLINE },
	};
	struct line_framer f;
	struct got g = { 0 };
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(line_framer_init(&f, 64, NULL), 0);
	for (size_t i = 0; i < sizeof(in) - 1; i += 2) {
		size_t k = sizeof(in) - 1 - i < 2 ? 1 : 2;

		assert_int_equal(write(fds[1], in + i, k), (ssize_t)k);
		assert_int_equal(line_framer_read(&f, fds[0]), (ssize_t)k);
		drain(&f, &g);
		assert_false(line_framer_done(&f));
	}
	assert_int_equal(g.n, 2);
	close(fds[1]);
	assert_int_equal(line_framer_read(&f, fds[0]), 0);
	drain(&f, &g);
	assert_true(line_framer_done(&f));
	assert_lines(&g, want, 3);
	close(fds[0]);
	got_free(&g);
	line_framer_free(&f);
}

static void test_reset(void **state)
{
	struct line_framer f;
	struct got g = { 0 };
	const struct want_line want[] = {
		{ S("x"), 1, 0, 0 },
		{ S("y"), 2, 2, LINE_NO_NEWLINE },
	};

	(void)state;
	assert_int_equal(line_framer_init(&f, 16, NULL), 0);
	feed_all(&f, &g, "abc\npartial", 11);
	assert_int_equal(g.n, 1);
	assert_int_equal(line_framer_pending(&f), 7);
	line_framer_reset(&f);
	assert_int_equal(line_framer_pending(&f), 0);
	assert_false(line_framer_done(&f));
	assert_int_equal(f.stats.lines, 0);
	assert_int_equal(f.stats.bytes, 0);
	got_free(&g);

	feed_all(&f, &g, "x\ny", 3);
	finish(&f, &g);
	assert_lines(&g, want, 2);
	assert_int_equal(f.stats.bytes, 3);
	got_free(&g);

	/* reset in the middle of discarding an over-long line, and after finish */
	line_framer_reset(&f);
	feed_all(&f, &g, "0123456789abcdefghij", 20);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.lines[0].flags, LINE_TRUNCATED);
	got_free(&g);
	line_framer_reset(&f);
	assert_int_equal(f.stats.truncated, 0);
	assert_int_equal(f.stats.discarded, 0);
	feed_all(&f, &g, "ok\n", 3);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.lines[0].len, 2);
	assert_memory_equal(g.lines[0].text, "ok", 2);
	assert_int_equal(g.lines[0].number, 1);
	assert_int_equal(g.lines[0].offset, 0);
	assert_int_equal(g.lines[0].flags, 0);
	assert_int_equal(f.stats.discarded, 0);
	got_free(&g);
	line_framer_free(&f);
}

static void test_stats_counts(void **state)
{
	struct line_framer f;
	struct got g = { 0 };
	static const char in[] = "a\0b\n\xFF\n0123456789\n\0\n";

	(void)state;
	assert_int_equal(line_framer_init(&f, 4, NULL), 0);
	feed_all(&f, &g, in, sizeof(in) - 1);
	finish(&f, &g);
	assert_int_equal(g.n, 4);
	assert_int_equal(f.stats.lines, 4);
	assert_int_equal(f.stats.bytes, sizeof(in) - 1);
	assert_int_equal(f.stats.nul, 2);
	assert_int_equal(f.stats.invalid_utf8, 1);
	assert_int_equal(f.stats.truncated, 1);
	assert_int_equal(f.stats.discarded, 6);
	assert_int_equal(g.lines[2].len, 4);
	assert_memory_equal(g.lines[2].text, "0123", 4);
	assert_int_equal(g.lines[3].len, 1);
	assert_int_equal(g.lines[3].flags, LINE_HAS_NUL);
	got_free(&g);
	line_framer_free(&f);
}

/*
 * A line whose content is exactly max_line bytes, ended by CR LF: the CR is
 * part of the terminator (struct line excludes it), so nothing is lost.
 */
static void test_crlf_line_of_exactly_max_line(void **state)
{
	struct line_framer f;
	struct got g = { 0 };
	const struct want_line want[] = {
		{ S("0123456789abcdef"), 1, 0, LINE_CRLF },
		{ S("next"), 2, 18, 0 },
	};

	(void)state;
	assert_int_equal(line_framer_init(&f, 16, NULL), 0);
	feed_all(&f, &g, "0123456789abcdef\r\nnext\n", 23);
	finish(&f, &g);
	assert_lines(&g, want, 2);
	assert_int_equal(f.stats.truncated, 0);
	assert_int_equal(f.stats.discarded, 0);
	got_free(&g);
	line_framer_free(&f);
}

/*
 * Found by fuzz_line_framer: a last line of max_line bytes plus a CR, with no
 * LF before EOF, kept the CR and went one byte over the limit.
 */
static void test_eof_after_cr_at_max_line(void **state)
{
	struct line_framer f;
	struct got g = { 0 };
	const struct want_line want[] = {
		{ S("0123456789abcdef"), 1, 0, LINE_TRUNCATED | LINE_NO_NEWLINE },
	};

	(void)state;
	assert_int_equal(line_framer_init(&f, 16, NULL), 0);
	feed_all(&f, &g, "0123456789abcdef\r", 17);
	finish(&f, &g);
	assert_lines(&g, want, 1);
	assert_int_equal(f.stats.truncated, 1);
	assert_int_equal(f.stats.discarded, 1);
	got_free(&g);
	line_framer_free(&f);
}

/* Bytes of address space this process has mapped (VmSize), or 0. */
static size_t mapped_bytes(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char row[256];
	size_t kb = 0;

	while (fp && fgets(row, sizeof(row), fp))
		if (sscanf(row, "VmSize: %zu kB", &kb) == 1)
			break;
	if (fp)
		fclose(fp);
	return kb * 1024;
}

/* In a child: a 4 MiB line of invalid bytes whose repaired copy (12 MiB) cannot be had. */
/* What the child checks; 0 when the line came out repaired in place. */
static int repair_in_place(struct line_framer *f, size_t n)
{
	struct rlimit lim;
	struct line l;
	char *p;
	size_t avail;

	p = line_framer_space(f, &avail);
	memset(p, 'a', n);
	for (size_t i = 0; i < n; i += 1000)
		p[i] = (char)0xff;
	p[n] = '\n';
	line_framer_commit(f, n + 1);
	lim.rlim_cur = lim.rlim_max = mapped_bytes() + ((size_t)2 << 20);
	if (lim.rlim_cur <= (size_t)2 << 20 || setrlimit(RLIMIT_AS, &lim) < 0)
		return 2;
	if (!line_framer_next(f, &l))
		return 3;
	/* The line stays as long, '?' where the invalid bytes were, and flagged. */
	if (l.len != n || !(l.flags & LINE_INVALID_UTF8) || !utf8_valid(l.ptr, l.len) ||
	    l.ptr[0] != '?' || l.ptr[1] != 'a' || f->stats.invalid_utf8 != 1)
		return 4;
	return 0;
}

static int repair_without_memory(void)
{
	const size_t n = (size_t)4 << 20;
	struct line_framer f;
	int rc;

	if (line_framer_init(&f, n, NULL) < 0)
		return 2;
	rc = repair_in_place(&f, n);
	line_framer_free(&f);
	return rc;
}

static const char *self; /* this test's path: the child runs it afresh, outside cmocka */

/* Out of memory for the repaired copy, a line is still valid UTF-8 (decoders rely on it). */
static void test_invalid_utf8_without_memory(void **state)
{
	int status;
	pid_t pid;

	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	skip(); /* ASan's allocator reserves terabytes and aborts under an address-space limit */
#endif
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(self, self, "--repair-without-memory", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* utf8_valid() at every position of every length: its word-wide and tail paths agree. */
static void test_utf8_valid_every_position(void **state)
{
	char s[80];

	(void)state;
	for (size_t n = 1; n <= sizeof(s); n++) {
		for (size_t at = 0; at < n; at++) {
			memset(s, 'a', n);
			s[at] = (char)0xff;
			assert_false(utf8_valid(s, n));
			memcpy(s + at, "\xc3\xa9",
			       at + 1 < n ? 2 : 1); /* é, or its lead byte alone */
			assert_int_equal(utf8_valid(s, n), at + 1 < n);
			memset(s, 'a', n);
			assert_true(utf8_valid(s, n));
		}
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mixed_stream_every_split),
		cmocka_unit_test(test_long_lines_every_split),
		cmocka_unit_test(test_init_rejects_zero),
		cmocka_unit_test(test_truncate_same_chunk),
		cmocka_unit_test(test_truncate_across_many_chunks),
		cmocka_unit_test(test_truncate_never_splits_utf8),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_valid_line_is_zero_copy),
		cmocka_unit_test(test_read_from_pipe),
		cmocka_unit_test(test_read_from_pipe_in_pieces),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_stats_counts),
		cmocka_unit_test(test_crlf_line_of_exactly_max_line),
		cmocka_unit_test(test_eof_after_cr_at_max_line),
		cmocka_unit_test(test_invalid_utf8_without_memory),
		cmocka_unit_test(test_utf8_valid_every_position),
	};

	self = argv[0];
	if (argc == 2 && strcmp(argv[1], "--repair-without-memory") == 0)
		return repair_without_memory();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
