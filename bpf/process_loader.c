/* The process loader: loads process.bpf.c, prints one JSON line per event. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <yajl/yajl_gen.h>

#include <collector/child.h>

#include "../runners/container_id.h"
#include "../runners/container_name.h"
#include "cgroup_filter.h"
#include "loader_util.h"
#include "process.h"
#include "process_loader.h"
#include "process.skel.h"

/* --uid as a user name or a number; (uid_t)-1 when not given. @return 0 or -EINVAL. */
static int resolve_uid(const struct options *o, uid_t *uid, struct error *err)
{
	const char *text = options_str(o, "uid");
	struct passwd entry, *pw = NULL;
	char names[4096]; /* the entry's strings; sysconf(_SC_GETPW_R_SIZE_MAX) is 1024 on glibc */
	char *end;
	long v;

	*uid = (uid_t)-1;
	if (!text)
		return 0;
	errno = 0;
	v = strtol(text, &end, 10);
	if (!errno && end != text && !*end && v >= 0 && v < UINT32_MAX) {
		*uid = (uid_t)v;
		return 0;
	}
	if (getpwnam_r(text, &entry, names, sizeof(names), &pw) != 0 || !pw)
		return error_set(err, EINVAL, "--uid %s: no such user (a user name or a number)",
				 text);
	*uid = pw->pw_uid;
	return 0;
}

/* The cgroup v2 directory of --cgroup or --container, found by process_options_check(). */
static char cgroup_dir[PATH_MAX + 32]; /* a mount point, then the cgroup path */

int process_options_check(const struct options *o, struct error *err)
{
	int ncommand = 0;
	uid_t uid;

	int64_t bytes = options_int(o, "max-args-bytes");
	const char *comm = options_str(o, "comm");

	if (bytes < 1 || bytes > PROCESS_ARGS_MAX || options_int(o, "max-args") < 0 ||
	    options_int(o, "table-size") < 1 || options_int(o, "pid") < 0 ||
	    options_int(o, "flush-interval") < 0)
		return error_set(err, EINVAL,
				 "--max-args-bytes must be 1..%d, --max-args >= 0, --table-size >= "
				 "1, "
				 "--pid and --flush-interval >= 0",
				 PROCESS_ARGS_MAX);
	if (comm && strlen(comm) >= PROCESS_COMM_LEN)
		return error_set(err, EINVAL, "--comm: at most %d characters (the kernel's limit)",
				 PROCESS_COMM_LEN - 1);
	options_list(o, "command", &ncommand);
	if (ncommand && options_given(o, "pid"))
		return error_set(err, EINVAL,
				 "a command or --pid, not both: the command's process is the one "
				 "traced");
	if (options_bool(o, "tree") && options_int(o, "pid") <= 0 && !ncommand)
		return error_set(err, EINVAL, "--tree needs --pid");
	if (resolve_uid(o, &uid, err) < 0 ||
	    cgroup_filter_check(o, cgroup_dir, sizeof(cgroup_dir), err) < 0)
		return -EINVAL;
	return loader_check_pid((pid_t)options_int(o, "pid"), err);
}

static struct process_args {
	pid_t pid;
	bool tree;
	bool threads;
	bool fails;
	uid_t uid;
	const char *comm;
	const char *cgroup;
	unsigned max_args;
	unsigned max_args_bytes;
	int flush_ms;
	bool verbose;
} args;

/* The runner's options, as the loader uses them. */
static void args_from(const struct options *o)
{
	args = (struct process_args){
		.pid = (pid_t)options_int(o, "pid"),
		.tree = options_bool(o, "tree"),
		.threads = options_bool(o, "threads"),
		.fails = options_bool(o, "fails"),
		.comm = options_str(o, "comm"),
		.cgroup = cgroup_dir[0] ? cgroup_dir : NULL,
		.max_args = (unsigned)options_int(o, "max-args"),
		.max_args_bytes = (unsigned)options_int(o, "max-args-bytes"),
		.flush_ms = (int)(options_int(o, "flush-interval") / 1000000),
		.verbose = options_bool(o, "verbose"),
	};
	/* Checked by process_options_check() first. */
	resolve_uid(o, &args.uid, NULL);
}

