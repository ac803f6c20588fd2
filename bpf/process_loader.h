/* The process loader's entry point and its check of the process runner's options. */
#ifndef COLLECTOR_BPF_PROCESS_LOADER_H
#define COLLECTOR_BPF_PROCESS_LOADER_H

#include <collector/error.h>
#include <collector/options.h>

/* Check the process runner's options against what the BPF program takes. @return 0 or -EINVAL. */
int process_options_check(const struct options *o, struct error *err);

/*
 * `collector loader process FLAGS`: load, attach, print JSON lines until SIGTERM. @opts are
 * the process runner's options, parsed from the flags the runner passed.
 */
int process_loader_main(const struct options *opts);

#endif
