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
#include "signal_hold.h"
#include "status_client.h"
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
	{ .name = "X",
	  .short_name = 'X',
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "PROP=VALUE: a librdkafka property of every kafka --sink, as kcat -X "
		  "(repeatable)" },
	{ .name = "route",
	  .type = OPT_STRING,
	  .repeat = true,
	  .help = "GLOB=SINK[,SINK]: events whose type matches GLOB go to those sinks "
		  "(repeatable)" },
	{ .name = "pretty", .type = OPT_BOOL, .help = "readable, coloured view on stdout sinks" },
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
	{ .name = "shutdown-timeout",
	  .type = OPT_DURATION,
	  .def = "10s",
	  .help = "bound on the graceful stop (drain and flush)" },
	{ .name = "metrics",
	  .type = OPT_STRING,
	  .implicit = "127.0.0.1:9477",
	  .help = "serve /metrics, /healthz and /runners over HTTP (--metrics=ADDR for another "
		  "address than 127.0.0.1:9477)" },
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

static void usage(FILE *f)
{
	fprintf(f, "usage: collector COMMAND [OPTIONS]\n"
		   "\n"
		   "Collects events from runners and writes them to sinks.\n"
		   "\n"
		   "commands:\n"
		   "  run [OPTIONS] [RUNNER [RUNNER OPTIONS] [--] [ARGS...]]\n"
		   "                    run runners (no RUNNER and no --config: a built-in demo)\n"
		   "  validate --config FILE\n"
		   "                    check a configuration file and print every problem\n"
		   "  list [--plugin SO]\n"
		   "                    the runner and sink types available (with a plugin's)\n"
		   "  status [ADDR]     ask a collector running with --metrics how it is doing\n"
		   "                    (ADDR: its metrics address, default 127.0.0.1:9477)\n"
		   "  reset-breaker [ADDR] RUNNER\n"
		   "                    close the open circuit breakers of an algorithm runner\n"
		   "                    of a collector running with --metrics (root or its user)\n"
		   "  crashes [--dir D] [ID]\n"
		   "                    list algorithm crash reports, or explain one\n"
		   "  doctor            what this machine allows (BTF, BPF, uprobes, cgroups, "
		   "...)\n"
		   "  version           print the version\n"
		   "\n"
		   "`collector run --help` and `collector run RUNNER --help` list their "
		   "options.\n");
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
	printf("\nexit status: 0 ok, 1 a runner failed, 2 usage error, 3 events were lost\n");
}

/* ---- option parsing shared by global and runner options ---- */

/*
 * Flags of several option tables at once, stopping at the first non-option
 * word. @return the index of that word, or -1 after printing why.
 */
static int parse_args(int argc, char **argv, struct options_table *tables, int ntables,
		      const char *who)
{
	struct error err = { 0 };
	int first = options_parse_argv(argc, argv, tables, ntables, &err);

	if (first < 0)
		fprintf(stderr, "collector: %s: %s\n", who, err.msg);
	return first < 0 ? -1 : first;
}

/* ---- building the configuration from the command line ---- */

/* --sink-option KEY=VALUE and -X PROP=VALUE, for the sink types that have the option. */
static int set_cli_sink_options(struct options *o, const struct options *g, struct error *e)
{
	int n, rc;
	char *const *list = options_list(g, "X", &n);

	for (int i = 0; i < n; i++)
		if ((rc = options_set(o, "X", list[i], e)) < 0 && rc != -ENOENT)
			return rc;
	list = options_list(g, "sink-option", &n);
	for (int i = 0; i < n; i++) {
		const char *eq = strchr(list[i], '=');
		char key[64];

		if (!eq || eq == list[i] || (size_t)(eq - list[i]) >= sizeof(key))
			return error_set(e, EINVAL, "--sink-option '%s': expected KEY=VALUE",
					 list[i]);
		memcpy(key, list[i], (size_t)(eq - list[i]));
		key[eq - list[i]] = '\0';
		if ((rc = options_set(o, key, eq + 1, e)) < 0 && rc != -ENOENT)
			return rc;
	}
	return 0;
}

