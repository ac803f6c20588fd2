// SPDX-License-Identifier: GPL-2.0
/* The health monitor: CPU time, RSS, threads, fatal signals, OOM kills and exits of watched processes. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "health.h"

char LICENSE[] SEC("license") = "GPL";

#define SIG_KILL 9
#define SIG_CHLD 17
#define SIG_WINCH 28
#define SIG_DFL_HANDLER 0

/* Ring-buffer reservations that failed: the collector reports their growth. */
__u64 lost = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 << 10);
} records SEC(".maps");

/* Filled and cleared by the collector; forks of a watched process are added here. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HEALTH_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct health_watch);
} watched SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, HEALTH_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct health_stats);
} stats SEC(".maps");

/* Before 6.2 the RSS counters were plain atomics in struct mm_rss_stat. */
struct mm_rss_stat___old {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
} __attribute__((preserve_access_index));

static __always_inline long mm_counter(struct mm_struct *mm, int member)
{
	if (bpf_core_type_exists(struct mm_rss_stat___old)) {
		struct mm_struct___old *old = (void *)mm;

		return BPF_CORE_READ(old, rss_stat.count[member].counter);
	}
	/* The percpu_counter's shared count; per-CPU deltas below the batch are not in it. */
	return BPF_CORE_READ(mm, rss_stat[member].count);
}

static __always_inline __u64 rss_pages(struct task_struct *task)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	long pages;

	if (!mm)
		return 0;
	pages = mm_counter(mm, MM_FILEPAGES) + mm_counter(mm, MM_ANONPAGES) +
		mm_counter(mm, MM_SHMEMPAGES);
	return pages > 0 ? pages : 0;
}

static __always_inline struct health_record *reserve(void)
{
	struct health_record *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);

	if (!r) {
		__sync_fetch_and_add(&lost, 1);
		return NULL;
	}
	__builtin_memset(r, 0, sizeof(*r));
	return r;
}

/*
 * One pass over every task of the machine, run by the collector once per sample
 * (bpf_iter_create + read): each thread of a watched process becomes one
 * struct health_task. The kernel's own accounting is read here, so that no
 * program runs at context switches.
 */
