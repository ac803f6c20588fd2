/* `collector show`: reads stored event lines, filters them and prints the readable view or the lines. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include <collector/clock.h>
#include <collector/collector.h>
#include <collector/options.h>
#include <collector/render.h>

#include "cli_help.h"
#include "filter_expr.h"
#include "line_source.h"
#include "show_cli.h"

/* Lines that are not events are named one by one up to this many, then only counted. */
#define BAD_LINES_NAMED 10

static const struct option_spec show_specs[] = {
	{ .name = "json", .type = OPT_BOOL, .help = "print the events as JSON lines, as stored" },
	{ .name = "pretty",
	  .type = OPT_BOOL,
	  .help = "print the readable view even when stdout is not a terminal" },
	{ .name = "follow",
	  .short_name = 'f',
	  .type = OPT_BOOL,
	  .help = "keep reading the last FILE as it grows, and its next file when it is rotated "
		  "(tail -F)" },
	{ .name = "type",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "GLOB: only events whose type matches, e.g. 'http.*' (repeatable)" },
	{ .name = "runner",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "GLOB: only events of the runners it matches (repeatable)" },
	{ .name = "since",
	  .type = OPT_STRING,
	  .help = "TIME: only events from then on: RFC 3339 (2026-12-05T14:00:00Z) or a time ago "
		  "(10m, 2h)" },
	{ .name = "until",
	  .type = OPT_STRING,
	  .help = "TIME: only events before then (as --since)" },
	{ .name = "where",
	  .type = OPT_STRING,
	  .help = "EXPR: only events that match, e.g. 'data.status >= 500' (docs/viewing.md)" },
	{ .name = "forks", .type = OPT_BOOL, .help = "show process.fork rows (hidden by default)" },
	{ .name = "color",
	  .type = OPT_ENUM,
	  .def = "auto",
	  .choices = "auto|always|never",
	  .help = "colours in the readable view" },
	{ .name = "help", .short_name = 'h', .type = OPT_BOOL, .help = "show this help" },
	{ 0 },
};

struct show {
	const struct options *o;
	struct filter_expr *where;
	int64_t since_ns, until_ns; /* 0 and INT64_MAX: no bound */
	struct renderer *view;	    /* NULL: JSON lines */
	struct event_view event;
	struct buffer out;
	unsigned long bad; /* lines that were not events */
	bool broken;	   /* stdout went away (show | head) */
};

/* A "+hh:mm" or "-hh:mm" offset at @p p, in seconds east of UTC. @return the end, or NULL. */
static const char *parse_offset(const char *p, int64_t *east)
{
	char *end;
	long hh = strtol(p + 1, &end, 10), mm;

	if (end != p + 3 || *end != ':')
		return NULL;
	mm = strtol(end + 1, &end, 10);
	if (end != p + 6 || hh > 23 || mm > 59)
		return NULL;
	*east = (*p == '-' ? -1 : 1) * (int64_t)(hh * 3600 + mm * 60);
	return end;
}

/* RFC 3339 ("2026-12-05T14:00:00.5Z", "+01:00") or a date, into ns since the epoch. */
static int parse_rfc3339(const char *s, int64_t *ns)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	int64_t east = 0;
	double frac = 0;
	char *end;

	if (!p && (p = strptime(s, "%Y-%m-%d", &tm)) && *p)
		return -EINVAL;
	if (!p)
		return -EINVAL;
	if (*p == '.') {
		frac = strtod(p, &end);
		p = end;
	}
	if ((*p == '+' || *p == '-') && !(p = parse_offset(p, &east)))
		return -EINVAL;
	if (*p == 'Z' || *p == 'z')
		p++;
	if (*p)
		return -EINVAL;
	*ns = ((int64_t)timegm(&tm) - east) * 1000000000 + (int64_t)(frac * 1e9);
	return 0;
}

/* --since/--until: a time, or a duration ago. */
static int parse_when(const char *flag, const char *s, int64_t *ns, struct error *err)
{
	int64_t ago;

	if (parse_rfc3339(s, ns) == 0)
		return 0;
	if (parse_duration(s, &ago) == 0) {
		*ns = clock_wall_ns() - ago;
		return 0;
	}
	return error_set(err, EINVAL,
			 "show: --%s '%s': expected an RFC 3339 time (2026-12-05T14:00:00Z) or a "
			 "time ago (10m, 2h)",
			 flag, s);
}

