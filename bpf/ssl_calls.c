/* TLS calls put back together from their ring-buffer records, for the ssl loader and runner alike. */
#include <stdlib.h>
#include <string.h>

#include "ssl_calls.h"

void ssl_calls_init(struct ssl_calls *c, size_t max_payload, ssl_calls_fn fn, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->max_payload = max_payload;
	c->fn = fn;
	c->arg = arg;
}

static bool deliver(struct ssl_calls *c, const struct ssl_record *head, const void *data,
		    size_t captured, bool incomplete)
{
	if (incomplete)
		c->incomplete++;
	return c->fn(c->arg, head, data, captured, incomplete);
}

static bool deliver_slot(struct ssl_calls *c, struct ssl_call_slot *s)
{
	s->used = false;
	c->used--;
	return deliver(c, &s->head, s->data, s->have, s->gap);
}

/* The slot of @r's call, a free one, or one freed by giving up on an older call. */
static struct ssl_call_slot *find_slot(struct ssl_calls *c, const struct ssl_record *r, bool *go_on)
{
	struct ssl_call_slot *free_slot = NULL, *oldest = NULL;

	for (int i = 0; i < SSL_CALLS_SLOTS; i++) {
		struct ssl_call_slot *s = &c->slots[i];

		if (!s->used) {
			free_slot = free_slot ? free_slot : s;
			continue;
		}
		if (s->head.tid == r->tid) {
			if (s->head.ts_ns == r->ts_ns && s->head.conn == r->conn)
				return s;
			/* The thread moved on: the rest of its previous call was lost. */
			s->gap = true;
			*go_on = deliver_slot(c, s) && *go_on;
			return s;
		}
		if (!oldest || s->head.ts_ns < oldest->head.ts_ns)
			oldest = s;
	}
	if (free_slot)
		return free_slot;
	oldest->gap = true;
	*go_on = deliver_slot(c, oldest) && *go_on;
	return oldest;
}

static bool add_data(struct ssl_calls *c, const struct ssl_record *r, size_t size)
{
	unsigned n = r->chunk_len;
	bool last, go_on = true;
	struct ssl_call_slot *s;

	if (n > SSL_CHUNK || offsetof(struct ssl_record, data) + n > size)
		n = 0;
	/* The last record of a call, or a read of user memory that failed. */
	last = r->offset + SSL_CHUNK >= r->captured || n < r->chunk_len || r->chunk_len == 0;
	/* Most calls fit one record: hand them over where they are. */
	if (r->offset == 0 && last && !c->used)
		return deliver(c, r, r->data, n, n < r->chunk_len);
	s = find_slot(c, r, &go_on);
	if (!s->used) {
		s->used = true;
		c->used++;
		s->head = *r;
		s->have = 0;
		s->gap = false;
	}
	if (!s->data)
		s->data = malloc(c->max_payload);
	if (!s->data || r->offset != s->have || n < r->chunk_len)
		s->gap = true;
	else if (r->offset + n <= c->max_payload) {
		memcpy(s->data + r->offset, r->data, n);
		s->have += n;
	}
	if (last)
		go_on = deliver_slot(c, s) && go_on;
	return go_on;
}

bool ssl_calls_add(struct ssl_calls *c, const void *record, size_t size)
{
	const struct ssl_record *r = record;

	if (size < offsetof(struct ssl_record, data))
		return true;
	if (r->kind == SSL_RECORD_DATA)
		return add_data(c, r, size);
	if (r->kind == SSL_RECORD_HANDSHAKE || r->kind == SSL_RECORD_CLOSE)
		return deliver(c, r, NULL, 0, false);
	return true;
}

bool ssl_calls_flush(struct ssl_calls *c)
{
	bool go_on = true;

	for (int i = 0; i < SSL_CALLS_SLOTS; i++)
		if (c->slots[i].used) {
			c->slots[i].gap = true;
			go_on = deliver_slot(c, &c->slots[i]);
		}
	return go_on;
}

void ssl_calls_free(struct ssl_calls *c)
{
	for (int i = 0; i < SSL_CALLS_SLOTS; i++) {
		free(c->slots[i].data);
		c->slots[i].data = NULL;
	}
}
