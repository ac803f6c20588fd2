/* HTTP bodies' Content-Encoding (gzip, deflate, br, zstd) decoded into at most a given size. */
#include <string.h>
#include <strings.h>

#include <brotli/decode.h>
/* next_in as a pointer to const: the input is not ours to write. */
#define ZLIB_CONST
#include <zlib.h>
#include <zstd.h>

#include "body_decode.h"

/* Output is produced in steps of this much, so that a bound of 64 KiB allocates 64 KiB. */
#define STEP 16384

enum body_coding body_coding_of(const char *v)
{
	static const struct {
		const char *name;
		enum body_coding c;
	} names[] = {
		{ "identity", BODY_IDENTITY }, { "gzip", BODY_GZIP }, { "x-gzip", BODY_GZIP },
		{ "deflate", BODY_DEFLATE },   { "br", BODY_BR },     { "zstd", BODY_ZSTD },
	};
	size_t n;

	if (!v)
		return BODY_IDENTITY;
	v += strspn(v, " \t");
	n = strcspn(v, " \t");
	if (v[n + strspn(v + n, " \t")] != '\0')
		return BODY_UNKNOWN;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == n && strncasecmp(v, names[i].name, n) == 0)
			return names[i].c;
	return BODY_UNKNOWN;
}

const char *body_coding_name(enum body_coding c)
{
	static const char *const names[] = { "identity", "gzip", "deflate", "br", "zstd", "?" };

	return names[c];
}

/* Room for the next step of output, within @p limit; @return its size, 0 when full or no memory. */
static size_t room(struct buffer *out, size_t limit)
{
	size_t n = limit - out->len < STEP ? limit - out->len : STEP;

	return n && buffer_reserve(out, n) == 0 ? n : 0;
}

/* @p window_bits as inflateInit2 takes them: gzip, zlib or raw deflate. */
static enum body_decoded inflate_with(int window_bits, const void *in, size_t n, struct buffer *out,
				      size_t limit)
{
	z_stream z = { .next_in = in, .avail_in = (uInt)n };
	int rc = Z_OK;

	if (n > UINT32_MAX || inflateInit2(&z, window_bits) != Z_OK)
		return BODY_DECODED_BAD;
	while (rc == Z_OK) {
		size_t step = room(out, limit);

		if (!step)
			break;
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = (uInt)step;
		rc = inflate(&z, Z_NO_FLUSH);
		out->len += step - z.avail_out;
		/* No progress: the input is used up (a cut body). */
		if (rc == Z_BUF_ERROR || (rc == Z_OK && z.avail_out && !z.avail_in))
			break;
	}
	inflateEnd(&z);
	if (rc == Z_STREAM_END)
		return BODY_DECODED_WHOLE;
	return rc == Z_OK || rc == Z_BUF_ERROR ? BODY_DECODED_CUT : BODY_DECODED_BAD;
}

static enum body_decoded brotli(const void *in, size_t n, struct buffer *out, size_t limit)
{
	BrotliDecoderState *st = BrotliDecoderCreateInstance(NULL, NULL, NULL);
	const uint8_t *next_in = in;
	size_t avail_in = n;
	BrotliDecoderResult rc = BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT;

	if (!st)
		return BODY_DECODED_BAD;
	while (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) {
		size_t step = room(out, limit), avail_out = step;
		uint8_t *next_out = (uint8_t *)out->data + out->len;

		if (!step)
			break;
		rc = BrotliDecoderDecompressStream(st, &avail_in, &next_in, &avail_out, &next_out,
						   NULL);
		out->len += step - avail_out;
	}
	BrotliDecoderDestroyInstance(st);
	if (rc == BROTLI_DECODER_RESULT_SUCCESS)
		return BODY_DECODED_WHOLE;
	return rc == BROTLI_DECODER_RESULT_ERROR ? BODY_DECODED_BAD : BODY_DECODED_CUT;
}

static enum body_decoded zstd(const void *in, size_t n, struct buffer *out, size_t limit)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	ZSTD_inBuffer ib = { in, n, 0 };
	size_t rc = 1;

	if (!z)
		return BODY_DECODED_BAD;
	/* A frame may ask for a window of up to 2 GiB: 8 MiB is what zstd itself allows by default. */
	ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, 23);
	while (rc != 0 && !ZSTD_isError(rc)) {
		size_t step = room(out, limit);
		ZSTD_outBuffer ob = { out->data + out->len, step, 0 };

		if (!step)
			break;
		rc = ZSTD_decompressStream(z, &ob, &ib);
		out->len += ob.pos;
		if (!ZSTD_isError(rc) && ob.pos < step && ib.pos == ib.size)
			break;
	}
	ZSTD_freeDStream(z);
	if (ZSTD_isError(rc))
		return BODY_DECODED_BAD;
	return rc == 0 && ib.pos == ib.size ? BODY_DECODED_WHOLE : BODY_DECODED_CUT;
}

enum body_decoded body_decode(enum body_coding c, const void *in, size_t n, struct buffer *out,
			      size_t limit)
{
	enum body_decoded r = BODY_DECODED_BAD;

	out->len = 0;
	switch (c) {
	case BODY_GZIP:
		r = inflate_with(16 + MAX_WBITS, in, n, out, limit);
		break;
	case BODY_DEFLATE:
		r = inflate_with(MAX_WBITS, in, n, out, limit);
		if (r == BODY_DECODED_BAD) {
			out->len = 0;
			r = inflate_with(-MAX_WBITS, in, n, out, limit);
		}
		break;
	case BODY_BR:
		r = brotli(in, n, out, limit);
		break;
	case BODY_ZSTD:
		r = zstd(in, n, out, limit);
		break;
	default:
		break;
	}
	if (r == BODY_DECODED_BAD)
		out->len = 0;
	return r;
}
