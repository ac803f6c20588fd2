/* The algorithm host's shared state (calls, instances, the host) and its modules' internal interfaces. */
#ifndef COLLECTOR_ALGORITHM_INTERNAL_H
#define COLLECTOR_ALGORITHM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <ev.h>
#include <yajl/yajl_gen.h>

#include <collector/algorithm.h>
#include <collector/buffer.h>
#include <collector/clock.h>
#include <collector/child_cgroup.h>
#include <collector/line_framer.h>

#include "../container_id.h"
#include "package.h"
#include "shm_pool.h"

#define ALGO_STDERR_TAIL 50	 /* lines kept for crash reports */
#define ALGO_EXIT_STDERR_LINES 8 /* of them, in algorithm.exit */
#define ALGO_BREAKER_FAILURES 5
#define ALGO_BREAKER_WINDOW_NS (60LL * 1000000000)
#define ALGO_IMMEDIATE_RESTARTS 3
#define ALGO_MISSED_PONGS 3

enum algo_state {
	ALGO_STARTING,
	ALGO_READY,
	ALGO_BUSY,
	ALGO_DEGRADED,
	ALGO_RESTARTING,
	ALGO_BROKEN,
	ALGO_STOPPED,
};

struct algo_instance;

/* One call: queued on the host, then in flight on one instance. */
struct algo_call {
	struct algorithm *host;
	uint64_t id;
	char *method;
	char *params;
	struct algorithm_image image;
	bool has_image;
	algorithm_done_fn done;
	void *arg;
	int64_t submit_ns;
	int64_t sent_ns;    /* written to a child, 0 before */
	char *source, *tag; /* the caller's labels (algorithm_call_info), or NULL */
	uint64_t line;
	int slot;		    /* leased pool slot, -1 when none */
	struct algo_instance *inst; /* while in flight */
	ev_timer timeout_w;
	bool timeout_frozen; /* timeout_w stopped by a pause, timeout_left to go */
	double timeout_left;
	struct algo_call *prev, *next;
};

struct algo_list {
	struct algo_call *head, *tail;
	size_t len;
};

/* One child of the package and everything it owns while alive. */
struct algo_instance {
	struct algorithm *host;
	int index;
	enum algo_state state;
	pid_t pid;
	bool alive;
	int in_fd, out_fd, err_fd;
	ev_io in_w, out_w, err_w;
	ev_child child_w;
	ev_timer handshake_w, heartbeat_w, kill_w, restart_w;
	/* What a pause froze (seconds left), and what it put off until the resume. */
	bool handshake_frozen, heartbeat_frozen;
	double handshake_left, heartbeat_left;
	bool restart_due; /* restart_w fired while paused */
	bool exit_due;	  /* reaped while paused: output, report and policy wait */
	int exit_status;
	const char *start_reason; /* why the next spawn happens, NULL for the default */
	struct line_framer out_fr, err_fr;
	struct buffer wbuf; /* bytes for the child's stdin not yet written */
	struct buffer scratch;
	bool hello_done;
	bool stopping;		 /* shutdown sent: its exit is not a failure */
	int kill_stage;		 /* 0 none, 1 shutdown sent, 2 SIGTERM sent, 3 SIGKILL sent */
	int64_t stage_ns[3];	 /* when stages 1..3 began (CLOCK_MONOTONIC), 0 when not */
	const char *kill_reason; /* why the host ended it, NULL when the child did */
	struct algo_list inflight;
	uint64_t ping_seq;
	int missed_pongs;
	int consecutive_failures;
	int64_t failure_ns[ALGO_BREAKER_FAILURES];
	int failure_next;
	uint64_t spawns;
	uint64_t answered;	   /* calls this child answered since its spawn */
	uint64_t timed_out_id;	   /* the call whose timeout ended it, 0 when none */
	char timed_out_method[32]; /* and its method */
	int64_t spawn_ns;
	/* The container the child runs in (its cgroup's, read at its spawn); id "" when none. */
	struct container_ref container;
	char tmpdir[64];
	char container_name[128]; /* Docker's name, "" when unknown */
	struct child_cgroup cg;
	char stderr_tail[ALGO_STDERR_TAIL][200];
	int stderr_count;
};

/*
 * How the supervisor reports to the scheduler above it: the scheduler sets
 * these when it makes the host, the supervisor never names a scheduler function.
 */
struct algo_hooks {
	/* An instance may take calls again, or broke (a queue with no instance left fails fast). */
	void (*capacity)(struct algorithm *a);
	/* An instance ended after algorithm_stop(): the host may have stopped. */
	void (*stopped)(struct algorithm *a);
};

struct algorithm {
	struct ev_loop *loop;
	struct algo_package pkg;
	struct algorithm_options opts;
	bool has_user;
	uid_t uid;
	gid_t gid;
	struct shm_pool pool;
	struct algo_instance *inst;
	int ninst;
	struct algo_list queue;
	size_t pending; /* submitted, outcome not yet delivered */
	uint64_t next_id;
	int64_t call_timeout_ns;
	bool stopping;
	bool stopped_told;
	/* Backpressure (algorithm_pause): paused stops events, frozen holds timers and reads. */
	bool paused;
	bool frozen;
	bool closing;
	int64_t paused_since_ns;
	int64_t paused_total_ns;
	uint64_t pauses;
	struct event_builder *eb; /* the data object of the event being built */
	struct algorithm_stats stats;
	const struct algo_hooks *hooks;
};

