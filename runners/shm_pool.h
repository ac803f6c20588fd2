/* A pool of image slots in one POSIX shared-memory object, leased per call. */
#ifndef COLLECTOR_SHM_POOL_H
#define COLLECTOR_SHM_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <collector/error.h>

/* Pool names are "/" SHM_POOL_PREFIX "<collector pid>.<n>.pool". */
#define SHM_POOL_PREFIX "collector."

/*
 * Children open the object by name (docs/protocol.md) and map it. A name under
 * /dev/shm cannot be sealed against resizing (seals exist only for memfds,
 * which have no such name), and a child running as the host's user can always
 * truncate a file it can name: a mapping of the object in the host could take
 * SIGBUS on the child's doing. So the host never maps it. Images are staged in
 * the host's own anonymous memory (what algorithm_image_alloc() lends) and
 * copied in with pwrite(2), which cannot fault on a shrunk file; a resize is
 * found by fstat(2), undone, and counted in @c resizes so that the calls it
 * spoiled fail.
 */
struct shm_pool {
	char name[64];	  /* shm_open name, "/collector.<pid>.<n>.pool" */
	int fd;		  /* -1 when not created */
	uint8_t *base;	  /* the host's staging memory, private and anonymous */
	size_t slot_size; /* bytes per slot */
	int slots;	  /* number of slots */
	int *free_list;	  /* stack of free slot indexes */
	int nfree;	  /* entries on the stack */
	uint64_t resizes; /* times the object was found resized (and restored) */
};

/*
 * Create the object and the staging memory. With @p reader_gid other than
 * (gid_t)-1 the object is the host's, mode 0640 in that group: a child of
 * another user can read it but not write or resize it.
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

/* The slot's staging memory (not what the children see until shm_pool_put()). */
static inline uint8_t *shm_pool_slot(struct shm_pool *p, int slot)
{
	return p->base + shm_pool_offset(p, slot);
}

/*
 * Give @p size bytes at @p data to the children as slot @p slot's image.
 * @return 0, or a negative errno with @p err filled (/dev/shm full, ...).
 */
int shm_pool_put(struct shm_pool *p, int slot, const void *data, size_t size, struct error *err);

/*
 * Whether the object lost its size since the last check: then it is counted in
 * @c resizes and restored. @return 0 unchanged, 1 restored, -errno not restored.
 */
int shm_pool_check(struct shm_pool *p);

/* Unmap, close and unlink; safe on a pool never created. */
void shm_pool_destroy(struct shm_pool *p);

#endif
