/* What the health BPF program shares with the collector: map values and ring records. */
#ifndef COLLECTOR_BPF_HEALTH_H
#define COLLECTOR_BPF_HEALTH_H

#define HEALTH_COMM_LEN 16
/* Processes the monitor follows at once (watched roots and their descendants). */
#define HEALTH_MAX_PROCS 8192

/* Value of the watched map: the root a process was watched for. */
struct health_watch {
	/* The pid the owner watched; forks inherit it. 0 marks the owner itself while it
	 * spawns: each child it forks then becomes a root of its own from its first moment. */
	unsigned int root;
};

/* Value of the stats map, per watched process (thread group). */
struct health_stats {
	unsigned int root;
	unsigned long long cpu_ns;    /* on-CPU time of its descendants that ended */
	unsigned long long rss_pages; /* file + anon + shmem pages at the last sample */
	unsigned int fatal_signal;    /* the last fatal signal generated for it, 0 if none */
	unsigned int sender_pid;      /* who generated it */
	char sender_comm[HEALTH_COMM_LEN];
	unsigned int oom_victim; /* chosen by the OOM killer */
	unsigned int exited;	 /* the whole process ended */
};

/* What the task iterator writes per thread of a watched process. */
struct health_task {
	unsigned int tgid;
	unsigned int root;
	unsigned int threads;	       /* signal->nr_threads: the same in each thread */
	unsigned int pad;	       /* written as zero: no hole of stack garbage in the output */
	unsigned long long runtime_ns; /* this thread's se.sum_exec_runtime */
	unsigned long long group_ns;   /* ended threads (signal) and ended descendants */
	unsigned long long rss_pages;  /* 0 for a thread without an mm (an exited leader) */
};

enum health_record_kind {
	HEALTH_REC_FORK = 1,   /* pid forked child_pid */
	HEALTH_REC_SIGNAL = 2, /* a fatal signal was generated for pid */
	HEALTH_REC_OOM = 3,    /* the OOM killer chose pid */
	HEALTH_REC_EXIT = 4,   /* pid (the whole thread group) ended */
};

/* One ring-buffer record. */
struct health_record {
	unsigned int kind;
	unsigned int pid;	  /* thread group id */
	unsigned int root;	  /* the watched pid it belongs to */
	unsigned int child_pid;	  /* FORK */
	unsigned int signal;	  /* SIGNAL; EXIT: the last fatal signal generated */
	unsigned int sender_pid;  /* SIGNAL, EXIT */
	unsigned int exit_code;	  /* EXIT: the kernel's wait status */
	unsigned int oom_victim;  /* EXIT: chosen by the OOM killer */
	unsigned long long ts_ns; /* CLOCK_MONOTONIC */
	unsigned long long rss_pages;
	char comm[HEALTH_COMM_LEN];	   /* of pid */
	char sender_comm[HEALTH_COMM_LEN]; /* SIGNAL, EXIT */
};

#endif
