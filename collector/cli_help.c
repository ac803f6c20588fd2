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

static const char man_head[] =
	".TH COLLECTOR 8 \"\" \"collector " COLLECTOR_VERSION "\" \"System Administration\"\n"
	".SH NAME\n"
	"collector \\- collect process, TLS and algorithm events into files, pipes and Kafka\n"
	".SH SYNOPSIS\n"
	".B collector run\n"
	"[\\fIOPTIONS\\fR] [\\fIRUNNER\\fR [\\fIRUNNER OPTIONS\\fR] [\\fB\\-\\-\\fR] "
	"[\\fIARGS\\fR...]]\n"
	".br\n"
	".B collector validate \\-\\-config \\fIFILE\\fR\n"
	".br\n"
	".B collector status\n"
	"[\\fIADDR\\fR]\n"
	".br\n"
	".B collector reset-breaker\n"
	"[\\fIADDR\\fR] \\fIRUNNER\\fR\n"
	".br\n"
	".B collector crashes\n"
	"[\\fB\\-\\-dir\\fR \\fIDIR\\fR] [\\fIID\\fR]\n"
	".br\n"
	".B collector list\n"
	".br\n"
	".B collector doctor\n"
	".br\n"
	".B collector version\n"
	".SH DESCRIPTION\n"
	"Runners produce typed events (a command's JSON lines, BPF process events, ...);\n"
	"sinks write them as JSON lines. Each sink has its own bounded queue; when it is\n"
	"full the policy blocks the runners (backpressure) or drops and counts.\n"
	"With no runner and no configuration, \\fBcollector run\\fR traces process\n"
	"exec, fork and exit events to standard output.\n"
	".SH COMMANDS\n"
	".TP\n.B run\nRun runners until they end, a signal arrives or \\fB\\-\\-duration\\fR "
	"passes.\n"
	".TP\n.B validate\nCheck a configuration file and print every problem with its JSON path.\n"
	".TP\n.B status\nAsk a collector running with \\fB\\-\\-metrics\\fR for its runners, "
	"their\n"
	"children, its sinks and its health (ADDR: its metrics address, default\n"
	"127.0.0.1:9477).\n"
	".TP\n.B reset\\-breaker\nClose the open circuit breakers of the algorithm runner "
	"instance RUNNER\n"
	"(its \\fB\\-\\-name\\fR, default algorithm) in a collector running with "
	"\\fB\\-\\-metrics\\fR:\n"
	"its broken children start again at once instead of after "
	"\\fB\\-\\-breaker\\-cooldown\\fR.\n"
	"It sends POST /runners/RUNNER/reset\\-breaker to ADDR (default 127.0.0.1:9477),\n"
	"which answers only peers on the same machine.\n"
	".TP\n.B crashes\nList the algorithm runner's crash reports in DIR (its "
	"\\fB\\-\\-crash\\-dir\\fR,\n"
	"default /var/lib/collector/crashes), or explain the one with ID in plain words.\n"
	".TP\n.B list\nThe runner and sink types available.\n"
	".TP\n.B doctor\nWhat this machine allows (BTF, bpf(2), capabilities, uprobes, tracefs,\n"
	"cgroups, TLS libraries), with a fix for each missing piece.\n"
	".SH OPTIONS\n"
	"Options of \\fBrun\\fR come before the runner's name. Runner and sink options are\n"
	"also the keys of their objects in a configuration file (docs/configuration.md).\n";

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

void cli_write_manpage(FILE *f, const struct option_spec *run_specs)
{
	const struct runner_ops *r;
	const struct sink_ops *s;

	fputs(man_head, f);
	man_specs(f, run_specs);
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
