/* A thread that gzips rotated files and removes the oldest, off the event loop. */
#ifndef SINKS_ROTATION_WORKER_H
#define SINKS_ROTATION_WORKER_H

#include <stdint.h>

#include <ev.h>

#include <collector/error.h>

struct rotation_worker;

/* Called on the loop's thread with a message about a failed job. */
typedef void rotation_report_fn(void *arg, const char *msg);

/* One rotated file found by rotation_scan(). */
typedef void rotation_found_fn(void *arg, const char *name, uint64_t seq, int gz);

/*
 * Call @p found for every rotated file of @p pattern (see rotated_name.h) in
 * its directory. Returns 0 or -errno.
 */
int rotation_scan(const char *pattern, const char *path, rotation_found_fn *found, void *arg);

/*
 * Start the thread. It gzips at @p gzip_level (0: no compression) and keeps
 * the newest @p keep rotated files (0: all). Failures come back through
 * @p report on @p loop. Returns NULL with @p err filled on failure.
 */
struct rotation_worker *rotation_worker_new(struct ev_loop *loop, const char *pattern,
					    const char *path, int gzip_level, int keep,
					    rotation_report_fn *report, void *arg,
					    struct error *err);

/* Hand over a rotated file @p name (copied): compress it, then prune. */
int rotation_worker_submit(struct rotation_worker *w, const char *name);

/* Finish every job handed over, stop the thread, free it. NULL is ignored. */
void rotation_worker_free(struct rotation_worker *w);

#endif
