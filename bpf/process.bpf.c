// SPDX-License-Identifier: GPL-2.0
/* Process exec, fork and exit events from BTF tracepoints, with in-kernel filters. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "process.h"

char LICENSE[] SEC("license") = "GPL";

/* Filters, fixed before load; 0 / empty means "no filter". */
const volatile pid_t targ_pid = 0;
const volatile bool targ_tree = false;
const volatile bool targ_threads = false;
const volatile uid_t targ_uid = (uid_t)-1;
const volatile __u64 targ_cgroup = 0;
const volatile char targ_comm[PROCESS_COMM_LEN] = {};
const volatile __u32 targ_args_max = PROCESS_ARGS_MAX;

/* Ring-buffer reservations that failed: the loader reports their growth. */
__u64 lost = 0;

/*
 * Set by the loader when it sleeps until the next event; otherwise it reads
 * the ring buffer on its own clock and events need not wake it (a wake-up
 * per event costs more than the event).
 */
unsigned int reader_waiting = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/* Processes of the followed subtree (--tree), seeded by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, pid_t);
	__type(value, __u8);
} tracked SEC(".maps");

static __always_inline bool comm_matches(const char *comm)
{
	if (!targ_comm[0])
		return true;
	for (int i = 0; i < PROCESS_COMM_LEN; i++) {
		if (comm[i] != targ_comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

static __always_inline bool admit(struct task_struct *task, pid_t tgid)
{
	if (targ_tree) {
		if (!bpf_map_lookup_elem(&tracked, &tgid))
			return false;
	} else if (targ_pid && targ_pid != tgid) {
		return false;
	}
	if (targ_uid != (uid_t)-1 && BPF_CORE_READ(task, cred, uid.val) != targ_uid)
		return false;
	if (targ_cgroup && bpf_get_current_cgroup_id() != targ_cgroup)
		return false;
	if (targ_comm[0]) {
		char comm[PROCESS_COMM_LEN];

		BPF_CORE_READ_STR_INTO(&comm, task, comm);
		if (!comm_matches(comm))
			return false;
	}
	return true;
}

static __always_inline void fill_header(struct process_header *h, unsigned int kind,
					struct task_struct *task)
{
	h->kind = kind;
	h->pid = BPF_CORE_READ(task, tgid);
	h->tid = BPF_CORE_READ(task, pid);
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->uid = BPF_CORE_READ(task, cred, uid.val);
	h->gid = BPF_CORE_READ(task, cred, gid.val);
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->cgroup_id = bpf_get_current_cgroup_id();
	BPF_CORE_READ_STR_INTO(&h->comm, task, comm);
}

static __always_inline void *reserve(__u64 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);

	if (!e)
		__sync_fetch_and_add(&lost, 1);
	return e;
}

static __always_inline void submit(void *e)
{
	if (reader_waiting) {
		reader_waiting = 0;
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	} else {
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	}
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	pid_t tgid = BPF_CORE_READ(task, tgid);
	struct process_exec_event *e;
	unsigned long start, end;
	__u64 len;

	if (!admit(task, tgid))
		return 0;
	e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, PROCESS_EXEC, task);
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	start = BPF_CORE_READ(task, mm, arg_start);
	end = BPF_CORE_READ(task, mm, arg_end);
	len = end > start ? end - start : 0;
	e->args_size = len;
	if (len > targ_args_max)
		len = targ_args_max;
	e->args_len = 0;
	/* Keep clang from reusing the unclamped register: the verifier needs the bound. */
	barrier_var(len);
	if (len > 0 && len <= PROCESS_ARGS_MAX &&
	    bpf_probe_read_user(e->args, len, (void *)start) == 0)
		e->args_len = len;
	submit(e);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	pid_t ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	struct process_fork_event *e;
	__u8 one = 1;

	/* A new thread is not a new process. */
	if (ctgid == ptgid)
		return 0;
	if (targ_tree && bpf_map_lookup_elem(&tracked, &ptgid))
		bpf_map_update_elem(&tracked, &ctgid, &one, BPF_ANY);
	if (!admit(parent, ptgid))
		return 0;
	e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, PROCESS_FORK, parent);
	e->child_pid = ctgid;
	submit(e);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task)
{
	pid_t tgid = BPF_CORE_READ(task, tgid);
	/* signal->live has already dropped for this thread: 0 means the process ends. */
	bool group_dead = BPF_CORE_READ(task, signal, live.counter) == 0;
	struct process_exit_event *e;

	if (!group_dead && !targ_threads)
		return 0;
	if (!admit(task, tgid))
		goto out;
	e = reserve(sizeof(*e));
	if (!e)
		goto out;
	fill_header(&e->h, PROCESS_EXIT, task);
	e->exit_code = BPF_CORE_READ(task, exit_code);
	e->thread = !group_dead;
	e->duration_ns = bpf_ktime_get_ns() - BPF_CORE_READ(task, start_time);
	submit(e);
out:
	if (targ_tree && group_dead)
		bpf_map_delete_elem(&tracked, &tgid);
	return 0;
}
