/* --help text and the collector(8) man page, both from the option tables so they cannot drift. */
#include <string.h>

#include <collector/collector.h>
#include <collector/registry.h>

#include "cli_help.h"

/* The placeholder of an option's value in help text: DURATION, SIZE, N, ... */
static const char *cli_metavar(const struct option_spec *s)
{
	switch (s->type) {
	case OPT_INT:
		return "N";
	case OPT_SIZE:
		return "SIZE";
	case OPT_DURATION:
		return "DURATION";
	case OPT_ENUM:
		return "WORD";
	case OPT_BOOL:
	case OPT_ARGV:
		return "";
	case OPT_STRING:
		break;
	}
	return s->implicit ? "ADDR" : "VALUE";
}

static void flag_text(const struct option_spec *s, char *out, size_t size)
{
	const char *meta = cli_metavar(s);

	if (s->short_name)
		snprintf(out, size, "-%c, --%s%s%s", s->short_name, s->name,
			 !*meta	     ? "" :
			 s->implicit ? "[=" :
				       " ",
			 meta);
	else
		snprintf(out, size, "--%s%s%s", s->name,
			 !*meta	     ? "" :
			 s->implicit ? "[=" :
				       " ",
			 meta);
	if (s->implicit)
		strncat(out, "]", size - strlen(out) - 1);
}

void cli_print_specs(FILE *f, const struct option_spec *specs)
{
	for (const struct option_spec *s = specs; s && s->name; s++) {
		char flag[80];

		if (s->type == OPT_ARGV)
			continue;
		flag_text(s, flag, sizeof(flag));
		fprintf(f, "  %-28s %s", flag, s->help);
		if (s->choices)
			fprintf(f, " (%s)", s->choices);
		if (s->def && s->type != OPT_BOOL)
			fprintf(f, " [%s]", s->def);
		fputc('\n', f);
	}
}

