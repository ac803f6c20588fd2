/* Spawning children with fork and exec: pipes, own process group, clean signals, death with us. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <collector/child.h>

extern char **environ;

/* Bigger pipes mean fewer wake-ups under floods: the reader takes a whole pipe per read. */
#define CHILD_PIPE_SIZE (1 << 20)
/* Below this the kernel's default (64 KiB) stays. */
#define CHILD_PIPE_MIN (128 << 10)

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

/*
 * A tuning, not a contract: past /proc/sys/fs/pipe-max-size (unprivileged) or
 * over the user's pipe-user-pages quota the kernel refuses (EPERM), and the
 * next smaller size is tried; failing all, the default pipe stays.
 */
static void grow_pipe(int fd)
{
	for (int size = CHILD_PIPE_SIZE; size >= CHILD_PIPE_MIN; size /= 2)
		if (fcntl(fd, F_SETPIPE_SZ, size) >= 0)
			return;
}

/* dup2 that also clears close-on-exec when @p from already is @p to. */
static int move_fd(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) < 0 ? -1 : 0;
}

/* Write our pid into each cgroup.procs descriptor: async-signal-safe. */
static int join_cgroups(const struct child_spec *spec)
{
	char digits[16], *p = digits + sizeof(digits);
	unsigned pid = (unsigned)getpid();

	do {
		*--p = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid);
	for (int i = 0; i < spec->njoin; i++)
		if (write(spec->join_fds[i], p, (size_t)(digits + sizeof(digits) - p)) < 0)
			return -1;
	return 0;
}

/*
 * In the forked child: only async-signal-safe calls until exec. It dies with
 * the collector (PR_SET_PDEATHSIG; the getppid() check covers a parent that
 * died before the prctl), and its errno goes back on @p status_w when it fails.
 */
static _Noreturn void run_child(const struct child_spec *spec, pid_t parent, int fds[3],
				int status_w)
{
	sigset_t none;
	int e;

	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setpgid(0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		goto fail;
	if (getppid() != parent)
		_exit(127);
	if (join_cgroups(spec) < 0)
		goto fail;
	for (int i = 0; i < 3; i++)
		if (move_fd(fds[i], i) < 0)
			goto fail;
	/* Nothing of the collector's leaks into the child, whatever its flags. */
	if (child_close_private_fds() < 0)
		goto fail;
	if (spec->cwd && chdir(spec->cwd) < 0)
		goto fail;
	execvpe(spec->argv[0], spec->argv, spec->envp ? spec->envp : environ);
fail:
	e = errno;
	if (write(status_w, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

/* Fork with every signal blocked, so no handler of ours runs in the child. */
static int fork_child(const struct child_spec *spec, int fds[3], pid_t *pid, struct error *err)
{
	int st[2] = { -1, -1 }, child_errno = 0, rc = 0;
	pid_t parent = getpid();
	sigset_t all, old;

	if (make_pipe(st, 0, err) < 0)
		return -err->code;
	fcntl(st[0], F_SETFL, 0);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	*pid = fork();
	if (*pid == 0)
		run_child(spec, parent, fds, st[1]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(st[1]);
	if (*pid < 0) {
		rc = error_set(err, errno, "fork: %s", strerror(errno));
	} else if (read(st[0], &child_errno, sizeof(child_errno)) == sizeof(child_errno)) {
		/* The status pipe closes on exec; bytes on it mean the exec failed. */
		waitpid(*pid, NULL, 0);
		*pid = -1;
		rc = error_set(err, child_errno, "cannot run '%s': %s", spec->argv[0],
			       strerror(child_errno));
	} else {
		/* Also from here, so a kill(-pid) right away cannot miss the group. */
		setpgid(*pid, *pid);
	}
	close(st[0]);
	return rc;
}

int child_spawn(const struct child_spec *spec, struct child *out, struct error *err)
{
	int in[2] = { -1, -1 }, o[2] = { -1, -1 }, e[2] = { -1, -1 };
	int null_fd = -1, fds[3];
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
	if (!spec->stdin_pipe && (null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		rc = error_set(err, errno, "open /dev/null: %s", strerror(errno));
		goto fail;
	}
	grow_pipe(o[0]);
	fds[0] = spec->stdin_pipe ? in[0] : null_fd;
	fds[1] = o[1];
	fds[2] = e[1];
	rc = fork_child(spec, fds, &out->pid, err);
	close_fd(&null_fd);
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

/* Field 5 of /proc/PID/stat is the process group; the state (field 3) tells a zombie. */
static bool in_group(const char *pid, pid_t pgid)
{
	char path[64], buf[512], *end;
	const char *close_paren;
	char state;
	long pgrp;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "PID (COMM) STATE PPID PGRP ...": COMM may hold anything, so from the last ')'. */
	close_paren = strrchr(buf, ')');
	if (!close_paren || close_paren[1] != ' ' || !close_paren[2])
		return false;
	state = close_paren[2];
	strtol(close_paren + 3, &end, 10);
	pgrp = strtol(end, &end, 10);
	if (*end != ' ')
		return false;
	return pgrp == pgid && state != 'Z' && state != 'X';
}

int child_group_size(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' && in_group(de->d_name, pgid))
			n++;
	closedir(d);
	return n;
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
