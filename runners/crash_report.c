/* A child's crash report, one format for every runner: how it ended, who killed it, its last samples; and its copy as ID.json. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <collector/child.h>
#include <collector/clock.h>
#include <collector/crash_dir.h>
#include <collector/log.h>

#include "crash_report.h"
#include "health_events.h"

#define REPORT_WINDOW_NS (30LL * 1000000000)

static const char *cause_of(const struct health_end *end, const char *kill_reason, int status)
{
	if (end->known && end->oom_killed)
		return "oom_kill";
	if (kill_reason && strcmp(kill_reason, "call_timeout") == 0)
		return "timeout";
	if (kill_reason)
		return kill_reason;
	return WIFSIGNALED(status) ? "signal" : "exit";
}

static void gen_samples(struct event_builder *b, const struct watched *w, int64_t now_mono_ns)
{
	int first = w->nsamples > SAMPLE_RING ? w->nsamples - SAMPLE_RING : 0;

	event_builder_open_array(b, "samples");
	for (int i = first; i < w->nsamples; i++) {
		const struct health_sample *s = &w->ring[i % SAMPLE_RING];

		if (now_mono_ns - s->mono_ns > REPORT_WINDOW_NS)
			continue;
		event_builder_open_object(b, NULL);
		event_builder_int(b, "ts_ns", s->ts_ns);
		health_events_put_sample(b, s);
		event_builder_close_object(b);
	}
	event_builder_close_array(b);
}

static struct killed_process *killed_of(struct watched *w, pid_t pid)
{
	for (int i = 0; i < w->nkilled; i++)
		if (w->killed[i].pid == pid)
			return &w->killed[i];
	if (w->nkilled == CRASH_KILLED_MAX)
		return NULL;
	memset(&w->killed[w->nkilled], 0, sizeof(w->killed[0]));
	w->killed[w->nkilled].pid = pid;
	return &w->killed[w->nkilled++];
}

void crash_report_note(struct watched *w, const struct health_happening *h)
{
	struct killed_process *k;
	int sig = h->wait_status & 0x7f;

	if (h->root != w->pid || h->pid == w->pid)
		return;
	if (h->kind == HEALTH_EXIT && (sig == 0 || sig == 0x7f))
		return;
	if (h->kind != HEALTH_EXIT && h->kind != HEALTH_OOM_VICTIM)
		return;
	k = killed_of(w, h->pid);
	if (!k)
		return;
	memcpy(k->comm, h->comm, HEALTH_COMM_LEN);
	if (h->kind == HEALTH_OOM_VICTIM) {
		k->oom = true;
		return;
	}
	k->signal = sig;
	/* The sender generated the signal it died of; an OOM kill is the kernel's. */
	if (h->signal == sig && !k->oom) {
		k->sender_pid = h->sender_pid;
		memcpy(k->sender_comm, h->sender_comm, HEALTH_COMM_LEN);
	}
}

static void gen_killed(struct event_builder *b, const struct watched *w)
{
	char sig[16];

	event_builder_open_array(b, "killed_processes");
	for (int i = 0; i < w->nkilled; i++) {
		const struct killed_process *k = &w->killed[i];

		event_builder_open_object(b, NULL);
		event_builder_int(b, "pid", k->pid);
		event_builder_str(b, "comm", k->comm);
		if (k->signal)
			event_builder_str(b, "signal", signal_name(k->signal, sig));
		else
			event_builder_null(b, "signal");
		event_builder_bool(b, "oom_killed", k->oom);
		if (k->oom) {
			event_builder_open_object(b, "killed_by");
			event_builder_str(b, "name", "OOM killer");
			event_builder_null(b, "pid");
			event_builder_close_object(b);
		} else if (k->sender_pid > 0) {
			event_builder_open_object(b, "killed_by");
			event_builder_str(b, "name", k->sender_comm);
			event_builder_int(b, "pid", k->sender_pid);
			event_builder_close_object(b);
		} else {
			event_builder_null(b, "killed_by");
		}
		event_builder_close_object(b);
	}
	event_builder_close_array(b);
}

