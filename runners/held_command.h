/* A command forked and held before its exec until tracing is ready, as bpftrace -c starts one. */
#ifndef RUNNERS_HELD_COMMAND_H
#define RUNNERS_HELD_COMMAND_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include <ev.h>

#include <collector/error.h>

struct held_command {
	struct ev_loop *loop;
	ev_child watcher;
	pid_t pid;  /* -1 before the start and once reaped */
	int go_fd;  /* write end: a byte releases the exec, closing it without one cancels */
	int status; /* wait status once ended */
	void (*on_end)(void *arg);
	void *arg;
	char path[PATH_MAX]; /* the program, found in PATH once: no failed execs of ours traced */
};

void held_command_init(struct held_command *h, struct ev_loop *loop, void (*on_end)(void *arg),
		       void *arg);

/*
 * Look @argv[0] up in PATH as execvp would, into @h: a command that cannot run is
 * a bad command line, said before anything starts. @return 0 or a negative code with @err.
 */
int held_command_find(struct held_command *h, char *const *argv, struct error *err);

/*
 * Fork the command with the collector's stdin, stdout and stderr; it waits for
 * held_command_release() before its exec. @return 0 or a negative code with @err.
 */
int held_command_start(struct held_command *h, char *const *argv, struct error *err);

/* Let the command exec (once). */
void held_command_release(struct held_command *h);

/* Send @sig to the command if it runs. */
void held_command_signal(struct held_command *h, int sig);

/* Cancel a held command, kill a running one, and reap it. */
void held_command_free(struct held_command *h);

#endif
