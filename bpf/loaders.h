/* The BPF loaders linked into the collector binary (`collector loader NAME`). */
#ifndef COLLECTOR_BPF_LOADERS_H
#define COLLECTOR_BPF_LOADERS_H

/* Each loader's main; argv[0] is its name. */
int process_loader_main(int argc, char **argv);
int ssl_loader_main(int argc, char **argv);

#endif
