/* What the algorithm host knows about an instance's end, as JSON members for crash reports. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "algorithm_internal.h"
#include "algorithm_protocol.h"

#define PARAMS_SUMMARY_MAX 120

static void member(struct buffer *out, const char *key)
{
	if (out->len && out->data[out->len - 1] != '{' && out->data[out->len - 1] != '[')
		buffer_append(out, ",", 1);
	algo_json_string(out, key, strlen(key));
	buffer_append(out, ":", 1);
}

static void member_str(struct buffer *out, const char *key, const char *value)
{
	member(out, key);
	if (value)
		algo_json_string(out, value, strlen(value));
	else
		buffer_append(out, "null", 4);
}

static void member_int(struct buffer *out, const char *key, long long value)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", value);

	member(out, key);
	buffer_append(out, num, (size_t)n);
}

static void gen_stderr(struct buffer *out, const struct algo_instance *in)
{
	int first = in->stderr_count > ALGO_STDERR_TAIL ? in->stderr_count - ALGO_STDERR_TAIL : 0;

	member(out, "stderr");
	buffer_append(out, "[", 1);
	for (int i = first; i < in->stderr_count; i++) {
		const char *s = in->stderr_tail[i % ALGO_STDERR_TAIL];

		if (i > first)
			buffer_append(out, ",", 1);
		algo_json_string(out, s, strlen(s));
	}
	buffer_append(out, "]", 1);
}

/* Params are cut to a summary: a report names the call, it does not replay it. */
static void gen_calls(struct buffer *out, const struct algo_instance *in, int64_t now)
{
	member(out, "calls_in_flight");
	buffer_append(out, "[", 1);
	for (const struct algo_call *c = in->inflight.head; c; c = c->next) {
		const char *p = c->params ? c->params : "{}";
		size_t n = strlen(p);

		if (c != in->inflight.head)
			buffer_append(out, ",", 1);
		buffer_append(out, "{", 1);
		member_int(out, "id", (long long)c->id);
		member_str(out, "method", c->method);
		member_int(out, "age_ms", (now - c->submit_ns) / 1000000);
		member(out, "params");
		algo_json_string(out, p, algo_utf8_prefix(p, n, PARAMS_SUMMARY_MAX));
		member(out, "params_truncated");
		buffer_append(out, n > PARAMS_SUMMARY_MAX ? "true" : "false",
			      n > PARAMS_SUMMARY_MAX ? 4 : 5);
		buffer_append(out, "}", 1);
	}
	buffer_append(out, "]", 1);
}

static void gen_package(struct buffer *out, const struct algorithm *a)
{
	const struct algo_limits *l = &a->pkg.limits;

	member(out, "package");
	buffer_append(out, "{", 1);
	member_str(out, "name", a->pkg.name);
	member_str(out, "version", a->pkg.version);
	buffer_append(out, "}", 1);
	member(out, "argv");
	buffer_append(out, "[", 1);
	for (char **v = a->pkg.argv; v && *v; v++) {
		if (v != a->pkg.argv)
			buffer_append(out, ",", 1);
		algo_json_string(out, *v, strlen(*v));
	}
	buffer_append(out, "]", 1);
	member(out, "limits");
	buffer_append(out, "{", 1);
	member_int(out, "memory_mb", l->memory_mb);
	member_int(out, "cpu_percent", l->cpu_percent);
	member_int(out, "call_timeout_ms", l->call_timeout_ms);
	member_int(out, "max_inflight", l->max_inflight);
	member_int(out, "heartbeat_ms", l->heartbeat_ms);
	member_int(out, "grace_ms", l->grace_ms);
	buffer_append(out, "}", 1);
}

bool algorithm_describe_exit(const struct algorithm *a, int instance, int wait_status,
			     struct buffer *out, const char **kill_reason)
{
	const struct algo_instance *in;
	int64_t now = algo_mono_ns();
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
	member_int(out, "instance", in->index);
	member_str(out, "kill_reason", in->kill_reason);
	member_int(out, "uptime_ms", (now - in->spawn_ns) / 1000000);
	member_int(out, "calls_answered", (long long)in->answered);
	gen_stderr(out, in);
	gen_calls(out, in, now);
	member(out, "timed_out_call");
	if (in->kill_reason && in->timed_out_id) {
		buffer_append(out, "{", 1);
		member_int(out, "id", (long long)in->timed_out_id);
		member_str(out, "method", in->timed_out_method);
		buffer_append(out, "}", 1);
	} else {
		buffer_append(out, "null", 4);
	}
	member_int(out, "restarts", in->spawns > 0 ? (long long)in->spawns - 1 : 0);
	member_int(out, "consecutive_failures", in->consecutive_failures + (abnormal ? 1 : 0));
	member_str(out, "breaker", recent >= ALGO_BREAKER_FAILURES ? "open" : "closed");
	gen_package(out, a);
	return abnormal;
}

void algorithm_restart_instance(struct algorithm *a, int instance, const char *reason)
{
	if (!a || instance < 0 || instance >= a->ninst)
		return;
	algo_instance_terminate(&a->inst[instance], reason);
}
