/* The `collector` command line: parses arguments and hands them to the library. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include <collector/collector.h>
#include <collector/event_builder.h>
#include <collector/log.h>
#include <collector/registry.h>

#include "cli_help.h"
#include "config.h"
#include "crash_cli.h"
#include "filter_expr.h"
#include "show_cli.h"
#include "signal_hold.h"
#include "status_client.h"
#include "suggest.h"
#include "system_checks.h"

static const struct option_spec run_specs[] = {
	{ .name = "config",
	  .type = OPT_STRING,
	  .help = "JSON configuration file (see docs/configuration.md)" },
	{ .name = "sink",
	  .short_name = 's',
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "where events go: stdout, file:PATH, or NAME=TYPE[:ARG] (repeatable; default "
		  "stdout)" },
	{ .name = "sink-option",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "KEY=VALUE: an option of every --sink whose type has it, e.g. rotate-size=64MiB "
		  "(repeatable)" },
	{ .name = "route",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "GLOB=SINK[,SINK]: events whose type matches GLOB go to those sinks "
		  "(repeatable)" },
	{ .name = "plugin",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "load runner and sink types from a shared object (repeatable)" },
	{ .name = "name", .type = OPT_STRING, .help = "runner instance name (default: its type)" },
	{ .name = "queue-events",
	  .type = OPT_SIZE,
	  .def = "4096",
	  .help = "events each sink queue holds" },
	{ .name = "queue-bytes",
	  .type = OPT_SIZE,
	  .def = "4MiB",
	  .help = "bytes each sink queue holds" },
	{ .name = "policy",
	  .type = OPT_ENUM,
	  .def = "block",
	  .choices = "block|drop_oldest|drop_newest",
	  .help = "what a full sink queue does" },
	{ .name = "duration",
	  .type = OPT_DURATION,
	  .def = "0",
	  .help = "stop gracefully after this long (0: run until the runners end or a signal)" },
	{ .name = "node",
	  .type = OPT_BOOL,
	  .help = "speak as a runtime node: collector.node at start and stop, collector.heartbeat "
		  "every --heartbeat (docs/events.md)" },
	{ .name = "node-id",
	  .type = OPT_STRING,
	  .help = "the node's id (implies --node; default /etc/machine-id, else the host name)" },
	{ .name = "heartbeat",
	  .type = OPT_DURATION,
	  .def = "5s",
	  .help = "interval of collector.heartbeat events (given: implies --node)" },
	{ .name = "shutdown-timeout",
	  .type = OPT_DURATION,
	  .def = "10s",
	  .help = "bound on the graceful stop (drain and flush); a kafka sink then waits up to "
		  "its --flush-timeout more for delivery reports, so the stop takes at most "
		  "both" },
	{ .name = "where",
	  .type = OPT_STRING,
	  .help = "EXPR: only events that match go to the sinks, e.g. 'data.status >= 500 and "
		  "comm == \"curl\"' (see docs/viewing.md)" },
	{ .name = "summary",
	  .type = OPT_BOOL,
	  .help = "print a summary of the run on stderr at its end (the default when stderr is a "
		  "terminal)" },
	{ .name = "metrics",
	  .type = OPT_STRING,
	  .implicit = "127.0.0.1:9477",
	  .help = "serve /metrics, /healthz and /runners over HTTP (--metrics ADDR or "
		  "--metrics=ADDR, HOST:PORT, for another address than 127.0.0.1:9477)" },
	{ .name = "metrics-public",
	  .type = OPT_BOOL,
	  .help = "allow --metrics on a non-loopback address (logged as a warning)" },
	{ .name = "log-level",
	  .type = OPT_ENUM,
	  .def = "info",
	  .choices = "error|warn|info|debug",
	  .help = "diagnostics on stderr" },
	{ .name = "log-format",
	  .type = OPT_ENUM,
	  .def = "text",
	  .choices = "text|json",
	  .help = "diagnostics as text lines or JSON objects" },
	{ .name = "help", .short_name = 'h', .type = OPT_BOOL, .help = "show this help" },
	{ 0 },
};

/*
 * The sinks' options that `collector run` also takes as global flags (those
 * marked cli_global: -X, --pretty), gathered from the registered sink types
 * at startup so that a sink adds its own flag; ended by a zeroed entry.
 */
#define SINK_FLAGS_MAX 32
static struct option_spec sink_flags[SINK_FLAGS_MAX + 1];

static void collect_sink_flags(void)
{
	const struct sink_ops *ops;
	int n = 0;

	for (int i = 0; (ops = registry_sink_at(i)); i++) {
		for (const struct option_spec *s = ops->options; s && s->name; s++) {
			bool seen = false;

			for (int j = 0; j < n; j++)
				seen |= strcmp(sink_flags[j].name, s->name) == 0;
			if (s->cli_global && !seen && n < SINK_FLAGS_MAX)
				sink_flags[n++] = *s;
		}
	}
}

