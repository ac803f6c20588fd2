/* Event ids: ULIDs (time in ms + 80 random bits) so consumers can drop at-least-once duplicates. */
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <collector/event.h>

/* xoshiro256**: fast, seeded once from getrandom(); ids need uniqueness, not secrecy. */
static uint64_t state[4];
static int seeded;

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next(void)
{
	uint64_t r = rotl(state[1] * 5, 7) * 9, t = state[1] << 17;

	state[2] ^= state[0];
	state[3] ^= state[1];
	state[1] ^= state[2];
	state[0] ^= state[3];
	state[2] ^= t;
	state[3] = rotl(state[3], 45);
	return r;
}

static void seed(void)
{
	struct timespec ts;

	/* Without getrandom (never seen), time and address still differ per run. */
	if (getrandom(state, sizeof(state), 0) != (ssize_t)sizeof(state)) {
		clock_gettime(CLOCK_REALTIME, &ts);
		state[0] = (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&ts;
		state[1] = (uint64_t)ts.tv_sec * 0x9E3779B97F4A7C15ull;
		state[2] = (uint64_t)getpid();
	}
	state[3] |= 1;
	seeded = 1;
}

void event_id_new(struct event *ev)
{
	uint64_t ms = (uint64_t)(ev->ts_ns / 1000000), r1, r2;

	if (!seeded)
		seed();
	r1 = next();
	r2 = next();
	for (int i = 0; i < 6; i++)
		ev->id[i] = (uint8_t)(ms >> (40 - 8 * i));
	memcpy(ev->id + 6, &r1, 8);
	memcpy(ev->id + 14, &r2, 2);
	ev->flags |= EVENT_HAS_ID;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

/*
 * 128 bits as 26 five-bit digits, most significant first (two leading zero
 * bits): 13 digits from the high word, one across both words, 12 from the low
 * one. Written out without a branch per digit: every event's id goes through
 * here on its way to a sink.
 */
void event_id_text(const struct event *ev, char out[EVENT_ID_TEXT + 1])
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	uint64_t hi = be64(ev->id), lo = be64(ev->id + 8);

	for (int i = 0; i < 13; i++)
		out[i] = alphabet[(hi >> (61 - 5 * i)) & 31];
	out[13] = alphabet[((hi << 4) | (lo >> 60)) & 31];
	for (int i = 14; i < EVENT_ID_TEXT; i++)
		out[i] = alphabet[(lo >> (125 - 5 * i)) & 31];
	out[EVENT_ID_TEXT] = '\0';
}
