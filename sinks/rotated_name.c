/* Names of rotated files: a pattern of {path}, {seq} and {time} expanded, checked and read back. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "rotated_name.h"

#define TIME_LEN 16 /* YYYYmmddTHHMMSSZ */

enum token { TOK_NONE, TOK_PATH, TOK_SEQ, TOK_TIME };

static enum token token_at(const char *p, size_t *len)
{
	static const struct {
		const char *text;
		enum token tok;
	} toks[] = { { "{path}", TOK_PATH }, { "{seq}", TOK_SEQ }, { "{time}", TOK_TIME } };

	for (size_t i = 0; i < sizeof(toks) / sizeof(toks[0]); i++) {
		*len = strlen(toks[i].text);
		if (strncmp(p, toks[i].text, *len) == 0)
			return toks[i].tok;
	}
	*len = 1;
	return TOK_NONE;
}

int rotated_name_check(const char *pattern, struct error *err)
{
	int seqs = 0;
	bool in_last = false;

	for (const char *p = pattern; *p;) {
		size_t n;
		enum token t = token_at(p, &n);

		if (t == TOK_NONE && (*p == '{' || *p == '}'))
			return error_set(err, EINVAL,
					 "name pattern '%s': unknown placeholder at '%s' (use "
					 "{path}, "
					 "{seq}, {time})",
					 pattern, p);
		if (t == TOK_SEQ || t == TOK_TIME)
			in_last = true;
		if (t == TOK_SEQ)
			seqs++;
		if (*p == '/' && in_last)
			return error_set(err, EINVAL,
					 "name pattern '%s': {seq} and {time} must be in the file "
					 "name, not a directory",
					 pattern);
		p += n;
	}
	if (seqs != 1)
		return error_set(err, EINVAL, "name pattern '%s': needs {seq} exactly once",
				 pattern);
	return 0;
}

int rotated_name_format(const char *pattern, const char *path, uint64_t seq, time_t t, char *out,
			size_t len)
{
	size_t o = 0;

	for (const char *p = pattern; *p;) {
		char piece[64];
		const char *add = piece;
		size_t n, alen;
		struct tm tm;

		switch (token_at(p, &n)) {
		case TOK_PATH:
			add = path;
			break;
		case TOK_SEQ:
			snprintf(piece, sizeof(piece), "%0*" PRIu64, ROTATED_SEQ_DIGITS, seq);
			break;
		case TOK_TIME:
			gmtime_r(&t, &tm);
			strftime(piece, sizeof(piece), "%Y%m%dT%H%M%SZ", &tm);
			break;
		case TOK_NONE:
			piece[0] = *p;
			piece[1] = '\0';
			break;
		}
		alen = strlen(add);
		if (o + alen >= len)
			return -ENAMETOOLONG;
		memcpy(out + o, add, alen);
		o += alen;
		p += n;
	}
	out[o] = '\0';
	return 0;
}

static bool is_time(const char *s)
{
	for (int i = 0; i < TIME_LEN; i++) {
		bool ok = i == 8  ? s[i] == 'T' :
			  i == 15 ? s[i] == 'Z' :
				    isdigit((unsigned char)s[i]);

		if (!ok)
			return false;
	}
	return true;
}

int rotated_name_parse(const char *pattern, const char *path, const char *name, uint64_t *seq,
		       int *gz)
{
	const char *s = name;
	bool have_seq = false;

	for (const char *p = pattern; *p;) {
		size_t n, plen;

		switch (token_at(p, &n)) {
		case TOK_PATH:
			plen = strlen(path);
			if (strncmp(s, path, plen) != 0)
				return -ENOENT;
			s += plen;
			break;
		case TOK_SEQ:
			if (!isdigit((unsigned char)*s))
				return -ENOENT;
			*seq = 0;
			for (; isdigit((unsigned char)*s); s++) {
				if (*seq > (UINT64_MAX - 9) / 10)
					return -ENOENT;
				*seq = *seq * 10 + (uint64_t)(*s - '0');
			}
			have_seq = true;
			break;
		case TOK_TIME:
			if (strnlen(s, TIME_LEN) < TIME_LEN || !is_time(s))
				return -ENOENT;
			s += TIME_LEN;
			break;
		case TOK_NONE:
			if (*s != *p)
				return -ENOENT;
			s++;
			break;
		}
		p += n;
	}
	if (!have_seq)
		return -ENOENT;
	if (*s == '\0')
		*gz = 0;
	else if (strcmp(s, ".gz") == 0)
		*gz = 1;
	else
		return -ENOENT;
	return 0;
}

int rotated_name_dir(const char *pattern, const char *path, char *out, size_t len)
{
	char *slash;
	int rc = rotated_name_format(pattern, path, 0, 0, out, len);

	if (rc < 0)
		return rc;
	slash = strrchr(out, '/');
	if (!slash) {
		if (len < 2)
			return -ENAMETOOLONG;
		memcpy(out, ".", 2);
	} else if (slash == out) {
		out[1] = '\0';
	} else {
		*slash = '\0';
	}
	return 0;
}