static int add_cli_sink(struct config *cfg, const char *spec, const struct options *g, char *err,
			size_t errlen)
{
	char name[80] = "", type[64];
	const char *eq = strchr(spec, '='), *colon;
	const struct sink_ops *ops;
	struct options *o;
	struct error e = { 0 };
	size_t n;

	if (eq &&
	    strspn(spec, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
		    (size_t)(eq - spec) &&
	    eq - spec < (ptrdiff_t)sizeof(name)) {
		memcpy(name, spec, (size_t)(eq - spec));
		name[eq - spec] = '\0';
		spec = eq + 1;
	}
	colon = strchr(spec, ':');
	n = colon ? (size_t)(colon - spec) : strlen(spec);
	if (n == 0 || n >= sizeof(type)) {
		snprintf(err, errlen, "--sink '%s': expected TYPE or TYPE:ARG", spec);
		return -1;
	}
	memcpy(type, spec, n);
	type[n] = '\0';
	ops = registry_sink(type);
	if (!ops) {
		snprintf(err, errlen, "--sink '%s': unknown sink type '%s' (see collector list)",
			 spec, type);
		return -1;
	}
	if (!name[0]) {
		snprintf(name, sizeof(name), "%s", type);
		for (int i = 2; cfg->nsinks && i < 100; i++) {
			bool taken = false;

			for (int j = 0; j < cfg->nsinks; j++)
				taken |= strcmp(cfg->sinks[j].name, name) == 0;
			if (!taken)
				break;
			snprintf(name, sizeof(name), "%.64s%d", type, i);
		}
	}
	o = options_new(ops->options);
	if (!o)
		return -1;
	if (colon && !ops->spec_option) {
		snprintf(err, errlen, "--sink '%s': the %s sink takes no argument", spec, type);
		options_free(o);
		return -1;
	}
	if ((colon && options_set(o, ops->spec_option, colon + 1, &e) < 0) ||
	    (strcmp(type, "stdout") == 0 && options_bool(g, "pretty") &&
	     options_set(o, "pretty", "true", &e) < 0) ||
	    set_cli_sink_options(o, g, &e) < 0 || options_finish(o, &e) < 0) {
		snprintf(err, errlen, "--sink '%s': %s", spec, e.msg);
		options_free(o);
		return -1;
	}
	return config_add_sink(cfg, name, type, o, (size_t)options_int(g, "queue-events"),
			       (size_t)options_int(g, "queue-bytes"), options_str(g, "policy"));
}

static int add_cli_routes(struct config *cfg, const struct options *g, char *err, size_t errlen)
{
	int n;
	char *const *routes = options_list(g, "route", &n);

	for (int i = 0; i < n; i++) {
		char *glob = strdup(routes[i]);
		char *eq = glob ? strrchr(glob, '=') : NULL;
		int rc;

		if (!eq || eq == glob || !eq[1]) {
			snprintf(err, errlen, "--route '%s': expected GLOB=SINK[,SINK]", routes[i]);
			free(glob);
			return -1;
		}
		*eq = '\0';
		rc = config_add_route(cfg, NULL, glob, eq + 1);
		free(glob);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void report_problem(void *arg, const char *path, const char *msg)
{
	fprintf(stderr, "%s: %s: %s\n", (const char *)arg, path, msg);
}

/* With no runner and no config, `collector run` traces processes. */
static int add_default_runner(struct config *cfg)
{
	struct options *o = options_new(registry_runner("process")->options);

	if (!o || options_finish(o, NULL) < 0) {
		options_free(o);
		return -1;
	}
	return config_add_runner(cfg, "process", "process", o);
}

static int build_runner(struct config *cfg, int argc, char **argv, const struct options *g,
			struct options_table *tables)
{
	const struct runner_ops *ops = registry_runner(argv[0]);
	const char *name = options_str(g, "name") ? options_str(g, "name") : argv[0];
	struct options *o;
	struct error err = { 0 };
	char who[96];
	int first;

	if (!ops) {
		fprintf(stderr, "collector: run: unknown runner '%s' (see collector list)\n",
			argv[0]);
		return -1;
	}
	o = options_new(ops->options);
	if (!o)
		return -1;
	tables[1] = (struct options_table){ ops->options, o };
	snprintf(who, sizeof(who), "run %s", ops->name);
	first = parse_args(argc, argv, tables, 2, who);
	if (first >= 0 && options_bool(g, "help")) {
		run_help(ops);
		options_free(o);
		exit(0);
	}
	for (int i = first; first >= 0 && i < argc; i++) {
		const struct option_spec *s = ops->options;

		while (s && s->name && s->type != OPT_ARGV)
			s++;
		if (!s || !s->name) {
			fprintf(stderr, "collector: %s: unexpected argument '%s'\n", who, argv[i]);
			first = -1;
		} else {
			options_set(o, s->name, argv[i], NULL);
		}
	}
	if (first < 0 || options_finish(o, &err) < 0) {
		if (first >= 0)
			fprintf(stderr, "collector: %s: %s\n", who, err.msg);
		options_free(o);
		return -1;
	}
	return config_add_runner(cfg, name, ops->name, o);
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

static int cmd_run(int argc, char **argv)
{
	struct options *g = options_new(run_specs);
	struct options_table tables[2] = { { run_specs, g } };
	struct config cfg = { 0 };
	struct reload_ctx reload = { 0 };
	struct collector *c = NULL;
	struct error err = { 0 };
	char msg[512] = "";
	int first, rc = COLLECTOR_EXIT_USAGE, nplugins, nsinks;
	char *const *list;

	if (!g)
		return COLLECTOR_EXIT_FAILED;
	tune_heap();
	first = parse_args(argc, argv, tables, 1, "run");
	if (first < 0)
		goto out;
	list = options_list(g, "plugin", &nplugins);
	for (int i = 0; i < nplugins; i++) {
		if (registry_load_plugin(list[i], &err) < 0) {
			fprintf(stderr, "collector: run: %s\n", err.msg);
			goto out;
		}
	}
	if (first < argc && build_runner(&cfg, argc - first, argv + first, g, tables) < 0)
		goto out;
	if (options_bool(g, "help")) {
		run_help(NULL);
		rc = 0;
		goto out;
	}
	options_finish(g, NULL);
	{
		enum log_level lvl;

		log_parse_level(options_str(g, "log-level"), &lvl);
		log_set_level(lvl);
		log_set_format(strcmp(options_str(g, "log-format"), "json") == 0 ? LOG_JSON :
										   LOG_TEXT);
	}
	if (options_str(g, "config") && config_load(&cfg, options_str(g, "config"), report_problem,
						    (void *)options_str(g, "config")) != 0)
		goto out;
	if (cfg.log_level && !options_given(g, "log-level"))
		apply_log_level(cfg.log_level);
	reload = (struct reload_ctx){ options_str(g, "config"), options_given(g, "log-level") };
	if (!options_str(g, "config") && first >= argc && add_default_runner(&cfg) < 0)
		goto out;
	list = options_list(g, "sink", &nsinks);
	for (int i = 0; i < nsinks; i++)
		if (add_cli_sink(&cfg, list[i], g, msg, sizeof(msg)) < 0)
			goto bad;
	if (cfg.nsinks == 0 && add_cli_sink(&cfg, "stdout", g, msg, sizeof(msg)) < 0)
		goto bad;
	if (add_cli_routes(&cfg, g, msg, sizeof(msg)) < 0)
		goto bad;
	if (options_given(g, "shutdown-timeout") || !cfg.shutdown_timeout_ns)
		cfg.shutdown_timeout_ns = options_int(g, "shutdown-timeout");
	if (options_str(g, "metrics") && config_set_metrics(&cfg, options_str(g, "metrics")) < 0)
		goto out;
	cfg.metrics_public |= options_bool(g, "metrics-public");
	if (cfg.metrics && parse_address_port(cfg.metrics) < 0) {
		snprintf(msg, sizeof(msg),
			 "metrics address '%s': expected HOST:PORT with PORT 0 to 65535 (0: any "
			 "free port)",
			 cfg.metrics);
		goto bad;
	}

	c = collector_new(ev_default_loop(0), &err);
	if (!c || config_apply(&cfg, c, &err) < 0) {
		fprintf(stderr, "collector: %s\n", err.msg);
		rc = err.code == ENOENT || err.code == EINVAL || err.code == EEXIST ?
			     COLLECTOR_EXIT_USAGE :
			     COLLECTOR_EXIT_FAILED;
		goto out;
	}
	collector_set_duration(c, options_int(g, "duration"));
	if (reload.path)
		collector_on_reload(c, reload_config, &reload);
	rc = collector_run(c);
	goto out;
bad:
	if (msg[0])
		fprintf(stderr, "collector: run: %s\n", msg);
out:
	collector_free(c);
	config_free(&cfg);
	options_free(g);
	registry_unload_plugins();
	/* Diagnostics stderr did not take yet: a last chance, bounded. */
	log_drain(1000);
	return rc;
}

static int cmd_validate(int argc, char **argv)
{
	const char *path = NULL;
	struct config cfg = { 0 };
	int problems;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else {
			fprintf(stderr, "collector: validate: unexpected argument '%s'\n", argv[i]);
			return COLLECTOR_EXIT_USAGE;
		}
	}
	if (!path) {
		fprintf(stderr, "collector: validate: which file? (collector validate --config "
				"FILE)\n");
		return COLLECTOR_EXIT_USAGE;
	}
	problems = config_load(&cfg, path, report_problem, (void *)path);
	if (problems == 0)
		printf("%s: ok: %d runners, %d sinks, %d routes\n", path, cfg.nrunners, cfg.nsinks,
		       cfg.nroutes);
	config_free(&cfg);
	registry_unload_plugins();
	return problems == 0 ? 0 : COLLECTOR_EXIT_USAGE;
}

/* `collector list [--plugin SO]...`: the types built in and those the plugins add. */
static int cmd_list(int argc, char **argv)
{
	const struct runner_ops *r;
	const struct sink_ops *s;
	struct error err = { 0 };

	for (int i = 1; i < argc; i++) {
		const char *so = strncmp(argv[i], "--plugin=", 9) == 0		  ? argv[i] + 9 :
				 strcmp(argv[i], "--plugin") == 0 && i + 1 < argc ? argv[++i] :
										    NULL;

		if (!so) {
			fprintf(stderr, "collector: list: unexpected argument '%s'\n", argv[i]);
			return COLLECTOR_EXIT_USAGE;
		}
		if (registry_load_plugin(so, &err) < 0) {
			fprintf(stderr, "collector: list: %s\n", err.msg);
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
static int cmd_demo(void)
{
	const struct timespec pause = { 0, 100L * 1000000 };
	struct event_builder *b = event_builder_new();

	if (!b)
		return 1;
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
static int cmd_doctor(void)
{
	struct check checks[CHECK_COUNT];
	bool bpf_ok = true;

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

/* `collector status [ADDR]`: the table of a running collector. */
static int cmd_status(int argc, char **argv)
{
	const char *addr = "127.0.0.1:9477";

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--metrics=", 10) == 0)
			addr = argv[i] + 10;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: collector status [ADDR]\n\nPrints the runners, their "
			       "children, the sinks and the health of a collector\nrunning with "
			       "--metrics (ADDR: its metrics address, default 127.0.0.1:9477).\n");
			return 0;
		} else if (argv[i][0] != '-')
			addr = argv[i];
		else {
			fprintf(stderr, "collector: status: unexpected argument '%s'\n", argv[i]);
			return COLLECTOR_EXIT_USAGE;
		}
	}
	return status_client_print(addr, stdout);
}

/* `collector reset-breaker [ADDR] RUNNER`: an operator closes a runner's open breakers. */
static int cmd_reset_breaker(int argc, char **argv)
{
	const char *addr = "127.0.0.1:9477", *runner = NULL;
	int words = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			printf("usage: collector reset-breaker [ADDR] RUNNER\n\nCloses the open "
			       "circuit breakers of the algorithm runner instance RUNNER\n"
			       "(its --name, default \"algorithm\") in a collector running with "
			       "--metrics:\nbroken children start again at once. It asks the "
			       "metrics endpoint (ADDR,\ndefault 127.0.0.1:9477) with POST "
			       "/runners/RUNNER/reset-breaker and the\ncontrol token "
			       "only root and the collector's user can read.\n");
			return 0;
		}
		if (argv[i][0] == '-' || ++words > 2) {
			fprintf(stderr, "collector: reset-breaker: unexpected argument '%s'\n",
				argv[i]);
			return COLLECTOR_EXIT_USAGE;
		}
		if (words == 2) {
			addr = runner;
			runner = argv[i];
		} else {
			runner = argv[i];
		}
	}
	if (!runner) {
		fprintf(stderr, "usage: collector reset-breaker [ADDR] RUNNER\n");
		return COLLECTOR_EXIT_USAGE;
	}
	return status_client_action(addr, runner, "reset-breaker", stdout);
}

/* `collector loader NAME ARGS`: a runner re-executes this binary as its loader. */
static int cmd_loader(int argc, char **argv)
{
	const struct runner_ops *ops = argc >= 2 ? registry_runner(argv[1]) : NULL;

	if (ops && ops->loader_main)
		return registry_run_loader(argv[1], argc - 1, argv + 1);
	fprintf(stderr, "collector: loader: which one? (a runner with a loader:");
	for (int i = 0; (ops = registry_runner_at(i)); i++)
		if (ops->loader_main)
			fprintf(stderr, " %s", ops->name);
	fprintf(stderr, ")\n");
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

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "help";

	/* Before anything starts: a signal in the first ms of a run is not fatal. */
	if (strcmp(cmd, "run") == 0)
		signal_hold();
	/* A reader that goes away is an error on that sink, not the end of the process. */
	signal(SIGPIPE, SIG_IGN);
	ev_set_syserr_cb(on_loop_syserr);
	ev_set_allocator(loop_realloc);

	registry_add_builtins();
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "validate") == 0)
		return cmd_validate(argc - 1, argv + 1);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(cmd, "demo") == 0)
		return cmd_demo();
	if (strcmp(cmd, "doctor") == 0)
		return cmd_doctor();
	if (strcmp(cmd, "man") == 0) {
		cli_write_manpage(stdout, run_specs);
		return 0;
	}
	if (strcmp(cmd, "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	if (strcmp(cmd, "reset-breaker") == 0)
		return cmd_reset_breaker(argc - 1, argv + 1);
	if (strcmp(cmd, "crashes") == 0)
		return crash_cli_main(argc - 1, argv + 1, stdout);
	if (strcmp(cmd, "loader") == 0)
		return cmd_loader(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("collector %s\n", COLLECTOR_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "collector: unknown command '%s' (see collector --help)\n", cmd);
	return COLLECTOR_EXIT_USAGE;
}
