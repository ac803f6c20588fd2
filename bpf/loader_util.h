/* What every BPF loader shares: JSON output, signals, clocks, failure reports. */
#ifndef COLLECTOR_BPF_LOADER_UTIL_H
#define COLLECTOR_BPF_LOADER_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <yajl/yajl_gen.h>

#include <collector/error.h>

struct ring_buffer;

/* JSON lines to stdout, buffered and written once per ring-buffer batch. */
/* A loader's default bound on how long a printed line may wait for the pipe. */
#define LOADER_FLUSH_MS 10

struct loader_out {
	yajl_gen gen;
	char *buf;
	size_t len, cap;
	bool failed;  /* stdout is gone: stop */
	int flush_ms; /* lines wait at most this long (0: flush after every batch) */
};

struct loader_error {
	char msg[256];
};

int loader_out_init(struct loader_out *o);
void loader_out_free(struct loader_out *o);
/* Start one JSON object; the generator is returned for its members. */
yajl_gen loader_begin(struct loader_out *o);
/* Close the object and end the line. */
void loader_end(struct loader_out *o);
/* Write what is buffered. @return 0 or -errno. */
int loader_flush(struct loader_out *o);

void loader_gen_str(yajl_gen g, const char *key, const char *value);
void loader_gen_strn(yajl_gen g, const char *key, const char *value, size_t len);
void loader_gen_int(yajl_gen g, const char *key, long long value);

/* libbpf logging (warnings only unless @p verbose), SIGINT/SIGTERM, parent death. */
void loader_setup(bool verbose);

/* Add to a CLOCK_BOOTTIME reading (what BPF gives) to get wall-clock ns. */
long long loader_boot_to_wall_ns(void);

/* A --pid that names no process is refused before anything loads (0: no --pid). */
int loader_check_pid(pid_t pid, struct error *err);

/* The pids of the descendants of @p root now running; @return their count. */
int loader_descendants(pid_t root, pid_t *pids, int max);

/* Format a message into @p e. @return -1. */
int loader_fail(struct loader_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A loader's verdict on stderr starts with this: the runner shows that one line as its
 * error, and libbpf's own lines ("libbpf: ...") only at --log-level debug.
 */
#define LOADER_ERROR_PREFIX "error: "

/* Print the verdict: one line, the cause and the fix. */
void loader_verdict(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Say in one verdict line why loading failed: the likeliest missing piece and its fix. */
void loader_explain_failure(const char *what, int err);

/* Print {"type":"ready","loader":NAME}: tracing has begun. */
void loader_ready(struct loader_out *o, const char *name);

/*
 * Poll @p rb until SIGINT/SIGTERM or until stdout goes away, calling
 * @p after_batch (may be NULL) after each batch. Output is written once
 * @c flush_ms passed since its first line, or 64 KiB are pending: under a
 * burst the reader wakes once per many events instead of once per event.
 * @return 0, or 1 on a polling error.
 */
int loader_poll(struct ring_buffer *rb, struct loader_out *o, void (*after_batch)(void *),
		void *arg);

/*
 * For a loader whose ring buffer another process reads: wait until SIGINT/SIGTERM
 * or until stdout goes away, calling @p tick every @p period_ms and writing what
 * it printed. @return 0.
 */
int loader_wait(struct loader_out *o, int period_ms, void (*tick)(void *), void *arg);

/* Longest wait of loader_poll_paced for a wake-up before it looks at the ring buffer anyway. */
#define LOADER_IDLE_POLL_MS 100

/*
 * Like loader_poll, with one wake-up per @c flush_ms under a steady stream
 * instead of one per event. The BPF program submits with BPF_RB_NO_WAKEUP
 * unless *@p reader_waiting (a variable of its mmap'ed .bss) is set, and then
 * clears it and forces the wake-up. Idle, the loader sets the flag and
 * sleeps in poll; woken by an event, it sleeps @c flush_ms at a time, each
 * time taking and writing whatever gathered, until a pass finds nothing and
 * it is idle again. A line waits at most @c flush_ms, or LOADER_IDLE_POLL_MS
 * in the narrow race where an event read the flag right before it was set
 * and commits right after the loader's last look.
 * With @c flush_ms 0 every batch asks for a wake-up and is written at once.
 * @return 0, or 1 on a polling error.
 */
int loader_poll_paced(struct ring_buffer *rb, struct loader_out *o, unsigned int *reader_waiting,
		      void (*after_batch)(void *), void *arg);

#endif