static void run_help(const struct runner_ops *ops)
{
	if (ops) {
		printf("usage: collector run [OPTIONS] %s [OPTIONS]%s\n\n%s\n\n%s options:\n",
		       ops->name,
		       ops->options && ops->options[0].type == OPT_ARGV ? " [--] CMD [ARGS...]" :
									  "",
		       ops->summary, ops->name);
		cli_print_specs(stdout, ops->options);
		printf("\n");
	} else {
		printf("usage: collector run [OPTIONS] [RUNNER [RUNNER OPTIONS] [--] "
		       "[ARGS...]]\n\n");
	}
	printf("options:\n");
	cli_print_specs(stdout, run_specs);
	printf("\noptions of every --sink whose type has them:\n");
	cli_print_specs(stdout, sink_flags);
	printf("\nexit status: 0 ok, 1 a runner failed, 2 usage error, 3 events were lost\n");
}

/* ---- building the configuration from the command line ---- */

/* The global sink flags given (-X, --pretty, ...), for the sink types that have them. */
static int set_sink_flags(struct options *o, const struct options *flags, struct error *e)
{
	char *words[128];
	int n = options_to_argv(flags, words, 128, e), rc = 0;

	for (int i = 0; i < n && rc >= 0; i++) {
		char *name = words[i] + 2, *eq = strchr(name, '=');

		if (eq)
			*eq = '\0';
		if ((rc = options_set(o, name, eq ? eq + 1 : "true", e)) == -ENOENT)
			rc = 0;
	}
	for (int i = 0; i < n; i++)
		free(words[i]);
	return n < 0 ? n : rc;
}

/* --sink-option KEY=VALUE, for the sink types that have the option. */
static int set_sink_options(struct options *o, const struct options *g, struct error *e)
{
	int n, rc = 0;
	char *const *list = options_list(g, "sink-option", &n);

	for (int i = 0; i < n && rc >= 0; i++) {
		const char *eq = strchr(list[i], '=');
		char *key;

		if (!eq || eq == list[i])
			return error_set(e, EINVAL, "--sink-option '%s': expected KEY=VALUE",
					 list[i]);
		key = strndup(list[i], (size_t)(eq - list[i]));
		if (!key)
			return error_set(e, ENOMEM, "out of memory");
		if ((rc = options_set(o, key, eq + 1, e)) == -ENOENT)
			rc = 0;
		free(key);
	}
	return rc;
}

/* The global run options and the sink flags they carry. */
struct run_options {
	struct options *g;     /* run_specs */
	struct options *flags; /* sink_flags */
};

/* A free default name for a sink of @type: the type, then type2, type3, ... */
static void default_sink_name(const struct config *cfg, const char *type, char *name, size_t size)
{
	snprintf(name, size, "%s", type);
	for (int i = 2; cfg->nsinks && i < 100; i++) {
		bool taken = false;

		for (int j = 0; j < cfg->nsinks; j++)
			taken |= strcmp(cfg->sinks[j].name, name) == 0;
		if (!taken)
			break;
		snprintf(name, size, "%s%d", type, i);
	}
}

/* `--sink [NAME=]TYPE[:ARG]` into @cfg. */
static int add_cli_sink(struct config *cfg, const char *spec, const struct run_options *ro,
			struct error *e)
{
	const char *arg = spec, *eq = strchr(spec, '='), *colon;
	const struct sink_ops *ops;
	char name[EVENT_RUNNER_MAX + 16] = "", type[64], hint[96];
	struct options *o;
	size_t n;

	if (eq && strspn(spec, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
			       "-") == (size_t)(eq - spec)) {
		if (eq - spec > EVENT_RUNNER_MAX)
			return error_set(e, EINVAL,
					 "run: --sink '%s': the name is longer than %d bytes", spec,
					 EVENT_RUNNER_MAX);
		memcpy(name, spec, (size_t)(eq - spec));
		name[eq - spec] = '\0';
		arg = eq + 1;
	}
	colon = strchr(arg, ':');
	n = colon ? (size_t)(colon - arg) : strlen(arg);
	if (n == 0 || n >= sizeof(type))
		return error_set(e, EINVAL, "run: --sink '%s': expected TYPE or TYPE:ARG", arg);
	memcpy(type, arg, n);
	type[n] = '\0';
	ops = registry_sink(type);
	if (!ops)
		return error_set(e, EINVAL,
				 "run: --sink '%s': unknown sink type '%s'%s (see collector list)",
				 arg, type, suggest_sink_type(type, hint, sizeof(hint)));
	if (colon && !ops->spec_option)
		return error_set(e, EINVAL, "run: --sink '%s': the %s sink takes no argument", arg,
				 type);
	if (!name[0])
		default_sink_name(cfg, type, name, sizeof(name));
	o = options_new(ops->options);
	if (!o)
		return error_set(e, ENOMEM, "out of memory");
	if ((colon && options_set(o, ops->spec_option, colon + 1, e) < 0) ||
	    set_sink_flags(o, ro->flags, e) < 0 || set_sink_options(o, ro->g, e) < 0 ||
	    options_finish(o, e) < 0) {
		options_free(o);
		return error_prefix(e, "run: --sink '%s': ", arg);
	}
	if (config_add_sink(cfg, name, type, o, (size_t)options_int(ro->g, "queue-events"),
			    (size_t)options_int(ro->g, "queue-bytes"),
			    options_str(ro->g, "policy")) < 0)
		return error_set(e, ENOMEM, "out of memory");
	return 0;
}

