/**
 * @file
 * Spawning a child process with pipes in its own process group.
 */
#ifndef COLLECTOR_CHILD_H
#define COLLECTOR_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#include <collector/error.h>

/** How to start a child. */
struct child_spec {
	char *const *argv; /**< argv[0] is looked up in PATH; no shell */
	char *const *envp; /**< environment, or NULL to inherit */
	const char *cwd;   /**< working directory, or NULL */
	bool stdin_pipe;   /**< give the child a pipe as stdin (else /dev/null) */
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
 * Start @p spec->argv in a new process group with default signal handling
 * and an empty signal mask.
 * @return 0, or a negative code with @p err filled (ENOENT for a command
 *         that does not exist, EACCES when it is not executable, ...).
 */
int child_spawn(const struct child_spec *spec, struct child *out, struct error *err);

/** Send @p sig to the child's whole process group. @return 0 or -errno. */
int child_kill_group(const struct child *c, int sig);

/** Close the pipe fds still open and set them to -1. */
void child_close_pipes(struct child *c);

/** The name of signal @p sig ("SIGSEGV"), or "SIG<n>" in @p buf. */
const char *signal_name(int sig, char buf[16]);

#endif
