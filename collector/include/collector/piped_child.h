/* A child process whose stdout and stderr are read as lines on the event loop. */
#ifndef COLLECTOR_PIPED_CHILD_H
#define COLLECTOR_PIPED_CHILD_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include <collector/child.h>
#include <collector/error.h>
#include <collector/line_framer.h>

/** What a piped child tells its owner. */
struct piped_child_ops {
	/**
	 * May another line be delivered now? While false the child's pipes are
	 * not read (backpressure) until piped_child_resume().
	 */
	bool (*can_take)(void *arg);
	/** One line of stdout or (@p is_stderr) stderr; valid during the call. */
	void (*on_line)(void *arg, bool is_stderr, const struct line *l);
	/** Reading a pipe failed with @p err (negative errno); the stream ends. */
	void (*on_read_error)(void *arg, bool is_stderr, int err);
	/**
	 * The child was reaped and both pipes are drained (or cut at the drain
	 * bound): the run is over.
	 */
	void (*on_end)(void *arg);
	/**
	 * Optional: send @p sig to every process of the child's tree beyond its
	 * process group (its cgroup) and return how many there were, or -1 when
	 * there is no such set (the process group is counted then).
	 */
	int (*signal_tree)(void *arg, int sig);
};

/** After the child exits, how long its pipes may stay open before they are read dry and closed. */
#define PIPED_CHILD_DRAIN_MS 500

/** One stream of a piped child; private. */
struct piped_stream {
	struct piped_child *pc;	   /**< the child this stream belongs to */
	struct line_framer framer; /**< splits the pipe's bytes into lines */
	ev_io io;		   /**< read watcher on the pipe */
	bool open;		   /**< the pipe has not reached EOF or failed */
	bool is_stderr;		   /**< stderr rather than stdout */
};

/**
 * The child, its two line streams, and its watchers. Fields are read-only for
 * the owner; wait_status, timed_out and start/end times describe the last run.
 */
struct piped_child {
	struct ev_loop *loop;		   /**< the loop its watchers run on */
	const struct piped_child_ops *ops; /**< the owner's callbacks */
	void *arg;			   /**< passed to every callback */
	struct child child;		   /**< pid -1 when none */
	bool alive;			   /**< started and not yet reaped */
	bool running;			   /**< between start and on_end */
	bool paused;			   /**< not reading because can_take() said no */
	bool timed_out;			   /**< the timeout stopped this run */
	bool drained;			   /**< past the drain bound after the exit */
	bool cut;			   /**< a pipe was closed while a process still held it */
	int left;			   /**< processes of its tree alive at its exit (killed) */
	int wait_status;		   /**< waitpid() status of the last run */
	int64_t start_ns;		   /**< CLOCK_REALTIME of the start */
	int64_t start_mono_ns;		   /**< CLOCK_MONOTONIC of the start, for durations */
	int64_t grace_ns;		   /**< SIGTERM to SIGKILL */
	struct piped_stream out;	   /**< stdout */
	struct piped_stream err;	   /**< stderr */
	ev_child child_w;		   /**< reaps the child */
	ev_timer timeout_w;		   /**< the run's timeout */
	ev_timer kill_w;		   /**< SIGKILL after the grace period */
	ev_timer drain_w;		   /**< the drain bound after the exit */
};

/**
 * Prepare @p pc for lines of at most @p max_line bytes.
 * @return 0 or a negative code with @p err (ENOMEM).
 */
int piped_child_init(struct piped_child *pc, struct ev_loop *loop, size_t max_line,
		     const struct piped_child_ops *ops, void *arg, struct error *err);

/**
 * Start a run of @p spec; stop it with SIGTERM then SIGKILL (after
 * @p grace_ns) when @p timeout_ns (0: none) passes.
 * @return 0, or a negative code with @p err when it could not be started.
 */
int piped_child_start(struct piped_child *pc, const struct child_spec *spec, int64_t timeout_ns,
		      int64_t grace_ns, struct error *err);

/** SIGTERM to the child's tree (process group, cgroup), SIGKILL after the grace period. */
void piped_child_terminate(struct piped_child *pc);

/** Read again after can_take() said no. */
void piped_child_resume(struct piped_child *pc);

/** Kill and reap a running child, close the pipes, free the buffers. */
void piped_child_free(struct piped_child *pc);

#endif
