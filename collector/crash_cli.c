/* `collector crashes`: lists the crash reports of a directory grouped by cause, and explains one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_tree.h>

#include <collector/collector.h>
#include <collector/crash_dir.h>
#include <collector/options.h>

#include "crash_cli.h"
#include "sparkline.h"
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

static yajl_val load(const char *dir, const char *id, char *why, size_t why_len)
{
	struct buffer text = { 0 };
	struct error err = { 0 };
	yajl_val v = NULL;

	if (crash_dir_read(dir, id, &text, &err) < 0 || buffer_append(&text, "", 1) < 0)
		snprintf(why, why_len, "%s", err.code ? err.msg : "out of memory");
	else
		v = yajl_tree_parse(text.data, why, why_len);
	buffer_free(&text);
	/* A package's name, a child's stderr: shown, never obeyed by the terminal. */
	term_escape_tree(v);
	term_blank_controls(why);
	return v;
}

/* Whose crash: the package's name; a report of another runner names its runner. */
static const char *who(yajl_val r)
{
	return str(get(r, "package"), "name", str(r, "runner", "?"));
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

static double dbl(yajl_val obj, const char *key)
{
	yajl_val v = get(obj, key);

	return YAJL_IS_NUMBER(v) ? YAJL_GET_DOUBLE(v) : 0;
}

/* CPU and RSS over the samples before death, as sparklines: the trend at a glance. */
static void say_trend(yajl_val samples, FILE *out)
{
	size_t n = YAJL_IS_ARRAY(samples) ? samples->u.array.len : 0;
	double *cpu = n > 1 ? calloc(n, sizeof(*cpu)) : NULL,
	       *rss = cpu ? calloc(n, sizeof(*rss)) : NULL;
	bool utf8 = sparkline_utf8();
	char line[256];

	for (size_t i = 0; rss && i < n; i++) {
		cpu[i] = dbl(samples->u.array.values[i], "cpu_percent");
		rss[i] = dbl(samples->u.array.values[i], "rss_bytes") / MIB;
	}
	if (rss) {
		sparkline(cpu, n, 40, utf8, line, sizeof(line));
		fprintf(out, "  cpu %%  %s  %.0f%% %s %.0f%%\n", line, cpu[0], utf8 ? "→" : "->",
			cpu[n - 1]);
		sparkline(rss, n, 40, utf8, line, sizeof(line));
		fprintf(out, "  rss    %s  %.1f MiB %s %.1f MiB\n", line, rss[0], utf8 ? "→" : "->",
			rss[n - 1]);
	}
	free(cpu);
	free(rss);
}

static void explain(yajl_val r, FILE *out)
{
	yajl_val pkg = get(r, "package"), calls = get(r, "calls_in_flight");
	yajl_val lines = get(r, "stderr"), samples = get(r, "samples");
	size_t nl = YAJL_IS_ARRAY(lines) ? lines->u.array.len : 0;

	fprintf(out, "crash %s at %s: %s %s, instance %lld, pid %lld, up %lld ms\n",
		str(r, "id", "?"), str(r, "time", "?"), who(r), str(pkg, "version", "?"),
		num(r, "instance", -1), num(r, "pid", 0), num(r, "uptime_ms", 0));
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
	say_trend(samples, out);
	if (nl)
		fprintf(out, "last stderr lines:\n");
	for (size_t i = nl > 10 ? nl - 10 : 0; i < nl; i++)
		if (YAJL_IS_STRING(lines->u.array.values[i]))
			fprintf(out, "  %s\n", YAJL_GET_STRING(lines->u.array.values[i]));
}

/* All the reports of @p dir at or after @p since (an ISO time prefix, "" for all), oldest first. */
static int load_all(const char *dir, const char *since, yajl_val **out, FILE *err_out)
{
	struct error err = { 0 };
	char **names, why[256];
	int n = crash_dir_list(dir, &names, &err), kept = 0;

	*out = NULL;
	if (n < 0)
		return -err.code;
	*out = calloc((size_t)n + 1, sizeof(yajl_val));
	for (int i = 0; *out && i < n; i++) {
		yajl_val r = load(dir, names[i], why, sizeof(why));

		if (!r)
			fprintf(err_out, "collector: crashes: %s\n", why);
		else if (strcmp(str(r, "time", ""), since) < 0)
			yajl_tree_free(r);
		else
			(*out)[kept++] = r;
	}
	crash_dir_names_free(names, n);
	return *out ? kept : -ENOMEM;
}

static void free_all(yajl_val *reports, int n)
{
	for (int i = 0; reports && i < n; i++)
		yajl_tree_free(reports[i]);
	free(reports);
}

/* What makes two crashes the same: the package and how it ended, not when or which pid. */
static void group_key(yajl_val r, char *key, size_t size)
{
	yajl_val pkg = get(r, "package");

	snprintf(key, size, "%s\x1f%s\x1f%s\x1f%s\x1f%lld\x1f%s", who(r), str(pkg, "version", "?"),
		 str(r, "cause", ""), str(r, "signal", ""), num(r, "exit_code", -1),
		 str(get(r, "killed_by"), "name", ""));
}

/* The reports of one cause: how many, the first and the newest. */
struct group {
	int count, first, last;
};

/* Group @p reports (oldest first) by cause; @return the groups, oldest newest report first. */
static int group(yajl_val *reports, int n, struct group *groups)
{
	char key[512], other[512];
	int ngroups = 0;

	for (int i = 0; i < n; i++) {
		int g;

		group_key(reports[i], key, sizeof(key));
		for (g = 0; g < ngroups; g++) {
			group_key(reports[groups[g].last], other, sizeof(other));
			if (strcmp(key, other) == 0)
				break;
		}
		if (g == ngroups)
			groups[ngroups++] = (struct group){ .first = i };
		groups[g].count++;
		groups[g].last = i;
	}
	return ngroups;
}

static int by_last(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return x->last - y->last;
}

/* One row per cause: count, first and last time, the newest report's ID and words; newest last. */
static void list_grouped(yajl_val *reports, int n, FILE *out)
{
	const char *times = sparkline_utf8() ? "×" : "x";
	struct group *groups = calloc((size_t)n, sizeof(*groups));
	int ngroups;

	if (!groups)
		return;
	ngroups = group(reports, n, groups);
	qsort(groups, (size_t)ngroups, sizeof(*groups), by_last);
	fprintf(out, "%-6s %-24s  %-24s  %-22s %s\n", "COUNT", "FIRST", "LAST", "LATEST ID",
		"PACKAGE: CAUSE");
	for (int g = 0; g < ngroups; g++) {
		yajl_val last = reports[groups[g].last];

		fprintf(out, "%s%-5d %-24s  %-24s  %-22s %s %s: ", times, groups[g].count,
			str(reports[groups[g].first], "time", "?"), str(last, "time", "?"),
			str(last, "id", "?"), who(last), str(get(last, "package"), "version", "?"));
		say_cause(last, out);
		fputc('\n', out);
	}
	free(groups);
}

/* Each report on its own line: ID, time, package, pid, cause. */
static void list_each(yajl_val *reports, int n, FILE *out)
{
	for (int i = 0; i < n; i++) {
		yajl_val r = reports[i];

		fprintf(out, "%s  %s  %s %s  pid %lld  ", str(r, "id", "?"), str(r, "time", "?"),
			who(r), str(get(r, "package"), "version", "?"), num(r, "pid", 0));
		say_cause(r, out);
		fputc('\n', out);
	}
}

/* Exactly @p n digits at @p s into @p v. @return the text after them, NULL when they are not there. */
static const char *digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, s++) {
		if (*s < '0' || *s > '9')
			return NULL;
		*v = *v * 10 + (*s - '0');
	}
	return s;
}