static int add_cli_routes(struct config *cfg, const struct options *g, struct error *e)
{
	int n;
	char *const *routes = options_list(g, "route", &n);

	for (int i = 0; i < n; i++) {
		char *glob = strdup(routes[i]);
		char *eq = glob ? strrchr(glob, '=') : NULL;
		int rc;

		if (!eq || eq == glob || !eq[1]) {
			free(glob);
			return error_set(e, EINVAL, "run: --route '%s': expected GLOB=SINK[,SINK]",
					 routes[i]);
		}
		*eq = '\0';
		rc = config_add_route(cfg, NULL, glob, eq + 1);
		free(glob);
		if (rc < 0)
			return error_set(e, ENOMEM, "out of memory");
	}
	return 0;
}

static void report_problem(void *arg, const char *path, const char *msg)
{
	fprintf(stderr, "%s: %s: %s\n", (const char *)arg, path, msg);
}

/* With no runner and no config, `collector run` traces processes. */
static int add_default_runner(struct config *cfg, struct error *e)
{
	struct options *o = options_new(registry_runner("process")->options);

	if (!o || options_finish(o, e) < 0 || config_add_runner(cfg, "process", "process", o) < 0)
		return error_set(e, ENOMEM, "out of memory");
	return 0;
}

/*
 * `run [OPTIONS] RUNNER [RUNNER OPTIONS] [--] [ARGS...]` from @argv[0] (the
 * runner's name) on. @return 1 after printing the runner's --help, 0, or a
 * negative code with @p e.
 */
static int build_runner(struct config *cfg, int argc, char **argv, struct options_table *tables,
			struct error *e)
{
	const struct runner_ops *ops = registry_runner(argv[0]);
	const char *name;
	const struct option_spec *positional;
	struct options_table order[3];
	struct options *o;
	char hint[96];
	int first;

	if (!ops)
		return error_set(e, EINVAL, "run: unknown runner '%s'%s (see collector list)",
				 argv[0], suggest_runner_type(argv[0], hint, sizeof(hint)));
	o = options_new(ops->options);
	if (!o)
		return error_set(e, ENOMEM, "out of memory");
	tables[2] = (struct options_table){ ops->options, o };
	/* After its name, a runner's own option wins over a run option of the same name
	 * (the container runner's --name): searched first. */
	order[0] = tables[2];
	order[1] = tables[0];
	order[2] = tables[1];
	first = options_parse_argv(argc, argv, order, 3, e);
	if (first >= 0 && options_bool(tables[0].values, "help")) {
		run_help(ops);
		options_free(o);
		return 1;
	}
	for (positional = ops->options; positional && positional->name; positional++)
		if (positional->type == OPT_ARGV)
			break;
	for (int i = first; first >= 0 && i < argc; i++) {
		if (!positional || !positional->name)
			first = error_set(e, EINVAL, "unexpected argument '%s'", argv[i]);
		else
			options_set(o, positional->name, argv[i], NULL);
	}
	if (first < 0 || options_finish(o, e) < 0) {
		options_free(o);
		return error_prefix(e, "run %s: ", ops->name);
	}
	name = options_str(tables[0].values, "name");
	if (config_add_runner(cfg, name ? name : ops->name, ops->name, o) < 0)
		return error_set(e, ENOMEM, "out of memory");
	return 0;
}

static void apply_log_level(const char *name)
{
	enum log_level lvl;

	if (log_parse_level(name, &lvl) == 0)
		log_set_level(lvl);
}

struct reload_ctx {
	const char *path; /* the configuration file, NULL without one */
	bool cli_level;	  /* --log-level was given: it wins over the file */
};

static void log_problem(void *arg, const char *path, const char *msg)
{
	log_error("reload: %s: %s: %s", (const char *)arg, path, msg);
}

/* SIGHUP: re-read the configuration; apply what is safe while running. */
static void reload_config(void *arg)
{
	const struct reload_ctx *r = arg;
	struct config fresh = { 0 };
	int problems = config_load(&fresh, r->path, log_problem, (void *)r->path);

	if (problems != 0) {
		log_error("reload: %s is not valid; the running configuration stays", r->path);
	} else {
		if (fresh.log_level && !r->cli_level)
			apply_log_level(fresh.log_level);
		log_info("reload: %s is valid; log_level applied, changes to runners, sinks, "
			 "routes and metrics take effect at the next start",
			 r->path);
	}
	config_free(&fresh);
}

/*
 * Bursts grow the heap (sink queues, librdkafka's messages in flight) and
 * glibc hands its top back after each: the next burst page-faults it in again,
 * about a fifth of the kafka sink's CPU. Keep up to 32 MiB of it.
 */
