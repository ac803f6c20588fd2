/* The shared-memory image pool: one object, fixed slots, a free stack, a SIGBUS guard; unlinked on destroy. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm_pool.h"

/* Pools guarded at once in one process (one per algorithm host). */
#define GUARDED_MAX 64

static atomic_uint pool_counter;

/* Read by the handler on whichever thread faulted; written by the loop. */
static struct shm_pool *_Atomic guarded[GUARDED_MAX];
static struct sigaction previous_sigbus;

static size_t pool_bytes(const struct shm_pool *p)
{
	return (size_t)p->slots * p->slot_size;
}

/* ---- the SIGBUS guard ---- */

/*
 * fstat(2) and ftruncate(2) are async-signal-safe. The object back at its size,
 * the faulting access is retried and finds a (zero) page; a child truncating
 * again in between only costs another round. With the size intact (a child
 * grew it back meanwhile) the access is retried once; a second fault at the
 * same address with the size intact is no truncation (tmpfs out of pages, a
 * memory error): not repaired, rather than retried forever.
 */
static bool repair(struct shm_pool *p, const uint8_t *addr)
{
	struct stat st;

	if (fstat(p->fd, &st) < 0)
		return false;
	if ((size_t)st.st_size >= pool_bytes(p) ? atomic_exchange(&p->last_fault, addr) == addr :
						  ftruncate(p->fd, (off_t)pool_bytes(p)) < 0)
		return false;
	atomic_fetch_add(&p->damage, 1);
	return true;
}

/* Not a pool's fault, or beyond repair: what would have happened without the guard. */
static void chain(int sig, siginfo_t *si, void *uc)
{
	if ((previous_sigbus.sa_flags & SA_SIGINFO) && previous_sigbus.sa_sigaction) {
		previous_sigbus.sa_sigaction(sig, si, uc);
		return;
	}
	if (previous_sigbus.sa_handler != SIG_DFL && previous_sigbus.sa_handler != SIG_IGN) {
		previous_sigbus.sa_handler(sig);
		return;
	}
	signal(SIGBUS, SIG_DFL);
	/* A fault happens again on return; a signal sent by a process must be raised again. */
	if (si->si_code <= 0)
		raise(SIGBUS);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	const uint8_t *addr = si->si_addr;
	int saved = errno;

	for (int i = 0; si->si_code > 0 && i < GUARDED_MAX; i++) {
		struct shm_pool *p = atomic_load(&guarded[i]);

		if (p && addr >= p->base && addr < p->base + pool_bytes(p) && repair(p, addr)) {
			errno = saved;
			return;
		}
	}
	chain(sig, si, uc);
	errno = saved;
}

/*
 * Installed again if someone replaced it since (a test framework does), and
 * then left for the life of the process: other pools may come, and it chains.
 */
static int guard(struct shm_pool *p, struct error *err)
{
	struct sigaction cur, sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, NULL, &cur) < 0 ||
	    (!((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigbus) &&
	     sigaction(SIGBUS, &sa, &previous_sigbus) < 0))
		return error_set(err, errno, "sigaction SIGBUS: %s", strerror(errno));
	for (int i = 0; i < GUARDED_MAX; i++) {
		struct shm_pool *none = NULL;

		if (atomic_compare_exchange_strong(&guarded[i], &none, p)) {
			p->guard = i;
			return 0;
		}
	}
	return error_set(err, EMFILE, "more than %d shared-memory pools in one process",
			 GUARDED_MAX);
}

/* ---- the pool ---- */

static int fail(struct shm_pool *p, const char *what, struct error *err)
{
	int e = errno;

	error_set(err, e, "shared-memory pool %s: %s: %s", p->name, what, strerror(e));
	shm_pool_destroy(p);
	return -e;
}

int shm_pool_create(struct shm_pool *p, int slots, size_t slot_size, gid_t reader_gid,
		    struct error *err)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->guard = -1;
	if (slots < 1 || slot_size < 1)
		return error_set(err, EINVAL, "shared-memory pool: no slots");
	snprintf(p->name, sizeof(p->name), "/" SHM_POOL_PREFIX "%d.%u.pool", (int)getpid(),
		 atomic_fetch_add(&pool_counter, 1));
	p->free_list = malloc((size_t)slots * sizeof(int));
	p->leased_damage = calloc((size_t)slots, sizeof(uint64_t));
	if (!p->free_list || !p->leased_damage) {
		shm_pool_destroy(p);
		return error_set(err, ENOMEM, "out of memory");
	}
	p->fd = shm_open(p->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (p->fd < 0)
		return fail(p, "shm_open", err);
	p->slots = slots;
	p->slot_size = slot_size;
	/* tmpfs pages are only allocated when an image is written into them. */
	if (ftruncate(p->fd, (off_t)pool_bytes(p)) < 0)
		return fail(p, "ftruncate", err);
	/* Readable in the child's group, writable (and resizable) by the owner only: the host. */
	if (reader_gid != (gid_t)-1 &&
	    (fchown(p->fd, (uid_t)-1, reader_gid) < 0 || fchmod(p->fd, 0640) < 0))
		return fail(p, "chown", err);
	p->base = mmap(NULL, pool_bytes(p), PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
	if (p->base == MAP_FAILED) {
		p->base = NULL;
		return fail(p, "mmap", err);
	}
	if ((rc = guard(p, err)) < 0) {
		shm_pool_destroy(p);
		return rc;
	}
	for (int i = slots - 1; i >= 0; i--)
		p->free_list[p->nfree++] = i;
	return 0;
}

int shm_pool_lease(struct shm_pool *p)
{
	int slot;

	if (p->nfree == 0)
		return -1;
	slot = p->free_list[--p->nfree];
	p->leased_damage[slot] = atomic_load(&p->damage);
	return slot;
}

void shm_pool_release(struct shm_pool *p, int slot)
{
	if (slot >= 0 && slot < p->slots && p->nfree < p->slots)
		p->free_list[p->nfree++] = slot;
}

int shm_pool_check(struct shm_pool *p)
{
	struct stat st;

	if (p->fd < 0 || fstat(p->fd, &st) < 0 || (size_t)st.st_size == pool_bytes(p))
		return 0;
	atomic_fetch_add(&p->damage, 1);
	/* Through the host's descriptor: restored whatever the mode was changed to. */
	return ftruncate(p->fd, (off_t)pool_bytes(p)) < 0 ? -errno : 1;
}

bool shm_pool_spoiled(const struct shm_pool *p, int slot)
{
	return slot >= 0 && slot < p->slots && p->leased_damage[slot] != atomic_load(&p->damage);
}

void shm_pool_destroy(struct shm_pool *p)
{
	struct shm_pool *self = p;

	if (p->guard >= 0 && p->guard < GUARDED_MAX)
		atomic_compare_exchange_strong(&guarded[p->guard], &self, NULL);
	if (p->base)
		munmap(p->base, pool_bytes(p));
	if (p->fd >= 0) {
		close(p->fd);
		shm_unlink(p->name);
	}
	free(p->free_list);
	free(p->leased_damage);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->guard = -1;
}