/* "YYYY-MM-DD", then "THH:MM" or " HH:MM", then ":SS", then "Z"; each after the date optional. */
static int parse_utc(const char *s, int f[6])
{
	static const int width[6] = { 4, 2, 2, 2, 2, 2 };
	static const char before[6] = { 0, '-', '-', 'T', ':', ':' };

	memset(f, 0, 6 * sizeof(*f));
	for (int i = 0; i < 6; i++) {
		/* The text may end after the date or after the minutes. */
		if ((i == 3 || i == 5) && (*s == '\0' || (*s == 'Z' && s[1] == '\0')))
			return 0;
		if (i > 0 && *s != before[i] && !(i == 3 && *s == ' '))
			return -1;
		s = digits(s + (i > 0), width[i], &f[i]);
		if (!s)
			return -1;
	}
	return *s == '\0' || (*s == 'Z' && s[1] == '\0') ? 0 : -1;
}

/* --since: a duration back from now (2h, 30m) or a UTC time (2026-11-23, 2026-11-23T11:30). */
static int parse_since(const char *arg, char *since, size_t size)
{
	int64_t ns;
	time_t t;
	struct tm tm;
	int f[6];

	if (parse_duration(arg, &ns) == 0 && ns >= 0) {
		t = time(NULL) - (time_t)(ns / 1000000000);
		gmtime_r(&t, &tm);
		strftime(since, size, "%Y-%m-%dT%H:%M:%S", &tm);
		return 0;
	}
	if (parse_utc(arg, f) < 0)
		return -1;
	snprintf(since, size, "%04d-%02d-%02dT%02d:%02d:%02d", f[0], f[1], f[2], f[3], f[4], f[5]);
	return 0;
}

