/**
 * @file
 * The two clocks: wall time for timestamps that are reported, monotonic time
 * for every duration (an NTP step or a date change moves the wall clock).
 */
#ifndef COLLECTOR_CLOCK_H
#define COLLECTOR_CLOCK_H

#include <stdint.h>
#include <time.h>

/** Nanoseconds since the Unix epoch (CLOCK_REALTIME): for ts, start and end times. */
static inline int64_t clock_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/** Nanoseconds of CLOCK_MONOTONIC: subtract two of them for a duration. */
static inline int64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
