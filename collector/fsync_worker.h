/* One thread that runs fdatasync() for the loop, so the loop goes on while the disk syncs. */
#ifndef COLLECTOR_FSYNC_WORKER_H
#define COLLECTOR_FSYNC_WORKER_H

#include <stdbool.h>

struct fsync_worker;

/*
 * Start the thread. @p done (may be NULL) is called on the worker's thread
 * after each sync: it may only do what is safe from another thread (e.g.
 * ev_async_send()). NULL when the thread cannot start (errno set).
 */
struct fsync_worker *fsync_worker_new(void (*done)(void *arg), void *arg);
/* Wait for the sync in flight, stop and free the thread. NULL is ignored. */
void fsync_worker_free(struct fsync_worker *w);

/* Sync @p fd, which the worker owns and closes; -EBUSY (fd untouched) while one is in flight. */
int fsync_worker_submit(struct fsync_worker *w, int fd);
/*
 * Whether a sync is in flight; when the last one ended, its result (0 or an
 * errno) goes to *@p result once (0 when nobody asked since, or no result).
 */
bool fsync_worker_busy(struct fsync_worker *w, int *result);
/* Wait until no sync is in flight. NULL is ignored. */
void fsync_worker_wait(struct fsync_worker *w);

#endif
