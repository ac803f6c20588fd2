/* Slot leases of the algorithm service: pool slots a client on the host writes images into. */
#include <stdlib.h>
#include <sys/random.h>

#include <ev.h>

#include "service.h"

#define DEFAULT_TTL_MS 10000
#define SWEEP_SECONDS 0.25

struct lease {
	uint64_t token; /* 0: the slot is not leased by a client */
	int64_t expires_ns;
};

struct svc_leases {
	struct service *svc;
	struct lease *slots; /* one per pool slot */
	int nslots;
	uint32_t held;
	ev_timer sweep_w;
};

/* Unused leases past their time go back to the pool: a client that died cannot keep slots. */
static void on_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct svc_leases *l = w->data;
	struct algorithm *a = svc_algo(l->svc);
	int64_t now = clock_mono_ns();

	(void)loop;
	(void)revents;
	for (int i = 0; i < l->nslots; i++) {
		if (!l->slots[i].token || l->slots[i].expires_ns > now)
			continue;
		l->slots[i].token = 0;
		l->held--;
		shm_pool_release(&a->pool, i);
	}
	if (l->held == 0)
		ev_timer_stop(loop, w);
}

int svc_leases_new(struct service *s, struct svc_leases **out)
{
	struct svc_leases *l = calloc(1, sizeof(*l));
	struct algorithm *a = svc_algo(s);

	*out = l;
	if (!l)
		return -ENOMEM;
	l->svc = s;
	l->nslots = a->pool.slots;
	l->slots = calloc((size_t)l->nslots, sizeof(*l->slots));
	if (!l->slots)
		return -ENOMEM;
	ev_timer_init(&l->sweep_w, on_sweep, SWEEP_SECONDS, SWEEP_SECONDS);
	l->sweep_w.data = l;
	return 0;
}

void svc_leases_free(struct svc_leases *l)
{
	if (!l)
		return;
	for (int i = 0; l->slots && i < l->nslots; i++)
		if (l->slots[i].token)
			shm_pool_release(&svc_algo(l->svc)->pool, i);
	ev_timer_stop(svc_algo(l->svc)->loop, &l->sweep_w);
	free(l->slots);
	free(l);
}

int svc_lease(struct svc_leases *l, uint32_t ttl_ms, uint64_t *token)
{
	struct algorithm *a = svc_algo(l->svc);
	int slot;

	shm_pool_check(&a->pool);
	slot = shm_pool_lease(&a->pool);
	if (slot < 0 || slot >= l->nslots) {
		if (slot >= 0)
			shm_pool_release(&a->pool, slot);
		return -1;
	}
	/* A token no other client can guess: the slot is only for whoever leased it. */
	do {
		if (getrandom(token, sizeof(*token), 0) != sizeof(*token))
			*token = (uint64_t)clock_mono_ns() * 2654435761u;
	} while (*token == 0);
	l->slots[slot].token = *token;
	l->slots[slot].expires_ns =
		clock_mono_ns() + algo_ms_ns(ttl_ms ? (int64_t)ttl_ms : DEFAULT_TTL_MS);
	l->held++;
	if (!ev_is_active(&l->sweep_w))
		ev_timer_again(a->loop, &l->sweep_w);
	return slot;
}

static bool holds(const struct svc_leases *l, uint32_t slot, uint64_t token)
{
	return slot < (uint32_t)l->nslots && token && l->slots[slot].token == token;
}

bool svc_lease_release(struct svc_leases *l, uint32_t slot, uint64_t token)
{
	if (!holds(l, slot, token))
		return false;
	l->slots[slot].token = 0;
	l->held--;
	shm_pool_release(&svc_algo(l->svc)->pool, (int)slot);
	return true;
}

void *svc_lease_take(struct svc_leases *l, uint32_t slot, uint64_t token)
{
	if (!holds(l, slot, token))
		return NULL;
	l->slots[slot].token = 0;
	l->held--;
	return shm_pool_slot(&svc_algo(l->svc)->pool, (int)slot);
}

uint32_t svc_leases_held(const struct svc_leases *l)
{
	return l ? l->held : 0;
}
