/* The ssl loader's entry point and its check of the ssl runner's options. */
#ifndef COLLECTOR_BPF_SSL_LOADER_H
#define COLLECTOR_BPF_SSL_LOADER_H

#include <collector/error.h>
#include <collector/options.h>

/* Check the ssl runner's options against what the BPF program takes. @return 0 or -EINVAL. */
int ssl_options_check(const struct options *o, struct error *err);

/*
 * `collector loader ssl FLAGS`: attach the uprobes, print the ready line (and, without
 * --share-ring, the captures) as JSON lines until SIGTERM. @opts are the ssl runner's options.
 */
int ssl_loader_main(const struct options *opts);

#endif
