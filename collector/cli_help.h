/* Option tables rendered for people: --help text and the collector(8) man page. */
#ifndef COLLECTOR_CLI_HELP_H
#define COLLECTOR_CLI_HELP_H

#include <stdio.h>

#include <collector/options.h>

/*
 * One `collector` subcommand. Its table drives the parsing of its flags,
 * `collector --help`, `collector NAME --help` and the man page.
 */
struct cli_command {
	const char *name;
	const char *synopsis; /* the words after the name, e.g. "[ADDR] RUNNER" */
	const char *summary;  /* one line; NULL: an internal command, not listed */
	const char *detail;   /* more for NAME --help and the man page, or NULL */
	/* Its flags, parsed before main() is called; NULL: main() parses its own words. */
	const struct option_spec *specs;
	/*
	 * Run it: @o its parsed flags and @argv the words after them; without
	 * @specs, @o is NULL and @argv starts with the command's name. Returns an
	 * exit code; when it is not 0 and @err is set, the caller prints @err.
	 */
	int (*main)(struct options *o, int argc, char **argv, struct error *err);
};

/* One line per option: flags, help, choices and default. */
void cli_print_specs(FILE *f, const struct option_spec *specs);

/*
 * collector(8) in troff, from the @commands table (ended by a zeroed entry),
 * the options of run (@run_specs and @sink_flags) and every registered
 * runner and sink.
 */
void cli_write_manpage(FILE *f, const struct cli_command *commands,
		       const struct option_spec *run_specs, const struct option_spec *sink_flags);

#endif
