/* The ssl loader: uprobes on TLS libraries from ssl.bpf.c, one JSON line per call. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <yajl/yajl_gen.h>

#include <collector/codec.h>

#include "cgroup_filter.h"
#include "loader_util.h"
#include "ssl.h"
#include "ssl_calls.h"
#include "ssl_loader.h"
#include "ssl_targets.h"
#include "ssl.skel.h"

#define MAX_TARGETS 64
#define MAX_LINKS 1024
#define FLUSH_BYTES (1 << 20)

static struct ssl_args {
	pid_t pid;
	uid_t uid;
	const char *comm;
	char *const *libs;
	int nlibs;
	char *const *binaries;
	int nbinaries;
	unsigned max_payload;
	unsigned long long ring_bytes;
	unsigned long long wakeup_bytes;
	const char *cgroup; /* the cgroup v2 directory of --cgroup or --container, or NULL */
	bool share_ring;
	bool verbose;
} args;

/* The cgroup v2 directory of --cgroup or --container, found by ssl_options_check(). */
static char cgroup_dir[PATH_MAX + 32];

int ssl_options_check(const struct options *o, struct error *err)
{
	int64_t ring = options_int(o, "ring-size");
	int64_t payload = options_int(o, "max-payload");
	const char *comm = options_str(o, "comm");
	int nlibs = 0, nbinaries = 0;

	options_list(o, "lib", &nlibs);
	options_list(o, "binary-path", &nbinaries);
	if (ring < (1 << 20) || ring > (1LL << 30) || (ring & (ring - 1)))
		return error_set(err, EINVAL, "--ring-size must be a power of two in 1MiB..1GiB");
	if (payload < 1 || payload > (int64_t)SSL_CHUNK * SSL_MAX_CHUNKS)
		return error_set(err, EINVAL, "--max-payload must be 1..%dKiB",
				 SSL_CHUNK * SSL_MAX_CHUNKS / 1024);
	if (comm && strlen(comm) >= SSL_COMM_LEN)
		return error_set(err, EINVAL, "--comm: at most %d characters (the kernel's limit)",
				 SSL_COMM_LEN - 1);
	if (nlibs > MAX_TARGETS || nbinaries > MAX_TARGETS)
		return error_set(err, EINVAL, "at most %d of --lib and of --binary-path",
				 MAX_TARGETS);
	if (options_int(o, "pid") < 0 || options_int(o, "wakeup") < 0 ||
	    options_int(o, "wakeup") > ring)
		return error_set(err, EINVAL, "--pid >= 0, --wakeup 0..--ring-size");
	if (cgroup_filter_check(o, cgroup_dir, sizeof(cgroup_dir), err) < 0)
		return -EINVAL;
	return loader_check_pid((pid_t)options_int(o, "pid"), err);
}

/* The runner's options, as the loader uses them. */
static void args_from(const struct options *o)
{
	int64_t ring = options_int(o, "ring-size");
	int nlibs = 0, nbinaries = 0;
	char *const *libs = options_list(o, "lib", &nlibs);
	char *const *binaries = options_list(o, "binary-path", &nbinaries);

	args = (struct ssl_args){
		.pid = (pid_t)options_int(o, "pid"),
		.uid = (uid_t)options_int(o, "uid"),
		.comm = options_str(o, "comm"),
		.libs = libs,
		.nlibs = nlibs,
		.binaries = binaries,
		.nbinaries = nbinaries,
		.max_payload = (unsigned)options_int(o, "max-payload"),
		.ring_bytes = (unsigned long long)ring,
		/* The runner reads on a timer (ssl_ring.c): a wake-up is only the net for a burst. */
		.wakeup_bytes = (unsigned long long)(options_given(o, "wakeup") ?
							     options_int(o, "wakeup") :
							     ring / 4),
		.cgroup = cgroup_dir[0] ? cgroup_dir : NULL,
		.share_ring = options_bool(o, "share-ring"),
		.verbose = options_bool(o, "verbose"),
	};
}

struct output {
	struct loader_out out;
	struct ssl_bpf *skel;
	struct ring_buffer *rb;
	unsigned long long lost_reported;
	long long boot_to_wall;
	struct ssl_calls calls;
	char *b64;
};

