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

/* An execve in flight (--fails): its user pointers, until its sys_exit says how it went. */
struct exec_call {
	__u64 filename;
	__u64 argv;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, pid_t);
	__type(value, struct exec_call);
} exec_calls SEC(".maps");

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

/* Before Linux 6.15 the parent was "parent", now "__parent" (vmlinux.h has the new name). */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	struct kernfs_node___old *old = (void *)kn;

	if (bpf_core_field_exists(old->parent))
		return BPF_CORE_READ(old, parent);
	return BPF_CORE_READ(kn, __parent);
}

/* The names of the task's cgroup v2 path, innermost first; "" above the root. */
static __always_inline void fill_cgroup(struct process_header *h, struct task_struct *task)
{
	struct kernfs_node *kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);

	for (int i = 0; i < PROCESS_CGROUP_DEPTH; i++) {
		h->cgroup[i][0] = '\0';
		if (!kn)
			continue;
		bpf_probe_read_kernel_str(h->cgroup[i], PROCESS_CGROUP_NAME,
					  BPF_CORE_READ(kn, name));
		kn = kn_parent(kn);
	}
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
	fill_cgroup(h, task);
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
	e->ret = 0;
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

/* The syscall numbers of execve and execveat, and where their filename and argv are. */
#if defined(__TARGET_ARCH_x86)
#define NR_EXECVE 59
#define NR_EXECVEAT 322
#elif defined(__TARGET_ARCH_arm64)
#define NR_EXECVE 221
#define NR_EXECVEAT 281
#endif

/*
 * --fails, as execsnoop -x: an execve that fails never reaches sched_process_exec,
 * so its pointers are kept at sys_enter and read at sys_exit if it returned an
 * error (the caller's memory is still there). Raw syscall tracepoints, as kprobes
 * and fentry do not work here and classic tracepoints need tracefs; they fire on
 * every syscall, which is why the loader loads these only with --fails.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(handle_sys_enter, struct pt_regs *regs, long id)
{
	pid_t tid = (pid_t)bpf_get_current_pid_tgid();
	struct exec_call call;

	if (id == NR_EXECVE) {
		call.filename = PT_REGS_PARM1_CORE(regs);
		call.argv = PT_REGS_PARM2_CORE(regs);
	} else if (id == NR_EXECVEAT) {
		call.filename = PT_REGS_PARM2_CORE(regs);
		call.argv = PT_REGS_PARM3_CORE(regs);
	} else {
		return 0;
	}
	bpf_map_update_elem(&exec_calls, &tid, &call, BPF_ANY);
	return 0;
}

/* A failed exec's argv, NUL-separated, as sched_process_exec gives it. */
static __always_inline void read_fail_args(struct process_exec_event *e, __u64 argv)
{
	unsigned int off = 0;

	e->args_size = 0;
	for (int i = 0; i < PROCESS_FAIL_ARGS; i++) {
		const char *word = NULL;
		long n;

		if (bpf_probe_read_user(&word, sizeof(word), (const char **)argv + i) || !word)
			break;
		if (off > targ_args_max - PROCESS_FAIL_ARG_SIZE ||
		    off > PROCESS_ARGS_MAX - PROCESS_FAIL_ARG_SIZE) {
			e->args_size = off + 1; /* more than was read: truncated */
			break;
		}
		barrier_var(off);
		n = bpf_probe_read_user_str(&e->args[off], PROCESS_FAIL_ARG_SIZE, word);
		if (n <= 0)
			break;
		off += n;
	}
	e->args_len = off;
	if (e->args_size < off)
		e->args_size = off;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
	pid_t tid = (pid_t)bpf_get_current_pid_tgid();
	struct exec_call *call = bpf_map_lookup_elem(&exec_calls, &tid);
	struct process_exec_event *e;
	__u64 filename, argv;

	if (!call)
		return 0;
	filename = call->filename;
	argv = call->argv;
	bpf_map_delete_elem(&exec_calls, &tid);
	if (ret >= 0 || !admit(task, task->tgid))
		return 0;
	e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, PROCESS_EXEC, task);
	e->ret = (int)ret;
	if (bpf_probe_read_user_str(e->filename, sizeof(e->filename), (const char *)filename) < 0)
		e->filename[0] = '\0';
	read_fail_args(e, argv);
	submit(e);
	return 0;
}
