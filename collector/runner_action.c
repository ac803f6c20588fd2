/* Operator actions on a running runner instance (POST /runners/NAME/ACTION), through its vtable. */
#include <errno.h>
#include <string.h>

#include <collector/collector.h>
#include <collector/log.h>

#include "pipeline_state.h"

static bool valid_action(const char *action)
{
	size_t n = strlen(action);

	if (n == 0 || n > 64)
		return false;
	for (const char *p = action; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') && *p != '-' &&
		    *p != '_')
			return false;
	return true;
}

int collector_runner_action(struct collector *c, const char *runner, const char *action,
			    struct buffer *reply, struct error *err)
{
	struct runner_ctx *r = NULL;
	size_t mark = reply->len;
	int rc;

	for (int i = 0; i < c->nrunners && !r; i++)
		if (strcmp(c->runners[i]->name, runner) == 0)
			r = c->runners[i];
	if (!r)
		return error_set(err, ENOENT, "no runner named '%s'", runner);
	if (!valid_action(action))
		return error_set(err, EINVAL, "'%s' is not an action name", action);
	if (!r->ops->control)
		return error_set(err, ENOTSUP, "the %s runner has no actions", r->ops->name);
	if (!r->started || r->finished || !r->self)
		return error_set(err, EAGAIN, "runner %s is not running", runner);
	rc = r->ops->control(r->self, action, reply, err);
	if (rc < 0) {
		reply->len = mark;
		return rc;
	}
	log_info("runner %s: %s by an operator", runner, action);
	return 0;
}