SEC("iter/task")
int health_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct health_stats *s;
	struct health_task t = {};
	__u32 tgid;

	if (!task)
		return 0;
	tgid = task->tgid;
	s = bpf_map_lookup_elem(&stats, &tgid);
	if (!s || s->exited)
		return 0;
	t.tgid = tgid;
	t.root = s->root;
	t.threads = BPF_CORE_READ(task, signal, nr_threads);
	t.runtime_ns = task->se.sum_exec_runtime;
	t.group_ns = BPF_CORE_READ(task, signal, sum_sched_runtime) + s->cpu_ns;
	t.rss_pages = rss_pages(task);
	/* The exit record carries the RSS of the last sample: the mm is gone by then. */
	if (task->mm)
		s->rss_pages = t.rss_pages;
	bpf_seq_write(ctx->meta->seq, &t, sizeof(t));
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(health_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	struct health_watch *w;
	struct health_watch cw;
	struct health_stats cs = {};
	struct health_record *r;

	if (ctgid == ptgid)
		return 0;
	w = bpf_map_lookup_elem(&watched, &ptgid);
	if (!w)
		return 0;
	cw.root = w->root ? w->root : ctgid;
	cs.root = cw.root;
	cs.rss_pages = rss_pages(child);
	bpf_map_update_elem(&stats, &ctgid, &cs, BPF_ANY);
	bpf_map_update_elem(&watched, &ctgid, &cw, BPF_ANY);
	r = reserve();
	if (!r)
		return 0;
	r->kind = HEALTH_REC_FORK;
	r->pid = ptgid;
	r->root = cw.root;
	r->child_pid = ctgid;
	r->ts_ns = bpf_ktime_get_ns();
	BPF_CORE_READ_STR_INTO(&r->comm, parent, comm);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* Does @p sig end @p task: SIGKILL, or a default action that terminates? */
static __always_inline bool is_fatal(int sig, struct task_struct *task)
{
	struct sighand_struct *sh;
	void *handler = (void *)1;

	if (sig == SIG_KILL)
		return true;
	if (sig <= 0 || sig > 64 || (sig >= SIG_CHLD && sig <= 23) || sig == SIG_WINCH)
		return false;
	sh = BPF_CORE_READ(task, sighand);
	if (!sh)
		return false;
	bpf_core_read(&handler, sizeof(handler), &sh->action[(sig - 1) & 63].sa.sa_handler);
	return handler == SIG_DFL_HANDLER;
}

SEC("tp_btf/signal_generate")
int BPF_PROG(health_signal, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct task_struct *sender = (struct task_struct *)bpf_get_current_task_btf();
	struct health_stats *s;
	struct health_record *r;

	/* result 0 is TRACE_SIGNAL_DELIVERED: queued, not ignored or already pending. */
	if (result != 0 || !bpf_map_lookup_elem(&watched, &tgid))
		return 0;
	s = bpf_map_lookup_elem(&stats, &tgid);
	if (!s || !is_fatal(sig, task))
		return 0;
	s->fatal_signal = sig;
	s->sender_pid = BPF_CORE_READ(sender, tgid);
	BPF_CORE_READ_STR_INTO(&s->sender_comm, sender, comm);
	r = reserve();
	if (!r)
		return 0;
	r->kind = HEALTH_REC_SIGNAL;
	r->pid = tgid;
	r->root = s->root;
	r->signal = sig;
	r->sender_pid = s->sender_pid;
	r->ts_ns = bpf_ktime_get_ns();
	BPF_CORE_READ_STR_INTO(&r->comm, task, comm);
	__builtin_memcpy(r->sender_comm, s->sender_comm, HEALTH_COMM_LEN);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(health_oom, struct task_struct *task, uid_t uid)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct health_stats *s = bpf_map_lookup_elem(&stats, &tgid);
	struct health_record *r;

	if (!s || !bpf_map_lookup_elem(&watched, &tgid))
		return 0;
	s->oom_victim = 1;
	s->rss_pages = rss_pages(task);
	r = reserve();
	if (!r)
		return 0;
	r->kind = HEALTH_REC_OOM;
	r->pid = tgid;
	r->root = s->root;
	r->rss_pages = s->rss_pages;
	r->ts_ns = bpf_ktime_get_ns();
	BPF_CORE_READ_STR_INTO(&r->comm, task, comm);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(health_exit, struct task_struct *task, bool group_dead)
{
	__u32 tgid = BPF_CORE_READ(task, tgid), root;
	struct health_stats *s, *rs;
	struct health_record *r;

	if (!group_dead || !bpf_map_lookup_elem(&watched, &tgid))
		return 0;
	s = bpf_map_lookup_elem(&stats, &tgid);
	if (!s)
		return 0;
	s->exited = 1;
	root = s->root;
	r = reserve();
	if (r) {
		r->kind = HEALTH_REC_EXIT;
		r->pid = tgid;
		r->root = root;
		r->exit_code = BPF_CORE_READ(task, exit_code);
		r->signal = s->fatal_signal;
		r->sender_pid = s->sender_pid;
		r->oom_victim = s->oom_victim;
		r->rss_pages = s->rss_pages;
		r->ts_ns = bpf_ktime_get_ns();
		BPF_CORE_READ_STR_INTO(&r->comm, task, comm);
		__builtin_memcpy(r->sender_comm, s->sender_comm, HEALTH_COMM_LEN);
		bpf_ringbuf_submit(r, 0);
	}
	bpf_map_delete_elem(&watched, &tgid);
	if (tgid == root)
		return 0;
	/*
	 * A descendant's CPU time stays with its root; the collector removes the root's.
	 * The task ending last is still on the CPU, its threads that ended are in
	 * sum_sched_runtime already (not those still ending beside it: rare, and
	 * lost); its own dead descendants are in its cpu_ns.
	 */
	rs = bpf_map_lookup_elem(&stats, &root);
	if (rs)
		__sync_fetch_and_add(&rs->cpu_ns, BPF_CORE_READ(task, signal, sum_sched_runtime) +
							  BPF_CORE_READ(task, se.sum_exec_runtime) +
							  s->cpu_ns);
	bpf_map_delete_elem(&stats, &tgid);
	return 0;
}