static void tune_heap(void)
{
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
	mallopt(M_TOP_PAD, 4 << 20);
}

/* The logging options of a run. */
static void apply_log_options(const struct options *g)
{
	apply_log_level(options_str(g, "log-level"));
	log_set_format(strcmp(options_str(g, "log-format"), "json") == 0 ? LOG_JSON : LOG_TEXT);
}

/* --pretty is a view of the stdout sink: given without one it would be ignored. */
static int check_pretty(const struct config *cfg, const struct run_options *ro, struct error *e)
{
	if (!options_given(ro->flags, "pretty"))
		return 0;
	for (int i = 0; i < cfg->nsinks; i++)
		if (strcmp(cfg->sinks[i].type, "stdout") == 0 &&
		    options_bool(cfg->sinks[i].opts, "pretty"))
			return 0;
	return error_set(e, EINVAL,
			 "run: --pretty shows the stdout sink, and no --sink is stdout: add "
			 "--sink stdout (the other sinks write JSON lines)");
}

/* The sinks, routes and metrics the run's flags ask for, into @cfg. */
static int add_cli_outputs(struct config *cfg, const struct run_options *ro, struct error *e)
{
	int nsinks;
	char *const *list = options_list(ro->g, "sink", &nsinks);

	for (int i = 0; i < nsinks; i++)
		if (add_cli_sink(cfg, list[i], ro, e) < 0)
			return -EINVAL;
	if (cfg->nsinks == 0 && add_cli_sink(cfg, "stdout", ro, e) < 0)
		return -EINVAL;
	if (add_cli_routes(cfg, ro->g, e) < 0)
		return -EINVAL;
	if (check_pretty(cfg, ro, e) < 0)
		return -EINVAL;
	if (options_given(ro->g, "shutdown-timeout") || !cfg->shutdown_timeout_ns)
		cfg->shutdown_timeout_ns = options_int(ro->g, "shutdown-timeout");
	if (options_str(ro->g, "metrics") && config_set_metrics(cfg, options_str(ro->g, "metric"
											"s")) < 0)
		return error_set(e, ENOMEM, "out of memory");
	cfg->metrics_public |= options_bool(ro->g, "metrics-public");
	if (cfg->metrics && parse_address_port(cfg->metrics) < 0)
		return error_set(e, EINVAL,
				 "run: metrics address '%s': expected HOST:PORT with PORT 0 to "
				 "65535 (0: any free port), e.g. 127.0.0.1:9477",
				 cfg->metrics);
	return 0;
}

/* The configuration of `collector run`: the file, the runner and the flags. */
static int build_config(struct config *cfg, int argc, char **argv, const struct run_options *ro,
			struct reload_ctx *reload, struct error *e)
{
	struct options_table tables[3] = { { run_specs, ro->g }, { sink_flags, ro->flags } };
	int first = options_parse_argv(argc, argv, tables, 2, e), nplugins, rc;
	const char *path = options_str(ro->g, "config");
	char *const *list;

	if (first < 0)
		return error_prefix(e, "run: ");
	list = options_list(ro->g, "plugin", &nplugins);
	for (int i = 0; i < nplugins; i++)
		if (registry_load_plugin(list[i], e) < 0)
			return error_prefix(e, "run: ");
	if (first < argc && (rc = build_runner(cfg, argc - first, argv + first, tables, e)) != 0)
		return rc;
	if (options_bool(ro->g, "help")) {
		run_help(NULL);
		return 1;
	}
	options_finish(ro->g, NULL);
	apply_log_options(ro->g);
	if (path && config_load(cfg, path, report_problem, (void *)path) != 0)
		return -EINVAL; /* each problem is printed */
	if (cfg->log_level && !options_given(ro->g, "log-level"))
		apply_log_level(cfg->log_level);
	*reload = (struct reload_ctx){ path, options_given(ro->g, "log-level") };
	if (!path && first >= argc && add_default_runner(cfg, e) < 0)
		return -ENOMEM;
	return add_cli_outputs(cfg, ro, e);
}

/*
 * A sink, runner or endpoint that could not be set up: what was asked for cannot
 * be (a missing directory, no permission, a busy address, no such process) is a
 * bad configuration, 2, whatever the errno; the machine running out of something
 * is a failure, 1.
 */
static int setup_exit_code(int code)
{
	switch (code) {
	case ENOMEM:
	case EMFILE:
	case ENFILE:
	case EAGAIN:
	case ENOSPC:
	case EDQUOT:
	case EIO:
		return COLLECTOR_EXIT_FAILED;
	default:
		return COLLECTOR_EXIT_USAGE;
	}
}

/* --node, --node-id, --heartbeat: registration and heartbeats (off unless one is given). */
static int set_node(struct collector *c, const struct options *g, struct error *err)
{
	int64_t every = options_int(g, "heartbeat");

	if (!options_bool(g, "node") && !options_given(g, "node-id") &&
	    !options_given(g, "heartbeat"))
		return 0;
	if (every <= 0)
		return error_set(err, EINVAL, "--heartbeat: expected a duration above 0 (e.g. 5s)");
	return collector_set_node(c, options_str(g, "node-id"), every, err);
}

