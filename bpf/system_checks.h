/* What this machine allows for BPF tracing: the facts `collector doctor` prints. */
#ifndef COLLECTOR_BPF_SYSTEM_CHECKS_H
#define COLLECTOR_BPF_SYSTEM_CHECKS_H

#include <stdbool.h>

enum check_id {
	CHECK_BTF,
	CHECK_BPF_SYSCALL,
	CHECK_CAPS,
	CHECK_UPROBE,
	CHECK_TRACEFS,
	CHECK_KPROBES,
	CHECK_CGROUP_V2,
	CHECK_CGROUP_V1,
	CHECK_LIBSSL,
	CHECK_LIBGNUTLS,
	CHECK_COUNT,
};

struct check {
	const char *name;
	bool ok;
	bool needed_for_bpf; /* the loaders cannot work without it */
	char detail[256];    /* what was found */
	const char *fix;     /* one line, when not ok */
};

/* Run every check into @p out (CHECK_COUNT entries). */
void system_checks_run(struct check *out);

#endif
