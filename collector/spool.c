/* A sink's durable spool: segments appended in order, read back after a restart, removed only once delivered. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <collector/buffer.h>
#include <collector/clock.h>
#include <collector/log.h>

#include "event_pool.h"
#include "fsync_worker.h"
#include "spool.h"
#include "spool_segment.h"

#define READ_CHUNK ((size_t)1 << 20)
#define HOLD_MAX ((size_t)4 << 20)	 /* held bytes past which the spool counts as full */
#define ACK_MAGIC 0x4b434153u		 /* "SACK" */
#define DONE ((uint64_t)1 << 63)	 /* a window entry's settled bit */
#define POOL_MAX_BYTES ((size_t)4 << 20) /* free event blocks kept: the default queue's bytes */

struct segment {
	uint64_t base; /* logical offset of its first byte: its name, in hex */
	uint64_t size; /* bytes on disk */
};

struct spool {
	struct spool_config cfg;
	char *dir;
	int dirfd, lockfd, wfd, rfd;
	int rseg;	      /* the segment rfd reads, -1 for none */
	struct segment *segs; /* oldest first; the last one is written */
	int nsegs, capsegs;
	struct buffer held; /* records not written yet */
	uint64_t held_records;
	uint64_t read;	/* logical: the next record to hand to memory */
	uint64_t acked; /* logical: everything before is settled */
	uint64_t ack_written;
	/* handed records, in order: their end offsets, DONE once settled */
	uint64_t *win;
	size_t win_head, win_len, win_cap,
		win_undone;  /* win_undone: first not settled, from head */
	uint64_t win_ticket; /* ticket of win[win_head] */
	struct buffer rbuf;  /* bytes read from segment rseg, from roff */
	uint64_t roff;
	bool unsynced, write_failed;
	bool syncing; /* the segment's sync is in flight on the worker */
	int64_t synced_ns, ack_synced_ns;
	struct fsync_worker *syncer; /* batch, interval: the segment's fdatasync off the loop */
	struct spool_stats stats;
	struct event_pool *pool; /* the blocks of events read back */
};

static uint64_t end_on_disk(const struct spool *sp)
{
	const struct segment *last = &sp->segs[sp->nsegs - 1];

	return last->base + last->size;
}

static uint64_t logical_end(const struct spool *sp)
{
	return end_on_disk(sp) + sp->held.len;
}

uint64_t spool_disk_bytes(const struct spool *sp)
{
	return end_on_disk(sp) - sp->segs[0].base;
}

uint64_t spool_held_records(const struct spool *sp)
{
	return sp->held_records;
}

const struct spool_stats *spool_stats(const struct spool *sp)
{
	return &sp->stats;
}

const char *spool_dir(const struct spool *sp)
{
	return sp->dir;
}

static void seg_name(char *out, size_t n, uint64_t base)
{
	snprintf(out, n, "%016" PRIx64 ".seg", base);
}

static int add_segment(struct spool *sp, uint64_t base, uint64_t size)
{
	if (sp->nsegs == sp->capsegs) {
		int cap = sp->capsegs ? sp->capsegs * 2 : 16;
		struct segment *s = realloc(sp->segs, sizeof(*s) * (size_t)cap);

		if (!s)
			return -ENOMEM;
		sp->segs = s;
		sp->capsegs = cap;
	}
	sp->segs[sp->nsegs++] = (struct segment){ base, size };
	return 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	return x->base < y->base ? -1 : x->base > y->base;
}

/* ---- the lock and the ack file ---- */

