/* OpenSSL's read/write functions in a stripped binary, found by code patterns of known builds. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssl_patterns.h"
#include "x86_code.h"

enum { F_READ_INTERNAL, F_READ, F_READ_EX, F_WRITE_INTERNAL, F_WRITE, F_WRITE_EX, F_COUNT };

/*
 * The code of one OpenSSL build from ssl_read_internal to the end of SSL_write_ex: one
 * .text section of ssl_lib.o, which a static link keeps whole. "??" is a byte the link
 * writes (a relocated field, an instruction the linker may relax). Made by
 * tools/tls-progs/derive_ssl_pattern.py from the build's libssl.a; docs/ssl.md lists them.
 */
struct pattern {
	const char *version;
	unsigned offsets[F_COUNT]; /* of each function from the pattern's start */
	unsigned sizes[F_COUNT];
	const char *bytes;
};

static const struct pattern patterns[] = {
	{ .version = "OpenSSL 3.0 (Debian 12)",
	  .offsets = { 0x0, 0x1a0, 0x230, 0x310, 0x6f0, 0x780 },
	  .sizes = { 0x191, 0x83, 0x1d, 0x1d0, 0x83, 0x1d },
	  .bytes = "41 55 41 54 55 53 48 83 ec 38 64 48 8b 04 25 28 00 00 00 48 89 44 24 28 "
		   "31 c0 48 83 7f 30 00 0f 84 2d 01 00 00 48 89 fb f6 47 44 02 0f 85 ce 00 "
		   "00 00 8b 87 84 00 00 00 83 f8 01 74 63 83 f8 08 74 5e 49 89 f4 31 f6 48 "
		   "89 d5 49 89 cd e8 ?? ?? ?? ?? f6 83 f1 09 00 00 01 74 0e e8 ?? ?? ?? ?? "
		   "48 85 c0 0f 84 a7 00 00 00 48 8b 44 24 28 64 48 2b 04 25 28 00 00 00 0f "
		   "85 0f 01 00 00 48 8b 43 08 4c 89 e9 48 89 ea 4c 89 e6 48 89 df 48 8b 40 "
		   "38 48 83 c4 38 5b 5d 41 5c 41 5d ff e0 0f 1f 00 e8 ?? ?? ?? ?? 48 8d 15 "
		   "?? ?? ?? ?? be 2b 07 00 00 48 8d 3d ?? ?? ?? ?? e8 ?? ?? ?? ?? 31 d2 be "
		   "01 01 0c 00 31 c0 bf 14 00 00 00 e8 ?? ?? ?? ?? 31 c0 48 8b 54 24 28 64 "
		   "48 2b 14 25 28 00 00 00 0f 85 a6 00 00 00 48 83 c4 38 5b 5d 41 5c 41 5d "
		   "31 d2 31 c9 31 f6 31 ff c3 0f 1f 80 00 00 00 00 c7 47 28 01 00 00 00 eb "
		   "c7 0f 1f 80 00 00 00 00 48 8b 43 08 48 89 e6 48 89 df 48 89 1c 24 48 8d "
		   "15 3b d5 ff ff 4c 89 64 24 08 48 8b 40 38 48 89 6c 24 10 c7 44 24 18 00 "
		   "00 00 00 48 89 44 24 20 e8 1b d7 ff ff 48 8b 93 48 1d 00 00 49 89 55 00 "
		   "eb 80 e8 ?? ?? ?? ?? 48 8d 15 ?? ?? ?? ?? be 20 07 00 00 48 8d 3d ?? ?? "
		   "?? ?? e8 ?? ?? ?? ?? 31 c0 31 d2 be 14 01 00 00 bf 14 00 00 00 e8 ?? ?? "
		   "?? ?? b8 ff ff ff ff e9 46 ff ff ff e8 ?? ?? ?? ?? 66 66 2e 0f 1f 84 00 "
		   "00 00 00 00 0f 1f 40 00 48 83 ec 18 64 48 8b 04 25 28 00 00 00 48 89 44 "
		   "24 08 31 c0 85 d2 78 2f 48 89 e1 48 63 d2 e8 ?? ?? ?? ?? 85 c0 7e 03 8b "
		   "04 24 48 8b 54 24 08 64 48 2b 14 25 28 00 00 00 75 44 48 83 c4 18 31 d2 "
		   "31 c9 31 f6 31 ff c3 e8 ?? ?? ?? ?? 48 8d 15 ?? ?? ?? ?? be 4c 07 00 00 "
		   "48 8d 3d ?? ?? ?? ?? e8 ?? ?? ?? ?? 31 c0 31 d2 be 0f 01 00 00 bf 14 00 "
		   "00 00 e8 ?? ?? ?? ?? b8 ff ff ff ff eb ac e8 ?? ?? ?? ?? 66 66 2e 0f 1f "
		   "84 00 00 00 00 00 66 90 48 83 ec 08 e8 ?? ?? ?? ?? 31 d2 85 c0 0f 48 c2 "
		   "48 83 c4 08 31 d2 31 c9 31 f6 31 ff c3 0f 1f 00 8b 87 30 0b 00 00 31 ff "
		   "c3 0f 1f 80 00 00 00 00 48 83 ec 18 64 48 8b 04 25 28 00 00 00 48 89 44 "
		   "24 08 31 c0 85 d2 78 2f 48 89 e1 48 63 d2 e8 ad db ff ff 85 c0 7e 03 8b "
		   "04 24 48 8b 54 24 08 64 48 2b 14 25 28 00 00 00 75 44 48 83 c4 18 31 d2 "
		   "31 c9 31 f6 31 ff c3 e8 ?? ?? ?? ?? 48 8d 15 ?? ?? ?? ?? be c1 07 00 00 "
		   "48 8d 3d ?? ?? ?? ?? e8 ?? ?? ?? ?? 31 c0 31 d2 be 0f 01 00 00 bf 14 00 "
		   "00 00 e8 ?? ?? ?? ?? b8 ff ff ff ff eb ac e8 ?? ?? ?? ?? 66 66 2e 0f 1f "
		   "84 00 00 00 00 00 66 90 48 83 ec 08 e8 37 db ff ff 31 d2 85 c0 0f 48 c2 "
		   "48 83 c4 08 31 d2 31 c9 31 f6 31 ff c3 0f 1f 00 41 56 41 55 41 54 55 53 "
		   "48 83 ec 30 64 48 8b 04 25 28 00 00 00 48 89 44 24 28 31 c0 48 83 7f 30 "
		   "00 0f 84 72 01 00 00 8b 6f 44 48 89 fb 83 e5 01 0f 85 25 01 00 00 8b 87 "
		   "84 00 00 00 49 89 d6 89 c2 83 e2 fd 83 fa 08 0f 84 b3 00 00 00 83 f8 01 "
		   "0f 84 aa 00 00 00 49 89 f4 be 01 00 00 00 49 89 cd e8 ?? ?? ?? ?? f6 83 "
		   "f1 09 00 00 01 75 39 48 8b 44 24 28 64 48 2b 04 25 28 00 00 00 0f 85 48 "
		   "01 00 00 48 8b 43 08 4c 89 e9 4c 89 f2 4c 89 e6 48 89 df 48 8b 40 48 48 "
		   "83 c4 30 5b 5d 41 5c 41 5d 41 5e ff e0 0f 1f 00 e8 ?? ?? ?? ?? 48 85 c0 "
		   "75 bd 48 8b 43 08 48 89 e6 48 89 df 48 89 1c 24 48 8d 15 89 d2 ff ff 4c "
		   "89 64 24 08 48 8b 40 48 4c 89 74 24 10 c7 44 24 18 01 00 00 00 48 89 44 "
		   "24 20 e8 69 d4 ff ff 89 c5 48 8b 83 48 1d 00 00 49 89 45 00 eb 3a 66 2e "
		   "0f 1f 84 00 00 00 00 00 e8 ?? ?? ?? ?? 48 8d 15 ?? ?? ?? ?? be ea 07 00 "
		   "00 48 8d 3d ?? ?? ?? ?? e8 ?? ?? ?? ?? 31 d2 be 01 01 0c 00 31 c0 bf 14 "
		   "00 00 00 e8 ?? ?? ?? ?? 48 8b 44 24 28 64 48 2b 04 25 28 00 00 00 0f 85 "
		   "87 00 00 00 48 83 c4 30 89 e8 5b 5d 41 5c 41 5d 41 5e 31 d2 31 c9 31 f6 "
		   "31 ff c3 c7 47 28 01 00 00 00 e8 ?? ?? ?? ?? 48 8d 15 ?? ?? ?? ?? be e3 "
		   "07 00 00 48 8d 3d ?? ?? ?? ?? e8 ?? ?? ?? ?? 31 d2 be cf 00 00 00 31 c0 "
		   "bf 14 00 00 00 e8 ?? ?? ?? ?? bd ff ff ff ff eb 97 e8 ?? ?? ?? ?? 48 8d "
		   "15 ?? ?? ?? ?? be dd 07 00 00 48 8d 3d ?? ?? ?? ?? e8 ?? ?? ?? ?? 31 d2 "
		   "be 14 01 00 00 31 c0 bf 14 00 00 00 e8 ?? ?? ?? ?? eb c7 e8 ?? ?? ?? ?? "
		   "41 56 41 55 41 54 55 53 48 83 ec 10 64 48 8b 04 25 28 00 00 00 48 89 44 "
		   "24 08 31 c0 48 83 7f 30 00 0f 84 ce 01 00 00 48 89 fb f6 47 44 01 0f 85 "
		   "24 01 00 00 48 8b 7f 18 41 89 f4 49 89 d6 49 89 cd 31 d2 31 c9 be 49 00 "
		   "00 00 e8 ?? ?? ?? ?? 48 85 c0 0f 8e 5e 01 00 00 8b 83 a4 01 00 00 85 c0 "
		   "74 12 48 8b 43 08 48 89 df ff 50 78 48 63 e8 48 85 ed 7e 4c c7 43 28 02 "
		   "00 00 00 48 8b 7b 18 31 c9 31 d2 be 0b 00 00 00 e8 ?? ?? ?? ?? 85 c0 0f "
		   "8e 06 01 00 00 48 89 df e8 ?? ?? ?? ?? 48 89 e2 4c 89 e9 44 89 e6 89 c7 "
		   "4c 89 34 24 e8 ?? ?? ?? ?? 48 89 c5 48 85 c0 78 37 c7 43 28 01 00 00 00 "
		   "48 8b 44 24 08 64 48 2b 04 25 28 00 00 00 0f 85 34 01 00 00 48 83 c4 10 "
		   "48 89 e8 5b 5d 41 5c 41 5d 41 5e 31 d2 31 c9 31 f6 31 ff c3 0f 1f 40 00 "
		   "e8 ?? ?? ?? ?? 8b 00 83 f8 10 77 24 48 c7 c2 ef f7 fe ff 48 0f a3 c2 72 "
		   "17 48 8b 7b 18 be 0a 00 00 00 e8 ?? ?? ?? ?? eb a7 0f 1f 80 00 00 00 00 "
		   "e8 ?? ?? ?? ?? 48 8d 15 ?? ?? ?? ?? be 38 08 00 00 48 8d 3d ?? ?? ?? ?? "
		   "e8 ?? ?? ?? ?? 31 d2 be 14 01 00 00 31 c0 bf 14 00 00 00 e8 ?? ?? ?? ?? "
		   "e9 6b ff ff ff 0f 1f 00 c7 47 28 01 00 00 00 e8 ?? ?? ?? ?? 48 8d 15 ?? "
		   "?? ?? ?? be 0d 08 00 00 48 8d 3d ?? ?? ?? ?? e8 ?? ?? ?? ?? 31 d2 be cf "
		   "00 00 00 31 c0 bf 14 00 00 00 e8 ?? ?? ?? ?? 48 c7 c5 ff ff ff ff e9 25 "
		   "ff ff ff 48 8b 7b 18 be 08 00 00 00 e8 ?? ?? ?? ?? 85 c0 75 3b c7 43 28 "
		   "01 00 00 00 eb d9 e8 ?? ?? ?? ?? 48 8d 15 ?? ?? ?? ?? be 12 08 00 00 48 "
		   "8d 3d ?? ?? ?? ?? e8 ?? ?? ?? ?? 31 d2 be 14 01 00 00 31 c0 bf 14 00 00 "
		   "00 e8 ?? ?? ?? ?? eb a7 e8 ?? ?? ?? ?? c7 00 0b 00 00 00 eb 9a e8 ?? ?? "
		   "?? ?? 48 8d 15 ?? ?? ?? ?? be 07 08 00 00 eb bf e8 ?? ?? ?? ?? 0f 1f 00 "
		   "48 83 ec 18 64 48 8b 04 25 28 00 00 00 48 89 44 24 08 31 c0 85 d2 78 2f "
		   "48 89 e1 48 63 d2 e8 ?? ?? ?? ?? 85 c0 7e 03 8b 04 24 48 8b 54 24 08 64 "
		   "48 2b 14 25 28 00 00 00 75 44 48 83 c4 18 31 d2 31 c9 31 f6 31 ff c3 e8 "
		   "?? ?? ?? ?? 48 8d 15 ?? ?? ?? ?? be 46 08 00 00 48 8d 3d ?? ?? ?? ?? e8 "
		   "?? ?? ?? ?? 31 c0 31 d2 be 0f 01 00 00 bf 14 00 00 00 e8 ?? ?? ?? ?? b8 "
		   "ff ff ff ff eb ac e8 ?? ?? ?? ?? 66 66 2e 0f 1f 84 00 00 00 00 00 66 90 "
		   "48 83 ec 08 e8 ?? ?? ?? ?? 31 d2 85 c0 0f 48 c2 48 83 c4 08 31 d2 31 c9 "
		   "31 f6 31 ff c3" },
};

