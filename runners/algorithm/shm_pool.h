/* A pool of image slots in one POSIX shared-memory object, leased per call. */
#ifndef COLLECTOR_SHM_POOL_H
#define COLLECTOR_SHM_POOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <collector/error.h>

/* Pool names are "/" SHM_POOL_PREFIX "<collector pid>.<n>.pool". */
#define SHM_POOL_PREFIX "collector."

/*
 * Children open the object by name (docs/protocol.md). A name under /dev/shm
 * cannot be sealed against resizing (seals exist only for memfds, which have
 * no such name), and a child running as the host's user can always truncate a
 * file it can name: then a touch of the host's mapping beyond the new end
 * raises SIGBUS. So every pool's mapping is guarded: the SIGBUS handler gives
 * the object its size back through the host's descriptor and counts the
 * damage, and the access is retried and succeeds; any other SIGBUS goes where
 * it went before. The loop also finds a resize the host did not touch
 * (shm_pool_check()), and the calls whose images were in the pool meanwhile
 * fail. This holds wherever the host touches the pool, including a caller
 * writing in place into algorithm_image_alloc() memory, which a guard around
 * the host's own copies (sigsetjmp) could not cover, and keeps that path
 * zero-copy, which writing with pwrite(2) instead of a mapping would not.
 */
struct shm_pool {
	char name[64];			   /* shm_open name */
	int fd;				   /* -1 when not created */
	uint8_t *base;			   /* the host's read-write mapping */
	size_t slot_size;		   /* bytes per slot */
	int slots;			   /* number of slots */
	int *free_list;			   /* stack of free slot indexes */
	int nfree;			   /* entries on the stack */
	uint64_t *leased_damage;	   /* per slot: @c damage when it was leased */
	_Atomic uint64_t damage;	   /* resizes repaired, by the guard or a check */
	const uint8_t *_Atomic last_fault; /* the last fault found with the size intact */
	int guard; /* index in the SIGBUS guard's table, -1 when not guarded */
};

/*
 * Create, map and guard the object. With @p reader_gid other than (gid_t)-1
 * it stays the host's with mode 0640 in that group: a child of another user
 * can read it but neither write nor resize it.
 */
int shm_pool_create(struct shm_pool *p, int slots, size_t slot_size, gid_t reader_gid,
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

/*
 * Give the object its size back if it lost it, counting the damage. On the
 * loop, before writing an image and before trusting a result.
 * @return 0 when it had its size, 1 repaired, -errno not repaired.
 */
int shm_pool_check(struct shm_pool *p);

/* Whether the pool was damaged since @p slot was leased: its image cannot be trusted. */
bool shm_pool_spoiled(const struct shm_pool *p, int slot);

/* Unguard, unmap, close and unlink; safe on a pool never created. */
void shm_pool_destroy(struct shm_pool *p);

#endif
