/* A bounded pid -> exec details table, so an exit can say what the process ran. */
#ifndef COLLECTOR_PROCESS_TABLE_H
#define COLLECTOR_PROCESS_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct process_table;

/* A table of at most @p capacity processes (the oldest is evicted). NULL on ENOMEM. */
struct process_table *process_table_new(size_t capacity);
void process_table_free(struct process_table *t);

/* Remember @p json (the runner's bytes, copied) for @p pid, replacing an older entry. @return 0 or -ENOMEM. */
int process_table_put(struct process_table *t, pid_t pid, const char *json, size_t len);

/* The bytes remembered for @p pid, or NULL; valid until the next put or remove. */
const char *process_table_get(const struct process_table *t, pid_t pid, size_t *len);

/* Forget @p pid. */
void process_table_remove(struct process_table *t, pid_t pid);

/* Entries now held, and entries evicted to stay within the capacity. */
size_t process_table_count(const struct process_table *t);
uint64_t process_table_evicted(const struct process_table *t);

#endif