static void gen_common(struct output *o, yajl_gen g, const char *type, const struct ssl_record *r)
{
	char conn[48];

	loader_gen_str(g, "type", type);
	loader_gen_int(g, "ts_ns", (long long)r->ts_ns + o->boot_to_wall);
	loader_gen_int(g, "pid", r->pid);
	loader_gen_int(g, "tid", r->tid);
	loader_gen_int(g, "uid", r->uid);
	loader_gen_strn(g, "comm", r->comm, strnlen(r->comm, sizeof(r->comm)));
	loader_gen_str(g, "func", ssl_func_name(r->func));
	loader_gen_str(g, "lib", ssl_func_lib(r->func));
	snprintf(conn, sizeof(conn), "%u:%llx", r->pid, r->conn);
	loader_gen_str(g, "conn", conn);
	loader_gen_int(g, "ret", r->ret);
	loader_gen_int(g, "latency_ns", (long long)r->latency_ns);
	loader_gen_int(g, "cgroup_id", (long long)r->cgroup_id);
}

static void emit_data(struct output *o, const struct ssl_record *r, const void *data,
		      size_t captured, bool incomplete)
{
	yajl_gen g = loader_begin(&o->out);
	size_t n = base64_encode(data, captured, o->b64);

	gen_common(o, g, "data", r);
	loader_gen_str(g, "direction", ssl_func_writes(r->func) ? "write" : "read");
	loader_gen_int(g, "len", r->len);
	loader_gen_int(g, "captured", (long long)captured);
	yajl_gen_string(g, (const unsigned char *)"truncated", 9);
	yajl_gen_bool(g, captured < r->len);
	if (incomplete) {
		yajl_gen_string(g, (const unsigned char *)"incomplete", 10);
		yajl_gen_bool(g, true);
	}
	loader_gen_strn(g, "data_b64", o->b64, n);
	loader_end(&o->out);
}

/* One call, handshake or close, put together by ssl_calls, as a JSON line. */
static bool emit_call(void *arg, const struct ssl_record *r, const void *data, size_t captured,
		      bool incomplete)
{
	struct output *o = arg;
	yajl_gen g;

	if (r->kind == SSL_RECORD_DATA) {
		emit_data(o, r, data, captured, incomplete);
	} else {
		g = loader_begin(&o->out);
		gen_common(o, g, r->kind == SSL_RECORD_CLOSE ? "close" : "handshake", r);
		if (r->kind == SSL_RECORD_HANDSHAKE) {
			yajl_gen_string(g, (const unsigned char *)"success", 7);
			yajl_gen_bool(g, r->ret == 1);
		}
		loader_end(&o->out);
	}
	/* One poll can drain a whole ring buffer: write as we go, so memory stays bounded. */
	if (o->out.len >= FLUSH_BYTES)
		loader_flush(&o->out);
	return true;
}

static int handle_record(void *ctx, void *data, size_t size)
{
	struct output *o = ctx;

	ssl_calls_add(&o->calls, data, size);
	return 0;
}

/* Report records lost in the kernel, or calls that lost some, whenever the count grew. */
static void report_lost(struct output *o)
{
	unsigned long long lost =
		__atomic_load_n(&o->skel->bss->lost, __ATOMIC_RELAXED) + o->calls.incomplete;
	yajl_gen g;

	if (lost == o->lost_reported)
		return;
	o->lost_reported = lost;
	g = loader_begin(&o->out);
	loader_gen_str(g, "type", "loss");
	loader_gen_int(g, "count", (long long)lost);
	loader_end(&o->out);
}

/*
 * After each poll: ring_buffer__poll() reads only a ring epoll reported, i.e. one the
 * kernel woke; records sent without a wake-up are read here, at the latest 100 ms later.
 */
static void after_poll(struct output *o)
{
	ring_buffer__consume(o->rb);
	report_lost(o);
}

struct target_set {
	char paths[MAX_TARGETS][4096];
	dev_t dev[MAX_TARGETS];
	ino_t ino[MAX_TARGETS];
	int n;
};