struct output {
	struct loader_out out;
	struct process_bpf *skel;
	unsigned long long lost_reported;
	long long boot_to_wall;
};

/*
 * container_id and container_runtime when the event's cgroup names a container (nothing
 * else), and container_name when the Docker daemon answers for it.
 */
static void gen_container(yajl_gen g, const struct process_header *h)
{
	char path[PROCESS_CGROUP_DEPTH * (PROCESS_CGROUP_NAME + 1) + 1];
	struct container_ref c;
	const char *name;
	size_t len = 0;

	for (int i = PROCESS_CGROUP_DEPTH - 1; i >= 0; i--) {
		size_t n = strnlen(h->cgroup[i], PROCESS_CGROUP_NAME);

		if (!n)
			continue;
		path[len++] = '/';
		memcpy(path + len, h->cgroup[i], n);
		len += n;
	}
	if (!container_from_path(path, len, &c))
		return;
	loader_gen_str(g, "container_id", c.id);
	loader_gen_str(g, "container_runtime", c.runtime);
	name = container_name(&c);
	if (name)
		loader_gen_str(g, "container_name", name);
}

static void gen_header(yajl_gen g, const char *type, const struct process_header *h,
		       long long boot_to_wall)
{
	loader_gen_str(g, "type", type);
	loader_gen_int(g, "ts_ns", (long long)h->ts_ns + boot_to_wall);
	loader_gen_int(g, "pid", h->pid);
	loader_gen_int(g, "tid", h->tid);
	loader_gen_int(g, "ppid", h->ppid);
	loader_gen_int(g, "uid", h->uid);
	loader_gen_int(g, "gid", h->gid);
	loader_gen_strn(g, "comm", h->comm, strnlen(h->comm, sizeof(h->comm)));
	loader_gen_int(g, "cgroup_id", (long long)h->cgroup_id);
	gen_container(g, h);
}

static void gen_exec(yajl_gen g, const struct process_exec_event *e)
{
	unsigned n = 0, off = 0,
		 len = e->args_len < PROCESS_ARGS_MAX ? e->args_len : PROCESS_ARGS_MAX;
	bool truncated = e->args_len < e->args_size;

	loader_gen_int(g, "ret", e->ret);
	loader_gen_strn(g, "filename", e->filename, strnlen(e->filename, sizeof(e->filename)));
	yajl_gen_string(g, (const unsigned char *)"argv", 4);
	yajl_gen_array_open(g);
	while (off < len) {
		size_t word = strnlen(e->args + off, len - off);

		/* A word cut by the capture size ends without its NUL. */
		if (n == args.max_args) {
			truncated = true;
			break;
		}
		yajl_gen_string(g, (const unsigned char *)e->args + off, word);
		n++;
		off += (unsigned)word + 1;
	}
	yajl_gen_array_close(g);
	yajl_gen_string(g, (const unsigned char *)"args_truncated", 14);
	yajl_gen_bool(g, truncated);
}

static void gen_exit(yajl_gen g, const struct process_exit_event *e)
{
	unsigned sig = e->exit_code & 0x7f;

	yajl_gen_string(g, (const unsigned char *)"exit_code", 9);
	if (sig)
		yajl_gen_null(g);
	else
		yajl_gen_integer(g, (e->exit_code >> 8) & 0xff);
	yajl_gen_string(g, (const unsigned char *)"signal", 6);
	if (sig) {
		char name[16];

		yajl_gen_integer(g, sig);
		loader_gen_str(g, "signal_name", signal_name((int)sig, name));
	} else {
		yajl_gen_null(g);
	}
	yajl_gen_string(g, (const unsigned char *)"core_dumped", 11);
	yajl_gen_bool(g, (e->exit_code & 0x80) != 0);
	yajl_gen_string(g, (const unsigned char *)"thread", 6);
	yajl_gen_bool(g, e->thread != 0);
	loader_gen_int(g, "duration_ns", (long long)e->duration_ns);
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct output *o = ctx;
	const struct process_header *h = data;
	yajl_gen g = loader_begin(&o->out);

	if (size < sizeof(*h))
		return 0;
	switch (h->kind) {
	case PROCESS_EXEC:
		gen_header(g, "exec", h, o->boot_to_wall);
		gen_exec(g, data);
		break;
	case PROCESS_FORK:
		gen_header(g, "fork", h, o->boot_to_wall);
		loader_gen_int(g, "child_pid",
			       ((const struct process_fork_event *)data)->child_pid);
		break;
	case PROCESS_EXIT:
		gen_header(g, "exit", h, o->boot_to_wall);
		gen_exit(g, data);
		break;
	default:
		return 0;
	}
	loader_end(&o->out);
	return 0;
}

