/* Model test of the spool: random append/read/settle/flush/crash/torn-tail/restart against an in-memory model. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <collector/buffer.h>
#include <collector/event.h>

#include "spool.h"
#include "spool_segment.h"

#define MAX_RECORDS 20000
#define STEPS 6000

/* What the model knows of each record appended, by its number n (its data and seq). */
enum rec_state { HELD, ON_DISK, LOST_IN_CRASH, TORN };

struct model {
	enum rec_state state[MAX_RECORDS];
	bool settled[MAX_RECORDS];
	bool seen_since_restart[MAX_RECORDS];
	uint32_t len[MAX_RECORDS];
	uint64_t n;		      /* records appended */
	uint64_t handed[MAX_RECORDS]; /* record numbers in handing order since the last open */
	uint64_t nhanded, next_ticket0;
	int64_t last_seen; /* order check: numbers read since the open increase */
};

static char dir[] = "/tmp/collector-spool-model.XXXXXX";
static unsigned seed;

static uint64_t rnd(uint64_t below)
{
	return (uint64_t)rand_r(&seed) % below;
}

static struct spool *open_spool(void)
{
	struct spool_config cfg = {
		.dir = dir,
		.max_bytes = (uint64_t)1 << 30,
		.segment_bytes = 2048,
		/* batch: the syncs run on the spool's thread, a crash joins it */
		.fsync = rnd(2) ? SPOOL_FSYNC_BATCH : SPOOL_FSYNC_NONE,
	};
	struct error err = { 0 };
	struct spool *sp = spool_open(&cfg, &err);

	if (!sp)
		fail_msg("seed %u: open: %s", seed, err.msg);
	return sp;
}

static struct event *record(uint64_t n)
{
	char data[64];
	struct event *ev;

	snprintf(data, sizeof(data), "{\"n\":%llu,\"pad\":\"%.*s\"}", (unsigned long long)n,
		 (int)(n % 40), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	ev = event_new(span_str("model.rec"), span_str("model"), span_str(data));
	assert_non_null(ev);
	event_set_runner(ev, span_str("r"));
	ev->seq = n;
	ev->ts_ns = 1;
	return ev;
}

static uint32_t record_len(const struct event *ev)
{
	struct buffer b = { 0 };
	uint32_t len;

	assert_int_equal(spool_frame_append(&b, ev), 0);
	len = (uint32_t)b.len;
	buffer_free(&b);
	return len;
}

static void handed(struct model *m, uint64_t n)
{
	if ((int64_t)n <= m->last_seen)
		fail_msg("seed %u: record %llu read after %lld: out of order", seed,
			 (unsigned long long)n, (long long)m->last_seen);
	m->last_seen = (int64_t)n;
	m->seen_since_restart[n] = true;
	m->handed[m->nhanded++] = n;
}

static void append(struct model *m, struct spool *sp)
{
	struct event *ev = record(m->n);
	int rc = spool_append(sp, ev, rnd(2));

	assert_true(rc >= 0);
	m->len[m->n] = record_len(ev);
	m->state[m->n] = HELD;
	if (rc == 1)
		handed(m, m->n);
	m->n++;
	event_unref(ev);
}

static void read_one(struct model *m, struct spool *sp)
{
	struct event *ev = spool_next(sp);

	if (!ev)
		return;
	handed(m, ev->seq);
	event_unref(ev);
}

/* Settle one handed, unsettled record: by its ticket (any order) or the oldest by count. */
static void settle(struct model *m, struct spool *sp)
{
	uint64_t first = 0, pick;

	while (first < m->nhanded && m->settled[m->handed[first]])
		first++;
	if (first == m->nhanded)
		return;
	if (rnd(2)) {
		spool_settle_count(sp, 1);
		m->settled[m->handed[first]] = true;
		return;
	}
	pick = first + rnd(m->nhanded - first);
	if (m->settled[m->handed[pick]])
		return;
	spool_settle_ticket(sp, m->next_ticket0 + pick);
	m->settled[m->handed[pick]] = true;
}

static void flush(struct model *m, struct spool *sp)
{
	struct error err = { 0 };

	assert_int_equal(spool_flush(sp, &err), 0);
	for (uint64_t i = 0; i < m->n; i++)
		if (m->state[i] == HELD)
			m->state[i] = ON_DISK;
}

/* The newest segment file, and its size. */
static int last_segment(char *path, size_t n, off_t *size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char best[256] = "";
	struct stat st;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".seg") && strcmp(e->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", e->d_name);
	closedir(d);
	if (!best[0])
		return -1;
	snprintf(path, n, "%s/%s", dir, best);
	if (stat(path, &st) < 0)
		return -1;
	*size = st.st_size;
	return 0;
}

/* kill -9: what was held is lost; sometimes the last record on disk is torn at a random byte. */
static struct spool *crash(struct model *m, struct spool *sp)
{
	char path[512];
	off_t size;
	int64_t last = -1;