/* Add @p path once per file (a library is often reachable under several names). */
static void add_target(struct target_set *t, const char *path)
{
	struct stat st;

	if (t->n == MAX_TARGETS || stat(path, &st) < 0)
		return;
	for (int i = 0; i < t->n; i++)
		if (t->dev[i] == st.st_dev && t->ino[i] == st.st_ino)
			return;
	snprintf(t->paths[t->n], sizeof(t->paths[0]), "%s", path);
	t->dev[t->n] = st.st_dev;
	t->ino[t->n++] = st.st_ino;
}

static bool is_tls_library(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return strncmp(base, "libssl.so", 9) == 0 || strncmp(base, "libgnutls.so", 12) == 0;
}

/*
 * Process @p pid's program, when it is a Go program with crypto/tls (it carries its TLS
 * itself); named through /proc/PID/root so that a program in a container is found too.
 */
static void add_go_program(struct target_set *t, const char *pid)
{
	char link[300], exe[4096], path[4400];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%s/exe", pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	snprintf(path, sizeof(path), "/proc/%s/root%s", pid, exe);
	if (!strstr(exe, " (deleted)") && ssl_targets_is_go_tls(path))
		add_target(t, path);
}

/* `ldconfig -p`'s output as a stream (no shell), or NULL; *child is its pid. */
static FILE *run_ldconfig(pid_t *child)
{
	int fds[2];
	FILE *f;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return NULL;
	*child = fork();
	if (*child == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(fds[1], STDOUT_FILENO);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		execlp("ldconfig", "ldconfig", "-p", (char *)NULL);
		execl("/sbin/ldconfig", "ldconfig", "-p", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = *child > 0 ? fdopen(fds[0], "r") : NULL;
	if (!f)
		close(fds[0]);
	return f;
}

/* The TLS libraries ldconfig knows and those mapped by running processes. */
static void find_libraries(struct target_set *t)
{
	pid_t child = -1;
	FILE *f = run_ldconfig(&child);
	char line[4096 + 64];
	DIR *d;
	struct dirent *de;

	while (f && fgets(line, sizeof(line), f)) {
		char *arrow = strstr(line, "=> ");

		line[strcspn(line, "\n")] = '\0';
		if (arrow && is_tls_library(arrow + 3))
			add_target(t, arrow + 3);
	}
	if (f)
		fclose(f);
	if (child > 0)
		waitpid(child, NULL, 0);
	d = opendir("/proc");
	while (d && (de = readdir(d))) {
		char path[300];
		FILE *maps;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/maps", de->d_name);
		maps = fopen(path, "re");
		while (maps && fgets(line, sizeof(line), maps)) {
			char *p = strchr(line, '/');

			line[strcspn(line, "\n")] = '\0';
			if (p && is_tls_library(p) && !strstr(p, " (deleted)"))
				add_target(t, p);
		}
		if (maps)
			fclose(maps);
		add_go_program(t, de->d_name);
	}
	if (d)
		closedir(d);
}

struct links {
	struct bpf_link *l[MAX_LINKS];
	int n;
};

/* The BPF program of each enum ssl_prog. */
static struct bpf_program *site_program(struct ssl_bpf *skel, enum ssl_prog p)
{
	struct bpf_program *progs[SSL_PROG_COUNT] = {
		[SSL_PROG_SSL_WRITE] = skel->progs.ssl_write_enter,
		[SSL_PROG_SSL_READ] = skel->progs.ssl_read_enter,
		[SSL_PROG_SSL_WRITE_EX] = skel->progs.ssl_write_ex_enter,
		[SSL_PROG_SSL_READ_EX] = skel->progs.ssl_read_ex_enter,
		[SSL_PROG_HANDSHAKE] = skel->progs.ssl_handshake_enter,
		[SSL_PROG_GNUTLS_SEND] = skel->progs.gnutls_send_enter,
		[SSL_PROG_GNUTLS_RECV] = skel->progs.gnutls_recv_enter,
		[SSL_PROG_SSL_FREE] = skel->progs.ssl_free_enter,
		[SSL_PROG_GNUTLS_DEINIT] = skel->progs.gnutls_deinit_enter,
		[SSL_PROG_SSL_READ_INTERNAL] = skel->progs.ssl_read_internal_enter,
		[SSL_PROG_SSL_WRITE_INTERNAL] = skel->progs.ssl_write_internal_enter,
		[SSL_PROG_GO_WRITE] = skel->progs.go_write_enter,
		[SSL_PROG_GO_READ] = skel->progs.go_read_enter,
		[SSL_PROG_GO_READ_RET] = skel->progs.go_read_ret,
		[SSL_PROG_GO_CLOSE] = skel->progs.go_close_enter,
		[SSL_PROG_LEAVE] = skel->progs.tls_leave,
	};

	return progs[p];
}

static int attach_site(struct ssl_bpf *skel, struct links *links, const char *path,
		       const struct ssl_site *site)
{
	struct bpf_uprobe_opts opts = { .sz = sizeof(opts), .retprobe = site->retprobe };
	struct bpf_link *l;

	if (links->n == MAX_LINKS)
		return -E2BIG;
	l = bpf_program__attach_uprobe_opts(site_program(skel, site->prog),
					    args.pid ? args.pid : -1, path, (size_t)site->offset,
					    &opts);
	if (!l)
		return -errno;
	links->l[links->n++] = l;
	return 0;
}

/*
 * Attach every TLS function the file has (ssl_targets.c finds them); @return how many it had
 * (0: @p plan->why says why), or -1 with @p lerr.
 */
static int attach_file(struct ssl_bpf *skel, struct links *links, const char *path,
		       struct ssl_plan *plan, struct loader_error *lerr)
{
	int n = ssl_targets_plan(path, plan);

	for (int i = 0; i < n; i++) {
		int err = attach_site(skel, links, path, &plan->sites[i]);

		/* The process of --pid is gone: no library will do, say so. */
		if (err == -ESRCH && args.pid)
			return loader_fail(lerr, "no process %d", args.pid);
		if (err)
			return loader_fail(lerr, "attaching uprobes: %s in %s: %s",
					   plan->sites[i].what, path, strerror(-err));
	}
	if (n < 0)
		return loader_fail(lerr, "reading %s: %s", path, strerror(-n));
	return plan->functions;
}

static int attach_all(struct ssl_bpf *skel, struct links *links, struct loader_error *lerr)
{
	static struct target_set t;
	static struct ssl_plan plan;
	char exe[64];
	int total = 0;

	t.n = 0;
	for (int i = 0; i < args.nlibs; i++) {
		if (access(args.libs[i], R_OK) < 0)
			return loader_fail(lerr, "--lib %s: %s", args.libs[i], strerror(errno));
		add_target(&t, args.libs[i]);
	}
	for (int i = 0; i < args.nbinaries; i++) {
		if (access(args.binaries[i], R_OK) < 0)
			return loader_fail(lerr, "--binary-path %s: %s", args.binaries[i],
					   strerror(errno));
		add_target(&t, args.binaries[i]);
	}
	if (!args.nlibs && !args.nbinaries) {
		find_libraries(&t);
		/* A Go program or one with OpenSSL linked in carries its TLS in its own file. */
		if (args.pid) {
			snprintf(exe, sizeof(exe), "/proc/%d/exe", args.pid);
			add_target(&t, exe);
		}
	}
	if (t.n == 0)
		return loader_fail(lerr, "no TLS library found (libssl, libgnutls): ldconfig -p "
					 "and /proc/*/maps list none; give --lib PATH");
	for (int i = 0; i < t.n; i++) {
		int n = attach_file(skel, links, t.paths[i], &plan, lerr);

		if (n < 0)
			return -1;
		if (n == 0 && (args.nlibs || args.nbinaries))
			return loader_fail(lerr, "%s has none of the TLS functions: %s", t.paths[i],
					   plan.why);
		if (n > 0)
			fprintf(stderr, "ssl loader: %d functions in %s (%s)\n", n, t.paths[i],
				plan.how);
		total += n;
	}
	if (total == 0)
		return loader_fail(lerr, "none of the TLS libraries found has the TLS functions");
	return 0;
}

static int configure(struct ssl_bpf *skel, struct loader_error *lerr)
{
	struct ssl_bpf__rodata *ro = skel->rodata;

	ro->targ_pid = args.pid;
	ro->targ_uid = args.uid;
	ro->targ_max_payload = args.max_payload;
	ro->targ_wakeup_bytes = args.wakeup_bytes;
	if (args.comm)
		strncpy((char *)ro->targ_comm, args.comm, sizeof(ro->targ_comm) - 1);
	if (cgroup_filter_load(args.cgroup, &ro->targ_cgroup, lerr) < 0)
		return -1;
	bpf_map__set_max_entries(skel->maps.events, (__u32)args.ring_bytes);
	return 0;
}

static int skip_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

/* Write every page of the ring buffer once (prefault_ring in ssl.bpf.c says why); @return 0 or -errno. */
static int prefault_ring(struct ssl_bpf *skel)
{
	struct ring_buffer *rb =
		ring_buffer__new(bpf_map__fd(skel->maps.events), skip_record, NULL, NULL);
	int prog = bpf_program__fd(skel->progs.prefault_ring);
	unsigned spans = (unsigned)(args.ring_bytes / SSL_PREFAULT_SPAN);
	int err = 0;

	if (!rb)
		return -errno;
	for (unsigned i = 0; i < spans && !err; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts);

		err = bpf_prog_test_run_opts(prog, &opts);
		if (!err && opts.retval)
			err = -ENOSPC;
		/* The discarded record is skipped, which frees its room. */
		ring_buffer__consume(rb);
	}
	ring_buffer__free(rb);
	return err;
}

/* The ring buffer goes to the parent, which reads it in place: no copy, no encoding, no pipe. */
static int share_ring(struct output *o)
{
	yajl_gen g = loader_begin(&o->out);

	loader_gen_str(g, "type", "ready");
	loader_gen_str(g, "loader", "ssl");
	loader_gen_int(g, "ring_fd", bpf_map__fd(o->skel->maps.events));
	loader_gen_int(g, "max_payload", args.max_payload);
	loader_end(&o->out);
	loader_flush(&o->out);
	loader_wait(&o->out, 100, (void (*)(void *))report_lost, o);
	report_lost(o);
	loader_flush(&o->out);
	return 0;
}

int ssl_loader_main(const struct options *opts)
{
	static struct output o;
	static struct links links;
	struct ring_buffer *rb = NULL;
	struct loader_error lerr = { 0 };
	struct error bad = { 0 };
	int err;

	if (ssl_options_check(opts, &bad) < 0) {
		loader_verdict("%s", bad.msg);
		return 2;
	}
	args_from(opts);
	loader_setup(args.verbose);
	o.boot_to_wall = loader_boot_to_wall_ns();
	o.skel = ssl_bpf__open();
	if (!o.skel) {
		loader_explain_failure("open the ssl BPF object", errno);
		return 1;
	}
	if (configure(o.skel, &lerr) < 0) {
		loader_verdict("%s", lerr.msg);
		err = 1;
		goto out;
	}
	err = ssl_bpf__load(o.skel);
	if (err) {
		loader_explain_failure("load the ssl BPF programs", -err);
		err = 1;
		goto out;
	}
	err = prefault_ring(o.skel);
	if (err) {
		loader_explain_failure("write the ring buffer's pages", -err);
		err = 1;
		goto out;
	}
	if (attach_all(o.skel, &links, &lerr) < 0) {
		loader_verdict("%s", lerr.msg);
		err = 1;
		goto out;
	}
	if (args.share_ring) {
		err = loader_out_init(&o.out) < 0 ? 1 : share_ring(&o);
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(o.skel->maps.events), handle_record, &o, NULL);
	ssl_calls_init(&o.calls, args.max_payload, emit_call, &o);
	o.b64 = malloc(base64_encoded_len(args.max_payload));
	if (!rb || loader_out_init(&o.out) < 0 || !o.b64) {
		loader_explain_failure("set up the ring buffer", errno ? errno : ENOMEM);
		err = 1;
		goto out;
	}
	o.rb = rb;
	loader_ready(&o.out, "ssl");
	err = loader_poll(rb, &o.out, (void (*)(void *))after_poll, &o);
	/* What was waiting for a wake-up when the loader was told to stop. */
	ring_buffer__consume(rb);
	ssl_calls_flush(&o.calls);
	report_lost(&o);
	loader_flush(&o.out);
out:
	ring_buffer__free(rb);
	for (int i = 0; i < links.n; i++)
		bpf_link__destroy(links.l[i]);
	ssl_bpf__destroy(o.skel);
	loader_out_free(&o.out);
	ssl_calls_free(&o.calls);
	free(o.b64);
	return err;
}
