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

/* Every pair of base32 digits ("00" to "ZZ"): one lookup writes two characters. */
#define ULID_ROW(c)                                                                           \
	c "0" c "1" c "2" c "3" c "4" c "5" c "6" c "7" c "8" c "9" c "A" c "B" c "C" c "D" c \
	  "E" c "F" c "G" c "H" c "J" c "K" c "M" c "N" c "P" c "Q" c "R" c "S" c "T" c "V" c \
	  "W" c "X" c "Y" c "Z"
static const char digit_pairs[] = ULID_ROW("0") ULID_ROW("1") ULID_ROW("2") ULID_ROW("3")
	ULID_ROW("4") ULID_ROW("5") ULID_ROW("6") ULID_ROW("7") ULID_ROW("8") ULID_ROW("9")
		ULID_ROW("A") ULID_ROW("B") ULID_ROW("C") ULID_ROW("D") ULID_ROW("E") ULID_ROW("F")
			ULID_ROW("G") ULID_ROW("H") ULID_ROW("J") ULID_ROW("K") ULID_ROW("M")
				ULID_ROW("N") ULID_ROW("P") ULID_ROW("Q") ULID_ROW("R")
					ULID_ROW("S") ULID_ROW("T") ULID_ROW("V") ULID_ROW("W")
						ULID_ROW("X") ULID_ROW("Y") ULID_ROW("Z");

/* The @p j th pair of digits: the ten bits of @p v from bit @p shift up. */
static void put_pair(char *out, size_t j, uint64_t v, unsigned shift)
{
	memcpy(out + 2 * j, digit_pairs + 2 * (size_t)(v >> shift & 1023), 2);
}

/*
 * 128 bits as 26 five-bit digits, most significant first (two leading zero
 * bits), two digits (ten bits) at a time: six pairs from the high word, one
 * across both words, six from the low one. Every event's id goes through here
 * on its way to a sink.
 */
void event_id_text(const struct event *ev, char out[EVENT_ID_TEXT + 1])
{
	uint64_t hi = be64(ev->id), lo = be64(ev->id + 8);

#pragma GCC unroll 6
	for (unsigned j = 0; j < 6; j++)
		put_pair(out, j, hi, 56 - 10 * j);
	put_pair(out, 6, (hi << 4) | (lo >> 60), 0);
#pragma GCC unroll 6
	for (unsigned j = 7; j < 13; j++)
		put_pair(out, j, lo, 120 - 10 * j);
	out[EVENT_ID_TEXT] = '\0';
}