/* --where: parsed before anything starts, so a typo is a usage error. */
static int parse_where(const struct options *g, struct filter_expr **f, struct error *err)
{
	const char *text = options_str(g, "where");

	if (text && !(*f = filter_expr_parse(text, err)))
		return error_prefix(err, "run: --where '%s': ", text);
	return 0;
}

/* What the run's end prints: the summary when asked or when a person watches stderr. */
static int setup_run(struct collector *c, const struct options *g, struct filter_expr **where,
		     struct error *err)
{
	struct filter_expr *f = *where;

	*where = NULL;
	if ((f && collector_set_filter(c, f) < 0) ||
	    ((options_bool(g, "summary") || isatty(STDERR_FILENO)) && collector_count_types(c) < 0))
		return error_set(err, ENOMEM, "out of memory");
	collector_set_duration(c, options_int(g, "duration"));
	return 0;
}

/* `collector run`: parses its own words (global options, then a runner's). */
static int cmd_run(struct options *unused, int argc, char **argv, struct error *err)
{
	struct run_options ro = { options_new(run_specs), options_new(sink_flags) };
	struct config cfg = { 0 };
	struct reload_ctx reload = { 0 };
	struct collector *c = NULL;
	struct filter_expr *where = NULL;
	int rc = COLLECTOR_EXIT_USAGE, built;

	(void)unused;
	tune_heap();
	if (!ro.g || !ro.flags) {
		error_set(err, ENOMEM, "out of memory");
		rc = COLLECTOR_EXIT_FAILED;
		goto out;
	}
	built = build_config(&cfg, argc, argv, &ro, &reload, err);
	if (built == 0 && parse_where(ro.g, &where, err) < 0)
		built = -EINVAL;
	if (built != 0) {
		rc = built > 0		 ? 0 :
		     err->code == ENOMEM ? COLLECTOR_EXIT_FAILED :
					   COLLECTOR_EXIT_USAGE;
		goto out;
	}
	c = collector_new(ev_default_loop(0), err);
	if (!c) {
		rc = COLLECTOR_EXIT_FAILED;
		goto out;
	}
	if (config_apply(&cfg, c, err) < 0) {
		rc = setup_exit_code(err->code);
		goto out;
	}
	if (set_node(c, ro.g, err) < 0) {
		rc = err->code == ENOMEM ? COLLECTOR_EXIT_FAILED : COLLECTOR_EXIT_USAGE;
		goto out;
	}
	if (setup_run(c, ro.g, &where, err) < 0) {
		rc = COLLECTOR_EXIT_FAILED;
		goto out;
	}
	if (reload.path)
		collector_on_reload(c, reload_config, &reload);
	rc = collector_run(c);
	if (options_bool(ro.g, "summary") || isatty(STDERR_FILENO)) {
		log_drain(1000);
		collector_write_summary(c, stderr, rc);
	}
out:
	filter_expr_free(where);
	collector_free(c);
	config_free(&cfg);
	options_free(ro.g);
	options_free(ro.flags);
	registry_unload_plugins();
	/* Diagnostics stderr did not take yet: a last chance, bounded. */
	log_drain(1000);
	return rc;
}

static const struct option_spec validate_specs[] = {
	{ .name = "config",
	  .type = OPT_STRING,
	  .help = "the configuration file to check (or give it as the only word)" },
	{ .name = "help", .short_name = 'h', .type = OPT_BOOL, .help = "show this help" },
	{ 0 },
};

/* `collector validate [--config] FILE`: every problem of a configuration file. */
static int cmd_validate(struct options *o, int argc, char **argv, struct error *err)
{
	const char *path = options_str(o, "config");
	struct config cfg = { 0 };
	int problems;

	if (argc > (path ? 0 : 1)) {
		error_set(err, EINVAL, "validate: unexpected argument '%s'", argv[path ? 0 : 1]);
		return COLLECTOR_EXIT_USAGE;
	}
	if (!path && argc == 0) {
		error_set(err, EINVAL, "validate: which file? (collector validate --config FILE)");
		return COLLECTOR_EXIT_USAGE;
	}
	path = path ? path : argv[0];
	problems = config_load(&cfg, path, report_problem, (void *)path);
	if (problems == 0)
		printf("%s: ok: %d runners, %d sinks, %d routes\n", path, cfg.nrunners, cfg.nsinks,
		       cfg.nroutes);
	config_free(&cfg);
	registry_unload_plugins();
	return problems == 0 ? 0 : COLLECTOR_EXIT_USAGE;
}

static const struct option_spec list_specs[] = {
	{ .name = "plugin",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "also list the runner and sink types of a shared object (repeatable)" },
	{ .name = "help", .short_name = 'h', .type = OPT_BOOL, .help = "show this help" },
	{ 0 },
};

