// SPDX-License-Identifier: GPL-2.0
/* TLS plaintext from uprobes on OpenSSL's, GnuTLS's and Go's read/write calls, with in-kernel filters. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ssl.h"

char LICENSE[] SEC("license") = "GPL";

/* Filters, fixed before load; 0 / empty means "no filter". */
const volatile pid_t targ_pid = 0;
const volatile uid_t targ_uid = (uid_t)-1;
const volatile char targ_comm[SSL_COMM_LEN] = {};
/* --cgroup / --container: the cgroup v2 id of the processes traced. */
const volatile __u64 targ_cgroup = 0;
const volatile __u32 targ_max_payload = SSL_CHUNK;
/* Wake the loader only once this much is waiting (it also polls every 100 ms): a wake-up per record costs more than the record. */
const volatile __u64 targ_wakeup_bytes = 0;

/* Records the ring buffer had no room for: the loader reports their growth. */
__u64 lost = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

/* The thread's call in flight, from its entry to its return; func 0: none. */
struct call {
	__u64 ts_ns;
	__u64 conn;
	__u64 buf;
	__u64 size_out; /* the _ex functions' size_t *, else 0 */
	__u32 func;
};

/* Task storage, not a hash keyed by thread: no hashing, no bucket lock, freed with the thread. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call);
} calls SEC(".maps");

static __always_inline __u64 wakeup_flag(void)
{
	if (!targ_wakeup_bytes)
		return 0;
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= targ_wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP :
		       BPF_RB_NO_WAKEUP;
}

static __always_inline bool admit(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (targ_pid && (pid_t)(id >> 32) != targ_pid)
		return false;
	if (targ_uid != (uid_t)-1 && (uid_t)bpf_get_current_uid_gid() != targ_uid)
		return false;
	if (targ_cgroup && bpf_get_current_cgroup_id() != targ_cgroup)
		return false;
	if (targ_comm[0]) {
		char comm[SSL_COMM_LEN];

		bpf_get_current_comm(comm, sizeof(comm));
		for (int i = 0; i < SSL_COMM_LEN; i++) {
			if (comm[i] != targ_comm[i])
				return false;
			if (!comm[i])
				break;
		}
	}
	return true;
}

static __always_inline int enter(__u32 func, void *conn, const void *buf, void *size_out)
{
	struct call *c;

	if (!admit())
		return 0;
	c = bpf_task_storage_get(&calls, bpf_get_current_task_btf(), NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c)
		return 0;
	c->conn = (__u64)conn;
	c->buf = (__u64)buf;
	c->size_out = (__u64)size_out;
	c->func = func;
	c->ts_ns = bpf_ktime_get_boot_ns();
	return 0;
}

/* The header of a record, written straight into its ring-buffer slot. */
static __always_inline void fill_header(struct ssl_record *r, __u32 kind, const struct call *c,
					long ret, __u64 now)
{
	__u64 id = bpf_get_current_pid_tgid();

	r->kind = kind;
	r->func = c->func;
	r->pid = id >> 32;
	r->tid = (__u32)id;
	r->uid = (__u32)bpf_get_current_uid_gid();
	r->ret = (int)ret;
	r->ts_ns = c->ts_ns;
	r->latency_ns = now - c->ts_ns;
	r->conn = c->conn;
	r->cgroup_id = bpf_get_current_cgroup_id();
	r->len = 0;
	r->captured = 0;
	r->offset = 0;
	r->chunk_len = 0;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
}

/* A record without payload (handshake, close). */
static __always_inline void send_header(__u32 kind, const struct call *c, long ret)
{
	__u64 now = bpf_ktime_get_boot_ns();
	__u64 flags = wakeup_flag();
	struct ssl_record *r = bpf_ringbuf_reserve(&events, offsetof(struct ssl_record, data), 0);

	if (!r) {
		__sync_fetch_and_add(&lost, 1);
		return;
	}
	fill_header(r, kind, c, ret, now);
	bpf_ringbuf_submit(r, flags);
}

/*
 * One chunk of a call, copied from the caller's buffer straight into a ring slot of
 * @p room payload bytes (a constant: a slot's size must be known to the verifier).
 * @return false when the ring buffer is full.
 */