	spool_crash(sp);
	for (uint64_t i = 0; i < m->n; i++) {
		if (m->state[i] == HELD)
			m->state[i] = LOST_IN_CRASH;
		if (m->state[i] == ON_DISK)
			last = (int64_t)i;
	}
	if (last >= 0 && rnd(2) && last_segment(path, sizeof(path), &size) == 0 &&
	    size >= m->len[last]) {
		off_t cut = size - m->len[last] + 1 + (off_t)rnd(m->len[last] - 1);

		assert_int_equal(truncate(path, cut), 0);
		m->state[last] = TORN;
	}
	memset(m->seen_since_restart, 0, sizeof(m->seen_since_restart));
	m->nhanded = 0;
	m->last_seen = -1;
	sp = open_spool();
	m->next_ticket0 = spool_next_ticket(sp);
	return sp;
}

/* Read everything left and check: each record on disk and not settled came back. */
static void check_all_delivered(struct model *m, struct spool *sp)
{
	struct event *ev;

	while ((ev = spool_next(sp))) {
		handed(m, ev->seq);
		event_unref(ev);
	}
	for (uint64_t i = 0; i < m->n; i++)
		if (m->state[i] == ON_DISK && !m->settled[i] && !m->seen_since_restart[i])
			fail_msg("seed %u: record %llu was on disk, never settled, and not read "
				 "back",
				 seed, (unsigned long long)i);
}

static void test_model(void **state)
{
	struct model *m = calloc(1, sizeof(*m));
	struct spool *sp;
	const char *env = getenv("SPOOL_MODEL_SEED");

	(void)state;
	seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
	printf("spool model: seed %u (SPOOL_MODEL_SEED=%u repeats it)\n", seed, seed);
	assert_non_null(mkdtemp(dir));
	assert_non_null(m);
	m->last_seen = -1;
	sp = open_spool();
	for (int step = 0; step < STEPS && m->n < MAX_RECORDS - 10; step++) {
		uint64_t op = rnd(100);

		if (op < 40)
			append(m, sp);
		else if (op < 60)
			read_one(m, sp);
		else if (op < 85)
			settle(m, sp);
		else if (op < 97)
			flush(m, sp);
		else if (op < 99)
			sp = crash(m, sp);
		else {
			/* A clean restart: close writes everything. */
			flush(m, sp);
			sp = crash(m, sp);
		}
		/* A record lost in a crash must not come back (it never reached the disk). */
	}
	flush(m, sp);
	sp = crash(m, sp);
	check_all_delivered(m, sp);
	spool_close(sp);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
	free(m);
}

/* A corrupt record in the middle is skipped and counted; those around it come back. */
static void test_corrupt_record_skipped(void **state)
{
	char d[] = "/tmp/collector-spool-corrupt.XXXXXX", path[512];
	struct spool_config cfg = { .max_bytes = 1 << 20, .fsync = SPOOL_FSYNC_NONE };
	struct error err = { 0 };
	struct spool *sp;
	struct event *ev;
	uint32_t len[3];
	int fd, got = 0;
	char byte;

	(void)state;
	assert_non_null(mkdtemp(d));
	cfg.dir = d;
	sp = spool_open(&cfg, &err);
	assert_non_null(sp);
	for (uint64_t i = 0; i < 3; i++) {
		ev = record(i);
		len[i] = record_len(ev);
		assert_int_equal(spool_append(sp, ev, false), 0);
		event_unref(ev);
	}
	spool_close(sp);
	/* Flip a byte in the second record's data. */
	snprintf(path, sizeof(path), "%s/0000000000000000.seg", d);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &byte, 1, len[0] + len[1] - 3), 1);
	byte ^= 0x20;
	assert_int_equal(pwrite(fd, &byte, 1, len[0] + len[1] - 3), 1);
	close(fd);
	sp = spool_open(&cfg, &err);
	assert_non_null(sp);
	while ((ev = spool_next(sp))) {
		assert_int_equal(ev->seq, got == 0 ? 0 : 2);
		got++;
		event_unref(ev);
	}
	assert_int_equal(got, 2);
	assert_int_equal(spool_stats(sp)->corrupt, 1);
	spool_close(sp);
	snprintf(path, sizeof(path), "rm -rf %s", d);
	assert_int_equal(system(path), 0);
}

/* A second open of the same directory is refused while the first holds it. */
static void test_lock(void **state)
{
	char d[] = "/tmp/collector-spool-lock.XXXXXX", cmd[128];
	struct spool_config cfg = { .max_bytes = 1 << 20 };
	struct error err = { 0 };
	struct spool *a, *b;

	(void)state;
	assert_non_null(mkdtemp(d));
	cfg.dir = d;
	a = spool_open(&cfg, &err);
	assert_non_null(a);
	b = spool_open(&cfg, &err);
	assert_null(b);
	assert_non_null(strstr(err.msg, "in use by another collector"));
	spool_close(a);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", d);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_corrupt_record_skipped),
		cmocka_unit_test(test_lock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