/* `collector list [--plugin SO]...`: the types built in and those the plugins add. */
static int cmd_list(struct options *o, int argc, char **argv, struct error *err)
{
	const struct runner_ops *r;
	const struct sink_ops *s;
	int n;
	char *const *plugins = options_list(o, "plugin", &n);

	if (argc > 0) {
		error_set(err, EINVAL, "list: unexpected argument '%s'", argv[0]);
		return COLLECTOR_EXIT_USAGE;
	}
	for (int i = 0; i < n; i++) {
		if (registry_load_plugin(plugins[i], err) < 0) {
			error_prefix(err, "list: ");
			return COLLECTOR_EXIT_USAGE;
		}
	}
	printf("runners:\n");
	for (int i = 0; (r = registry_runner_at(i)); i++)
		printf("  %-10s %s\n", r->name, r->summary);
	printf("sinks:\n");
	for (int i = 0; (s = registry_sink_at(i)); i++)
		printf("  %-10s %s\n", s->name, s->summary);
	registry_unload_plugins();
	return 0;
}

/* One JSON line of the demo child on stdout. */
static void demo_line(struct event_builder *b)
{
	struct span text;

	if (event_builder_finish(b, &text) == 0) {
		fwrite(text.ptr, 1, text.len, stdout);
		putchar('\n');
	}
	fflush(stdout);
}

/* The built-in demo's child: a few events of each kind a command can print. */
static int cmd_demo(struct options *unused, int argc, char **argv, struct error *err)
{
	const struct timespec pause = { 0, 100L * 1000000 };
	struct event_builder *b = event_builder_new();

	(void)unused, (void)argc, (void)argv;
	if (!b) {
		error_set(err, ENOMEM, "demo: out of memory");
		return 1;
	}
	event_builder_begin(b);
	event_builder_str(b, "type", "demo.hello");
	event_builder_str(b, "message", "JSON lines with a type become typed events");
	demo_line(b);
	printf("plain text lines become exec.line events\n");
	fflush(stdout);
	fprintf(stderr, "stderr lines become exec.stderr events\n");
	for (int i = 1; i <= 3; i++) {
		nanosleep(&pause, NULL);
		event_builder_begin(b);
		event_builder_str(b, "type", "demo.metric");
		event_builder_open_object(b, "data");
		event_builder_str(b, "name", "load");
		event_builder_double(b, "value", i + 0.5, 1);
		event_builder_close_object(b);
		demo_line(b);
	}
	event_builder_free(b);
	return 0;
}

/* `collector doctor`: one row per machine fact, a fix for each missing one. */
static int cmd_doctor(struct options *unused, int argc, char **argv, struct error *err)
{
	struct check checks[CHECK_COUNT];
	bool bpf_ok = true;

	(void)unused, (void)argc, (void)argv, (void)err;
	system_checks_run(checks);
	printf("%-20s %-4s %s\n", "CHECK", "OK", "DETAIL");
	for (int i = 0; i < CHECK_COUNT; i++) {
		printf("%-20s %-4s %s\n", checks[i].name, checks[i].ok ? "yes" : "no",
		       checks[i].detail);
		if (!checks[i].ok)
			printf("%-20s %-4s fix: %s\n", "", "", checks[i].fix);
		if (checks[i].needed_for_bpf && !checks[i].ok)
			bpf_ok = false;
	}
	printf("\nBPF runners (process, ssl): %s\n", bpf_ok ? "can run" : "cannot run here");
	return bpf_ok ? 0 : 1;
}

static const struct option_spec status_specs[] = {
	{ .name = "metrics",
	  .type = OPT_STRING,
	  .def = "127.0.0.1:9477",
	  .help = "the metrics address of the collector to ask (or give it as the only word)" },
	{ .name = "help", .short_name = 'h', .type = OPT_BOOL, .help = "show this help" },
	{ 0 },
};

/* A metrics address to ask: HOST:PORT, the port 0 to 65535. */
static int check_address(const char *addr, const char *cmd, struct error *err)
{
	if (parse_address_port(addr) < 0)
		return error_set(err, EINVAL,
				 "%s: '%s' is not a metrics address: expected HOST:PORT with PORT "
				 "1 to 65535, e.g. 127.0.0.1:9477",
				 cmd, addr);
	return 0;
}

/* `collector status [ADDR]`: the table of a running collector. */
static int cmd_status(struct options *o, int argc, char **argv, struct error *err)
{
	if (argc > 1 || (argc == 1 && options_given(o, "metrics"))) {
		error_set(err, EINVAL, "status: unexpected argument '%s'", argv[argc - 1]);
		return COLLECTOR_EXIT_USAGE;
	}
	if (check_address(argc == 1 ? argv[0] : options_str(o, "metrics"), "status", err) < 0)
		return COLLECTOR_EXIT_USAGE;
	return status_client_print(argc == 1 ? argv[0] : options_str(o, "metrics"), stdout);
}

