/* A one-pass scanner over HTTP-looking bytes that replaces the values an operator wants hidden. */
#include <string.h>
#include <strings.h>

#include "http_redact.h"

/* The length of the listed name at @p p followed by @p sep, or 0. */
static size_t listed_name(const char *const *names, size_t count, const char *p, size_t left,
			  char sep)
{
	for (size_t i = 0; i < count; i++) {
		size_t len = strlen(names[i]);

		if (len && left > len && p[len] == sep && strncasecmp(p, names[i], len) == 0)
			return len;
	}
	return 0;
}

static bool ends_param(char c)
{
	return c == '&' || c == '#' || c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Where a hidden value ends: a header's at the line end, a parameter's at a separator. */
static size_t value_end(const char *in, size_t i, size_t n, bool header)
{
	while (i < n && in[i] != '\r' && in[i] != '\n' && (header || !ends_param(in[i])))
		i++;
	return i;
}

static const char *const default_redact[] = {
	"Authorization", "Proxy-Authorization", "Cookie",	 "Set-Cookie",
	"X-Api-Key",	 "X-Auth-Token",	"Private-Token", "X-Amz-Security-Token",
};
static const char *const default_redact_query[] = {
	"access_token",
	"refresh_token",
	"id_token",
	"token",
	"auth",
	"password",
	"passwd",
	"pwd",
	"secret",
	"client_secret",
	"api_key",
	"apikey",
	"key",
	"sig",
	"signature",
	"X-Amz-Signature",
	"X-Amz-Security-Token",
};

const struct http_redact http_redact_default = {
	default_redact,
	sizeof(default_redact) / sizeof(default_redact[0]),
	default_redact_query,
	sizeof(default_redact_query) / sizeof(default_redact_query[0]),
};

int http_redact_bytes(const struct http_redact *r, struct http_redact_state *st, const char *in,
		      size_t n, struct buffer *out)
{
	size_t i = 0, copied = 0, len;
	int hidden = 0;
	bool line_start = !st->mid_line;

	/* A value the previous call left open: hidden up to its line end. */
	if (st->in_secret) {
		i = value_end(in, 0, n, true);
		if (buffer_append(out, HTTP_REDACTED, sizeof(HTTP_REDACTED) - 1) < 0)
			return -1;
		copied = i;
		hidden++;
		st->in_secret = i == n;
	}
	for (; i < n; i++) {
		bool header = false;

		len = 0;
		if (line_start) {
			len = listed_name(r->headers, r->header_count, in + i, n - i, ':');
			header = len > 0;
		}
		if (!len && (line_start ||
			     (i > 0 && (in[i - 1] == '?' || in[i - 1] == '&' || in[i - 1] == ';'))))
			len = listed_name(r->params, r->param_count, in + i, n - i, '=');
		line_start = in[i] == '\n';
		if (!len)
			continue;
		/* The name and its separator stay, with a header's leading blanks. */
		i += len + 1;
		while (header && i < n && (in[i] == ' ' || in[i] == '\t'))
			i++;
		if (buffer_append(out, in + copied, i - copied) < 0 ||
		    buffer_append(out, HTTP_REDACTED, sizeof(HTTP_REDACTED) - 1) < 0)
			return -1;
		copied = value_end(in, i, n, header);
		/* A header's value may continue in the next call; a parameter's ends with it. */
		st->in_secret = header && copied == n;
		hidden++;
		i = copied - 1;
		line_start = false;
	}
	if (buffer_append(out, in + copied, n - copied) < 0)
		return -1;
	if (n)
		st->mid_line = in[n - 1] != '\n';
	return hidden;
}
