/* `collector crashes`: lists the algorithm crash reports in a directory and explains one. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include <collector/collector.h>

#include "crash_cli.h"
#include "term_escape.h"

#define MIB (1024.0 * 1024.0)
#define TREND_WINDOW_NS (10LL * 1000000000)

static yajl_val get(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };

	return obj ? yajl_tree_get(obj, path, yajl_t_any) : NULL;
}

static const char *str(yajl_val obj, const char *key, const char *def)
{
	yajl_val v = get(obj, key);

	return YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : def;
}

static long long num(yajl_val obj, const char *key, long long def)
{
	yajl_val v = get(obj, key);

	return YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : def;
}

static yajl_val load(const char *dir, const char *name, char *why, size_t why_len)
{
	char path[4096];
	FILE *f;
	char *text;
	long size;
	yajl_val v = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (!f) {
		snprintf(why, why_len, "%.180s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (text = malloc((size_t)size + 1))) {
		size_t n = fread(text, 1, (size_t)size, f);

		text[n] = '\0';
		v = yajl_tree_parse(text, why, why_len);
		free(text);
	} else {
		snprintf(why, why_len, "%.180s: cannot read", path);
	}
	fclose(f);
	/* A package's name, a child's stderr: shown, never obeyed by the terminal. */
	term_escape_tree(v);
	term_blank_controls(why);
	return v;
}

