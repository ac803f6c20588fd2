/**
 * @file
 * The health monitor: CPU, memory, threads, fatal signals, OOM kills and exits
 * of supervised children, from the built-in BPF program or, without BPF, /proc.
 *
 * A supervisor creates one monitor on its loop, watches each child it spawns
 * (forks of a watched child are followed too), receives a sample per child
 * every interval, warnings when a limit is crossed and happenings as the
 * kernel reports them, and hands each reaped child back with
 * health_monitor_reaped(), which says who killed it when that is known.
 */
#ifndef COLLECTOR_HEALTH_MONITOR_H
#define COLLECTOR_HEALTH_MONITOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <collector/error.h>

struct ev_loop;

/** Where the monitor's figures come from. */
enum health_source {
	HEALTH_SOURCE_BPF,    /**< the built-in BPF program (root, BTF) */
	HEALTH_SOURCE_PROCFS, /**< polling /proc; exits as the owner reaps them */
};

/** How the monitor chooses its source. */
enum health_mode {
	HEALTH_MODE_AUTO,   /**< BPF when it loads, else /proc */
	HEALTH_MODE_BPF,    /**< BPF or fail */
	HEALTH_MODE_PROCFS, /**< /proc even when BPF would load */
};

/**
 * The mode an option names.
 * @param name "bpf", "procfs" or anything else for auto
 * @return the mode.
 */
enum health_mode health_mode_parse(const char *name);

/** What the monitor watches for in one child; a zero field disables its check. */
struct health_limits {
	uint64_t memory_high;	   /**< warn when RSS goes above this many bytes */
	uint64_t memory_action;	   /**< ask the owner to act (restart) above this many bytes */
	double cpu_quota_percent;  /**< the CPU it may use, 100 = one core */
	int cpu_pinned_samples;	   /**< samples at >= 95% of the quota before a warning */
	double growth_bytes_per_s; /**< warn when RSS grows faster than this */
	int growth_samples;	   /**< samples the RSS trend is fitted over (>= 3) */
};

/** One interval's figures for a watched child and its descendants. */
struct health_sample {
	pid_t pid;		   /**< the watched child */
	int64_t ts_ns;		   /**< CLOCK_REALTIME, reported */
	int64_t mono_ns;	   /**< CLOCK_MONOTONIC, for the age of a sample */
	double cpu_percent;	   /**< CPU time over the interval, 100 = one core */
	uint64_t rss_bytes;	   /**< resident memory */
	unsigned threads;	   /**< threads */
	unsigned processes;	   /**< the child and its live descendants (1 from /proc) */
	enum health_source source; /**< where the figures come from */
};

/** Which limit a warning is about. */
enum health_warning_kind {
	HEALTH_WARN_MEMORY_HIGH,   /**< RSS above health_limits.memory_high */
	HEALTH_WARN_CPU_PINNED,	   /**< CPU at its quota for cpu_pinned_samples samples */
	HEALTH_WARN_RSS_GROWING,   /**< the fitted RSS slope above growth_bytes_per_s */
	HEALTH_WARN_MEMORY_ACTION, /**< RSS above memory_action: the owner should act */
};

/** A crossed limit; each fires once, and again only after the figure recovered. */
struct health_warning {
	pid_t pid;			    /**< the watched child */
	enum health_warning_kind kind;	    /**< which limit */
	double value;			    /**< the figure: bytes, percent or bytes per second */
	double limit;			    /**< the limit it crossed, same unit */
	const struct health_sample *sample; /**< the sample that crossed it */
};

/** What the kernel reported about a watched process (BPF source only). */
enum health_happening_kind {
	HEALTH_FORK,	     /**< pid forked child_pid, now watched too */
	HEALTH_FATAL_SIGNAL, /**< a fatal signal was generated for pid */
	HEALTH_OOM_VICTIM,   /**< the OOM killer chose pid */
	HEALTH_EXIT,	     /**< pid ended (the whole process) */
};

/** Length of a command name with its NUL. */
#define HEALTH_COMM_LEN 16

/** One happening. For an OOM kill the kernel raises SIGKILL in the victim's own
 *  context: its HEALTH_FATAL_SIGNAL names the victim, its exit names the OOM killer. */
struct health_happening {
	enum health_happening_kind kind;   /**< what happened */
	pid_t pid;			   /**< the process it happened to */
	pid_t root;			   /**< the watched child it descends from */
	pid_t child_pid;		   /**< HEALTH_FORK: the new process */
	int signal;			   /**< HEALTH_FATAL_SIGNAL: the signal */
	pid_t sender_pid;		   /**< HEALTH_FATAL_SIGNAL: who generated it */
	char sender_comm[HEALTH_COMM_LEN]; /**< HEALTH_FATAL_SIGNAL: its command name */
	char comm[HEALTH_COMM_LEN];	   /**< pid's command name */
	int wait_status;		   /**< HEALTH_EXIT: as waitpid() reports it */
	uint64_t rss_bytes;		   /**< HEALTH_OOM_VICTIM, HEALTH_EXIT: last RSS */
};

