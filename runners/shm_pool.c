/* The shared-memory image pool: one object, fixed slots, a free stack; unlinked on destroy. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shm_pool.h"

static atomic_uint pool_counter;

int shm_pool_create(struct shm_pool *p, int slots, size_t slot_size, uid_t owner, struct error *err)
{
	size_t total = (size_t)slots * slot_size;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (slots < 1 || slot_size < 1)
		return error_set(err, EINVAL, "shared-memory pool: no slots");
	snprintf(p->name, sizeof(p->name), "/collector.%d.%u.pool", (int)getpid(),
		 atomic_fetch_add(&pool_counter, 1));
	p->free_list = malloc((size_t)slots * sizeof(int));
	if (!p->free_list)
		return error_set(err, ENOMEM, "out of memory");
	p->fd = shm_open(p->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (p->fd < 0) {
		int e = errno;

		shm_pool_destroy(p);
		return error_set(err, e, "shm_open %s: %s", p->name, strerror(e));
	}
	/* tmpfs pages are only allocated when an image is written into them. */
	if (ftruncate(p->fd, (off_t)total) < 0 ||
	    (owner != (uid_t)-1 && fchown(p->fd, owner, -1) < 0)) {
		int e = errno;

		shm_pool_destroy(p);
		return error_set(err, e, "shared-memory pool %s: %s", p->name, strerror(e));
	}
	p->base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
	if (p->base == MAP_FAILED) {
		int e = errno;

		p->base = NULL;
		shm_pool_destroy(p);
		return error_set(err, e, "mmap %s: %s", p->name, strerror(e));
	}
	p->slots = slots;
	p->slot_size = slot_size;
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

void shm_pool_destroy(struct shm_pool *p)
{
	if (p->base)
		munmap(p->base, (size_t)p->slots * p->slot_size);
	if (p->fd >= 0) {
		close(p->fd);
		shm_unlink(p->name);
	}
	free(p->free_list);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}
