/* Fuzz target: the body decoders stay within their bound on any input, and say what they gave. */
#include <stdint.h>
#include <stdlib.h>

#include <collector/buffer.h>

#include "../../runners/body_decode.h"

/*
 * Input: a byte choosing the coding (gzip, deflate, br, zstd) and the bound (1 B to 64 KiB),
 * then the body. The output never passes the bound, its memory stays within the bound and
 * one decoding step, and a body found bad leaves nothing.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum body_coding codings[] = { BODY_GZIP, BODY_DEFLATE, BODY_BR, BODY_ZSTD };
	struct buffer out = { 0 };
	size_t limit;
	enum body_decoded r;

	if (size < 1)
		return 0;
	limit = (size_t)1 << (data[0] >> 2) % 17;
	r = body_decode(codings[data[0] & 3], data + 1, size - 1, &out, limit);
	if (out.len > limit || out.cap > limit + 16384 || (r == BODY_DECODED_BAD && out.len))
		abort();
	buffer_free(&out);
	return 0;
}
