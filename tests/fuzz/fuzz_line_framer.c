/* Fuzz target: the line framer, fed in arbitrary chunks, keeps its promises about every line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <collector/line_framer.h>

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static int valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len = c < 0x80		? 1 :
			     (c & 0xE0) == 0xC0 ? 2 :
			     (c & 0xF0) == 0xE0 ? 3 :
			     (c & 0xF8) == 0xF0 ? 4 :
						  0;
		uint32_t cp;

		if (!len || i + len > n)
			return 0;
		cp = len == 1 ? c : c & (0x7F >> len);
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}

static void take_lines(struct line_framer *f, size_t max_line, uint64_t *count)
{
	struct line l;

	while (line_framer_next(f, &l)) {
		/* Each invalid input byte becomes U+FFFD, three bytes long. */
		if (l.len > 3 * max_line || memchr(l.ptr, '\n', l.len) ||
		    !valid_utf8((const unsigned char *)l.ptr, l.len) || l.number != *count + 1)
			abort();
		(*count)++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct line_framer f;
	size_t max_line, chunk, off = 0;
	uint64_t lines = 0, expected = 0;

	if (size < 2)
		return 0;
	/* The first two bytes choose the line limit and the read size. */
	max_line = 1 + data[0];
	chunk = 1 + data[1] % 64;
	data += 2;
	size -= 2;
	if (line_framer_init(&f, max_line, NULL) < 0)
		return 0;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		off += line_framer_feed(&f, data + off, n);
		take_lines(&f, max_line, &lines);
	}
	line_framer_finish(&f);
	take_lines(&f, max_line, &lines);
	/* One line per newline, plus an unterminated last one. */
	for (size_t i = 0; i < size; i++)
		expected += data[i] == '\n';
	expected += size && data[size - 1] != '\n';
	if (lines != expected || f.stats.bytes != size || !line_framer_done(&f))
		abort();
	line_framer_free(&f);
	return 0;
}
