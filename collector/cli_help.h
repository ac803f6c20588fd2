/* Option tables rendered for people: --help text and the collector(8) man page. */
#ifndef COLLECTOR_CLI_HELP_H
#define COLLECTOR_CLI_HELP_H

#include <stdio.h>

#include <collector/options.h>

/* One line per option: flags, help, choices and default. */
void cli_print_specs(FILE *f, const struct option_spec *specs);

/* collector(8) in troff, from @run_specs and every registered runner and sink. */
void cli_write_manpage(FILE *f, const struct option_spec *run_specs);

#endif
