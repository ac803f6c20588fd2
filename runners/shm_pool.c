/* The shared-memory image pool: one object children read, host staging memory, a free stack. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm_pool.h"

static atomic_uint pool_counter;

static size_t pool_bytes(const struct shm_pool *p)
{
	return (size_t)p->slots * p->slot_size;
}

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
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (slots < 1 || slot_size < 1)
		return error_set(err, EINVAL, "shared-memory pool: no slots");
	snprintf(p->name, sizeof(p->name), "/" SHM_POOL_PREFIX "%d.%u.pool", (int)getpid(),
		 atomic_fetch_add(&pool_counter, 1));
	p->free_list = malloc((size_t)slots * sizeof(int));
	if (!p->free_list)
		return error_set(err, ENOMEM, "out of memory");
	p->fd = shm_open(p->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (p->fd < 0)
		return fail(p, "shm_open", err);
	p->slots = slots;
	p->slot_size = slot_size;
	/* tmpfs pages are only allocated when an image is written into them. */
	if (ftruncate(p->fd, (off_t)pool_bytes(p)) < 0)
		return fail(p, "ftruncate", err);
	/* Readable by the child's group, writable by nobody but the host (the owner). */
	if (reader_gid != (gid_t)-1 &&
	    (fchown(p->fd, (uid_t)-1, reader_gid) < 0 || fchmod(p->fd, 0640) < 0))
		return fail(p, "chown", err);
	/* Anonymous memory: nothing another process does can take it away from under the host. */
	p->base = mmap(NULL, pool_bytes(p), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	if (p->base == MAP_FAILED) {
		p->base = NULL;
		return fail(p, "mmap", err);
	}
	for (int i = slots - 1; i >= 0; i--)
		p->free_list[p->nfree++] = i;
	return 0;
}

int shm_pool_lease(struct shm_pool *p)
{
	return p->nfree > 0 ? p->free_list[--p->nfree] : -1;
}

void shm_pool_release(struct shm_pool *p, int slot)
{
	if (slot >= 0 && slot < p->slots && p->nfree < p->slots)
		p->free_list[p->nfree++] = slot;
}

int shm_pool_put(struct shm_pool *p, int slot, const void *data, size_t size, struct error *err)
{
	const uint8_t *src = data;
	off_t off = (off_t)shm_pool_offset(p, slot);

	while (size > 0) {
		ssize_t n = pwrite(p->fd, src, size, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return error_set(err, n < 0 ? errno : ENOSPC,
					 "cannot write the image into the shared-memory pool: %s",
					 strerror(n < 0 ? errno : ENOSPC));
		src += n;
		off += n;
		size -= (size_t)n;
	}
	return 0;
}

int shm_pool_check(struct shm_pool *p)
{
	struct stat st;

	if (p->fd < 0 || fstat(p->fd, &st) < 0 || (size_t)st.st_size == pool_bytes(p))
		return 0;
	p->resizes++;
	/* Through the host's own descriptor: restored whatever the mode was changed to. */
	return ftruncate(p->fd, (off_t)pool_bytes(p)) < 0 ? -errno : 1;
}

void shm_pool_destroy(struct shm_pool *p)
{
	if (p->base)
		munmap(p->base, pool_bytes(p));
	if (p->fd >= 0) {
		close(p->fd);
		shm_unlink(p->name);
	}
	free(p->free_list);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}
