/* Routing rules: (runner, type glob) -> sink set, with a cache of the last answer. */
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <collector/event.h>

#include "router.h"

struct rule {
	char *runner;	 /* NULL: any runner */
	char *type_glob; /* NULL: any type */
	sink_mask sinks;
};

struct router {
	struct rule *rules;
	int n;
	/* Events of one runner mostly share a type: remember the last decision. */
	char cache_runner[EVENT_RUNNER_MAX + 1];
	char cache_type[EVENT_TYPE_MAX + 1];
	sink_mask cache_mask;
	sink_mask cache_all;
	bool cache_valid;
};

struct router *router_new(void)
{
	return calloc(1, sizeof(struct router));
}

void router_free(struct router *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->n; i++) {
		free(r->rules[i].runner);
		free(r->rules[i].type_glob);
	}
	free(r->rules);
	free(r);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int router_add(struct router *r, const char *runner, const char *type_glob, sink_mask sinks,
	       struct error *err)
{
	struct rule *rules = realloc(r->rules, sizeof(*rules) * ((size_t)r->n + 1));
	struct rule *rule;

	if (!rules)
		return error_set(err, ENOMEM, "out of memory");
	r->rules = rules;
	rule = &rules[r->n];
	rule->runner = dup_or_null(runner);
	rule->type_glob = dup_or_null(type_glob);
	rule->sinks = sinks;
	if ((runner && !rule->runner) || (type_glob && !rule->type_glob)) {
		free(rule->runner);
		free(rule->type_glob);
		return error_set(err, ENOMEM, "out of memory");
	}
	r->n++;
	r->cache_valid = false;
	return 0;
}

int router_rules(const struct router *r)
{
	return r->n;
}

static bool runner_matches(const struct rule *rule, const char *runner)
{
	return !rule->runner || strcmp(rule->runner, runner) == 0;
}

sink_mask router_match(struct router *r, const char *runner, struct span type, sink_mask all)
{
	char t[EVENT_TYPE_MAX + 1];
	sink_mask mask = 0;
	size_t n = type.len < EVENT_TYPE_MAX ? type.len : EVENT_TYPE_MAX;

	if (r->n == 0)
		return all;
	if (r->cache_valid && r->cache_all == all && strcmp(r->cache_runner, runner) == 0 &&
	    strlen(r->cache_type) == n && memcmp(r->cache_type, type.ptr, n) == 0)
		return r->cache_mask;
	memcpy(t, type.ptr, n);
	t[n] = '\0';
	for (int i = 0; i < r->n; i++) {
		const struct rule *rule = &r->rules[i];

		if (runner_matches(rule, runner) &&
		    (!rule->type_glob || fnmatch(rule->type_glob, t, 0) == 0))
			mask |= rule->sinks;
	}
	snprintf(r->cache_runner, sizeof(r->cache_runner), "%s", runner);
	memcpy(r->cache_type, t, n + 1);
	r->cache_mask = mask & all;
	r->cache_all = all;
	r->cache_valid = true;
	return mask & all;
}

sink_mask router_reachable(const struct router *r, const char *runner, sink_mask all)
{
	sink_mask mask = 0;

	if (r->n == 0)
		return all;
	for (int i = 0; i < r->n; i++)
		if (runner_matches(&r->rules[i], runner))
			mask |= r->rules[i].sinks;
	return mask & all;
}
