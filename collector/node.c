/* The collector as a runtime node: collector.node at start and stop, collector.heartbeat on a timer. */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <collector/clock.h>
#include <collector/event_builder.h>
#include <collector/event_encoder.h>

#include "node.h"
#include "pipeline_state.h"

#define DOCKER_SOCKET "/var/run/docker.sock"

struct node {
	struct collector *c;
	struct event_builder *eb;
	ev_timer heartbeat;
	char id[256];
	char hostname[256];
	int64_t heartbeat_ns;
	uint64_t beats;
	bool stopping;
};

/* The machine id (systemd's /etc/machine-id), else the host name: stable across restarts. */
static void default_id(struct node *n)
{
	FILE *f = fopen("/etc/machine-id", "re");
	size_t len;

	n->id[0] = '\0';
	if (f) {
		if (!fgets(n->id, sizeof(n->id), f))
			n->id[0] = '\0';
		fclose(f);
	}
	len = strcspn(n->id, "\r\n");
	n->id[len] = '\0';
	if (!n->id[0])
		snprintf(n->id, sizeof(n->id), "%s", n->hostname);
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *w, int revents);

struct node *node_new(struct collector *c, const struct node_config *cfg, struct error *err)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n || !(n->eb = event_builder_new())) {
		free(n);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	n->c = c;
	n->heartbeat_ns = cfg->heartbeat_ns;
	if (gethostname(n->hostname, sizeof(n->hostname) - 1) < 0)
		snprintf(n->hostname, sizeof(n->hostname), "localhost");
	if (cfg->node_id)
		snprintf(n->id, sizeof(n->id), "%s", cfg->node_id);
	else
		default_id(n);
	ev_timer_init(&n->heartbeat, on_heartbeat, (double)n->heartbeat_ns / 1e9,
		      (double)n->heartbeat_ns / 1e9);
	n->heartbeat.data = n;
	return n;
}

/* Every address of an interface that is up, loopback last (a control plane wants a reachable one). */
static void addresses(struct event_builder *b)
{
	struct ifaddrs *ifs, *i;
	char text[INET6_ADDRSTRLEN];

	event_builder_open_array(b, "addresses");
	if (getifaddrs(&ifs) == 0) {
		for (int loopback = 0; loopback < 2; loopback++)
			for (i = ifs; i; i = i->ifa_next) {
				int fam = i->ifa_addr ? i->ifa_addr->sa_family : 0;
				const void *a;

				if ((fam != AF_INET && fam != AF_INET6) ||
				    !(i->ifa_flags & IFF_UP) ||
				    !!(i->ifa_flags & IFF_LOOPBACK) != loopback)
					continue;
				a = fam == AF_INET ?
					    (const void *)&((struct sockaddr_in *)i->ifa_addr)
						    ->sin_addr :
					    (const void *)&((struct sockaddr_in6 *)i->ifa_addr)
						    ->sin6_addr;
				if (inet_ntop(fam, a, text, sizeof(text)))
					event_builder_str(b, NULL, text);
			}
		freeifaddrs(ifs);
	}
	event_builder_close_array(b);
}

/* The runner types with their instances: [{"type": "exec", "instances": 1, "names": [...]}]. */
static void runners(struct event_builder *b, struct collector *c)
{
	event_builder_open_array(b, "runners");
	for (int i = 0; i < c->nrunners; i++) {
		const char *type = c->runners[i]->ops->name;
		int count = 0;
		bool seen = false;

		for (int j = 0; j < i; j++)
			seen |= strcmp(c->runners[j]->ops->name, type) == 0;
		if (seen)
			continue;
		event_builder_open_object(b, NULL);
		event_builder_str(b, "type", type);
		event_builder_open_array(b, "names");
		for (int j = i; j < c->nrunners; j++)
			if (strcmp(c->runners[j]->ops->name, type) == 0) {
				event_builder_str(b, NULL, c->runners[j]->name);
				count++;
			}
		event_builder_close_array(b);
		event_builder_int(b, "instances", count);
		event_builder_close_object(b);
	}
	event_builder_close_array(b);
}

static void common(struct node *n, struct event_builder *b)
{
	char ts[32];

	format_rfc3339_ns(clock_wall_ns(), ts);
	event_builder_str(b, "node_id", n->id);
	event_builder_str(b, "hostname", n->hostname);
	event_builder_str(b, "timestamp", ts);
}