/* The pattern's bytes and which of them must match; @return its length, 0 on no memory. */
static size_t parse(const char *hex, uint8_t **bytes, bool **care)
{
	size_t n = (strlen(hex) + 1) / 3;

	*bytes = malloc(n);
	*care = malloc(n * sizeof(bool));
	if (!*bytes || !*care)
		return 0;
	for (size_t i = 0; i < n; i++, hex += 3) {
		(*care)[i] = hex[0] != '?';
		(*bytes)[i] =
			(*care)[i] ? (uint8_t)strtoul((char[]){ hex[0], hex[1], 0 }, NULL, 16) : 0;
	}
	return n;
}

static bool match_at(const uint8_t *p, const uint8_t *bytes, const bool *care, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (care[i] && p[i] != bytes[i])
			return false;
	return true;
}

/* Where the pattern matches in the code: @return the number of matches, the first in @p at. */
static int scan(const struct elf_image *im, const uint8_t *bytes, const bool *care, size_t n,
		uint64_t *at)
{
	const uint8_t *seg;
	size_t size;
	uint64_t addr;
	int found = 0;

	for (size_t s = 0; elf_image_exec_segment(im, s, &seg, &size, &addr); s++) {
		for (const uint8_t *p = seg; size >= n && p <= seg + size - n; p++) {
			p = memchr(p, bytes[0], (size_t)(seg + size - n - p) + 1);
			if (!p)
				break;
			if (match_at(p, bytes, care, n) && found++ == 0)
				*at = addr + (uint64_t)(p - seg);
		}
	}
	return found;
}

