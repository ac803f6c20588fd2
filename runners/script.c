/* The script runner: runs a script file with a named interpreter, checked before it starts, on the exec machinery. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <collector/log.h>
#include <collector/runner.h>

#include "exec_core.h"

#define SHEBANG_MAX 256

struct script_runner {
	struct exec_core *core;
	const char *path;  /* the script as given: interpreters print it in their errors */
	char *interpreter; /* resolved to a path */
	char **argv;	   /* interpreter, script, args */
	char shebang[SHEBANG_MAX];
};

static const struct option_spec script_options[] = {
	{ .name = "interpreter",
	  .type = OPT_STRING,
	  .required = true,
	  .help = "bash, sh, python3, node, or the path of an interpreter" },
	{ .name = "script", .type = OPT_STRING, .help = "the script file" },
	{ .name = "script_path", .type = OPT_STRING, .help = "the script file (config key)" },
	{ .name = "args", .type = OPT_ARGV, .help = "the script's arguments" },
	EXEC_CORE_OPTIONS,
	{ 0 },
};

/* An executable file named @p name: itself when it has a '/', else the first on $PATH. */
static char *resolve(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? strdup(name) : NULL;
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		struct stat st;

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? path : ".", name);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
			return strdup(buf);
		path += n + (path[n] == ':');
	}
	return NULL;
}

static const char *basename_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* The interpreter a "#!" line names ("/usr/bin/env python3" names python3); "" when none. */
static void read_shebang(const char *path, char *out, size_t size)
{
	char line[SHEBANG_MAX];
	FILE *f = fopen(path, "re");
	char *w, *save = NULL;

	out[0] = '\0';
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && line[0] == '#' && line[1] == '!') {
		w = strtok_r(line + 2, " \t\r\n", &save);
		if (w && strcmp(basename_of(w), "env") == 0) {
			w = strtok_r(NULL, " \t\r\n", &save);
			while (w && w[0] == '-')
				w = strtok_r(NULL, " \t\r\n", &save);
		}
		if (w)
			snprintf(out, size, "%s", basename_of(w));
	}
	fclose(f);
}

/* "python3" and "python3.11" are one interpreter; "sh" and "bash" are not. */
static bool same_interpreter(const char *a, const char *b)
{
	size_t n = strlen(a) < strlen(b) ? strlen(a) : strlen(b);

	return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '.') &&
	       (b[n] == '\0' || b[n] == '.');
}

static int check_script(struct script_runner *s, struct runner_ctx *ctx, const char *interp,
			struct error *err)
{
	struct stat st;