/* Report ring-buffer losses whenever their count grew. */
static void report_lost(struct output *o)
{
	unsigned long long lost = __atomic_load_n(&o->skel->bss->lost, __ATOMIC_RELAXED);
	yajl_gen g;

	if (lost == o->lost_reported)
		return;
	o->lost_reported = lost;
	g = loader_begin(&o->out);
	loader_gen_str(g, "type", "loss");
	loader_gen_int(g, "count", (long long)lost);
	loader_end(&o->out);
}

/* With --tree, processes already below the root are followed too. */
static int seed_tree(struct process_bpf *skel, pid_t root)
{
	int fd = bpf_map__fd(skel->maps.tracked);
	__u8 one = 1;
	pid_t pids[4096];
	int n = loader_descendants(root, pids, 4096);

	if (bpf_map_update_elem(fd, &root, &one, BPF_ANY) < 0)
		return -errno;
	for (int i = 0; i < n; i++)
		bpf_map_update_elem(fd, &pids[i], &one, BPF_ANY);
	return 0;
}

static int configure(struct process_bpf *skel, struct loader_error *lerr)
{
	struct process_bpf__rodata *ro = skel->rodata;

	ro->targ_pid = args.tree ? 0 : args.pid;
	ro->targ_tree = args.tree;
	ro->targ_threads = args.threads;
	ro->targ_uid = args.uid;
	ro->targ_args_max = args.max_args_bytes;
	if (args.comm)
		strncpy((char *)ro->targ_comm, args.comm, sizeof(ro->targ_comm) - 1);
	if (cgroup_filter_load(args.cgroup, &ro->targ_cgroup, lerr) < 0)
		return -1;
	/* Every syscall runs these: only when failed execs are asked for. */
	bpf_program__set_autoload(skel->progs.handle_sys_enter, args.fails);
	bpf_program__set_autoload(skel->progs.handle_sys_exit, args.fails);
	return 0;
}

int process_loader_main(const struct options *opts)
{
	struct output o = { 0 };
	struct ring_buffer *rb = NULL;
	struct loader_error lerr = { 0 };
	struct error bad = { 0 };
	int err;

	if (process_options_check(opts, &bad) < 0) {
		loader_verdict("%s", bad.msg);
		return 2;
	}
	args_from(opts);
	loader_setup(args.verbose);
	o.boot_to_wall = loader_boot_to_wall_ns();
	o.skel = process_bpf__open();
	if (!o.skel) {
		loader_explain_failure("open the process BPF object", errno);
		return 1;
	}
	if (configure(o.skel, &lerr) < 0) {
		loader_verdict("%s", lerr.msg);
		err = 2;
		goto out;
	}
	err = process_bpf__load(o.skel);
	if (!err && args.tree)
		err = seed_tree(o.skel, args.pid);
	if (!err)
		err = process_bpf__attach(o.skel);
	if (err) {
		loader_explain_failure("load and attach the process BPF programs", -err);
		err = 1;
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(o.skel->maps.events), handle_event, &o, NULL);
	if (!rb || loader_out_init(&o.out) < 0) {
		loader_explain_failure("set up the ring buffer", errno);
		err = 1;
		goto out;
	}
	o.out.flush_ms = args.flush_ms;
	loader_ready(&o.out, "process");
	err = loader_poll_paced(rb, &o.out, &o.skel->bss->reader_waiting,
				(void (*)(void *))report_lost, &o);
out:
	ring_buffer__free(rb);
	process_bpf__destroy(o.skel);
	loader_out_free(&o.out);
	return err;
}
