/* Names of rotated files: expanding a pattern such as "{path}.{seq}" and reading a name back. */
#ifndef SINKS_ROTATED_NAME_H
#define SINKS_ROTATED_NAME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <collector/error.h>

/* Digits of {seq}: names sort in rotation order up to this many rotations. */
#define ROTATED_SEQ_DIGITS 6

/*
 * Check a pattern: only {path}, {seq}, {time} placeholders, {seq} present
 * exactly once, and {seq}/{time} only in the last path component.
 */
int rotated_name_check(const char *pattern, struct error *err);

/*
 * Expand a checked pattern into @p out (@p len bytes): {path} is the live
 * file's path, {seq} the zero-padded sequence number, {time} @p t in UTC as
 * YYYYmmddTHHMMSSZ. Returns 0, or -ENAMETOOLONG.
 */
int rotated_name_format(const char *pattern, const char *path, uint64_t seq, time_t t, char *out,
			size_t len);

/*
 * Whether @p name (a full path) is a rotated name of the pattern, with an
 * optional ".gz" suffix. On a match sets @p seq and @p gz and returns 0;
 * otherwise -ENOENT.
 */
int rotated_name_parse(const char *pattern, const char *path, const char *name, uint64_t *seq,
		       int *gz);

/*
 * The directory the rotated files of a checked pattern live in, into @p out.
 * Returns 0, or -ENAMETOOLONG.
 */
int rotated_name_dir(const char *pattern, const char *path, char *out, size_t len);

#endif