static inline double algo_secs(int64_t ns)
{
	return (double)ns / 1e9;
}

static inline int64_t algo_ms_ns(int64_t ms)
{
	return ms * 1000000;
}

/* Events (host_events.c). */
const char *algo_state_name(enum algo_state s);

/* Event building on the event builder: algo_ev_begin(), fields (key NULL in an array), algo_ev_emit(). */
void algo_ev_begin(struct algorithm *a);
void algo_ev_str(struct algorithm *a, const char *key, const char *value);
void algo_ev_strn(struct algorithm *a, const char *key, const char *value, size_t len);
void algo_ev_int(struct algorithm *a, const char *key, long long value);
void algo_ev_raw(struct algorithm *a, const char *key, const char *json, size_t len);
/* An array member; its elements are algo_ev_str() with a NULL key. */
void algo_ev_array_open(struct algorithm *a, const char *key);
void algo_ev_array_close(struct algorithm *a);
void algo_ev_emit(struct algorithm *a, const char *type, pid_t pid);
/* Note the container child @p in runs in (none, when it runs in none): its events carry it. */
void algo_instance_find_container(struct algo_instance *in);
/* The instance's new state and its algorithm.state event (none when it does not change). */
void algo_set_state(struct algo_instance *in, enum algo_state s, const char *reason);

/* Calls (calls.c). */
void algo_list_remove(struct algo_list *l, struct algo_call *c);
struct algo_call *algo_list_pop(struct algo_list *l);
void algo_list_push(struct algo_list *l, struct algo_call *c);
/* Deliver the outcome of a call already taken off its list, and free it. */
void algo_complete(struct algo_call *c, enum algorithm_code code, const char *message,
		   const char *json, size_t json_len);

/* The host and its scheduler (scheduler.c). */
/* A host with its options and defaults, no package, pool or instances yet. */
int algo_host_new(const struct algorithm_options *opts, struct algorithm **out, struct error *err);
/* The package's instances, initialized and not spawned (a->pkg is loaded). */
int algo_host_add_instances(struct algorithm *a, struct error *err);

/*
 * A stopped host (no call pending, no child alive or with an exit due) back as
 * algo_host_add_instances() left it, keeping its allocations: a test can drive
 * one host through many scripts, each from the same state. The package's
 * limits may change between them, except max_line_bytes (it sized the framers).
 * @return 0, or -EBUSY with @p err filled when the host is not stopped.
 */
int algo_host_reset(struct algorithm *a, struct error *err);

/* Lifecycle and restart policy (supervisor.c). */
void algo_instance_init(struct algo_instance *in, struct algorithm *a, int index);
int algo_instance_spawn(struct algo_instance *in, struct error *err);
void algo_instance_stop(struct algo_instance *in);
/* Close an open breaker: restart at once. @return whether it was open. */
bool algo_instance_reset(struct algo_instance *in);
/*
 * A dead instance (not alive, no exit due, nothing in flight) back as
 * algo_instance_init() left it, keeping its framers' and buffers' memory.
 */
void algo_instance_recycle(struct algo_instance *in);
void algo_instance_free(struct algo_instance *in);
bool algo_instance_accepts(const struct algo_instance *in);
/* Backpressure: stop an instance's reads and clocks; undo it, delivering what waited. */
void algo_instance_freeze(struct algo_instance *in);
void algo_instance_thaw(struct algo_instance *in);
/* Deliver lines already read and a put-off exit; false when the host paused again. */
bool algo_instance_catch_up(struct algo_instance *in);
/* Failures within the breaker window before @p now. */
int algo_recent_failures(const struct algo_instance *in, int64_t now);

/* The message session with the child (session.c). */
/* Its watchers (stdin, stdout, stderr, heartbeat), as algo_instance_init() needs them. */
void algo_session_init(struct algo_instance *in);
int algo_instance_send_call(struct algo_instance *in, struct algo_call *c);
/*
 * Handle every complete line the instance's stdout (or stderr) framer holds,
 * as the host does after each read; false when the host paused first (the rest
 * stays framed until algorithm_resume()).
 */
bool algo_instance_take_lines(struct algo_instance *in, bool is_stderr);
/*
 * Read and handle what is there until the host pauses (what was read and not
 * handled stays in the framer); returns false once the stream is closed (EOF
 * or error).
 */
bool algo_session_read(struct algo_instance *in, bool is_stderr);
/* Read what the child wrote so far, e.g. before judging it late. */
void algo_instance_read_now(struct algo_instance *in);
/* The shutdown message and EOF on the child's stdin. */
void algo_session_shutdown(struct algo_instance *in);
/* Stop watching the child's streams and close them. */
void algo_session_close(struct algo_instance *in);

/* The child process (spawn.c). */
/* Its kill timer, as algo_instance_init() needs it. */
void algo_spawn_init(struct algo_instance *in);
/* The sandbox, the environment and the child: its fds are in @p in on success. */
int algo_spawn_child(struct algo_instance *in, struct error *err);
/* SIGTERM now, SIGKILL after the grace time; @p reason is kept as the kill reason. */
void algo_instance_terminate(struct algo_instance *in, const char *reason);

#endif
