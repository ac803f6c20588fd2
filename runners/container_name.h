/* A container's name and main pid from the Docker API (GET /containers/REF/json), with a cache of names. */
#ifndef COLLECTOR_RUNNERS_CONTAINER_NAME_H
#define COLLECTOR_RUNNERS_CONTAINER_NAME_H

#include <collector/error.h>

#include "container_id.h"

#define DOCKER_SOCKET "/var/run/docker.sock"

struct docker_container {
	char id[CONTAINER_ID_LEN + 1];
	char name[128]; /* without Docker's leading '/' */
	int pid;	/* its init's, 0 when it is not running */
};

/*
 * Inspect container @p ref (an id, a unique id prefix or a name) over @p socket.
 * @return 0, -ENOENT when the daemon knows none, or -EIO when it does not answer.
 */
int docker_inspect(const char *socket, const char *ref, struct docker_container *out,
		   struct error *err);

/*
 * The name of docker container @p id, asked once per id (a miss, too, is
 * remembered): NULL when the daemon does not answer or knows none.
 */
const char *docker_name_cached(const char *socket, const char *id);

/* The name of container @p c when it is Docker's and the daemon on DOCKER_SOCKET names it, else NULL. */
const char *container_name(const struct container_ref *c);

#endif