/* Text with troff's special characters escaped. */
static void roff(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

static void man_specs(FILE *f, const struct option_spec *specs)
{
	for (const struct option_spec *s = specs; s && s->name; s++) {
		char flag[80];

		if (s->type == OPT_ARGV)
			continue;
		flag_text(s, flag, sizeof(flag));
		fputs(".TP\n.B ", f);
		roff(f, flag);
		fputc('\n', f);
		roff(f, s->help);
		if (s->choices) {
			fputs(" (", f);
			roff(f, s->choices);
			fputc(')', f);
		}
		if (s->def && s->type != OPT_BOOL) {
			fputs(" [default: ", f);
			roff(f, s->def);
			fputc(']', f);
		}
		fputc('\n', f);
	}
}

static const char man_head[] = ".TH COLLECTOR 8 \"\" \"collector " COLLECTOR_VERSION "\" \"System "
			       "Administratio"
			       "n\"\n"
			       ".SH NAME\n"
			       "collector \\- collect process, TLS and algorithm events into "
			       "files, pipes and Kafka\n"
			       ".SH SYNOPSIS\n";

static const char man_description[] =
	".SH DESCRIPTION\n"
	"Runners produce typed events (a command's JSON lines, BPF process events, ...);\n"
	"sinks write them as JSON lines. Each sink has its own bounded queue; when it is\n"
	"full the policy blocks the runners (backpressure) or drops and counts.\n"
	"With no runner and no configuration, \\fBcollector run\\fR traces process\n"
	"exec, fork and exit events to standard output.\n"
	".SH COMMANDS\n";

static const char man_options[] = ".SH OPTIONS\n"
				  "Options of \\fBrun\\fR come before the runner's name. Runner "
				  "and sink options are\n"
				  "also the keys of their objects in a configuration file "
				  "(docs/configuration.md).\n";

static const char man_tail[] =
	".SH HTTP ENDPOINT\n"
	"With \\fB\\-\\-metrics\\fR: \\fB/metrics\\fR (Prometheus text format),\n"
	"\\fB/healthz\\fR ({\"status\":\"ok|degraded|failing\",\"reasons\":[...]}; HTTP 503 when\n"
	"failing) and \\fB/runners\\fR (JSON status of every runner, child and sink).\n"
	"\\fBPOST /runners/\\fINAME\\fB/\\fIACTION\\fR asks a runner for an operator's action\n"
	"(the algorithm runner's: reset\\-breaker); only peers on the same machine may.\n"
	"It listens on 127.0.0.1 unless another address is given.\n"
	".SH SIGNALS\n"
	".TP\n.B SIGTERM, SIGINT\nStop gracefully: runners stop, queues drain, sinks flush, "
	"bounded by\n"
	"\\fB\\-\\-shutdown\\-timeout\\fR. A second signal stops at once.\n"
	".TP\n.B SIGHUP\nReopen output files (logrotate).\n"
	".TP\n.B SIGUSR1\nLog a status dump (runners, sinks, health) on standard error.\n"
	".SH EXIT STATUS\n"
	".TP\n.B 0\nThe runners succeeded and every event was delivered.\n"
	".TP\n.B 1\nA runner failed, timed out or could not start.\n"
	".TP\n.B 2\nBad command line or configuration.\n"
	".TP\n.B 3\nEvents were dropped or not delivered.\n"
	".SH EXAMPLES\n"
	"Trace every exec, fork and exit for ten seconds:\n"
	".PP\n.RS\ncollector run \\-\\-duration 10s\n.RE\n"
	".PP\nRun a command and keep its JSON lines in a file, with metrics:\n"
	".PP\n.RS\ncollector run \\-\\-metrics \\-\\-sink file:/var/log/collector/events.jsonl "
	"exec "
	"\\-\\- ./producer\n.RE\n"
	".SH FILES\n"
	".TP\n.I /etc/collector/collector.json\nThe configuration the systemd unit runs.\n"
	".SH SEE ALSO\n"
	"docs/operations.md, docs/configuration.md and docs/events.md in the source tree.\n";

/* SYNOPSIS and COMMANDS, from the table. */
static void man_commands(FILE *f, const struct cli_command *commands)
{
	for (const struct cli_command *c = commands; c->name; c++) {
		if (!c->summary)
			continue;
		fputs(".B collector ", f);
		roff(f, c->name);
		fputc('\n', f);
		if (c->synopsis[0]) {
			roff(f, c->synopsis);
			fputc('\n', f);
		}
		fputs(".br\n", f);
	}
	fputs(man_description, f);
	for (const struct cli_command *c = commands; c->name; c++) {
		if (!c->summary)
			continue;
		fputs(".TP\n.B ", f);
		roff(f, c->name);
		fputc('\n', f);
		roff(f, c->summary);
		fputs(".\n", f);
		if (c->detail) {
			roff(f, c->detail);
			fputc('\n', f);
		}
		if (c->specs && strcmp(c->name, "run") != 0) {
			fputs(".RS\n", f);
			man_specs(f, c->specs);
			fputs(".RE\n", f);
		}
	}
}

void cli_write_manpage(FILE *f, const struct cli_command *commands,
		       const struct option_spec *run_specs, const struct option_spec *sink_flags)
{
	const struct runner_ops *r;
	const struct sink_ops *s;

	fputs(man_head, f);
	man_commands(f, commands);
	fputs(man_options, f);
	man_specs(f, run_specs);
	fputs(".SS Options of every sink whose type has them\n", f);
	man_specs(f, sink_flags);
	fputs(".SH RUNNERS\n", f);
	for (int i = 0; (r = registry_runner_at(i)); i++) {
		fputs(".SS ", f);
		roff(f, r->name);
		fputc('\n', f);
		roff(f, r->summary);
		fputs(".\n", f);
		man_specs(f, r->options);
	}
	fputs(".SH SINKS\n", f);
	for (int i = 0; (s = registry_sink_at(i)); i++) {
		fputs(".SS ", f);
		roff(f, s->name);
		fputc('\n', f);
		roff(f, s->summary);
		fputs(".\n", f);
		man_specs(f, s->options);
	}
	fputs(man_tail, f);
}
