/* `collector status` and `reset-breaker`: asks a running collector's HTTP endpoint and prints a table. */
#ifndef COLLECTOR_STATUS_CLIENT_H
#define COLLECTOR_STATUS_CLIENT_H

#include <stdio.h>

/* GET /runners and /healthz from @addr ("HOST:PORT") and print them. @return an exit code. */
int status_client_print(const char *addr, FILE *out);

/* POST /runners/@runner/@action to @addr and print the answer. @return an exit code. */
int status_client_action(const char *addr, const char *runner, const char *action, FILE *out);

#endif
