/* Spawning children with posix_spawn: pipes, own process group, clean signals. */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <collector/child.h>

extern char **environ;

/* Bigger pipes mean fewer wake-ups under floods; the kernel may refuse. */
#define CHILD_PIPE_SIZE (1 << 20)

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static int make_pipe(int fds[2], int parent_end, struct error *err)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return error_set(err, errno, "pipe: %s", strerror(errno));
	if (fcntl(fds[parent_end], F_SETFL, O_NONBLOCK) < 0) {
		int e = errno;

		close(fds[0]);
		close(fds[1]);
		return error_set(err, e, "fcntl: %s", strerror(e));
	}
	return 0;
}

static int spawn_with(const struct child_spec *spec, posix_spawn_file_actions_t *fa,
		      posix_spawnattr_t *attr, pid_t *pid, struct error *err)
{
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					       POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(attr, 0);
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &all);
	if (spec->cwd)
		posix_spawn_file_actions_addchdir_np(fa, spec->cwd);
	rc = posix_spawnp(pid, spec->argv[0], fa, attr, spec->argv,
			  spec->envp ? spec->envp : environ);
	if (rc != 0)
		return error_set(err, rc, "cannot run '%s': %s", spec->argv[0], strerror(rc));
	return 0;
}

int child_spawn(const struct child_spec *spec, struct child *out, struct error *err)
{
	int in[2] = { -1, -1 }, o[2] = { -1, -1 }, e[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int rc;

	*out = (struct child){ .pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1 };
	if (!spec->argv || !spec->argv[0])
		return error_set(err, EINVAL, "no command given");
	if ((rc = make_pipe(o, 0, err)) < 0)
		return rc;
	if ((rc = make_pipe(e, 0, err)) < 0)
		goto fail;
	if (spec->stdin_pipe && (rc = make_pipe(in, 1, err)) < 0)
		goto fail;
	fcntl(o[0], F_SETPIPE_SZ, CHILD_PIPE_SIZE);

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	if (spec->stdin_pipe)
		posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, o[1], 1);
	posix_spawn_file_actions_adddup2(&fa, e[1], 2);
	/* Nothing of the collector's leaks into the child, whatever its flags. */
	posix_spawn_file_actions_addclosefrom_np(&fa, CHILD_FIRST_PRIVATE_FD);
	rc = spawn_with(spec, &fa, &attr, &out->pid, err);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc < 0)
		goto fail;

	close_fd(&o[1]);
	close_fd(&e[1]);
	close_fd(&in[0]);
	out->out_fd = o[0];
	out->err_fd = e[0];
	out->in_fd = in[1];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&o[i]);
		close_fd(&e[i]);
	}
	return rc;
}

int child_close_private_fds(void)
{
	/* Close-on-exec rather than closed: what the caller needs until exec stays usable. */
	return close_range(CHILD_FIRST_PRIVATE_FD, ~0U, CLOSE_RANGE_CLOEXEC) < 0 ? -errno : 0;
}

int child_kill_group(const struct child *c, int sig)
{
	if (c->pid <= 0)
		return -ESRCH;
	return kill(-c->pid, sig) < 0 ? -errno : 0;
}

void child_close_pipes(struct child *c)
{
	close_fd(&c->in_fd);
	close_fd(&c->out_fd);
	close_fd(&c->err_fd);
}

const char *signal_name(int sig, char buf[16])
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, 16, "SIG%s", abbrev);
	else
		snprintf(buf, 16, "SIG%d", sig);
	return buf;
}