static bool any_glob(const struct options *o, const char *name, const char *text)
{
	int n;
	char *const *globs = options_list(o, name, &n);

	for (int i = 0; i < n; i++)
		if (fnmatch(globs[i], text, 0) == 0)
			return true;
	return n == 0;
}

static bool wanted(const struct show *sh)
{
	const struct event_view *v = &sh->event;

	return any_glob(sh->o, "type", v->type) &&
	       any_glob(sh->o, "runner", event_view_str(v, "runner", 0)) &&
	       (!sh->since_ns || v->ts_ns >= sh->since_ns) && v->ts_ns < sh->until_ns &&
	       (!sh->where || filter_expr_match(sh->where, v));
}

static void bad_line(struct show *sh, const char *name, unsigned long lineno, const char *why)
{
	if (++sh->bad <= BAD_LINES_NAMED)
		fprintf(stderr, "collector: show: %s:%lu: %s (skipped)\n", name, lineno, why);
}

static void show_line(struct show *sh, struct span line, const char *name, unsigned long lineno)
{
	struct error err = { 0 };

	if (event_view_parse(&sh->event, line.ptr, line.len, &err) < 0) {
		bad_line(sh, name, lineno, err.msg);
		return;
	}
	sh->out.len = 0;
	if (wanted(sh)) {
		if (!sh->view) {
			buffer_append(&sh->out, line.ptr, line.len);
			buffer_append(&sh->out, "\n", 1);
		} else if (renderer_row(sh->view, &sh->event, &sh->out) < -1) {
			bad_line(sh, name, lineno, "out of memory");
		}
	}
	if (sh->out.len && fwrite(sh->out.data, 1, sh->out.len, stdout) != sh->out.len)
		sh->broken = true;
	event_view_clear(&sh->event);
}

/* Every line @p src has now; with @p at_end a last line without a newline too. @return 0 or -errno. */
static int pump(struct show *sh, struct line_source *src, const char *name, bool at_end)
{
	struct span line;
	int rc;

	while (!sh->broken && (rc = line_source_next(src, &line, at_end)) != 0) {
		if (rc == -EMSGSIZE)
			bad_line(sh, name, line_source_lineno(src), "longer than 16 MiB");
		else if (rc < 0)
			return rc;
		else
			show_line(sh, line, name, line_source_lineno(src));
	}
	if (fflush(stdout) != 0)
		sh->broken = true;
	return 0;
}

struct follow {
	struct show *sh;
	struct line_source *src;
	const char *name;
	int rc;
};

/* The followed path changed (grew, was rotated or truncated): read what is new. */
static void on_change(struct ev_loop *loop, ev_stat *w, int revents)
{
	struct follow *f = w->data;

	(void)revents;
	f->rc = pump(f->sh, f->src, f->name, false);
	if (f->rc == 0 && line_source_reopen_if_replaced(f->src))
		f->rc = pump(f->sh, f->src, f->name, false);
	if (f->rc < 0 || f->sh->broken)
		ev_break(loop, EVBREAK_ALL);
}

/* --follow: libev watches the path (inotify, or stat polling) until a signal ends the process. */
static int follow(struct show *sh, struct line_source *src, const char *name)
{
	struct ev_loop *loop = ev_default_loop(0);
	struct follow f = { sh, src, name, 0 };
	ev_stat w;

	ev_stat_init(&w, on_change, name, 0.25);
	w.data = &f;
	ev_stat_start(loop, &w);
	on_change(loop, &w, 0); /* a rotation between the first read and the watch */
	if (f.rc == 0 && !sh->broken)
		ev_run(loop, 0);
	ev_stat_stop(loop, &w);
	return f.rc;
}