static int take_lock(struct spool *sp, struct error *err)
{
	char pid[32] = "";
	ssize_t n;

	sp->lockfd = openat(sp->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sp->lockfd < 0)
		return error_set(err, errno, "spool %s: lock: %s", sp->dir, strerror(errno));
	if (flock(sp->lockfd, LOCK_EX | LOCK_NB) < 0) {
		n = pread(sp->lockfd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		return error_set(err, EEXIST,
				 "spool %s is in use by another collector (pid %s): give each "
				 "collector and sink its own spool directory",
				 sp->dir, pid[0] ? pid : "?");
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(sp->lockfd, 0) < 0 || pwrite(sp->lockfd, pid, (size_t)n, 0) != n)
		return error_set(err, errno, "spool %s: lock: %s", sp->dir, strerror(errno));
	return 0;
}

/*
 * The ack: the offset up to which everything was delivered, with a CRC; 16
 * bytes written in place. An ack that a power loss takes back only replays
 * delivered records (duplicates, never a loss), so @p sync is asked for at
 * most once an interval, not with every batch.
 */
static int write_ack(struct spool *sp, bool sync)
{
	uint32_t rec[4];
	int fd;

	memcpy(rec, &sp->acked, 8);
	rec[2] = spool_crc32(0, rec, 8);
	rec[3] = ACK_MAGIC;
	fd = openat(sp->dirfd, "ack", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, rec, sizeof(rec), 0) != (ssize_t)sizeof(rec) ||
	    (sync && sp->cfg.fsync != SPOOL_FSYNC_NONE && fdatasync(fd) < 0)) {
		int e = errno ? errno : EIO;

		close(fd);
		return -e;
	}
	close(fd);
	sp->ack_written = sp->acked;
	return 0;
}