static __always_inline bool send_chunk(const struct call *c, long ret, __u64 now, __u32 len,
				       __u32 captured, __u32 off, __u64 n, const __u32 room)
{
	__u64 flags = wakeup_flag();
	struct ssl_record *r =
		bpf_ringbuf_reserve(&events, offsetof(struct ssl_record, data) + room, 0);

	if (!r) {
		__sync_fetch_and_add(&lost, 1);
		return false;
	}
	fill_header(r, SSL_RECORD_DATA, c, ret, now);
	r->len = len;
	r->captured = captured;
	r->offset = off;
	/* Keep clang from reusing the unclamped register: the verifier needs the bound. */
	barrier_var(n);
	if (n > room)
		n = room;
	r->chunk_len = n;
	if (bpf_probe_read_user(r->data, n, (const void *)(c->buf + off)) != 0)
		r->chunk_len = 0;
	bpf_ringbuf_submit(r, flags);
	return true;
}

/* Send the call's bytes as consecutive records of at most SSL_CHUNK bytes each. */
static __always_inline void send_data(const struct call *c, long ret, __u32 len)
{
	__u32 captured = len < targ_max_payload ? len : targ_max_payload;
	__u64 now = bpf_ktime_get_boot_ns();

	for (int i = 0; i < SSL_MAX_CHUNKS; i++) {
		__u32 off = i * SSL_CHUNK;
		__u64 n; /* 64 bits: the bound checked is the register passed */
		bool sent;

		if (off >= captured)
			break;
		n = captured - off;
		if (n > SSL_CHUNK)
			n = SSL_CHUNK;
		/* Small calls take small slots: the ring holds more of them. */
		if (n <= SSL_SMALL_CHUNK)
			sent = send_chunk(c, ret, now, len, captured, off, n, SSL_SMALL_CHUNK);
		else
			sent = send_chunk(c, ret, now, len, captured, off, n, SSL_CHUNK);
		if (!sent)
			break;
	}
}

static __always_inline int leave(long ret)
{
	struct call *c = bpf_task_storage_get(&calls, bpf_get_current_task_btf(), NULL, 0);
	__u64 len = 0;

	if (!c || !c->func)
		return 0;
	/* OpenSSL returns int: the upper half of the register is not part of it. */
	if (c->func != SSL_FUNC_GNUTLS_SEND && c->func != SSL_FUNC_GNUTLS_RECV)
		ret = (int)ret;
	if (c->func == SSL_FUNC_SSL_DO_HANDSHAKE) {
		send_header(SSL_RECORD_HANDSHAKE, c, ret);
		goto out;
	}
	if (c->size_out) {
		if (ret == 1)
			bpf_probe_read_user(&len, sizeof(len), (const void *)c->size_out);
	} else if (ret > 0) {
		len = ret;
	}
	if (len == 0 || len > 0x7fffffff)
		goto out;
	send_data(c, ret, (__u32)len);
out:
	c->func = 0;
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_enter, void *ssl, const void *buf, int num)
{
	return enter(SSL_FUNC_SSL_WRITE, ssl, buf, NULL);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_enter, void *ssl, void *buf, int num)
{
	return enter(SSL_FUNC_SSL_READ, ssl, buf, NULL);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_enter, void *ssl, const void *buf, size_t num, size_t *written)
{
	return enter(SSL_FUNC_SSL_WRITE_EX, ssl, buf, written);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_enter, void *ssl, void *buf, size_t num, size_t *readbytes)
{
	return enter(SSL_FUNC_SSL_READ_EX, ssl, buf, readbytes);
}

/* OpenSSL's internal functions have the _ex functions' arguments. */
SEC("uprobe")
int BPF_KPROBE(ssl_read_internal_enter, void *ssl, void *buf, size_t num, size_t *readbytes)
{
	return enter(SSL_FUNC_SSL_READ_INTERNAL, ssl, buf, readbytes);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_internal_enter, void *ssl, const void *buf, size_t num, size_t *written)
{
	return enter(SSL_FUNC_SSL_WRITE_INTERNAL, ssl, buf, written);
}

SEC("uprobe")
int BPF_KPROBE(ssl_handshake_enter, void *ssl)
{
	return enter(SSL_FUNC_SSL_DO_HANDSHAKE, ssl, NULL, NULL);
}

SEC("uprobe")
int BPF_KPROBE(gnutls_send_enter, void *session, const void *data, size_t size)
{
	return enter(SSL_FUNC_GNUTLS_SEND, session, data, NULL);
}

