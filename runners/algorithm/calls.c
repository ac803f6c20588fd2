/* A call's record: the host's lists of calls and a call's outcome (slot released, algorithm.result, done). */
#include <stdlib.h>

#include <collector/algorithm.h>

#include "host.h"

const char *algorithm_code_name(enum algorithm_code code)
{
	static const char *const names[] = { "ok",	"failed",    "timeout",	  "crashed",
					     "broken",	"protocol",  "bad_input", "no_capacity",
					     "stopped", "bad_output" };

	return code <= ALGORITHM_BAD_OUTPUT ? names[code] : "unknown";
}

void algo_list_push(struct algo_list *l, struct algo_call *c)
{
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	l->len++;
}

struct algo_call *algo_list_pop(struct algo_list *l)
{
	struct algo_call *c = l->head;

	if (c)
		algo_list_remove(l, c);
	return c;
}

void algo_list_remove(struct algo_list *l, struct algo_call *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
	l->len--;
}

const uint64_t algorithm_latency_bounds_us[12] = { 100,	  250,	 500,	1000,	2500,	5000,
						   10000, 25000, 50000, 100000, 500000, 1000000 };

const struct algorithm_stats *algorithm_stats(const struct algorithm *a)
{
	return &a->stats;
}

static void count_outcome(struct algorithm *a, enum algorithm_code code, int64_t latency_ns)
{
	struct algorithm_stats *s = &a->stats;

	if ((size_t)code < sizeof(s->outcomes) / sizeof(s->outcomes[0]))
		s->outcomes[code]++;
	s->latency_count++;
	s->latency_sum_s += (double)latency_ns / 1e9;
	for (int i = 0; i < 12; i++)
		s->latency_le[i] += (uint64_t)latency_ns <= algorithm_latency_bounds_us[i] * 1000;
}

static void free_call(struct algo_call *c)
{
	free(c->source);
	free(c->tag);
	free(c->method);
	free(c->params);
	free(c);
}

void algo_complete(struct algo_call *c, enum algorithm_code code, const char *message,
		   const char *json, size_t json_len)
{
	struct algorithm *a = c->host;
	struct algo_instance *in = c->inst;
	int64_t latency = clock_mono_ns() - c->submit_ns;
	struct algorithm_result res = { .id = c->id,
					.code = code,
					.message = message ? message : "",
					.json = json,
					.json_len = json_len,
					.instance = in ? in->index : -1,
					.latency_ns = latency };

	ev_timer_stop(a->loop, &c->timeout_w);
	if (c->slot >= 0)
		shm_pool_release(&a->pool, c->slot);
	c->slot = -1;
	a->pending--;
	count_outcome(a, code, latency);
	algo_ev_begin(a);
	algo_ev_int(a, "id", (long long)c->id);
	algo_ev_int(a, "instance", res.instance);
	algo_ev_str(a, "method", c->method);
	algo_ev_str(a, "outcome", algorithm_code_name(code));
	algo_ev_int(a, "latency_us", latency / 1000);
	/* The child's share: from the call's line written to its stdin to the outcome. */
	if (c->sent_ns)
		algo_ev_int(a, "run_us", (clock_mono_ns() - c->sent_ns) / 1000);
	if (c->source)
		algo_ev_str(a, "source", c->source);
	if (c->tag)
		algo_ev_str(a, "tag", c->tag);
	if (c->line)
		algo_ev_int(a, "line", (long long)c->line);
	if (code == ALGORITHM_OK && json)
		algo_ev_raw(a, "data", json, json_len);
	else if (code == ALGORITHM_FAILED && json)
		algo_ev_raw(a, "error", json, json_len);
	if (code != ALGORITHM_OK)
		algo_ev_str(a, "message", res.message);
	algo_ev_emit(a, "algorithm.result", in && in->alive ? in->pid : 0);
	c->done(c->arg, &res);
	free_call(c);
}
