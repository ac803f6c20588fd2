/* A pool of image slots in one POSIX shared-memory object, leased per call. */
#ifndef COLLECTOR_SHM_POOL_H
#define COLLECTOR_SHM_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <collector/error.h>

struct shm_pool {
	char name[64];	  /* shm_open name, "/collector.<pid>.<n>.pool" */
	int fd;		  /* -1 when not created */
	uint8_t *base;	  /* the host's read-write mapping */
	size_t slot_size; /* bytes per slot */
	int slots;	  /* number of slots */
	int *free_list;	  /* stack of free slot indexes */
	int nfree;	  /* entries on the stack */
};

/* Create and map the object; with @p owner >= 0 it is chowned so that user can open it. */
int shm_pool_create(struct shm_pool *p, int slots, size_t slot_size, uid_t owner,
		    struct error *err);

/* A free slot's index, or -1 when all are leased. */
int shm_pool_lease(struct shm_pool *p);

void shm_pool_release(struct shm_pool *p, int slot);

static inline uint64_t shm_pool_offset(const struct shm_pool *p, int slot)
{
	return (uint64_t)slot * p->slot_size;
}

static inline uint8_t *shm_pool_slot(struct shm_pool *p, int slot)
{
	return p->base + shm_pool_offset(p, slot);
}

/* Unmap, close and unlink; safe on a pool never created. */
void shm_pool_destroy(struct shm_pool *p);

#endif