/* The adjacency check: each _ex wrapper calls its internal function where the pattern says. */
static bool calls_where(const struct elf_image *im, uint64_t base, const struct pattern *pt, int ex,
			int internal)
{
	uint64_t at = base + pt->offsets[ex], target;
	const uint8_t *code = elf_image_bytes(im, at, pt->sizes[ex]);

	return code && x86_first_call(code, pt->sizes[ex], at, &target) == 0 &&
	       target == base + pt->offsets[internal];
}

static void fill(struct ssl_openssl_fns *f, uint64_t base, const struct pattern *pt)
{
	struct ssl_fn *dst[F_COUNT] = { NULL, &f->read, &f->read_ex, NULL, &f->write, &f->write_ex };

	for (int i = 0; i < F_COUNT; i++)
		if (dst[i])
			*dst[i] = (struct ssl_fn){ base + pt->offsets[i], pt->sizes[i] };
	f->version = pt->version;
}

int ssl_patterns_find(const struct elf_image *im, struct ssl_openssl_fns *f, char *why,
		      size_t why_size)
{
	snprintf(why, why_size,
		 "no TLS function symbol, and none of the %zu known OpenSSL code "
		 "patterns matched",
		 sizeof(patterns) / sizeof(patterns[0]));
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		const struct pattern *pt = &patterns[i];
		uint8_t *bytes = NULL;
		bool *care = NULL;
		size_t n = parse(pt->bytes, &bytes, &care);
		uint64_t at = 0;
		int found = n ? scan(im, bytes, care, n, &at) : 0;

		free(bytes);
		free(care);
		if (!n)
			return -ENOMEM;
		if (found > 1) {
			snprintf(why, why_size, "the code pattern of %s matched %d times: refused",
				 pt->version, found);
			return -ENOENT;
		}
		if (found == 0)
			continue;
		if (!calls_where(im, at, pt, F_READ_EX, F_READ_INTERNAL) ||
		    !calls_where(im, at, pt, F_WRITE_EX, F_WRITE_INTERNAL)) {
			snprintf(why, why_size,
				 "the code pattern of %s matched at 0x%llx, but SSL_read_ex and "
				 "SSL_write_ex there do not call the functions next to them: "
				 "refused",
				 pt->version, (unsigned long long)at);
			return -ENOENT;
		}
		fill(f, at, pt);
		return 0;
	}
	return -ENOENT;
}
