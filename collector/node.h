/* Node registration and heartbeats: collector.node and collector.heartbeat events of the core. */
#ifndef COLLECTOR_NODE_H
#define COLLECTOR_NODE_H

#include <stdint.h>

#include <collector/error.h>

struct collector;
struct node;

/* What the node says about itself; node_id NULL: /etc/machine-id, else the host name. */
struct node_config {
	const char *node_id;
	int64_t heartbeat_ns; /* > 0 */
};

/* The collector's node, on its loop. NULL with @p err filled (ENOMEM). */
struct node *node_new(struct collector *c, const struct node_config *cfg, struct error *err);

/* Emit collector.node (state "running") and start the heartbeat timer. */
void node_start(struct node *n);

/* A graceful stop began: the last heartbeat timer goes, collector.node with state "stopping" once. */
void node_stopping(struct node *n);

/* The node's id, owned by @p n. */
const char *node_id(const struct node *n);

/* Free; NULL is ignored. */
void node_free(struct node *n);

#endif
