/* Fuzz target: the redactor stays in bounds, and hiding what it hid changes nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <collector/buffer.h>

#include "../../runners/http_redact.h"

static const char *const headers[] = { "Authorization", "Cookie", "X-Auth-Token" };
static const char *const params[] = { "access_token", "password", "token", "t" };
static const struct http_redact lists = { headers, 3, params, 4 };

/*
 * Input: a byte choosing where the bytes are cut in two calls, then the bytes.
 * In one piece the output is at most the input plus HTTP_REDACTED per value,
 * and redacting it again gives it back unchanged; cut anywhere, it stays in
 * its bounds too.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buffer once = { 0 }, twice = { 0 }, cut = { 0 };
	struct http_redact_state st = { 0 }, st2 = { 0 }, st3 = { 0 };
	const char *in = (const char *)data + 1;
	size_t n, k;
	int hidden, again, a, b;

	if (size < 1)
		return 0;
	n = size - 1;
	k = n ? data[0] % (n + 1) : 0;
	hidden = http_redact_bytes(&lists, &st, in, n, &once);
	if (hidden < 0)
		abort();
	if (once.len > n + (size_t)hidden * (sizeof(HTTP_REDACTED) - 1))
		abort();
	again = http_redact_bytes(&lists, &st2, once.data ? once.data : "", once.len, &twice);
	if (again != hidden || twice.len != once.len ||
	    (once.len && memcmp(once.data, twice.data, once.len) != 0))
		abort();
	a = http_redact_bytes(&lists, &st3, in, k, &cut);
	b = http_redact_bytes(&lists, &st3, in + k, n - k, &cut);
	if (a < 0 || b < 0 || cut.len > n + (size_t)(a + b) * (sizeof(HTTP_REDACTED) - 1))
		abort();
	buffer_free(&once);
	buffer_free(&twice);
	buffer_free(&cut);
	return 0;
}
