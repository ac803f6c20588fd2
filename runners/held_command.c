/* A command forked and held before its exec until tracing is ready, as bpftrace -c starts one. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <collector/child.h>

#include "held_command.h"

static void on_child(struct ev_loop *loop, ev_child *w, int revents)
{
	struct held_command *h = w->data;

	(void)revents;
	ev_child_stop(loop, w);
	h->status = w->rstatus;
	h->pid = -1;
	if (h->on_end)
		h->on_end(h->arg);
}

void held_command_init(struct held_command *h, struct ev_loop *loop, void (*on_end)(void *arg),
		       void *arg)
{
	*h = (struct held_command){
		.loop = loop, .pid = -1, .go_fd = -1, .on_end = on_end, .arg = arg
	};
	ev_child_init(&h->watcher, on_child, 0, 0);
	h->watcher.data = h;
}

int held_command_find(struct held_command *h, char *const *argv, struct error *err)
{
	const char *path = getenv("PATH");

	if (strchr(argv[0], '/')) {
		snprintf(h->path, sizeof(h->path), "%s", argv[0]);
		return access(h->path, X_OK) == 0 ? 0 :
						    error_set(err, errno, "cannot run '%s': %s",
							      argv[0], strerror(errno));
	}
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(h->path, sizeof(h->path), "%.*s/%s", (int)n, n ? p : ".", argv[0]);
		if (access(h->path, X_OK) == 0)
			return 0;
		p += n + (p[n] == ':');
	}
	return error_set(err, ENOENT, "cannot run '%s': not found in PATH", argv[0]);
}

/* In the forked child: signals as a fresh process has them, wait for the word, exec. */
static _Noreturn void run_held(const char *path, char *const *argv, int go_r, pid_t parent)
{
	sigset_t none;
	char go;

	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Held or running, it does not outlive the collector that traces it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	child_close_private_fds();
	if (read(go_r, &go, 1) != 1)
		_exit(127); /* canceled: tracing never began */
	execv(path, argv);
	dprintf(STDERR_FILENO, "collector: cannot run '%s': %s\n", argv[0], strerror(errno));
	_exit(127);
}

int held_command_start(struct held_command *h, char *const *argv, struct error *err)
{
	int go[2];
	pid_t parent = getpid();
	sigset_t all, old;

	if (pipe2(go, O_CLOEXEC) < 0)
		return error_set(err, errno, "pipe: %s", strerror(errno));
	/* No handler of ours may run in the child before it resets them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	h->pid = fork();
	if (h->pid == 0)
		run_held(h->path, argv, go[0], parent);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(go[0]);
	if (h->pid < 0) {
		close(go[1]);
		return error_set(err, errno, "fork: %s", strerror(errno));
	}
	h->go_fd = go[1];
	ev_child_set(&h->watcher, h->pid, 0);
	ev_child_start(h->loop, &h->watcher);
	return 0;
}

void held_command_release(struct held_command *h)
{
	if (h->go_fd < 0)
		return;
	if (write(h->go_fd, "g", 1) < 0)
		held_command_signal(h, SIGKILL); /* it cannot be told: it must not run untraced */
	close(h->go_fd);
	h->go_fd = -1;
}

void held_command_signal(struct held_command *h, int sig)
{
	if (h->pid > 0)
		kill(h->pid, sig);
}

void held_command_free(struct held_command *h)
{
	if (h->go_fd >= 0) {
		close(h->go_fd);
		h->go_fd = -1;
	}
	if (h->pid > 0) {
		ev_child_stop(h->loop, &h->watcher);
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
		h->pid = -1;
	}
}
