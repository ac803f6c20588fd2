/* Byte codecs shared by loaders and runners: base64 and UTF-8 validation. */
#ifndef COLLECTOR_CODEC_H
#define COLLECTOR_CODEC_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Bytes base64_encode() writes for @p n input bytes, without a terminator.
 * @param n input bytes
 * @return the encoded length.
 */
static inline size_t base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/**
 * Standard base64 (RFC 4648, with padding).
 * @param in the bytes
 * @param n how many
 * @param out room for base64_encoded_len(n) bytes; not NUL-terminated
 * @return the bytes written.
 */
size_t base64_encode(const void *in, size_t n, char *out);

/**
 * Decode standard base64 (padding optional).
 * @param in the text
 * @param n its length
 * @param out room for n / 4 * 3 + 3 bytes
 * @param out_len set to the decoded length
 * @return 0, or -EINVAL on a character outside the alphabet.
 */
int base64_decode(const char *in, size_t n, void *out, size_t *out_len);

/**
 * The UTF-8 sequence at the start of @p p.
 * @param p the bytes
 * @param n how many there are (at least 1)
 * @return the length of the well-formed sequence there, or minus the length
 *         of the maximal invalid subpart there (Unicode's "substitution of
 *         maximal subparts": what one U+FFFD replaces).
 */
int utf8_sequence(const void *p, size_t n);

/**
 * Whether @p n bytes are well-formed UTF-8 (no overlongs or surrogates).
 * @param p the bytes
 * @param n how many
 * @return true when every sequence is well formed.
 */
bool utf8_valid(const void *p, size_t n);

/**
 * Whether @p n bytes are well-formed UTF-8 (no overlongs, surrogates or NUL).
 * @param p the bytes
 * @param n how many
 * @return true when they are text a JSON string can carry as is.
 */
bool utf8_text(const void *p, size_t n);

#endif
