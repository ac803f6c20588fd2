/* The signals the loop handles, held by the process while the loop is not running. */
#ifndef COLLECTOR_SIGNAL_HOLD_H
#define COLLECTOR_SIGNAL_HOLD_H

#include <signal.h>
#include <stdbool.h>

/*
 * Catch SIGINT, SIGTERM, SIGHUP and SIGUSR1 with a handler that only notes
 * them: none of them may take its default action (the end of the process)
 * before the loop's watchers are up or after they are stopped. A handler, not
 * SIG_IGN or a blocked mask, so children get the defaults back at exec.
 */
void signal_hold(void);

/*
 * Block the held signals around a change of their handlers (libev's
 * ev_signal_stop() sets SIG_DFL before signal_hold() can take over).
 * @old receives the mask to give back to signal_unblock().
 */
void signal_block(sigset_t *old);

/* Restore the mask signal_block() saved. */
void signal_unblock(const sigset_t *old);

/* Whether @sig arrived while held since the last call; clears the note. */
bool signal_take(int sig);

#endif