static const struct option_spec reset_breaker_specs[] = {
	{ .name = "metrics",
	  .type = OPT_STRING,
	  .def = "127.0.0.1:9477",
	  .help = "the metrics address of the collector to ask (or give it before RUNNER)" },
	{ .name = "help", .short_name = 'h', .type = OPT_BOOL, .help = "show this help" },
	{ 0 },
};

/* `collector reset-breaker [ADDR] RUNNER`: an operator closes a runner's open breakers. */
static int cmd_reset_breaker(struct options *o, int argc, char **argv, struct error *err)
{
	int most = options_given(o, "metrics") ? 1 : 2;

	if (argc == 0 || argc > most) {
		if (argc == 0)
			error_set(err, EINVAL,
				  "reset-breaker: which runner? (collector "
				  "reset-breaker [ADDR] RUNNER)");
		else
			error_set(err, EINVAL, "reset-breaker: unexpected argument '%s'",
				  argv[most]);
		return COLLECTOR_EXIT_USAGE;
	}
	if (check_address(argc == 2 ? argv[0] : options_str(o, "metrics"), "reset-breaker", err) <
	    0)
		return COLLECTOR_EXIT_USAGE;
	return status_client_action(argc == 2 ? argv[0] : options_str(o, "metrics"), argv[argc - 1],
				    "reset-breaker", stdout);
}

/* `collector crashes [--dir D] [--since WHEN] [--all] [ID|latest]`: parses its own words. */
static int cmd_crashes(struct options *unused, int argc, char **argv, struct error *err)
{
	(void)unused, (void)err;
	return crash_cli_main(argc, argv, stdout);
}

/* `collector show [OPTIONS] FILE...`: parses its own words. */
static int cmd_show(struct options *unused, int argc, char **argv, struct error *err)
{
	(void)unused, (void)err;
	return show_cli_main(argc, argv);
}

/* `collector loader NAME ARGS`: a runner re-executes this binary as its loader. */
static int cmd_loader(struct options *unused, int argc, char **argv, struct error *err)
{
	const struct runner_ops *ops = argc >= 2 ? registry_runner(argv[1]) : NULL;
	char names[256] = "";
	size_t n = 0;

	(void)unused;
	if (ops && ops->loader_main)
		return registry_run_loader(argv[1], argc - 1, argv + 1);
	for (int i = 0; (ops = registry_runner_at(i)); i++)
		if (ops->loader_main && n < sizeof(names))
			n += (size_t)snprintf(names + n, sizeof(names) - n, " %s", ops->name);
	error_set(err, EINVAL, "loader: which one? (a runner with a loader:%s)", names);
	return COLLECTOR_EXIT_USAGE;
}

/*
 * libev calls abort() when an allocation or a system call it cannot do without
 * fails (out of memory, no fd left for its signal pipe). Say what failed and
 * exit with the failure status instead; _exit, as the loop's state is unknown.
 */
static void on_loop_syserr(const char *msg)
{
	log_error("%s: %s", msg, strerror(errno));
	_exit(COLLECTOR_EXIT_FAILED);
}

static void *loop_realloc(void *ptr, long size)
{
	void *p;

	if (size == 0) {
		free(ptr);
		return NULL;
	}
	p = realloc(ptr, (size_t)size);
	if (!p) {
		log_error("out of memory: the event loop needed %ld bytes", size);
		_exit(COLLECTOR_EXIT_FAILED);
	}
	return p;
}

/* The options of a command that has none but --help. */
static const struct option_spec help_specs[] = {
	{ .name = "help", .short_name = 'h', .type = OPT_BOOL, .help = "show this help" },
	{ 0 },
};

static int cmd_man(struct options *unused, int argc, char **argv, struct error *err);
static int cmd_version(struct options *unused, int argc, char **argv, struct error *err);

