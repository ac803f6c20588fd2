/* The health monitor for runners with one child (exec, script, container): options, health.* events, how it died, its crash report. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <collector/health_monitor.h>

#include "exec_health.h"

struct exec_health {
	struct runner_ctx *ctx;
	struct health_monitor *hm;
	struct health_limits limits;
	exec_health_act_fn act;
	void *act_arg;
	pid_t pid; /* watched, 0 when none */
	struct health_end end;
	bool have_end;
	struct health_events events;
	struct watched w;    /* the run's samples, for its crash report */
	char crash_dir[512]; /* "" when reports are not written */
};

static void on_sample(void *arg, const struct health_sample *s)
{
	struct exec_health *eh = arg;

	if (s->pid == eh->w.pid)
		eh->w.ring[eh->w.nsamples++ % SAMPLE_RING] = *s;
	health_events_sample(&eh->events, s);
}

static void on_warning(void *arg, const struct health_warning *w)
{
	struct exec_health *eh = arg;

	health_events_warning(&eh->events, w);
}

static void on_action(void *arg, const struct health_warning *why)
{
	struct exec_health *eh = arg;

	health_events_action(&eh->events, why, -1);
	eh->act(eh->act_arg);
}

static void on_happening(void *arg, const struct health_happening *h)
{
	struct exec_health *eh = arg;

	crash_report_note(&eh->w, h);
	if (h->kind == HEALTH_OOM_VICTIM && h->root == eh->w.pid)
		eh->w.oom_rss = h->rss_bytes;
	health_events_happening(&eh->events, h);
}

static void exec_health_destroy(struct exec_health *eh)
{
	health_monitor_free(eh->hm);
	health_events_release(&eh->events);
	free(eh);
}

/* Without --health, a health option is a mistake worth saying so. */
static int check_health_off(const struct options *opts, struct error *err)
{
	static const char *const needs_health[] = {
		"health-interval", "health-source",	 "memory-high",
		"memory-restart",  "cpu-quota",		 "cpu-pinned-samples",
		"rss-growth",	   "rss-growth-samples", "crash-dir",
	};

	for (size_t i = 0; i < sizeof(needs_health) / sizeof(needs_health[0]); i++)
		if (options_given(opts, needs_health[i]))
			return error_set(err, EINVAL, "--%s needs --health", needs_health[i]);
	return 0;
}

int exec_health_create(struct runner_ctx *ctx, const struct options *opts, exec_health_act_fn act,
		       void *act_arg, struct exec_health **out, struct error *err)
{
	static const struct health_callbacks cb = {
		.on_sample = on_sample,
		.on_warning = on_warning,
		.on_action = on_action,
		.on_happening = on_happening,
	};
	struct health_config cfg;
	struct health_limits limits;
	struct exec_health *eh;
	int rc;

	*out = NULL;
	if (!options_bool(opts, "health"))
		return check_health_off(opts, err);
	rc = health_events_config(opts, &cfg, &limits, err);
	if (rc < 0)
		return rc;
	if (options_int(opts, "cpu-quota") < 0)
		return error_set(err, EINVAL, "--cpu-quota must be >= 0");
	limits.cpu_quota_percent = (double)options_int(opts, "cpu-quota");
	eh = calloc(1, sizeof(*eh));
	if (!eh)
		return error_set(err, ENOMEM, "out of memory");
	eh->ctx = ctx;
	eh->act = act;
	eh->act_arg = act_arg;
	eh->limits = limits;
	rc = crash_report_dir_choose(ctx, opts, eh->crash_dir, sizeof(eh->crash_dir), err);
	if (rc < 0) {
		free(eh);
		return rc;
	}
	rc = health_events_init(&eh->events, ctx, err);
	if (rc == 0)
		rc = health_monitor_new(runner_loop(ctx), &cfg, &cb, eh, &eh->hm, err);
	if (rc < 0) {
		exec_health_destroy(eh);
		return rc;
	}
	*out = eh;
	return 0;
}

void exec_health_started(struct exec_health *eh)
{
	if (eh)
		health_events_monitor(&eh->events, eh->hm);
}

void exec_health_spawning(struct exec_health *eh, bool spawning)
{
	if (!eh)
		return;
	if (spawning)
		health_monitor_adopt_begin(eh->hm);
	else
		health_monitor_adopt_end(eh->hm);
}