static int is_report(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

static const char *what_signal(const char *sig)
{
	static const char *const names[][2] = {
		{ "SIGSEGV", "segmentation fault" }, { "SIGABRT", "aborted" },
		{ "SIGBUS", "bus error" },	     { "SIGFPE", "arithmetic exception" },
		{ "SIGILL", "illegal instruction" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(sig, names[i][0]) == 0)
			return names[i][1];
	return NULL;
}

/* The RSS slope over the last 10 s of samples, in bytes per second; 0 when unknown. */
static double rss_trend(yajl_val samples, double *over_s)
{
	size_t n = YAJL_IS_ARRAY(samples) ? samples->u.array.len : 0;
	yajl_val last, first = NULL;
	long long t_last;

	*over_s = 0;
	if (n < 2)
		return 0;
	last = samples->u.array.values[n - 1];
	t_last = num(last, "ts_ns", 0);
	for (size_t i = 0; i < n; i++)
		if (t_last - num(samples->u.array.values[i], "ts_ns", 0) <= TREND_WINDOW_NS) {
			first = samples->u.array.values[i];
			break;
		}
	if (!first || first == last)
		return 0;
	*over_s = (double)(t_last - num(first, "ts_ns", 0)) / 1e9;
	if (*over_s <= 0)
		return 0;
	return (double)(num(last, "rss_bytes", 0) - num(first, "rss_bytes", 0)) / *over_s;
}

static void say_cause(yajl_val r, FILE *out)
{
	const char *cause = str(r, "cause", "");
	const char *sig = str(r, "signal", NULL);
	yajl_val killer = get(r, "killed_by"), samples = get(r, "samples");
	size_t ns = YAJL_IS_ARRAY(samples) ? samples->u.array.len : 0;
	long long rss = num(r, "oom_rss_bytes", -1);

	if (rss < 0 && ns)
		rss = num(samples->u.array.values[ns - 1], "rss_bytes", -1);

	if (strcmp(cause, "oom_kill") == 0) {
		fprintf(out, "killed by the OOM killer");
		if (rss >= 0)
			fprintf(out, " at %.0f MiB", (double)rss / MIB);
		if (num(get(r, "limits"), "memory_mb", 0) > 0)
			fprintf(out, " (limit %lld MiB)", num(get(r, "limits"), "memory_mb", 0));
	} else if (strcmp(cause, "timeout") == 0) {
		fprintf(out, "killed by the host: a call ran past its timeout");
	} else if (strcmp(cause, "hang") == 0) {
		fprintf(out, "killed by the host: it stopped answering heartbeats");
	} else if (strcmp(cause, "memory_restart") == 0) {
		fprintf(out, "restarted by the host before the OOM killer would act");
		if (rss >= 0)
			fprintf(out, " at %.0f MiB", (double)rss / MIB);
	} else if (strcmp(cause, "signal") == 0 && sig) {
		if (YAJL_IS_OBJECT(killer))
			fprintf(out, "killed by signal %s sent by %s (pid %lld)", sig,
				str(killer, "name", "?"), num(killer, "pid", 0));
		else if (what_signal(sig))
			fprintf(out, "%s (%s)", what_signal(sig), sig);
		else
			fprintf(out, "killed by signal %s", sig);
	} else if (strcmp(cause, "exit") == 0) {
		fprintf(out, "exited with code %lld", num(r, "exit_code", -1));
	} else {
		fprintf(out, "killed by the host: %s", cause);
	}
}

static void say_context(yajl_val r, FILE *out)
{
	yajl_val calls = get(r, "calls_in_flight");
	double over_s, slope = rss_trend(get(r, "samples"), &over_s);

	yajl_val timed_out = get(r, "timed_out_call");

	if (YAJL_IS_OBJECT(timed_out))
		fprintf(out, " when call %lld (%s) timed out", num(timed_out, "id", 0),
			str(timed_out, "method", "?"));
	else if (YAJL_IS_ARRAY(calls) && calls->u.array.len > 0) {
		yajl_val c = calls->u.array.values[0];

		fprintf(out, " while executing call %lld", num(c, "id", 0));
		if (calls->u.array.len > 1)
			fprintf(out, " (and %zu more)", calls->u.array.len - 1);
	}
	fprintf(out, " after %lld answered calls", num(r, "calls_answered", 0));
	if (slope >= MIB / 10)
		fprintf(out, ", RSS rising %.0f MiB/s over the last %.1f s", slope / MIB, over_s);
	if (str(r, "signal", NULL))
		fprintf(out, "; core dumped: %s",
			YAJL_IS_TRUE(get(r, "core_dumped")) ? "yes" : "no");
	fputc('\n', out);
}

static void explain(yajl_val r, FILE *out)
{
	yajl_val pkg = get(r, "package"), calls = get(r, "calls_in_flight");
	yajl_val lines = get(r, "stderr"), samples = get(r, "samples");
	size_t nl = YAJL_IS_ARRAY(lines) ? lines->u.array.len : 0;

	fprintf(out, "crash %s at %s: %s %s, instance %lld, pid %lld, up %lld ms\n",
		str(r, "id", "?"), str(r, "time", "?"), str(pkg, "name", "?"),
		str(pkg, "version", "?"), num(r, "instance", -1), num(r, "pid", 0),
		num(r, "uptime_ms", 0));
	say_cause(r, out);
	say_context(r, out);
	fprintf(out, "restarts before it: %lld; consecutive failures: %lld; breaker: %s\n",
		num(r, "restarts", 0), num(r, "consecutive_failures", 0), str(r, "breaker", "?"));
	for (size_t i = 0; YAJL_IS_ARRAY(calls) && i < calls->u.array.len; i++) {
		yajl_val c = calls->u.array.values[i];

		fprintf(out, "call in flight: %lld %s, %lld ms old, params %s\n", num(c, "id", 0),
			str(c, "method", "?"), num(c, "age_ms", 0), str(c, "params", ""));
	}
	fprintf(out, "health samples (%s): %zu in the last 30 s\n", str(r, "health_source", "?"),
		YAJL_IS_ARRAY(samples) ? samples->u.array.len : (size_t)0);
	if (nl)
		fprintf(out, "last stderr lines:\n");
	for (size_t i = nl > 10 ? nl - 10 : 0; i < nl; i++)
		if (YAJL_IS_STRING(lines->u.array.values[i]))
			fprintf(out, "  %s\n", YAJL_GET_STRING(lines->u.array.values[i]));
}

static int list(const char *dir, FILE *out)
{
	struct dirent **names;
	int n = scandir(dir, &names, is_report, alphasort);
	char why[256];

	if (n < 0) {
		fprintf(stderr, "collector: crashes: %s: %s\n", dir, strerror(errno));
		return COLLECTOR_EXIT_FAILED;
	}
	for (int i = 0; i < n; i++) {
		yajl_val r = load(dir, names[i]->d_name, why, sizeof(why));

		if (r) {
			fprintf(out, "%s  %s  %s %s  pid %lld  ", str(r, "id", "?"),
				str(r, "time", "?"), str(get(r, "package"), "name", "?"),
				str(get(r, "package"), "version", "?"), num(r, "pid", 0));
			say_cause(r, out);
			fputc('\n', out);
		} else {
			fprintf(stderr, "collector: crashes: %s\n", why);
		}
		yajl_tree_free(r);
		free(names[i]);
	}
	free(names);
	return 0;
}

int crash_cli_main(int argc, char **argv, FILE *out)
{
	const char *dir = CRASH_DIR_DEFAULT, *id = NULL;
	char name[512], why[256];
	yajl_val r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strncmp(argv[i], "--dir=", 6) == 0) {
			dir = argv[i] + 6;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fprintf(out, "usage: collector crashes [--dir D] [ID]\n\nLists the crash "
				     "reports the algorithm runner wrote with "
				     "--crash-dir\n(default "
				     "D: " CRASH_DIR_DEFAULT "); with ID, explains that crash.\n");
			return 0;
		} else if (argv[i][0] != '-' && !id) {
			id = argv[i];
		} else {
			fprintf(stderr, "collector: crashes: unexpected argument '%s'\n", argv[i]);
			return COLLECTOR_EXIT_USAGE;
		}
	}
	if (!id)
		return list(dir, out);
	if (strchr(id, '/') || id[0] == '.') {
		fprintf(stderr, "collector: crashes: '%s' is not a crash ID\n", id);
		return COLLECTOR_EXIT_USAGE;
	}
	snprintf(name, sizeof(name), "%s%s", id,
		 strlen(id) > 5 && strcmp(id + strlen(id) - 5, ".json") == 0 ? "" : ".json");
	r = load(dir, name, why, sizeof(why));
	if (!r) {
		fprintf(stderr, "collector: crashes: %s\n", why);
		return COLLECTOR_EXIT_FAILED;
	}
	explain(r, out);
	yajl_tree_free(r);
	return 0;
}