static int show_files(struct show *sh, int nfiles, char **files)
{
	struct line_source **src = calloc((size_t)nfiles, sizeof(struct line_source *));
	struct error err = { 0 };
	bool tail = options_bool(sh->o, "follow") && strcmp(files[nfiles - 1], "-") != 0;
	int rc = 0;

	if (!src)
		return fprintf(stderr, "collector: show: out of memory\n"), COLLECTOR_EXIT_FAILED;
	/* Every file opens before anything is shown: a wrong name is a usage error. */
	for (int i = 0; i < nfiles && rc == 0; i++)
		if (!(src[i] = line_source_open(files[i], &err)))
			rc = COLLECTOR_EXIT_USAGE;
	for (int i = 0; i < nfiles && rc == 0 && !sh->broken; i++) {
		bool last = i == nfiles - 1;

		if ((rc = pump(sh, src[i], files[i], !(last && tail))) == 0 && last && tail)
			rc = follow(sh, src[i], files[i]);
		if (rc < 0) {
			error_set(&err, -rc, "reading %s: %s", files[i],
				  rc == -EBADMSG ? "corrupt gzip data" : strerror(-rc));
			rc = COLLECTOR_EXIT_FAILED;
		}
	}
	for (int i = 0; i < nfiles; i++)
		line_source_close(src[i]);
	free(src);
	if (rc)
		fprintf(stderr, "collector: show: %s\n", err.msg);
	return rc;
}

/* The filters and the output of the command line into @p sh. */
static int setup(struct show *sh, const struct options *o, struct error *err)
{
	const char *color = options_str(o, "color"), *where = options_str(o, "where");
	bool view = options_bool(o, "pretty") ||
		    (!options_bool(o, "json") && isatty(STDOUT_FILENO));
	struct render_opts ro = {
		.color = strcmp(color, "always") == 0 ||
			 (strcmp(color, "auto") == 0 && isatty(STDOUT_FILENO)),
		.forks = options_bool(o, "forks"),
		.width = render_terminal_width(STDOUT_FILENO),
	};

	sh->o = o;
	sh->until_ns = INT64_MAX;
	if (options_bool(o, "json") && options_bool(o, "pretty"))
		return error_set(err, EINVAL, "show: --json or --pretty, not both");
	if ((options_str(o, "since") &&
	     parse_when("since", options_str(o, "since"), &sh->since_ns, err) < 0) ||
	    (options_str(o, "until") &&
	     parse_when("until", options_str(o, "until"), &sh->until_ns, err) < 0))
		return -EINVAL;
	if (where && !(sh->where = filter_expr_parse(where, err)))
		return error_prefix(err, "show: --where '%s': ", where);
	if (view && !(sh->view = renderer_new(&ro)))
		return error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* Flags anywhere among the files: parse up to each file, take it, go on. */
static int parse_args(int argc, char **argv, struct options *o, char ***files, int *nfiles,
		      struct error *err)
{
	struct options_table t = { show_specs, o };

	*files = calloc((size_t)argc, sizeof(**files));
	if (!*files)
		return error_set(err, ENOMEM, "out of memory");
	for (int i = 0; i < argc;) {
		int first = options_parse_argv(argc - i, argv + i, &t, 1, err);

		if (first < 0)
			return error_prefix(err, "show: ");
		i += first;
		if (i < argc)
			(*files)[(*nfiles)++] = argv[i];
	}
	return options_finish(o, err);
}

int show_cli_main(int argc, char **argv)
{
	struct options *o = options_new(show_specs);
	struct show sh = { 0 };
	struct error err = { 0 };
	char **files = NULL;
	int nfiles = 0, rc = COLLECTOR_EXIT_USAGE;

	if (!o)
		return fprintf(stderr, "collector: show: out of memory\n"), COLLECTOR_EXIT_FAILED;
	if (parse_args(argc, argv, o, &files, &nfiles, &err) == 0 && options_bool(o, "help")) {
		printf("usage: collector show [OPTIONS] FILE...\n\nStored events (the file sink's "
		       "lines, its .gz rotations, or - for stdin) as the readable\nview on a "
		       "terminal, else as JSON lines; their own times and pids.\n\noptions:\n");
		cli_print_specs(stdout, show_specs);
		rc = 0;
	} else if (!err.msg[0] && nfiles == 0) {
		error_set(&err, EINVAL,
			  "show: which file? (collector show FILE..., or - for stdin)");
	} else if (!err.msg[0] && setup(&sh, o, &err) == 0) {
		rc = show_files(&sh, nfiles, files);
		if (sh.bad)
			fprintf(stderr, "collector: show: %lu lines were not events (skipped)\n",
				sh.bad);
	}
	if (rc == COLLECTOR_EXIT_USAGE && err.msg[0])
		fprintf(stderr, "collector: %s\n", err.msg);
	free(files);
	filter_expr_free(sh.where);
	renderer_free(sh.view);
	event_view_free(&sh.event);
	buffer_free(&sh.out);
	options_free(o);
	return rc;
}