static void emit_node(struct node *n, const char *state)
{
	struct event_builder *b = n->eb;
	bool docker = access(DOCKER_SOCKET, F_OK) == 0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	long long mem = (long long)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);

	event_builder_begin(b);
	common(n, b);
	event_builder_str(b, "state", state);
	/* seed 003's runtime_nodes columns, by their names */
	event_builder_str(b, "runtime_type", docker ? "docker" : "process");
	if (docker)
		event_builder_str(b, "api_endpoint", "unix://" DOCKER_SOCKET);
	addresses(b);
	event_builder_int(b, "total_cpu_cores", cores > 0 ? cores : 1);
	event_builder_int(b, "total_memory_mb", mem > 0 ? mem >> 20 : 0);
	event_builder_str(b, "version", COLLECTOR_VERSION);
	event_builder_int(b, "pid", getpid());
	event_builder_uint(b, "heartbeat_ms", (unsigned long long)(n->heartbeat_ns / 1000000));
	runners(b, n->c);
	event_builder_emit(b, &n->c->self_ctx, "collector.node", 0);
}

static void emit_heartbeat(struct node *n)
{
	struct collector *c = n->c;
	struct event_builder *b = n->eb;
	uint64_t dropped = 0, failed = 0;
	int running = 0;

	event_builder_begin(b);
	common(n, b);
	event_builder_uint(b, "seq", n->beats++);
	event_builder_uint(b, "uptime_ms",
			   (unsigned long long)((clock_mono_ns() - c->start_mono_ns) / 1000000));
	event_builder_open_array(b, "queues");
	for (int i = 0; i < c->nsinks; i++) {
		struct sink_ctx *s = c->sinks[i];
		uint64_t drops = s->queue.stats.dropped_newest + s->queue.stats.dropped_oldest;

		event_builder_open_object(b, NULL);
		event_builder_str(b, "sink", s->name);
		event_builder_uint(b, "depth", event_queue_len(&s->queue));
		event_builder_uint(b, "in_flight", s->in_flight);
		event_builder_uint(b, "delivered", s->delivered);
		event_builder_uint(b, "failed", s->failed);
		event_builder_uint(b, "dropped", drops);
		event_builder_close_object(b);
		dropped += drops;
		failed += s->failed;
	}
	event_builder_close_array(b);
	event_builder_open_object(b, "losses");
	event_builder_uint(b, "dropped", dropped);
	event_builder_uint(b, "failed", failed);
	event_builder_uint(b, "lost", c->stats.lost);
	event_builder_close_object(b);
	event_builder_open_array(b, "runners");
	for (int i = 0; i < c->nrunners; i++) {
		struct runner_ctx *r = c->runners[i];

		running += r->started && !r->finished;
		event_builder_open_object(b, NULL);
		event_builder_str(b, "name", r->name);
		event_builder_str(b, "type", r->ops->name);
		event_builder_str(b, "state", runner_status_name(r->status));
		event_builder_str(b, "health", runner_health_name(r->health));
		event_builder_close_object(b);
	}
	event_builder_close_array(b);
	event_builder_int(b, "running_containers", running);
	event_builder_emit(b, &c->self_ctx, "collector.heartbeat", 0);
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	emit_heartbeat(w->data);
}

void node_start(struct node *n)
{
	emit_node(n, "running");
	ev_timer_start(n->c->loop, &n->heartbeat);
}

void node_stopping(struct node *n)
{
	if (n->stopping)
		return;
	n->stopping = true;
	ev_timer_stop(n->c->loop, &n->heartbeat);
	emit_node(n, "stopping");
}

const char *node_id(const struct node *n)
{
	return n->id;
}

void node_free(struct node *n)
{
	if (!n)
		return;
	ev_timer_stop(n->c->loop, &n->heartbeat);
	event_builder_free(n->eb);
	free(n);
}

int collector_set_node(struct collector *c, const char *node_id, int64_t heartbeat_ns,
		       struct error *err)
{
	struct node_config cfg = { .node_id = node_id, .heartbeat_ns = heartbeat_ns };
	struct node *n = node_new(c, &cfg, err);

	if (!n)
		return -ENOMEM;
	node_free(c->node);
	c->node = n;
	return 0;
}
