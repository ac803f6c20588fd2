/* `collector crashes`: lists the crash reports of a directory grouped by cause, and explains one. */
#ifndef COLLECTOR_CRASH_CLI_H
#define COLLECTOR_CRASH_CLI_H

#include <stdio.h>

/* `collector crashes [--dir D] [--since WHEN] [--all] [ID|latest]` with argv[0] == "crashes". @return an exit code. */
int crash_cli_main(int argc, char **argv, FILE *out);

#endif