/** How a reaped child ended, with what the kernel said about it. */
struct health_end {
	int wait_status;  /**< as the owner's waitpid() reported it */
	bool known;	  /**< the monitor saw the end (BPF); else the rest is unset */
	bool oom_killed;  /**< the OOM killer chose it */
	pid_t killer_pid; /**< sender of the signal it died of; 0 when not killed */
	char killer_comm[HEALTH_COMM_LEN]; /**< its command name, "" when not killed */
};

/** What the monitor tells its owner; every callback may be NULL. */
struct health_callbacks {
	/** Every interval, one per watched child. */
	void (*on_sample)(void *arg, const struct health_sample *s);
	/** A limit was crossed. */
	void (*on_warning)(void *arg, const struct health_warning *w);
	/** RSS passed memory_action: restart the child before the OOM killer does. */
	void (*on_action)(void *arg, const struct health_warning *why);
	/** A fork, fatal signal, OOM choice or exit, as the kernel reports it. */
	void (*on_happening)(void *arg, const struct health_happening *h);
};

/** How to build a monitor. */
struct health_config {
	double interval_s;     /**< between samples (default 1 s when 0) */
	enum health_mode mode; /**< how to choose the source */
};

/** A monitor; opaque. */
struct health_monitor;

/**
 * Build a monitor on @p loop: load the BPF program when the mode allows and it
 * loads, else poll /proc.
 * @param loop the loop its watchers run on
 * @param cfg interval and mode
 * @param cb the owner's callbacks, copied
 * @param arg passed to every callback
 * @param out the new monitor
 * @param err filled on failure (only HEALTH_MODE_BPF fails for want of BPF)
 * @return 0 or a negative code.
 */
int health_monitor_new(struct ev_loop *loop, const struct health_config *cfg,
		       const struct health_callbacks *cb, void *arg, struct health_monitor **out,
		       struct error *err);

/**
 * The source in use.
 * @param hm the monitor
 * @return HEALTH_SOURCE_BPF or HEALTH_SOURCE_PROCFS.
 */
enum health_source health_monitor_source(const struct health_monitor *hm);

/**
 * Why the monitor is not using BPF.
 * @param hm the monitor
 * @return a message, or "" when it uses BPF.
 */
const char *health_monitor_fallback_reason(const struct health_monitor *hm);

/**
 * The name of a source.
 * @param s the source
 * @return "bpf" or "procfs".
 */
const char *health_source_name(enum health_source s);

/**
 * The name of a warning kind.
 * @param k the kind
 * @return "memory_high", "cpu_pinned", "rss_growing" or "memory_action".
 */
const char *health_warning_name(enum health_warning_kind k);

/**
 * Watch @p pid (and, with BPF, every process it forks from now on).
 * @param hm the monitor
 * @param pid a child of the caller that it has not reaped
 * @param limits its limits, copied; NULL for none
 * @param err filled on failure
 * @return 0, -EEXIST when already watched, or another negative code.
 */
int health_monitor_watch(struct health_monitor *hm, pid_t pid, const struct health_limits *limits,
			 struct error *err);

/**
 * Follow @p pid as one of watched @p root's processes from now on (its forks
 * too), for a process that joined the root's group without being forked by a
 * watched one: a container's processes found in its cgroup. BPF source only;
 * nothing from /proc.
 * @param hm the monitor
 * @param root a watched child
 * @param pid the process to follow
 * @return 0, -ENOENT when @p root is not watched, or another negative code.
 */
int health_monitor_follow(struct health_monitor *hm, pid_t root, pid_t pid);

/**
 * The caller is about to spawn children: with BPF, every process it forks
 * until health_monitor_adopt_end() is followed from its first moment, so that
 * a child that dies before health_monitor_watch() still reports its end.
 * Call health_monitor_watch() for each such child afterwards.
 * @param hm the monitor
 */
void health_monitor_adopt_begin(struct health_monitor *hm);

/**
 * The caller has spawned its children; see health_monitor_adopt_begin().
 * Children forked but never watched are forgotten at health_monitor_free().
 * @param hm the monitor
 */
void health_monitor_adopt_end(struct health_monitor *hm);

/**
 * The owner reaped @p pid: read what the kernel reported about its end, then
 * stop watching it and its descendants.
 * @param hm the monitor
 * @param pid a watched child
 * @param wait_status what waitpid() returned for it
 * @param end filled with how it ended
 */
void health_monitor_reaped(struct health_monitor *hm, pid_t pid, int wait_status,
			   struct health_end *end);

/**
 * Stop watching @p pid and its descendants; nothing when it is not watched.
 * @param hm the monitor
 * @param pid the watched child
 */
void health_monitor_unwatch(struct health_monitor *hm, pid_t pid);

/**
 * Ring-buffer records the kernel could not reserve so far (BPF source).
 * @param hm the monitor
 * @return the count.
 */
uint64_t health_monitor_lost(const struct health_monitor *hm);

/**
 * Stop, unload the BPF program and free the monitor; NULL is allowed.
 * @param hm the monitor
 */
void health_monitor_free(struct health_monitor *hm);

#endif
