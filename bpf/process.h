/* Events the process BPF program sends to its loader (shared by both sides). */
#ifndef COLLECTOR_BPF_PROCESS_H
#define COLLECTOR_BPF_PROCESS_H

#define PROCESS_COMM_LEN 16
#define PROCESS_FILENAME_LEN 256
/* Bytes of argv one exec event can carry; a power of two for the verifier. */
#define PROCESS_ARGS_MAX 4096
/* A failed exec's argv is read word by word from the caller: at most this many of this size. */
#define PROCESS_FAIL_ARGS 32
#define PROCESS_FAIL_ARG_SIZE 128
/* Cgroup names kept per event, innermost first: enough for /kubepods/QOS/podUID/ID. */
#define PROCESS_CGROUP_DEPTH 4
/* "cri-containerd-" + 64 hex digits + ".scope" fits. */
#define PROCESS_CGROUP_NAME 96

enum process_event_kind {
	PROCESS_EXEC = 1,
	PROCESS_FORK = 2,
	PROCESS_EXIT = 3,
};

struct process_header {
	unsigned int kind;
	unsigned int pid; /* thread group id */
	unsigned int tid;
	unsigned int ppid; /* the real parent's thread group id */
	unsigned int uid;
	unsigned int gid;
	unsigned long long ts_ns; /* CLOCK_BOOTTIME */
	unsigned long long cgroup_id;
	char comm[PROCESS_COMM_LEN];
	/* The cgroup v2 names of the task, then its parents': read in the kernel, as a
	 * short-lived process's /proc/PID/cgroup is gone before user space reads it. */
	char cgroup[PROCESS_CGROUP_DEPTH][PROCESS_CGROUP_NAME];
};

struct process_exec_event {
	struct process_header h;
	unsigned int args_size; /* bytes of argv the process has */
	unsigned int args_len;	/* bytes captured in args */
	int ret;		/* 0, or the failed execve's -errno (--fails) */
	char filename[PROCESS_FILENAME_LEN];
	char args[PROCESS_ARGS_MAX]; /* NUL-separated */
};

struct process_fork_event {
	struct process_header h; /* the parent */
	unsigned int child_pid;
};

struct process_exit_event {
	struct process_header h;
	unsigned int exit_code; /* the kernel's wait status */
	unsigned int thread;	/* a thread ended, not the whole process */
	unsigned long long duration_ns;
};

#endif
