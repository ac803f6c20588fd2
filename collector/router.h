/* Decides which sinks receive an event, by runner and event-type glob. */
#ifndef COLLECTOR_ROUTER_H
#define COLLECTOR_ROUTER_H

#include <stdint.h>

#include <collector/error.h>
#include <collector/span.h>

/** Most sinks one collector can have (a sink set is a 64-bit mask). */
#define ROUTER_MAX_SINKS 64

/** A set of sink indexes. */
typedef uint64_t sink_mask;

struct router;

/** Create a router with no rules. @return NULL on ENOMEM. */
struct router *router_new(void);

/** Free @p r; NULL is ignored. */
void router_free(struct router *r);

/**
 * Add a rule: events of runner @p runner (NULL: any) whose type matches the
 * fnmatch(3) glob @p type_glob (NULL: any) go to @p sinks. With no rules at
 * all, every event goes to every sink.
 * @return 0 or -ENOMEM.
 */
int router_add(struct router *r, const char *runner, const char *type_glob, sink_mask sinks,
	       struct error *err);

/** Number of rules. */
int router_rules(const struct router *r);

/**
 * The sinks for an event of @p type from @p runner; @p all is the mask of
 * every sink (the answer when there are no rules).
 */
sink_mask router_match(struct router *r, const char *runner, struct span type, sink_mask all);

/** The union of the sinks any event of @p runner can reach. */
sink_mask router_reachable(const struct router *r, const char *runner, sink_mask all);

#endif
