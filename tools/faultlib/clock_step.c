/*
 * A test shim for LD_PRELOAD: CLOCK_REALTIME reads CLOCK_STEP_S seconds off
 * once the file CLOCK_STEP_FILE exists, as after an NTP step or `date -s`;
 * the other clocks are untouched. The real clock cannot be stepped in a test.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);
	const char *file = getenv("CLOCK_STEP_FILE"), *step = getenv("CLOCK_STEP_S");
	int rc;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "clock_gettime");
	rc = real(id, ts);
	if (rc == 0 && id == CLOCK_REALTIME && file && step && access(file, F_OK) == 0)
		ts->tv_sec += atol(step);
	return rc;
}
