/* base64 and UTF-8 validation for payloads that travel inside JSON strings. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <collector/codec.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	return o;
}

static int sextet(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *in, size_t n, void *out, size_t *out_len)
{
	unsigned char *o = out;
	uint32_t acc = 0;
	int bits = 0;
	size_t len = 0;

	while (n > 0 && in[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		int v = sextet(in[i]);

		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[len++] = (unsigned char)(acc >> bits);
		}
	}
	*out_len = len;
	return 0;
}

int utf8_sequence(const void *data, size_t n)
{
	const unsigned char *p = data;
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	int need;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 2;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 3;
	else
		return -1;
	/* The second byte's range excludes overlongs, surrogates and code points past U+10FFFF. */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	for (int i = 1; i <= need; i++) {
		if ((size_t)i >= n || p[i] < lo || p[i] > hi)
			return -i;
		lo = 0x80;
		hi = 0xBF;
	}
	return need + 1;
}

bool utf8_valid(const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t i = 0;

	while (i < n) {
		uint64_t w;
		int len;

		/* ASCII 32, then eight bytes at a time: most lines are mostly ASCII. */
		if (i + 32 <= n) {
			uint64_t v[4];

			memcpy(v, p + i, 32);
			if (!((v[0] | v[1] | v[2] | v[3]) & 0x8080808080808080ULL)) {
				i += 32;
				continue;
			}
		}
		if (i + 8 <= n) {
			memcpy(&w, p + i, 8);
			if (!(w & 0x8080808080808080ULL)) {
				i += 8;
				continue;
			}
		} else {
			/* Under eight bytes left: all ASCII ends the line without a call a byte. */
			unsigned char any = 0;

			for (size_t k = i; k < n; k++)
				any |= p[k];
			if (!(any & 0x80))
				return true;
		}
		len = utf8_sequence(p + i, n - i);
		if (len < 0)
			return false;
		i += (size_t)len;
	}
	return true;
}

bool utf8_text(const void *data, size_t n)
{
	return utf8_valid(data, n) && !memchr(data, 0, n);
}
