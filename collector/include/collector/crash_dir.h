/* Where crash reports live: the default state directory, writing one report, listing and reading them. */
#ifndef COLLECTOR_CRASH_DIR_H
#define COLLECTOR_CRASH_DIR_H

#include <stdbool.h>
#include <stddef.h>

#include <collector/buffer.h>
#include <collector/error.h>

/** The newest reports a directory keeps: writing one more removes the oldest. */
#define CRASH_DIR_KEEP 1000

/**
 * The default crash directory: $COLLECTOR_STATE_DIR/crashes when set, else
 * /var/lib/collector/crashes for root, else $XDG_STATE_HOME/collector/crashes
 * ($XDG_STATE_HOME defaults to ~/.local/state).
 * @return 0, or -ENAMETOOLONG / -ENOENT (no home directory to put it in)
 */
int crash_dir_default(char *dir, size_t size);

/**
 * Make @p dir (and the directories above it) mode 0750 if missing.
 * @return 0 or -errno with @p err set
 */
int crash_dir_prepare(const char *dir, struct error *err);

/**
 * Write @p len bytes of @p report as @p dir/@p id.json, mode 0640, under a
 * temporary name renamed into place (a reader never sees half a report), then
 * remove the oldest reports beyond CRASH_DIR_KEEP.
 * @return 0 or -errno with @p err set
 */
int crash_dir_write(const char *dir, const char *id, const char *report, size_t len,
		    struct error *err);

/** Whether @p id can name a report: not empty, no '/', not starting with '.'. */
bool crash_dir_valid_id(const char *id);

/**
 * The report files (ID.json) of @p dir, oldest first (IDs sort by time).
 * @param names set to a malloc'd array of malloc'd names; free with crash_dir_names_free()
 * @return how many, or -errno with @p err set
 */
int crash_dir_list(const char *dir, char ***names, struct error *err);

/** Free what crash_dir_list() returned. */
void crash_dir_names_free(char **names, int n);

/**
 * Append the text of report @p id (with or without ".json") of @p dir to @p out.
 * @return 0, -EINVAL for a bad ID, or -errno with @p err set
 */
int crash_dir_read(const char *dir, const char *id, struct buffer *out, struct error *err);

/** Directories one process remembers writing to (for its /api/crashes). */
#define CRASH_DIR_NOTED 8

/**
 * Remember that this process writes reports to @p dir, so its HTTP endpoint
 * lists them; up to CRASH_DIR_NOTED distinct directories, more are ignored.
 */
void crash_dir_note(const char *dir);

/**
 * The directories this process wrote or writes to, the default first.
 * @return how many were put in @p dirs (each a static string)
 */
int crash_dir_noted(const char **dirs, int max);

#endif
