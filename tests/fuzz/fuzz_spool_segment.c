/* Fuzz target: the spool's segment reader on any bytes: frames in memory, then a spool opened on them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <collector/buffer.h>
#include <collector/event.h>
#include <collector/log.h>

#include "spool.h"
#include "spool_segment.h"

static char dir[64];

/* Every valid record decodes, and encodes back to the very same bytes. */
static void frames(const uint8_t *data, size_t size)
{
	size_t at = 0;
	struct buffer b = { 0 };

	while (at < size) {
		struct spool_frame f;
		enum spool_scan r = spool_frame_next(data + at, size - at, true, &f);
		struct event *ev;

		if (r == SPOOL_SHORT)
			break;
		if (r == SPOOL_CORRUPT) {
			if (f.skip == 0 || f.skip > size - at)
				abort();
			at += f.skip;
			continue;
		}
		if (f.len < SPOOL_HDR + SPOOL_FIXED || f.len > size - at)
			abort();
		ev = spool_frame_event(f.payload, f.payload_len, NULL);
		if (ev) {
			b.len = 0;
			if (spool_frame_append(&b, ev) == 0 &&
			    (b.len != f.len || memcmp(b.data, data + at, f.len) != 0))
				abort();
			event_unref(ev);
		}
		at += f.len;
	}
	buffer_free(&b);
}

/* The same bytes as the one segment of a spool: opened (torn tail cut), read to the end, settled. */
static void spool_on(const uint8_t *data, size_t size)
{
	struct spool_config cfg = { .dir = dir, .max_bytes = 1 << 20, .fsync = SPOOL_FSYNC_NONE };
	struct error err = { 0 };
	char path[128];
	struct spool *sp;
	struct event *ev;
	FILE *f;
	uint64_t n = 0;

	snprintf(path, sizeof(path), "%s/0000000000000000.seg", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ack", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/0000000000000000.seg", dir);
	f = fopen(path, "w");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	sp = spool_open(&cfg, &err);
	if (!sp)
		abort();
	while ((ev = spool_next(sp))) {
		n++;
		event_unref(ev);
	}
	if (spool_backlog(sp))
		abort(); /* whatever is on disk is read or skipped */
	spool_settle_count(sp, n);
	spool_crash(sp);
}

static void cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/0000000000000000.seg", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ack", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock", dir);
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/dev/shm/collector-fuzz-spool.%d", (int)getpid());
		log_set_level(LOG_ERROR);
		if (mkdir(dir, 0700) < 0)
			abort();
		atexit(cleanup);
	}
	frames(data, size);
	/* The file path costs ~20 syscalls: one input in eight (by size) also goes through it. */
	if (size % 8 == 0)
		spool_on(data, size);
	return 0;
}
