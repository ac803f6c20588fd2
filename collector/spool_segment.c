/* Spool records: each event framed by a magic, its length and a CRC32, found again past a torn or corrupt one. */
#include <errno.h>
#include <string.h>

#include <isa-l/crc.h>

#include "event_pool.h"
#include "spool_segment.h"

/*
 * The payload: seq, ts_ns, pid, tid, ppid, flags, id[16], then the lengths of
 * type, runner, comm and data and their bytes. Native byte order: a spool is
 * read back on the machine that wrote it.
 */
struct fixed {
	uint64_t seq;
	int64_t ts_ns;
	int32_t pid, tid, ppid;
	uint32_t flags;
	uint8_t id[16];
	uint32_t type_len, runner_len, comm_len, data_len;
};

_Static_assert(sizeof(struct fixed) == SPOOL_FIXED, "spool payload layout");

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* ISA-L's CRC-32 is zlib's (gzip's) crc32() to the bit, ~20x faster on a 260-byte record. */
uint32_t spool_crc32(uint32_t crc, const void *buf, size_t len)
{
	return crc32_gzip_refl(crc, buf, len);
}

static uint32_t frame_crc(const uint8_t *len_field, const uint8_t *payload, uint32_t len)
{
	return spool_crc32(spool_crc32(0, len_field, 4), payload, len);
}

/* Where a record may start again after a bad one: the next magic past the first byte. */
static size_t resync(const uint8_t *buf, size_t avail, bool at_end)
{
	for (size_t i = 1; i + 4 <= avail; i++)
		if (get32(buf + i) == SPOOL_MAGIC)
			return i;
	/* Unless at the end, keep the last three bytes: a magic may straddle what was read. */
	return at_end || avail <= 3 ? avail : avail - 3;
}

static bool layout_ok(const uint8_t *payload, uint32_t len)
{
	struct fixed f;

	if (len < SPOOL_FIXED)
		return false;
	memcpy(&f, payload, sizeof(f));
	/* Written events always have a type and data (event_new() makes empty data {}). */
	return f.type_len && f.data_len && f.type_len <= EVENT_TYPE_MAX &&
	       f.runner_len <= EVENT_RUNNER_MAX && f.comm_len <= EVENT_COMM_MAX &&
	       (uint64_t)SPOOL_FIXED + f.type_len + f.runner_len + f.comm_len + f.data_len == len;
}

enum spool_scan spool_frame_next(const uint8_t *buf, size_t avail, bool at_end,
				 struct spool_frame *f)
{
	uint32_t len;

	if (avail < SPOOL_HDR && (!at_end || avail == 0))
		return SPOOL_SHORT;
	len = avail < SPOOL_HDR ? 0 : get32(buf + 4);
	if (avail < SPOOL_HDR || get32(buf) != SPOOL_MAGIC || len < SPOOL_FIXED ||
	    len > SPOOL_MAX_PAYLOAD || (at_end && avail - SPOOL_HDR < len)) {
		f->skip = resync(buf, avail, at_end);
		return SPOOL_CORRUPT;
	}
	if (avail - SPOOL_HDR < len)
		return SPOOL_SHORT;
	if (frame_crc(buf + 4, buf + SPOOL_HDR, len) != get32(buf + 8) ||
	    !layout_ok(buf + SPOOL_HDR, len)) {
		f->skip = resync(buf, avail, at_end);
		return SPOOL_CORRUPT;
	}
	f->len = SPOOL_HDR + (size_t)len;
	f->payload = buf + SPOOL_HDR;
	f->payload_len = len;
	return SPOOL_RECORD;
}

int spool_frame_append(struct buffer *b, const struct event *ev)
{
	struct fixed f = {
		.seq = ev->seq,
		.ts_ns = ev->ts_ns,
		.pid = ev->pid,
		.tid = ev->tid,
		.ppid = ev->ppid,
		.flags = ev->flags,
		.type_len = (uint32_t)ev->type.len,
		.runner_len = (uint32_t)ev->runner.len,
		.comm_len = (uint32_t)ev->comm.len,
		.data_len = (uint32_t)ev->data.len,
	};
	uint64_t len = SPOOL_FIXED + ev->type.len + ev->runner.len + ev->comm.len + ev->data.len;
	uint32_t hdr[3] = { SPOOL_MAGIC, (uint32_t)len, 0 };
	size_t start = b->len;

	if (len > SPOOL_MAX_PAYLOAD)
		return -E2BIG;
	memcpy(f.id, ev->id, sizeof(f.id));
	if (buffer_append(b, hdr, sizeof(hdr)) < 0 || buffer_append(b, &f, sizeof(f)) < 0 ||
	    buffer_append(b, ev->type.ptr, ev->type.len) < 0 ||
	    buffer_append(b, ev->runner.ptr, ev->runner.len) < 0 ||
	    buffer_append(b, ev->comm.ptr, ev->comm.len) < 0 ||
	    buffer_append(b, ev->data.ptr, ev->data.len) < 0) {
		b->len = start;
		return -ENOMEM;
	}
	hdr[2] = frame_crc((const uint8_t *)b->data + start + 4,
			   (const uint8_t *)b->data + start + SPOOL_HDR, (uint32_t)len);
	memcpy(b->data + start + 8, &hdr[2], 4);
	return 0;
}

struct event *spool_frame_event(const uint8_t *payload, uint32_t len, struct event_pool *pool)
{
	struct fixed f;
	const char *p = (const char *)payload + SPOOL_FIXED;
	struct span type, runner, comm, data;
	struct event *ev;

	if (!layout_ok(payload, len))
		return NULL;
	memcpy(&f, payload, sizeof(f));
	type = (struct span){ p, f.type_len };
	runner = (struct span){ p + f.type_len, f.runner_len };
	comm = (struct span){ runner.ptr + f.runner_len, f.comm_len };
	data = (struct span){ comm.ptr + f.comm_len, f.data_len };
	ev = pool ? event_pool_event(pool, type, comm, data) : event_new(type, comm, data);
	if (!ev)
		return NULL;
	event_set_runner(ev, runner);
	ev->seq = f.seq;
	ev->ts_ns = f.ts_ns;
	ev->pid = f.pid;
	ev->tid = f.tid;
	ev->ppid = f.ppid;
	ev->flags = f.flags;
	memcpy(ev->id, f.id, sizeof(f.id));
	return ev;
}
