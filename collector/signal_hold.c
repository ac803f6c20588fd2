/* Holding the loop's signals outside the loop, so a badly timed one never ends the process. */
#include <stddef.h>

#include "signal_hold.h"

static const int held[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
static volatile sig_atomic_t noted[sizeof(held) / sizeof(held[0])];

static void on_held(int sig)
{
	for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		if (held[i] == sig)
			noted[i] = 1;
}

void signal_hold(void)
{
	struct sigaction sa = { .sa_handler = on_held, .sa_flags = SA_RESTART };

	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		sigaction(held[i], &sa, NULL);
}

void signal_block(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		sigaddset(&set, held[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

void signal_unblock(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

bool signal_take(int sig)
{
	for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++) {
		if (held[i] == sig && noted[i]) {
			noted[i] = 0;
			return true;
		}
	}
	return false;
}