static const struct cli_command commands[] = {
	{ "run", "[OPTIONS] [RUNNER [RUNNER OPTIONS] [--] [ARGS...]]",
	  "run runners until they end, a signal arrives or --duration passes",
	  "With no RUNNER and no --config: trace process exec, fork and exit events.", run_specs,
	  cmd_run },
	{ "validate", "[--config] FILE", "check a configuration file and print every problem", NULL,
	  validate_specs, cmd_validate },
	{ "list", "[--plugin SO]...", "the runner and sink types available (with a plugin's)", NULL,
	  list_specs, cmd_list },
	{ "status", "[ADDR]", "ask a collector running with --metrics how it is doing",
	  "Prints the runners, their children, the sinks and the health of a collector\n"
	  "running with --metrics (ADDR: its metrics address, default 127.0.0.1:9477).",
	  status_specs, cmd_status },
	{ "reset-breaker", "[ADDR] RUNNER",
	  "close the open circuit breakers of an algorithm runner",
	  "RUNNER is the instance's --name (default algorithm); its broken children start\n"
	  "again at once instead of after --breaker-cooldown. It sends POST\n"
	  "/runners/RUNNER/reset-breaker to the metrics endpoint (ADDR, default\n"
	  "127.0.0.1:9477) with the control token only root and the collector's user can\n"
	  "read; only peers on the same machine may.",
	  reset_breaker_specs, cmd_reset_breaker },
	{ "crashes", "[--dir DIR] [--since WHEN] [--all] [ID|latest]",
	  "list crash reports grouped by cause, or explain one",
	  "DIR is where the runners write them: /var/lib/collector/crashes as root,\n"
	  "$XDG_STATE_HOME/collector/crashes otherwise (~/.local/state when unset),\n"
	  "$COLLECTOR_STATE_DIR/crashes when that is set; --crash-dir on the runner moves it.",
	  NULL, cmd_crashes },
	{ "show", "[OPTIONS] FILE...", "show stored events: the readable view, filtered",
	  "FILE: the file sink's lines, its .gz rotations, or - for stdin (see docs/viewing.md).",
	  NULL, cmd_show },
	{ "doctor", "", "what this machine allows (BTF, BPF, uprobes, cgroups, ...)",
	  "With a fix for each missing piece.", help_specs, cmd_doctor },
	{ "man", "", "print this manual page (troff)", NULL, help_specs, cmd_man },
	{ "version", "", "print the version (also: collector -V, collector --version)", NULL,
	  help_specs, cmd_version },
	{ "demo", "", NULL, NULL, NULL, cmd_demo },
	{ "loader", "NAME [ARGS...]", NULL, NULL, NULL, cmd_loader },
	{ 0 },
};

static int cmd_man(struct options *unused, int argc, char **argv, struct error *err)
{
	(void)unused, (void)argc, (void)argv, (void)err;
	cli_write_manpage(stdout, commands, run_specs, sink_flags);
	return 0;
}

static int cmd_version(struct options *unused, int argc, char **argv, struct error *err)
{
	(void)unused, (void)argc, (void)argv, (void)err;
	printf("collector %s\n", COLLECTOR_VERSION);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: collector COMMAND [OPTIONS]\n\n"
		   "Collects events from runners and writes them to sinks.\n\ncommands:\n");
	for (const struct cli_command *c = commands; c->name; c++) {
		int n = c->summary ? fprintf(f, "  %s %s", c->name, c->synopsis) : 0;

		if (c->summary)
			fprintf(f, "%*s%s\n", n < 20 ? 20 - n : 0, "", n < 20 ? c->summary : "");
		if (c->summary && n >= 20)
			fprintf(f, "%20s%s\n", "", c->summary);
	}
	fprintf(f, "\n`collector COMMAND --help` lists a command's options, `collector run RUNNER "
		   "--help` a runner's.\n");
}

static void command_help(const struct cli_command *c)
{
	printf("usage: collector %s %s\n\n%s.\n", c->name, c->synopsis, c->summary);
	if (c->detail)
		printf("%s\n", c->detail);
	printf("\noptions:\n");
	cli_print_specs(stdout, c->specs);
}

/* Parse a command's flags through its table, then run it. @return an exit code. */
static int run_command(const struct cli_command *c, int argc, char **argv, struct error *err)
{
	struct options_table t = { c->specs, NULL };
	int first, rc;

	if (!c->specs || c->main == cmd_run)
		return c->main(NULL, argc, argv, err);
	t.values = options_new(c->specs);
	if (!t.values) {
		error_set(err, ENOMEM, "out of memory");
		return COLLECTOR_EXIT_FAILED;
	}
	first = options_parse_argv(argc, argv, &t, 1, err);
	if (first < 0) {
		error_prefix(err, "%s: ", c->name);
		rc = COLLECTOR_EXIT_USAGE;
	} else if (options_bool(t.values, "help")) {
		command_help(c);
		rc = 0;
	} else {
		options_finish(t.values, NULL);
		rc = c->main(t.values, argc - first, argv + first, err);
	}
	options_free(t.values);
	return rc;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";
	struct error err = { 0 };
	struct suggestion sg;
	char hint[96];

	/* Before anything starts: a signal in the first ms of a run is not fatal. */
	if (strcmp(cmd, "run") == 0)
		signal_hold();
	/* A reader that goes away is an error on that sink, not the end of the process. */
	signal(SIGPIPE, SIG_IGN);
	ev_set_syserr_cb(on_loop_syserr);
	ev_set_allocator(loop_realloc);

	registry_add_builtins();
	collect_sink_flags();
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0)
		cmd = "version";
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	for (const struct cli_command *c = commands; c->name; c++) {
		if (strcmp(cmd, c->name) == 0) {
			int rc = run_command(c, argc - 1, argv + 1, &err);

			if (rc != 0 && err.msg[0])
				fprintf(stderr, "collector: %s\n", err.msg);
			return rc;
		}
	}
	suggest_begin(&sg, cmd);
	for (const struct cli_command *c = commands; c->name; c++)
		if (c->summary)
			suggest_offer(&sg, c->name);
	fprintf(stderr, "collector: unknown command '%s'%s (see collector --help)\n", cmd,
		suggest_text(&sg, "", hint, sizeof(hint)));
	return COLLECTOR_EXIT_USAGE;
}
