/* `collector crashes`: lists the algorithm crash reports in a directory and explains one. */
#ifndef COLLECTOR_CRASH_CLI_H
#define COLLECTOR_CRASH_CLI_H

#include <stdio.h>

/* Where `collector crashes` looks without --dir. */
#define CRASH_DIR_DEFAULT "/var/lib/collector/crashes"

/* `collector crashes [--dir D] [ID]` with argv[0] == "crashes". @return an exit code. */
int crash_cli_main(int argc, char **argv, FILE *out);

#endif