int exec_health_watch(struct exec_health *eh, pid_t pid, struct error *err)
{
	int rc;

	if (!eh)
		return 0;
	eh->have_end = false;
	rc = health_monitor_watch(eh->hm, pid, &eh->limits, err);
	if (rc == 0)
		eh->pid = pid;
	eh->w.pid = pid;
	eh->w.nsamples = 0;
	eh->w.oom_rss = 0;
	eh->w.nkilled = 0;
	return rc;
}

/* The cgroup.procs of @p pid's cgroup: the memory controller's (v1), else the unified one. */
static FILE *open_cgroup_procs(pid_t pid)
{
	char path[600], line[512], *rel = NULL;
	const char *mount = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	/* Lines are ID:CONTROLLERS:PATH; "0::PATH" is cgroup v2. */
	while (fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *p = ctl ? strchr(ctl + 1, ':') : NULL;

		if (!p)
			continue;
		*p = '\0';
		p[1 + strcspn(p + 1, "\n")] = '\0';
		if (strcmp(ctl + 1, "memory") == 0 || strstr(ctl + 1, ",memory")) {
			mount = "/sys/fs/cgroup/memory";
			free(rel);
			rel = strdup(p + 1);
			break;
		}
		if (strcmp(line, "0") == 0 && ctl[1] == '\0' && !rel) {
			mount = "/sys/fs/cgroup";
			rel = strdup(p + 1);
		}
	}
	fclose(f);
	if (!rel)
		return NULL;
	snprintf(path, sizeof(path), "%s%s/cgroup.procs", mount, strcmp(rel, "/") ? rel : "");
	free(rel);
	return fopen(path, "re");
}

int exec_health_watch_cgroup(struct exec_health *eh, pid_t pid, struct error *err)
{
	FILE *procs;
	char line[32];
	int rc;

	rc = exec_health_watch(eh, pid, err);
	if (!eh || rc < 0)
		return rc;
	procs = open_cgroup_procs(pid);
	if (!procs)
		return error_set(err, errno ? errno : ENOENT,
				 "cannot read the cgroup of pid %d: %s", (int)pid,
				 strerror(errno ? errno : ENOENT));
	/* Those there already; their forks follow from the kernel side. */
	while (fgets(line, sizeof(line), procs)) {
		long other = strtol(line, NULL, 10);

		if (other > 0)
			health_monitor_follow(eh->hm, pid, (pid_t)other);
	}
	fclose(procs);
	return 0;
}

void exec_health_reaped(struct exec_health *eh, pid_t pid, int wait_status)
{
	if (!eh || eh->pid != pid)
		return;
	health_monitor_reaped(eh->hm, pid, wait_status, &eh->end);
	eh->have_end = true;
	eh->pid = 0;
}

/* The command may be the sender (a fault, kill -9 $$): exec.exit names it then. */
void exec_health_put_exit(const struct exec_health *eh, struct event_builder *b)
{
	if (eh)
		health_events_put_exit(b, eh->have_end ? &eh->end : NULL, 0);
}

struct crash_call {
	const struct exec_crash *c;
	bool abnormal;
};

static bool describe(void *arg, struct event_builder *b, const char **kill_reason)
{
	struct crash_call *cc = arg;

	*kill_reason = cc->c->kill_reason;
	cc->c->describe(cc->c->arg, b, kill_reason);
	return cc->abnormal;
}

void exec_health_crash(struct exec_health *eh, pid_t pid, const struct exec_crash *c)
{
	struct health_end end;
	struct crash_call cc = { c, false };
	int ws = c->wait_status;
	char id[64];

	if (!eh || !eh->have_end || eh->w.pid != pid)
		return;
	end = eh->end;
	/* The daemon saw the OOM kill when the monitor did not (procfs, a late watch). */
	if (c->oom_killed && !end.oom_killed) {
		end.known = true;
		end.oom_killed = true;
	}
	cc.abnormal = end.oom_killed || (WIFSIGNALED(ws) && (!c->requested_stop || c->kill_reason));
	if (!cc.abnormal)
		return;
	struct crash_end ce = { c->type,  pid,	ws,
				&eh->w,	  &end, health_source_name(health_monitor_source(eh->hm)),
				describe, &cc };
	if (crash_report_emit(eh->ctx, eh->events.b, &ce, id) && eh->crash_dir[0])
		crash_report_write(eh->ctx, eh->events.b, eh->crash_dir, id);
}

void exec_health_metrics(const struct exec_health *eh, struct metrics_writer *w)
{
	if (eh)
		health_events_metrics(&eh->events, w);
}

void exec_health_free(struct exec_health *eh)
{
	if (eh)
		exec_health_destroy(eh);
}