bool crash_report_emit(struct runner_ctx *ctx, struct event_builder *b, const struct crash_end *c,
		       char id[64])
{
	const char *kill_reason = NULL;
	int ws = c->wait_status;
	struct timespec ts;
	struct tm tm;
	char when[32], stamp[48], sig[16];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/* 2026-11-23T11:30:12 -> 20261123-113012-PID: names sort by time. */
	snprintf(id, 64, "%.4s%.2s%.2s-%.2s%.2s%.2s-%d", when, when + 5, when + 8, when + 11,
		 when + 14, when + 17, (int)c->pid);
	event_builder_begin(b);
	event_builder_str(b, "id", id);
	snprintf(stamp, sizeof(stamp), "%s.%03ldZ", when, ts.tv_nsec / 1000000);
	event_builder_str(b, "time", stamp);
	event_builder_int(b, "pid", c->pid);
	event_builder_str(b, "runner", runner_name(ctx));
	if (!c->describe(c->arg, b, &kill_reason))
		return false;
	event_builder_str(b, "cause", cause_of(c->end, kill_reason, ws));
	if (WIFEXITED(ws))
		event_builder_int(b, "exit_code", WEXITSTATUS(ws));
	else
		event_builder_null(b, "exit_code");
	if (WIFSIGNALED(ws)) {
		event_builder_str(b, "signal", signal_name(WTERMSIG(ws), sig));
		event_builder_int(b, "signal_number", WTERMSIG(ws));
	} else {
		event_builder_null(b, "signal");
	}
	event_builder_bool(b, "core_dumped", WIFSIGNALED(ws) && WCOREDUMP(ws));
	/* A fault (SIGSEGV, abort()) is raised by the child itself: no sender to name. */
	health_events_put_exit(b, c->end, c->pid);
	if (c->w->oom_rss)
		event_builder_uint(b, "oom_rss_bytes", c->w->oom_rss);
	else
		event_builder_null(b, "oom_rss_bytes");
	gen_killed(b, c->w);
	event_builder_str(b, "health_source", c->health_source);
	gen_samples(b, c->w, clock_mono_ns());
	event_builder_emit(b, ctx, c->type, c->pid);
	return true;
}

int crash_report_dir_choose(struct runner_ctx *ctx, const struct options *opts, char *dir,
			    size_t size, struct error *err)
{
	const char *given = options_str(opts, "crash-dir");
	struct error why = { 0 };

	dir[0] = '\0';
	if (options_bool(opts, "no-crash-reports")) {
		if (given)
			return error_set(err, EINVAL,
					 "--crash-dir and --no-crash-reports contradict each "
					 "other");
		return 0;
	}
	if (given && strlen(given) >= size)
		return error_set(err, ENAMETOOLONG, "--crash-dir: the name is too long");
	if (given)
		snprintf(dir, size, "%s", given);
	else if (crash_dir_default(dir, size) < 0)
		snprintf(why.msg, sizeof(why.msg), "no home directory to hold it");
	if (!why.msg[0] && crash_dir_prepare(dir, &why) == 0) {
		crash_dir_note(dir);
		return 0;
	}
	dir[0] = '\0';
	if (given)
		return error_set(err, why.code ? why.code : EINVAL, "--crash-dir: %s", why.msg);
	log_warn("%s: no crash report files (%s); fix: --crash-dir DIR, or --no-crash-reports",
		 runner_name(ctx), why.msg);
	return 0;
}

void crash_report_write(struct runner_ctx *ctx, struct event_builder *b, const char *dir,
			const char *id)
{
	struct span report;
	struct error err = { 0 };

	if (event_builder_finish(b, &report) == 0 &&
	    crash_dir_write(dir, id, report.ptr, report.len, &err) < 0)
		log_warn("%s: %s", runner_name(ctx), err.msg);
}
