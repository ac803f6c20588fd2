/* A sink's durable spool: append-only segment files, read back in order, removed once delivered. */
#ifndef COLLECTOR_SPOOL_H
#define COLLECTOR_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include <collector/error.h>
#include <collector/event.h>

enum spool_fsync { SPOOL_FSYNC_NONE, SPOOL_FSYNC_BATCH, SPOOL_FSYNC_INTERVAL };

struct spool_config {
	const char *dir;
	uint64_t max_bytes;	   /* spool-size: bytes on disk */
	uint64_t segment_bytes;	   /* 0: max_bytes / 8, within 64 KiB .. 64 MiB */
	bool drop_oldest;	   /* spool-full: drop the oldest segment, else block */
	enum spool_fsync fsync;	   /* when segment and ack file reach the disk */
	int64_t fsync_interval_ns; /* SPOOL_FSYNC_INTERVAL: at most this long */
	/* batch, interval: called on the sync thread when a sync ends (wake the loop); may be NULL */
	void (*on_synced)(void *arg);
	void *on_synced_arg;
};

struct spool_stats {
	uint64_t appended;     /* records written */
	uint64_t replayed;     /* records read back from disk */
	uint64_t dropped;      /* records removed unread (drop_oldest) */
	uint64_t corrupt;      /* bad records skipped */
	uint64_t torn;	       /* torn tails cut */
	uint64_t unwritable;   /* records that never reached the disk (out of memory, too big) */
	uint64_t write_errors; /* failed writes (a full disk), retried */
};

struct spool;

/* Open (create) the spool in cfg->dir, locked against a second collector; recovers a torn tail. */
struct spool *spool_open(const struct spool_config *cfg, struct error *err);
/* Write what is held, the ack, and close. */
void spool_close(struct spool *sp);
/* Close and free without writing anything: what a kill -9 leaves behind (the model test). */
void spool_crash(struct spool *sp);

/*
 * Append @p ev. With @p hand and nothing older left to read, the record is
 * handed to memory at once (returns 1: the caller queues @p ev); else it waits
 * on disk for spool_next() (returns 0). Negative: it could not be taken.
 */
int spool_append(struct spool *sp, const struct event *ev, bool hand);
/* The next record not yet handed to memory, as a new event; NULL when none (or not written yet). */
struct event *spool_next(struct spool *sp);
/* Records waiting on disk (or to be written) that are not in memory yet. */
bool spool_backlog(const struct spool *sp);
/* Held records: at the spool-size or unable to write (block policy: runners should wait). */
bool spool_full(const struct spool *sp);
/*
 * fsync=batch: the records written are being synced; runners should take
 * nothing more until spool_flush() sees the sync end (on_synced says when).
 */
bool spool_syncing(const struct spool *sp);
/* Records handed to memory, held until settled. */
uint64_t spool_unsettled(const struct spool *sp);

/* The oldest @p n handed records that are not settled yet are settled (delivered or failed). */
void spool_settle_count(struct spool *sp, uint64_t n);
/* The handed record number @p ticket (0, 1, ... in handing order) is settled. */
void spool_settle_ticket(struct spool *sp, uint64_t ticket);
/* The number the next handed record gets. */
uint64_t spool_next_ticket(const struct spool *sp);

/* Write held records, apply the fsync policy, persist the ack, remove delivered segments. */
int spool_flush(struct spool *sp, struct error *err);

const struct spool_stats *spool_stats(const struct spool *sp);
/* Bytes the segment files take, and records held in memory not written yet. */
uint64_t spool_disk_bytes(const struct spool *sp);
uint64_t spool_held_records(const struct spool *sp);
const char *spool_dir(const struct spool *sp);

#endif