	if (stat(s->path, &st) < 0)
		return error_set(err, errno, "--script %s: %s", s->path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return error_set(err, EINVAL, "--script %s: not a regular file", s->path);
	if (access(s->path, R_OK) < 0)
		return error_set(err, errno, "--script %s: %s (the interpreter must read it)",
				 s->path, strerror(errno));
	if (!(s->interpreter = resolve(interp)))
		return error_set(err, ENOENT,
				 "--interpreter %s: not found%s (install it, or give its path)",
				 interp, strchr(interp, '/') ? " or not executable" : " on $PATH");
	read_shebang(s->path, s->shebang, sizeof(s->shebang));
	if (s->shebang[0] && !same_interpreter(s->shebang, basename_of(interp)))
		log_warn("%s: %s starts with #!...%s but runs with --interpreter %s",
			 runner_name(ctx), s->path, s->shebang, interp);
	return 0;
}

static bool is_digit_run(const char *p, const char *end)
{
	if (p == end)
		return false;
	for (; p < end; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/*
 * Where in the script an error is, as the interpreters print it:
 * bash "FILE: line N: ...", dash "FILE: N: ...", python 'File "FILE", line N', node "FILE:N".
 */
static long find_line(const struct script_runner *s, const char *p, size_t len)
{
	size_t plen = strlen(s->path);
	const char *end = p + len;

	for (const char *at = p; at + plen <= end; at++) {
		const char *q = at + plen, *d;

		if (memcmp(at, s->path, plen) != 0)
			continue;
		if (q + 7 <= end && memcmp(q, ": line ", 7) == 0)
			q += 7;
		else if (q + 8 <= end && memcmp(q, "\", line ", 8) == 0)
			q += 8;
		else if (q + 2 <= end && memcmp(q, ": ", 2) == 0)
			q += 2;
		else if (q < end && *q == ':')
			q++;
		else
			continue;
		for (d = q; d < end && *d >= '0' && *d <= '9'; d++)
			;
		if (is_digit_run(q, d))
			return strtol(q, NULL, 10);
	}
	return 0;
}

static void annotate_stderr(void *arg, struct event_builder *b, const struct line *l)
{
	struct script_runner *s = arg;
	long line = find_line(s, l->ptr, l->len);

	if (line > 0) {
		event_builder_str(b, "script_file", s->path);
		event_builder_int(b, "script_line", line);
	}
}

static void put_exit(void *arg, struct event_builder *b)
{
	struct script_runner *s = arg;

	event_builder_str(b, "script", s->path);
	event_builder_str(b, "interpreter", s->interpreter);
	event_builder_str(b, "shebang", s->shebang[0] ? s->shebang : NULL);
}

static void script_destroy(void *self)
{
	struct script_runner *s = self;

	exec_core_destroy(s->core);
	free(s->interpreter);
	free(s->argv);
	free(s);
}

static int build_argv(struct script_runner *s, const struct options *opts, struct error *err)
{
	int nargs = 0;
	char *const *args = options_list(opts, "args", &nargs);

	s->argv = calloc((size_t)nargs + 3, sizeof(char *));
	if (!s->argv)
		return error_set(err, ENOMEM, "out of memory");
	s->argv[0] = s->interpreter;
	s->argv[1] = (char *)s->path;
	for (int i = 0; i < nargs; i++)
		s->argv[2 + i] = args[i];
	return 0;
}

static void *script_create(struct runner_ctx *ctx, const struct options *opts, struct error *err)
{
	static const char usage[] = " (collector run script --interpreter bash --script FILE "
				    "[ARGS...])";
	const char *path = options_str(opts, "script");
	const char *alt = options_str(opts, "script_path");
	struct script_runner *s;

	if (path && alt) {
		error_set(err, EINVAL, "--script and script_path name the script twice; give one");
		return NULL;
	}
	if (!path && !(path = alt)) {
		error_set(err, EINVAL, "no script given%s", usage);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	s->path = path;
	if (check_script(s, ctx, options_str(opts, "interpreter"), err) < 0 ||
	    build_argv(s, opts, err) < 0) {
		script_destroy(s);
		return NULL;
	}
	const struct exec_core_hooks hooks = { annotate_stderr, put_exit, s };
	s->core = exec_core_create(ctx, opts, "script", s->argv, &hooks, err);
	if (!s->core) {
		script_destroy(s);
		return NULL;
	}
	return s;
}

static int script_start(void *self, struct error *err)
{
	struct script_runner *s = self;

	return exec_core_start(s->core, err);
}

static void script_stop(void *self)
{
	struct script_runner *s = self;

	exec_core_stop(s->core);
}

static void script_resume(void *self)
{
	struct script_runner *s = self;

	exec_core_resume(s->core);
}

static void script_metrics(void *self, struct metrics_writer *w)
{
	struct script_runner *s = self;

	exec_core_metrics(s->core, w);
}

const struct runner_ops script_runner_ops = {
	.name = "script",
	.summary = "runs a script with an interpreter; checked first, then run as exec runs",
	.options = script_options,
	.create = script_create,
	.start = script_start,
	.stop = script_stop,
	.resume = script_resume,
	.destroy = script_destroy,
	.metrics = script_metrics,
};
