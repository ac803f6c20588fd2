/* `collector show`: stored events read back, filtered, shown as the live view or as JSON lines. */
#ifndef COLLECTOR_SHOW_CLI_H
#define COLLECTOR_SHOW_CLI_H

/* `collector show [OPTIONS] FILE...` with argv[0] == "show". @return an exit code. */
int show_cli_main(int argc, char **argv);

#endif
