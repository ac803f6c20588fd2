/* An instance's child process: spawned in its sandbox (cgroup, tmpdir, user, rlimits, fds, environment), ended by SIGTERM then SIGKILL. */
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <collector/child.h>

#include "host.h"
#include "leftovers.h"

#define CHILD_PIPE_SIZE (1 << 20)

static int make_pipe(int fds[2], int parent_end)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fcntl(fds[parent_end], F_SETFL, O_NONBLOCK);
	return 0;
}

/* In the forked child: only async-signal-safe calls until exec. */
static void child_exec(struct algo_instance *in, pid_t host, int in_r, int out_w, int err_w,
		       int status_w, char **env)
{
	struct algorithm *a = in->host;
	const struct algo_limits *lim = &a->pkg.limits;
	sigset_t none;
	int e;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setpgid(0, 0);
	if (in->cg.ndirs && child_cgroup_join_self(&in->cg) < 0)
		goto fail;
	if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		goto fail;
	setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
	if (lim->max_open_files)
		setrlimit(RLIMIT_NOFILE, &(struct rlimit){ (rlim_t)lim->max_open_files,
							   (rlim_t)lim->max_open_files });
	if (a->has_user && (setgroups(0, NULL) < 0 || setgid(a->gid) < 0 || setuid(a->uid) < 0))
		goto fail;
	/*
	 * Dies with the host, even by SIGKILL. After setuid(), which clears it. It
	 * fires when the forking *thread* ends: that is the loop's, which lives as
	 * long as the host. A host already gone before prctl() is seen by the check.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != host)
		goto fail;
	/* Only stdin, stdout and stderr reach the package (status_w closes at exec). */
	if (child_close_private_fds() < 0)
		goto fail;
	if (chdir(a->pkg.workdir) < 0)
		goto fail;
	execvpe(a->pkg.argv[0], a->pkg.argv, env);
fail:
	e = errno;
	if (write(status_w, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

static int spawn_child(struct algo_instance *in, char **env, struct error *err)
{
	int in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, st[2] = { -1, -1 };
	int rc, child_errno = 0;
	pid_t pid, host = getpid();

	if ((rc = make_pipe(in_p, 1)) < 0 || (rc = make_pipe(out_p, 0)) < 0 ||
	    (rc = make_pipe(err_p, 0)) < 0 || (rc = make_pipe(st, 0)) < 0) {
		error_set(err, -rc, "pipe: %s", strerror(-rc));
		goto out;
	}
	fcntl(st[0], F_SETFL, 0);
	fcntl(out_p[0], F_SETPIPE_SZ, CHILD_PIPE_SIZE);
	if (in->host->opts.on_forking)
		in->host->opts.on_forking(in->host->opts.arg, in->index, true);
	pid = fork();
	if (pid != 0 && in->host->opts.on_forking)
		in->host->opts.on_forking(in->host->opts.arg, in->index, false);
	if (pid < 0) {
		rc = error_set(err, errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child_exec(in, host, in_p[0], out_p[1], err_p[1], st[1], env);
	setpgid(pid, pid);
	close(st[1]);
	st[1] = -1;
	/* The status pipe closes on exec; bytes on it mean the exec failed. */
	if (read(st[0], &child_errno, sizeof(child_errno)) == sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		rc = error_set(err, child_errno, "cannot run '%s': %s", in->host->pkg.argv[0],
			       strerror(child_errno));
		goto out;
	}
	in->pid = pid;
	in->in_fd = in_p[1];
	in->out_fd = out_p[0];
	in->err_fd = err_p[0];
	in_p[1] = out_p[0] = err_p[0] = -1;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (in_p[i] >= 0)
			close(in_p[i]);
		if (out_p[i] >= 0)
			close(out_p[i]);
		if (err_p[i] >= 0)
			close(err_p[i]);
		if (st[i] >= 0)
			close(st[i]);
	}
	return rc;
}

static int prepare_sandbox(struct algo_instance *in, struct error *err)
{
	struct algorithm *a = in->host;
	char leaf[96];
	struct error cg_err = { 0 };

	/* The host's pid in the name: a later start removes it if this host dies unclean. */
	snprintf(in->tmpdir, sizeof(in->tmpdir),
		 ALGO_TMP_ROOT "/" ALGO_LEFTOVER_PREFIX "%d.%d.XXXXXX", (int)getpid(), in->index);
	if (!mkdtemp(in->tmpdir)) {
		in->tmpdir[0] = '\0';
		return error_set(err, errno, "mkdtemp: %s", strerror(errno));
	}
	if (a->has_user && chown(in->tmpdir, a->uid, a->gid) < 0)
		return error_set(err, errno, "chown %s: %s", in->tmpdir, strerror(errno));
	snprintf(leaf, sizeof(leaf), ALGO_LEFTOVER_PREFIX "%d.%d.%" PRIu64, (int)getpid(),
		 in->index, in->spawns);
	if (child_cgroup_create(&in->cg, leaf, a->pkg.limits.memory_mb, a->pkg.limits.cpu_percent,
				&cg_err) < 0) {
		algo_ev_begin(a);
		algo_ev_int(a, "instance", in->index);
		algo_ev_str(a, "level", "warn");
		algo_ev_str(a, "message", cg_err.msg);
		algo_ev_emit(a, "algorithm.log", 0);
	}
	return 0;
}

int algo_spawn_child(struct algo_instance *in, struct error *err)
{
	struct algorithm *a = in->host;
	char tmp_env[96], inst_env[48];
	char *extra[2] = { tmp_env, inst_env };
	char **env;
	int rc;

	rc = prepare_sandbox(in, err);
	snprintf(tmp_env, sizeof(tmp_env), "TMPDIR=%s", in->tmpdir);
	snprintf(inst_env, sizeof(inst_env), "COLLECTOR_ALGORITHM_INSTANCE=%d", in->index);
	env = rc == 0 ? algo_package_env(&a->pkg, extra, 2) : NULL;
	if (rc == 0 && !env)
		rc = error_set(err, ENOMEM, "out of memory");
	if (rc == 0)
		rc = spawn_child(in, env, err);
	algo_env_free(env);
	child_cgroup_close_fds(&in->cg);
	return rc;
}

/* ---- ending a child ---- */

static void on_kill_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct algo_instance *in = w->data;
	struct child c = { .pid = in->pid };

	(void)loop;
	(void)revents;
	if (!in->alive)
		return;
	if (in->kill_stage <= 1) {
		child_kill_group(&c, SIGTERM);
		in->kill_stage = 2;
		in->stage_ns[1] = clock_mono_ns();
		ev_timer_set(&in->kill_w, algo_secs(algo_ms_ns(in->host->pkg.limits.grace_ms)), 0.);
		ev_timer_start(in->host->loop, &in->kill_w);
	} else {
		child_kill_group(&c, SIGKILL);
		in->kill_stage = 3;
		in->stage_ns[2] = clock_mono_ns();
	}
}

void algo_instance_terminate(struct algo_instance *in, const char *reason)
{
	struct child c = { .pid = in->pid };

	if (!in->alive || in->kill_stage >= 2)
		return;
	if (!in->kill_reason)
		in->kill_reason = reason;
	ev_timer_stop(in->host->loop, &in->heartbeat_w);
	ev_timer_stop(in->host->loop, &in->handshake_w);
	child_kill_group(&c, SIGTERM);
	in->kill_stage = 2;
	in->stage_ns[1] = clock_mono_ns();
	ev_timer_stop(in->host->loop, &in->kill_w);
	ev_timer_set(&in->kill_w, algo_secs(algo_ms_ns(in->host->pkg.limits.grace_ms)), 0.);
	ev_timer_start(in->host->loop, &in->kill_w);
}

void algo_spawn_init(struct algo_instance *in)
{
	ev_init(&in->kill_w, on_kill_timer);
	in->kill_w.data = in;
}