static void usage(FILE *out, const char *dir)
{
	fprintf(out,
		"usage: collector crashes [--dir D] [--since WHEN] [--all] [ID|latest]\n\n"
		"Lists the crash reports in D grouped by cause (one row per package and way of\n"
		"dying: count, first and last time, the newest report's ID); --all lists each.\n"
		"With ID (or latest), explains that crash.\n\n"
		"  --dir D, --crash-dir D  where the reports are (here: %s)\n"
		"  --since WHEN            only reports since a time back (2h, 30m) or a UTC time\n"
		"                          (2026-11-23, 2026-11-23T11:30)\n"
		"  --all                   one line per report instead of per cause\n",
		dir);
}

static int explain_one(const char *dir, const char *id, FILE *out)
{
	char why[256];
	yajl_val r;

	if (!crash_dir_valid_id(id)) {
		fprintf(stderr, "collector: crashes: '%s' is not a crash ID\n", id);
		return COLLECTOR_EXIT_USAGE;
	}
	r = load(dir, id, why, sizeof(why));
	if (!r) {
		fprintf(stderr, "collector: crashes: %s\n", why);
		return COLLECTOR_EXIT_FAILED;
	}
	explain(r, out);
	yajl_tree_free(r);
	return 0;
}

static int show(const char *dir, const char *since, const char *id, bool each, FILE *out)
{
	yajl_val *reports;
	int n;

	if (id && strcmp(id, "latest") != 0)
		return explain_one(dir, id, out);
	n = load_all(dir, since, &reports, stderr);
	if (n < 0 && n != -ENOENT) {
		fprintf(stderr, "collector: crashes: %s: %s\n", dir, strerror(-n));
		return COLLECTOR_EXIT_FAILED;
	}
	if (n <= 0 || !reports) {
		fprintf(stderr, "collector: crashes: no crash reports in %s%s%s\n", dir,
			since[0] ? " since " : "", since);
		free_all(reports, 0);
		return id ? COLLECTOR_EXIT_FAILED : 0;
	}
	if (id)
		explain(reports[n - 1], out);
	else if (each)
		list_each(reports, n, out);
	else
		list_grouped(reports, n, out);
	free_all(reports, n);
	return 0;
}

int crash_cli_main(int argc, char **argv, FILE *out)
{
	char def[512] = "", since[32] = "";
	const char *dir = NULL, *id = NULL, *v;
	bool each = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = i + 1 < argc;

		if ((strcmp(a, "--dir") == 0 || strcmp(a, "--crash-dir") == 0) && has_value) {
			dir = argv[++i];
		} else if (strncmp(a, "--dir=", 6) == 0 || strncmp(a, "--crash-dir=", 12) == 0) {
			dir = strchr(a, '=') + 1;
		} else if (strcmp(a, "--since") == 0 || strncmp(a, "--since=", 8) == 0) {
			v = a[7] == '=' ? a + 8 : has_value ? argv[++i] : "";
			if (parse_since(v, since, sizeof(since)) < 0) {
				fprintf(stderr,
					"collector: crashes: --since '%s': expected a duration "
					"back "
					"(2h, 30m) or a UTC time (2026-11-23T11:30)\n",
					v);
				return COLLECTOR_EXIT_USAGE;
			}
		} else if (strcmp(a, "--all") == 0) {
			each = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			if (crash_dir_default(def, sizeof(def)) < 0)
				snprintf(def, sizeof(def), "none: give --dir");
			usage(out, dir ? dir : def);
			return 0;
		} else if (a[0] != '-' && !id) {
			id = a;
		} else {
			fprintf(stderr,
				"collector: crashes: unexpected argument '%s' (collector crashes "
				"--help)\n",
				a);
			return COLLECTOR_EXIT_USAGE;
		}
	}
	if (!dir && crash_dir_default(def, sizeof(def)) < 0) {
		fprintf(stderr, "collector: crashes: no default crash directory (no home "
				"directory): give --dir D\n");
		return COLLECTOR_EXIT_USAGE;
	}
	return show(dir ? dir : def, since, id, each, out);
}