SEC("uprobe")
int BPF_KPROBE(gnutls_recv_enter, void *session, void *data, size_t size)
{
	return enter(SSL_FUNC_GNUTLS_RECV, session, data, NULL);
}

/* The end of a connection: the runner finishes what its peer ended by closing. */
static __always_inline int closed(__u32 func, void *conn)
{
	struct call c = { .ts_ns = bpf_ktime_get_boot_ns(), .conn = (__u64)conn, .func = func };

	if (!admit())
		return 0;
	send_header(SSL_RECORD_CLOSE, &c, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_free_enter, void *ssl)
{
	return closed(SSL_FUNC_SSL_FREE, ssl);
}

SEC("uprobe")
int BPF_KPROBE(gnutls_deinit_enter, void *session)
{
	return closed(SSL_FUNC_GNUTLS_DEINIT, session);
}

/*
 * Go's crypto/tls, register ABI (Go 1.17+ on amd64): the receiver and arguments in RAX, RBX,
 * RCX, ...; results in RAX, RBX, ...; R14 holds the running goroutine. A goroutine may move to
 * another thread while it waits in Read, so Read's call in flight is keyed by goroutine, not
 * by thread; it returns through each RET instruction (probed one by one: a uretprobe would
 * rewrite a return address on a stack that Go may move).
 */
struct go_key {
	__u64 goroutine;
	__u32 pid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct go_key);
	__type(value, struct call);
} go_calls SEC(".maps");

/* Write's bytes are whole at its entry: (c *Conn, b []byte) is RAX, RBX (pointer), RCX (length). */
SEC("uprobe")
int go_write_enter(struct pt_regs *ctx)
{
	struct call c = { .ts_ns = bpf_ktime_get_boot_ns(),
			  .conn = ctx->ax,
			  .buf = ctx->bx,
			  .func = SSL_FUNC_GO_WRITE };
	__u64 len = ctx->cx;

	if (!admit() || len == 0 || len > 0x7fffffff)
		return 0;
	send_data(&c, (long)len, (__u32)len);
	return 0;
}

SEC("uprobe")
int go_read_enter(struct pt_regs *ctx)
{
	struct go_key k = { .goroutine = ctx->r14, .pid = bpf_get_current_pid_tgid() >> 32 };
	struct call c = { .ts_ns = bpf_ktime_get_boot_ns(),
			  .conn = ctx->ax,
			  .buf = ctx->bx,
			  .func = SSL_FUNC_GO_READ };

	if (!admit())
		return 0;
	bpf_map_update_elem(&go_calls, &k, &c, BPF_ANY);
	return 0;
}

/* At a RET of Read: (n int, err error) is RAX, then RBX:RCX. */
SEC("uprobe")
int go_read_ret(struct pt_regs *ctx)
{
	struct go_key k = { .goroutine = ctx->r14, .pid = bpf_get_current_pid_tgid() >> 32 };
	struct call *c = bpf_map_lookup_elem(&go_calls, &k);
	long n = (long)ctx->ax;

	if (!c)
		return 0;
	if (n > 0 && n <= 0x7fffffff)
		send_data(c, n, (__u32)n);
	bpf_map_delete_elem(&go_calls, &k);
	return 0;
}

SEC("uprobe")
int go_close_enter(struct pt_regs *ctx)
{
	return closed(SSL_FUNC_GO_CLOSE, (void *)ctx->ax);
}

/*
 * Writes one byte in each page of one SSL_PREFAULT_SPAN of the ring buffer, then discards it;
 * the loader runs it (BPF_PROG_TEST_RUN) until every page has been written once. The first
 * write to a page of fresh memory can cost far more than later ones (~8 µs on a VM whose host
 * backs guest memory lazily): this pays it before the probes attach, not in the traced process.
 * @return 0, or 1 when the ring buffer had no room.
 */
SEC("syscall")
int prefault_ring(void *ctx)
{
	char *r = bpf_ringbuf_reserve(&events, SSL_PREFAULT_RECORD, 0);

	if (!r)
		return 1;
	for (__u32 off = 0; off < SSL_PREFAULT_RECORD; off += 4096)
		r[off] = 0;
	bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
	return 0;
}

/* One return probe serves every function: the call map says which one it was. */
SEC("uretprobe")
int BPF_KRETPROBE(tls_leave, long ret)
{
	return leave(ret);
}
