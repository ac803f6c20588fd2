/**
 * @file
 * Spawning a child process with pipes in its own process group; it dies
 * with the collector (PR_SET_PDEATHSIG SIGKILL, tied to the spawning thread).
 */
#ifndef COLLECTOR_CHILD_H
#define COLLECTOR_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#include <collector/error.h>

/** How to start a child; the caller keeps ownership of every pointer. */
struct child_spec {
	char *const *argv;   /**< argv[0] is looked up in PATH; no shell */
	char *const *envp;   /**< environment, or NULL to inherit */
	const char *cwd;     /**< working directory, or NULL */
	bool stdin_pipe;     /**< give the child a pipe as stdin (else /dev/null) */
	const int *join_fds; /**< cgroup.procs descriptors the child joins before exec */
	int njoin;	     /**< how many join_fds */
};

/**
 * A running child. The spawner owns the pipe fds (non-blocking, close-on-exec,
 * -1 when absent) and must reap the pid.
 */
struct child {
	pid_t pid;  /**< also the process group id */
	int in_fd;  /**< write end of the child's stdin, or -1 */
	int out_fd; /**< read end of the child's stdout */
	int err_fd; /**< read end of the child's stderr */
};

/**
 * Start @p spec->argv in a new process group with default signal handling,
 * an empty signal mask, no descriptor of ours beyond 0-2, and SIGKILL as its
 * parent-death signal.
 * @param spec what to run
 * @param out filled on success; the caller then owns its fds and pid
 * @param err filled on failure (may be NULL)
 * @return 0, or a negative code with @p err filled (ENOENT for a command
 *         that does not exist, EACCES when it is not executable, ...);
 *         nothing is left open then.
 */
int child_spawn(const struct child_spec *spec, struct child *out, struct error *err);

/** Descriptors from this one up are the collector's own: no child gets them. */
#define CHILD_FIRST_PRIVATE_FD 3

/**
 * For a child forked rather than spawned with child_spawn(), in the child
 * before exec (async-signal-safe): every descriptor from
 * CHILD_FIRST_PRIVATE_FD up closes at exec, whatever its flags, as
 * child_spawn() does for its children.
 * @return 0, or -errno (then the child must not exec).
 */
int child_close_private_fds(void);

/**
 * Send @p sig to the child's whole process group.
 * @param c the child
 * @param sig the signal number
 * @return 0, -ESRCH when @p c has no pid, or -errno from kill(2).
 */
int child_kill_group(const struct child *c, int sig);

/**
 * Count the live processes in the process group @p pgid (a /proc scan).
 * @param pgid the group
 * @return how many, 0 when none or /proc cannot be read.
 */
int child_group_size(pid_t pgid);

/**
 * Close the pipe fds still open and set them to -1.
 * @param c the child
 */
void child_close_pipes(struct child *c);

/**
 * The name of a signal.
 * @param sig the signal number
 * @param buf where the name is written
 * @return @p buf, holding "SIGSEGV", or "SIG<n>" for a number without a name.
 */
const char *signal_name(int sig, char buf[16]);

#endif