static bool read_ack(struct spool *sp, uint64_t *acked)
{
	uint32_t rec[4];
	int fd = openat(sp->dirfd, "ack", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = pread(fd, rec, sizeof(rec), 0);
	close(fd);
	if (n != (ssize_t)sizeof(rec) || rec[3] != ACK_MAGIC || rec[2] != spool_crc32(0, rec, 8))
		return false;
	memcpy(acked, rec, 8);
	return true;
}

/* ---- opening ---- */

static int list_segments(struct spool *sp, struct error *err)
{
	DIR *d = fdopendir(dup(sp->dirfd));
	struct dirent *e;
	int rc = 0;

	if (!d)
		return error_set(err, errno, "spool %s: %s", sp->dir, strerror(errno));
	while (rc == 0 && (e = readdir(d))) {
		char *end;
		uint64_t base;
		struct stat st;

		/* NAME.seg, NAME 16 hex digits: the segment's first offset. */
		if (strlen(e->d_name) != 20 || strcmp(e->d_name + 16, ".seg") != 0 ||
		    strspn(e->d_name, "0123456789abcdef") != 16)
			continue;
		base = strtoull(e->d_name, &end, 16);
		if (end != e->d_name + 16 || fstatat(sp->dirfd, e->d_name, &st, 0) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (add_segment(sp, base, (uint64_t)st.st_size) < 0)
			rc = error_set(err, ENOMEM, "out of memory");
	}
	closedir(d);
	if (rc == 0 && sp->nsegs > 1)
		qsort(sp->segs, (size_t)sp->nsegs, sizeof(*sp->segs), cmp_seg);
	return rc;
}

static int open_seg(struct spool *sp, int i, int flags)
{
	char name[32];

	seg_name(name, sizeof(name), sp->segs[i].base);
	return openat(sp->dirfd, name, flags | O_CLOEXEC, 0600);
}

/* The last segment's valid records end where a crash may have torn one: cut there. */
static int cut_torn_tail(struct spool *sp, struct error *err)
{
	struct segment *last = &sp->segs[sp->nsegs - 1];
	uint64_t pos = 0, good = 0;
	struct buffer b = { 0 };
	int fd;

	if (last->size == 0)
		return 0; /* new, or not made yet */
	fd = open_seg(sp, sp->nsegs - 1, O_RDWR);
	if (fd < 0)
		return error_set(err, errno, "spool %s: %s", sp->dir, strerror(errno));
	while (pos < last->size) {
		uint64_t left = last->size - pos;
		size_t want = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
		ssize_t n;
		size_t at = 0;
		struct spool_frame f;
		uint32_t len;

		b.len = 0;
		if (buffer_reserve(&b, want) < 0)
			break;
		n = pread(fd, b.data, want, (off_t)pos);
		if (n <= 0)
			break;
		for (;;) {
			enum spool_scan r = spool_frame_next((uint8_t *)b.data + at, (size_t)n - at,
							     (uint64_t)n == left, &f);

			if (r == SPOOL_SHORT)
				break;
			at += r == SPOOL_RECORD ? f.len : f.skip;
			if (r == SPOOL_RECORD)
				good = pos + at;
		}
		if (at) {
			pos += at;
			continue;
		}
		/* Nothing whole in a chunk: a record longer than it (read it whole), or the end. */
		if ((size_t)n < SPOOL_HDR || (size_t)n < want)
			break;
		memcpy(&len, b.data + 4, 4);
		if (SPOOL_HDR + (uint64_t)len > left || len > SPOOL_MAX_PAYLOAD)
			break;
		b.len = 0;
		if (buffer_reserve(&b, SPOOL_HDR + len) < 0 ||
		    pread(fd, b.data, SPOOL_HDR + len, (off_t)pos) != (ssize_t)(SPOOL_HDR + len))
			break;
		if (spool_frame_next((uint8_t *)b.data, SPOOL_HDR + len, false, &f) != SPOOL_RECORD)
			break;
		pos += f.len;
		good = pos;
	}
	buffer_free(&b);
	if (good < last->size) {
		log_warn("spool %s: cut a torn tail of %" PRIu64 " bytes after a crash", sp->dir,
			 last->size - good);
		if (ftruncate(fd, (off_t)good) < 0) {
			int e = errno;

			close(fd);
			return error_set(err, e, "spool %s: truncate: %s", sp->dir, strerror(e));
		}
		sp->stats.torn++;
		last->size = good;
	}
	close(fd);
	return 0;
}

static int open_writer(struct spool *sp)
{
	if (sp->wfd >= 0)
		close(sp->wfd);
	sp->wfd = open_seg(sp, sp->nsegs - 1, O_WRONLY | O_CREAT | O_APPEND);
	return sp->wfd < 0 ? -errno : 0;
}

static void remove_settled_segments(struct spool *sp);

struct spool *spool_open(const struct spool_config *cfg, struct error *err)
{
	struct spool *sp = calloc(1, sizeof(*sp));
	uint64_t acked = 0;

	if (!sp || !(sp->dir = strdup(cfg->dir)) || !(sp->pool = event_pool_new(POOL_MAX_BYTES))) {
		if (sp)
			free(sp->dir);
		free(sp);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	sp->cfg = *cfg;
	sp->cfg.dir = sp->dir;
	if (!sp->cfg.segment_bytes) {
		uint64_t s = cfg->max_bytes / 8;

		sp->cfg.segment_bytes = s < 65536		 ? 65536 :
					s > ((uint64_t)64 << 20) ? (64 << 20) :
								   s;
	}
	sp->wfd = sp->rfd = sp->lockfd = sp->dirfd = -1;
	sp->rseg = -1;
	if (mkdir(cfg->dir, 0700) < 0 && errno != EEXIST) {
		error_set(err, errno == ENOENT || errno == EACCES ? EINVAL : errno,
			  "spool %s: mkdir: %s (name a directory the collector can write)",
			  cfg->dir, strerror(errno));
		goto fail;
	}
	sp->dirfd = open(cfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd < 0) {
		error_set(err, EINVAL, "spool %s: %s", cfg->dir, strerror(errno));
		goto fail;
	}
	if (take_lock(sp, err) < 0 || list_segments(sp, err) < 0)
		goto fail;
	if (sp->nsegs == 0 && add_segment(sp, 0, 0) < 0) {
		error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	if (cut_torn_tail(sp, err) < 0)
		goto fail;
	/* No (valid) ack: everything left is replayed; an ack past the data is held to it. */
	if (!read_ack(sp, &acked) || acked < sp->segs[0].base)
		acked = sp->segs[0].base;
	if (acked > end_on_disk(sp))
		acked = end_on_disk(sp);
	sp->acked = sp->ack_written = sp->read = acked;
	/* The ack file exists from here on: rewriting its bytes in place needs no room on a full disk. */
	if (write_ack(sp, true) < 0)
		log_warn("spool %s: ack: %s (delivered records may be replayed after a restart)",
			 sp->dir, strerror(errno));
	remove_settled_segments(sp);
	if (open_writer(sp) < 0) {
		error_set(err, errno, "spool %s: %s", cfg->dir, strerror(errno));
		goto fail;
	}
	if (cfg->fsync != SPOOL_FSYNC_NONE &&
	    !(sp->syncer = fsync_worker_new(cfg->on_synced, cfg->on_synced_arg))) {
		error_set(err, errno, "spool %s: sync thread: %s", cfg->dir, strerror(errno));
		goto fail;
	}
	sp->synced_ns = clock_mono_ns();
	if (end_on_disk(sp) > acked)
		log_info("spool %s: %" PRIu64 " bytes left by the last run to deliver", sp->dir,
			 end_on_disk(sp) - acked);
	return sp;
fail:
	spool_close(sp);
	return NULL;
}

/* ---- writing ---- */

static int window_push(struct spool *sp, uint64_t end)
{
	if (sp->win_len == sp->win_cap) {
		size_t cap = sp->win_cap ? sp->win_cap * 2 : 1024;
		uint64_t *w = malloc(sizeof(*w) * cap);

		if (!w)
			return -ENOMEM;
		for (size_t i = 0; i < sp->win_len; i++)
			w[i] = sp->win[(sp->win_head + i) % sp->win_cap];
		free(sp->win);
		sp->win = w;
		sp->win_head = 0;
		sp->win_cap = cap;
	}
	sp->win[(sp->win_head + sp->win_len++) % sp->win_cap] = end;
	return 0;
}

int spool_append(struct spool *sp, const struct event *ev, bool hand)
{
	bool caught_up = sp->read == logical_end(sp);
	int rc = spool_frame_append(&sp->held, ev);

	if (rc < 0) {
		sp->stats.unwritable++;
		return rc;
	}
	sp->held_records++;
	/* Without room to track it, it stays on disk to be read later. */
	if (!hand || !caught_up || window_push(sp, logical_end(sp)) < 0)
		return 0;
	sp->read = logical_end(sp);
	return 1;
}

static int roll(struct spool *sp)
{
	if (end_on_disk(sp) - sp->segs[sp->nsegs - 1].base < sp->cfg.segment_bytes)
		return 0;
	if (sp->wfd >= 0 && sp->cfg.fsync != SPOOL_FSYNC_NONE && sp->unsynced)
		fdatasync(sp->wfd);
	if (add_segment(sp, end_on_disk(sp), 0) < 0)
		return -ENOMEM;
	return open_writer(sp);
}

/* Remove the oldest segment unread: its records not handed yet are dropped (counted). */
static void drop_oldest(struct spool *sp)
{
	struct segment *s = &sp->segs[0];
	uint64_t end = s->base + s->size, from = sp->read > s->base ? sp->read : s->base;
	char name[32];

	if (from < end) {
		int fd = open_seg(sp, 0, O_RDONLY);
		struct buffer b = { 0 };
		ssize_t n;
		size_t at = 0;
		struct spool_frame f;

		/* Count what is dropped: the records of the unread part. */
		if (fd >= 0 && buffer_reserve(&b, end - from) == 0 &&
		    (n = pread(fd, b.data, end - from, (off_t)(from - s->base))) > 0)
			while (at < (size_t)n) {
				enum spool_scan r = spool_frame_next((uint8_t *)b.data + at,
								     (size_t)n - at, true, &f);

				if (r == SPOOL_SHORT)
					break;
				if (r == SPOOL_RECORD)
					sp->stats.dropped++;
				at += r == SPOOL_RECORD ? f.len : f.skip;
			}
		buffer_free(&b);
		if (fd >= 0)
			close(fd);
		sp->read = end;
	}
	if (sp->acked < end)
		sp->acked =
			end; /* handed records of it still settle, but nothing of it is replayed */
	if (sp->rseg == 0) {
		close(sp->rfd);
		sp->rfd = -1;
		sp->rseg = -1;
	} else if (sp->rseg > 0) {
		sp->rseg--;
	}
	seg_name(name, sizeof(name), s->base);
	unlinkat(sp->dirfd, name, 0);
	memmove(sp->segs, sp->segs + 1, sizeof(*sp->segs) * (size_t)--sp->nsegs);
}

static bool over_size(const struct spool *sp, size_t more)
{
	return spool_disk_bytes(sp) + more > sp->cfg.max_bytes;
}

/* Write what is held, or the whole records of it that fit: 0, or -errno (a full disk). */
static int write_some(struct spool *sp)
{
	struct segment *last = &sp->segs[sp->nsegs - 1];
	ssize_t n = write(sp->wfd, sp->held.data, sp->held.len);
	int e = n < 0 ? errno : ENOSPC;
	size_t whole = 0;
	uint64_t records = 0;

	if (n == (ssize_t)sp->held.len) {
		whole = sp->held.len;
		records = sp->held_records;
	}
	/* A full disk: keep the whole records written, take a cut one back out, retry the rest later. */
	while (n > 0 && whole < (size_t)n) {
		uint32_t len;

		memcpy(&len, sp->held.data + whole + 4, 4);
		if (whole + SPOOL_HDR + len > (size_t)n)
			break;
		whole += SPOOL_HDR + len;
		records++;
	}
	if (n > 0 && whole < (size_t)n && ftruncate(sp->wfd, (off_t)(last->size + whole)) < 0)
		e = errno;
	last->size += whole;
	buffer_consume(&sp->held, whole);
	sp->held_records -= records;
	sp->stats.appended += records;
	if (whole)
		sp->unsynced = true;
	return sp->held.len ? -e : 0;
}

/*
 * A full disk is a full spool, whatever spool-size says: block waits for
 * delivered segments to go; drop_oldest drops the oldest segment (starting a
 * new one when only the write segment is left) and tries again.
 */
static int write_held(struct spool *sp)
{
	int rc;

	if (!sp->held.len)
		return 0;
	if (roll(sp) < 0)
		return -ENOMEM;
	while (sp->cfg.drop_oldest && sp->nsegs > 1 && over_size(sp, sp->held.len))
		drop_oldest(sp);
	while ((rc = write_some(sp)) < 0) {
		sp->stats.write_errors++;
		if (!sp->cfg.drop_oldest || (sp->nsegs == 1 && sp->segs[0].size == 0))
			break;
		if (sp->nsegs == 1 &&
		    (add_segment(sp, end_on_disk(sp), 0) < 0 || open_writer(sp) < 0))
			break;
		drop_oldest(sp);
	}
	sp->write_failed = rc < 0;
	return rc;
}

bool spool_full(const struct spool *sp)
{
	return sp->held.len >= HOLD_MAX || (sp->write_failed && sp->held.len) ||
	       (!sp->cfg.drop_oldest && over_size(sp, sp->held.len));
}

/* ---- reading ---- */

bool spool_backlog(const struct spool *sp)
{
	return sp->read < logical_end(sp);
}

static int seg_of(const struct spool *sp, uint64_t off)
{
	int i = sp->nsegs - 1;

	while (i > 0 && sp->segs[i].base > off)
		i--;
	return i;
}

/* Read segment @p i from logical @p off into rbuf: how many bytes are there. */
static size_t fill(struct spool *sp, int i, uint64_t off)
{
	const struct segment *s = &sp->segs[i];
	uint64_t left = s->base + s->size - off;
	size_t want = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
	ssize_t n;

	if (sp->rseg != i) {
		if (sp->rfd >= 0)
			close(sp->rfd);
		sp->rfd = open_seg(sp, i, O_RDONLY);
		sp->rseg = sp->rfd >= 0 ? i : -1;
		if (sp->rfd < 0)
			return 0;
	}
	/* Records may be longer than a chunk: read the whole record when it is. */
	if (want >= SPOOL_HDR) {
		uint32_t len;

		if (pread(sp->rfd, &len, 4, (off_t)(off - s->base + 4)) == 4 &&
		    len <= SPOOL_MAX_PAYLOAD && SPOOL_HDR + (uint64_t)len > want &&
		    SPOOL_HDR + (uint64_t)len <= left)
			want = SPOOL_HDR + len;
	}
	sp->rbuf.len = 0;
	if (buffer_reserve(&sp->rbuf, want) < 0)
		return 0;
	n = pread(sp->rfd, sp->rbuf.data, want, (off_t)(off - s->base));
	sp->roff = off;
	sp->rbuf.len = n > 0 ? (size_t)n : 0;
	return sp->rbuf.len;
}

/* The record at @p off of segment @p i, from what was read when it is all there. */
static enum spool_scan scan_at(struct spool *sp, int i, uint64_t off, struct spool_frame *f)
{
	uint64_t seg_end = sp->segs[i].base + sp->segs[i].size;
	enum spool_scan r = SPOOL_SHORT;

	if (sp->rseg == i && off >= sp->roff && off < sp->roff + sp->rbuf.len) {
		r = spool_frame_next((const uint8_t *)sp->rbuf.data + (off - sp->roff),
				     sp->rbuf.len - (size_t)(off - sp->roff),
				     sp->roff + sp->rbuf.len >= seg_end, f);
		/* Short in the buffer: read from here on. */
		if (r != SPOOL_SHORT)
			return r;
	}
	if (off >= seg_end || !fill(sp, i, off))
		return SPOOL_SHORT;
	return spool_frame_next((const uint8_t *)sp->rbuf.data, sp->rbuf.len,
				sp->roff + sp->rbuf.len >= seg_end, f);
}

struct event *spool_next(struct spool *sp)
{
	struct error err = { 0 };

	/* What is read must be on disk first. */
	if (sp->read >= end_on_disk(sp) &&
	    (sp->held.len == 0 || spool_flush(sp, &err) < 0 || sp->read >= end_on_disk(sp)))
		return NULL;
	while (sp->read < end_on_disk(sp)) {
		int i = seg_of(sp, sp->read);
		uint64_t seg_end = sp->segs[i].base + sp->segs[i].size;
		struct spool_frame f;
		enum spool_scan r = scan_at(sp, i, sp->read, &f);
		struct event *ev;

		if (r == SPOOL_RECORD) {
			if (!(ev = spool_frame_event(f.payload, f.payload_len, sp->pool)) ||
			    window_push(sp, sp->read + f.len) < 0) {
				event_unref(ev);
				return NULL; /* out of memory: read it again later */
			}
			sp->read += f.len;
			sp->stats.replayed++;
			return ev;
		}
		if (r == SPOOL_CORRUPT) {
			log_warn("spool %s: skipped a corrupt record (%zu bytes)", sp->dir, f.skip);
			sp->stats.corrupt++;
			sp->read += f.skip;
			continue;
		}
		/* The segment's end (or it could not be read): go on with the next one. */
		if (sp->read < seg_end) {
			log_warn("spool %s: skipped %" PRIu64 " unreadable bytes", sp->dir,
				 seg_end - sp->read);
			sp->stats.corrupt++;
		}
		if (i == sp->nsegs - 1) {
			sp->read = end_on_disk(sp);
			return NULL;
		}
		sp->read = sp->segs[i + 1].base;
	}
	return NULL;
}

/* ---- settling ---- */

uint64_t spool_unsettled(const struct spool *sp)
{
	return sp->win_len;
}

uint64_t spool_next_ticket(const struct spool *sp)
{
	return sp->win_ticket + sp->win_len;
}

/* Settled records at the head of the window move the ack on. */
static void advance(struct spool *sp)
{
	while (sp->win_len && (sp->win[sp->win_head] & DONE)) {
		uint64_t end = sp->win[sp->win_head] & ~DONE;

		if (end > sp->acked)
			sp->acked = end;
		sp->win_head = (sp->win_head + 1) % sp->win_cap;
		sp->win_len--;
		sp->win_ticket++;
		if (sp->win_undone)
			sp->win_undone--;
	}
}

void spool_settle_count(struct spool *sp, uint64_t n)
{
	while (n && sp->win_undone < sp->win_len) {
		uint64_t *e = &sp->win[(sp->win_head + sp->win_undone++) % sp->win_cap];

		if (!(*e & DONE)) {
			*e |= DONE;
			n--;
		}
	}
	advance(sp);
}

void spool_settle_ticket(struct spool *sp, uint64_t ticket)
{
	if (ticket < sp->win_ticket || ticket - sp->win_ticket >= sp->win_len)
		return;
	sp->win[(sp->win_head + (ticket - sp->win_ticket)) % sp->win_cap] |= DONE;
	advance(sp);
}

/* ---- flushing ---- */

static void remove_settled_segments(struct spool *sp)
{
	/*
	 * By the ack in memory, not the one written: a delivered segment may go
	 * before its ack reaches the disk (a full one), a restart only replays
	 * from the first segment left. The write segment all delivered: start a
	 * new one so it can go too (a small disk).
	 */
	if (sp->acked >= end_on_disk(sp) && sp->segs[sp->nsegs - 1].size && sp->wfd >= 0 &&
	    add_segment(sp, end_on_disk(sp), 0) == 0 && open_writer(sp) < 0)
		sp->write_failed = true;
	while (sp->nsegs > 1 && sp->segs[1].base <= sp->acked) {
		char name[32];

		seg_name(name, sizeof(name), sp->segs[0].base);
		unlinkat(sp->dirfd, name, 0);
		if (sp->rseg == 0) {
			close(sp->rfd);
			sp->rfd = -1;
			sp->rseg = -1;
		} else if (sp->rseg > 0) {
			sp->rseg--;
		}
		memmove(sp->segs, sp->segs + 1, sizeof(*sp->segs) * (size_t)--sp->nsegs);
	}
}

bool spool_syncing(const struct spool *sp)
{
	return sp->syncing && sp->cfg.fsync == SPOOL_FSYNC_BATCH;
}

/* Whether the sync in flight ended (its error told once). */
static void sync_ended(struct spool *sp)
{
	int e;

	if (!sp->syncing || fsync_worker_busy(sp->syncer, &e))
		return;
	sp->syncing = false;
	if (e)
		log_warn("spool %s: fdatasync: %s (records may not survive a power loss)", sp->dir,
			 strerror(e));
}

/*
 * The written records to the disk, on the worker so the sink is fed
 * meanwhile; -EBUSY while the last sync is in flight (it goes next time).
 */
static int start_sync(struct spool *sp)
{
	int fd;

	if (sp->syncing)
		return -EBUSY;
	fd = sp->syncer ? fcntl(sp->wfd, F_DUPFD_CLOEXEC, 0) : -1;
	if (fd < 0) {
		fdatasync(sp->wfd); /* out of descriptors: on the loop */
		return 0;
	}
	if (fsync_worker_submit(sp->syncer, fd) < 0) {
		close(fd);
		return -EBUSY;
	}
	sp->syncing = true;
	return 0;
}

int spool_flush(struct spool *sp, struct error *err)
{
	int64_t now = clock_mono_ns();
	bool sync_ack = now - sp->ack_synced_ns >= sp->cfg.fsync_interval_ns;
	int rc;

	/* Failing (a full disk), the ack is written again next time. */
	if (sp->acked != sp->ack_written && write_ack(sp, sync_ack) == 0 && sync_ack)
		sp->ack_synced_ns = now;
	/* First: the room removed segments free takes what a full disk held back. */
	remove_settled_segments(sp);
	rc = write_held(sp);

	sync_ended(sp);
	if (sp->unsynced &&
	    (sp->cfg.fsync == SPOOL_FSYNC_BATCH ||
	     (sp->cfg.fsync == SPOOL_FSYNC_INTERVAL &&
	      now - sp->synced_ns >= sp->cfg.fsync_interval_ns)) &&
	    start_sync(sp) == 0) {
		sp->unsynced = false;
		sp->synced_ns = now;
	}
	if (rc < 0)
		return error_set(err, -rc, "spool %s: write: %s", sp->dir, strerror(-rc));
	return 0;
}

void spool_close(struct spool *sp)
{
	struct error err = { 0 };

	if (!sp)
		return;
	if (sp->wfd >= 0) {
		if (spool_flush(sp, &err) < 0)
			log_error("%s: %" PRIu64 " records not written", err.msg, sp->held_records);
		if (sp->cfg.fsync != SPOOL_FSYNC_NONE) {
			fsync_worker_wait(sp->syncer);
			fdatasync(sp->wfd);
			write_ack(sp, true);
		}
	}
	spool_crash(sp);
}

void spool_crash(struct spool *sp)
{
	fsync_worker_free(sp->syncer); /* the sync in flight ends first */
	if (sp->wfd >= 0)
		close(sp->wfd);
	if (sp->rfd >= 0)
		close(sp->rfd);
	if (sp->lockfd >= 0)
		close(sp->lockfd);
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	buffer_free(&sp->held);
	buffer_free(&sp->rbuf);
	free(sp->win);
	free(sp->segs);
	free(sp->dir);
	event_pool_release(sp->pool); /* freed with the last event read back */
	free(sp);
}
