/* What the algorithm host knows about an instance's end, as JSON members for crash reports. */
#include <string.h>
#include <sys/wait.h>

#include "host.h"
#include "protocol.h"

#define PARAMS_SUMMARY_MAX 120

static void gen_stderr(struct event_builder *out, const struct algo_instance *in)
{
	int first = in->stderr_count > ALGO_STDERR_TAIL ? in->stderr_count - ALGO_STDERR_TAIL : 0;

	event_builder_open_array(out, "stderr");
	for (int i = first; i < in->stderr_count; i++)
		event_builder_str(out, NULL, in->stderr_tail[i % ALGO_STDERR_TAIL]);
	event_builder_close_array(out);
}

/* Params are cut to a summary: a report names the call, it does not replay it. */
static void gen_calls(struct event_builder *out, const struct algo_instance *in, int64_t now)
{
	event_builder_open_array(out, "calls_in_flight");
	for (const struct algo_call *c = in->inflight.head; c; c = c->next) {
		const char *p = c->params ? c->params : "{}";
		size_t n = strlen(p);

		event_builder_open_object(out, NULL);
		event_builder_uint(out, "id", c->id);
		event_builder_str(out, "method", c->method);
		event_builder_int(out, "age_ms", (now - c->submit_ns) / 1000000);
		event_builder_strn(out, "params", p, algo_utf8_prefix(p, n, PARAMS_SUMMARY_MAX));
		event_builder_bool(out, "params_truncated", n > PARAMS_SUMMARY_MAX);
		event_builder_close_object(out);
	}
	event_builder_close_array(out);
}

/* How the host's stop escalated (shutdown message, SIGTERM, SIGKILL), each step's time before now. */
static void gen_escalation(struct event_builder *out, const struct algo_instance *in, int64_t now)
{
	static const char *const steps[3] = { "shutdown", "SIGTERM", "SIGKILL" };

	event_builder_open_array(out, "stop_escalation");
	for (int i = 0; i < 3; i++) {
		if (!in->stage_ns[i])
			continue;
		event_builder_open_object(out, NULL);
		event_builder_str(out, "step", steps[i]);
		event_builder_int(out, "ago_ms", (now - in->stage_ns[i]) / 1000000);
		event_builder_close_object(out);
	}
	event_builder_close_array(out);
}

static void gen_package(struct event_builder *out, const struct algorithm *a)
{
	const struct algo_limits *l = &a->pkg.limits;

	event_builder_open_object(out, "package");
	event_builder_str(out, "name", a->pkg.name);
	event_builder_str(out, "version", a->pkg.version);
	event_builder_close_object(out);
	event_builder_open_array(out, "argv");
	for (char **v = a->pkg.argv; v && *v; v++)
		event_builder_str(out, NULL, *v);
	event_builder_close_array(out);
	event_builder_open_object(out, "limits");
	event_builder_int(out, "memory_mb", l->memory_mb);
	event_builder_int(out, "cpu_percent", l->cpu_percent);
	event_builder_int(out, "call_timeout_ms", l->call_timeout_ms);
	event_builder_int(out, "max_inflight", l->max_inflight);
	event_builder_int(out, "heartbeat_ms", l->heartbeat_ms);
	event_builder_int(out, "grace_ms", l->grace_ms);
	event_builder_close_object(out);
}

bool algorithm_describe_exit(const struct algorithm *a, int instance, int wait_status,
			     struct event_builder *out, const char **kill_reason)
{
	const struct algo_instance *in;
	int64_t now = clock_mono_ns();
	bool stop, abnormal;
	int recent;

	*kill_reason = NULL;
	if (!a || instance < 0 || instance >= a->ninst)
		return false;
	in = &a->inst[instance];
	*kill_reason = in->kill_reason;
	/* Killed by the host for a fault, or died badly on its own: not the SIGTERM/SIGKILL
	 * of a stop whose grace ran out. */
	stop = (in->stopping || a->stopping) && in->kill_stage >= 2 && !in->kill_reason;
	abnormal = in->kill_reason ||
		   (!stop && (WIFSIGNALED(wait_status) ||
			      (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) != 0)));
	/* This end counts as one more failure when the restart policy sees it. */
	recent = algo_recent_failures(in, now) + (abnormal ? 1 : 0);
	event_builder_int(out, "instance", in->index);
	event_builder_str(out, "kill_reason", in->kill_reason);
	event_builder_int(out, "uptime_ms", (now - in->spawn_ns) / 1000000);
	event_builder_uint(out, "calls_answered", in->answered);
	gen_stderr(out, in);
	gen_calls(out, in, now);
	gen_escalation(out, in, now);
	if (in->kill_reason && in->timed_out_id) {
		event_builder_open_object(out, "timed_out_call");
		event_builder_uint(out, "id", in->timed_out_id);
		event_builder_str(out, "method", in->timed_out_method);
		event_builder_close_object(out);
	} else {
		event_builder_null(out, "timed_out_call");
	}
	event_builder_int(out, "restarts", in->spawns > 0 ? (long long)in->spawns - 1 : 0);
	event_builder_int(out, "consecutive_failures",
			  in->consecutive_failures + (abnormal ? 1 : 0));
	event_builder_str(out, "breaker", recent >= ALGO_BREAKER_FAILURES ? "open" : "closed");
	gen_package(out, a);
	return abnormal;
}

void algorithm_restart_instance(struct algorithm *a, int instance, const char *reason)
{
	if (!a || instance < 0 || instance >= a->ninst)
		return;
	algo_instance_terminate(&a->inst[instance], reason);
}
