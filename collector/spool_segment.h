/* A spool record on disk: magic, length and CRC framing around one event in a fixed binary layout. */
#ifndef COLLECTOR_SPOOL_SEGMENT_H
#define COLLECTOR_SPOOL_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <collector/buffer.h>
#include <collector/event.h>

#define SPOOL_MAGIC 0x314c5053u /* "SPL1" little-endian */
#define SPOOL_HDR 12u		/* magic, payload length, CRC32 of length and payload */
#define SPOOL_FIXED 64u		/* the payload's fixed part before the strings */
#define SPOOL_MAX_PAYLOAD ((uint32_t)64 << 20)

enum spool_scan {
	SPOOL_RECORD,  /* a whole, valid record */
	SPOOL_SHORT,   /* not enough bytes yet: read more (never when at the end) */
	SPOOL_CORRUPT, /* a bad record: skip `skip` bytes to where the next one may start */
};

struct spool_frame {
	size_t skip;		/* SPOOL_CORRUPT: bytes to skip */
	size_t len;		/* SPOOL_RECORD: the record's bytes, header included */
	const uint8_t *payload; /* SPOOL_RECORD: the event's bytes */
	uint32_t payload_len;
};

/*
 * The record at the start of buf[0..avail). @p at_end: no byte follows buf
 * (the segment's end), so a record that does not fit is corrupt, not short.
 */
enum spool_scan spool_frame_next(const uint8_t *buf, size_t avail, bool at_end,
				 struct spool_frame *f);

/* Append @p ev as one record to @p b: 0, or -ENOMEM / -E2BIG. */
int spool_frame_append(struct buffer *b, const struct event *ev);

struct event_pool;

/*
 * The event of a valid record's payload (one reference), from @p pool when not
 * NULL; NULL when its layout is bad or out of memory.
 */
struct event *spool_frame_event(const uint8_t *payload, uint32_t len, struct event_pool *pool);

/* The CRC-32 of records and of the ack: gzip's, the values zlib's crc32() gives. */
uint32_t spool_crc32(uint32_t crc, const void *buf, size_t len);

#endif
