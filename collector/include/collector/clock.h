/**
 * @file
 * The two clocks: wall time for timestamps that are reported, monotonic time
 * for every duration (an NTP step or a date change moves the wall clock).
 */
#ifndef COLLECTOR_CLOCK_H
#define COLLECTOR_CLOCK_H

#include <stdint.h>
#include <time.h>

/**
 * Wall time, for ts, start and end times.
 * @return nanoseconds since the Unix epoch (CLOCK_REALTIME).
 */
static inline int64_t clock_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/**
 * Monotonic time: subtract two readings for a duration.
 * @return nanoseconds of CLOCK_MONOTONIC.
 */
static inline int64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
