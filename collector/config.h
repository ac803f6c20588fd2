/* A collector's configuration, from a JSON file or the command line alike. */
#ifndef COLLECTOR_CONFIG_H
#define COLLECTOR_CONFIG_H

#include <stdint.h>

#include <collector/collector.h>
#include <collector/error.h>
#include <collector/options.h>

struct config_runner {
	char *name;
	char *type;
	struct options *opts; /* finished; moved into the collector by config_apply */
};

struct config_sink {
	char *name;
	char *type;
	struct options *opts;
	size_t max_events; /* 0: the default */
	size_t max_bytes;
	char *policy; /* NULL: the default */
};

struct config_route {
	char *runner; /* NULL: any */
	char *match;  /* NULL: any type */
	char **sinks;
	int nsinks;
};

struct config {
	struct config_runner *runners;
	int nrunners;
	struct config_sink *sinks;
	int nsinks;
	struct config_route *routes;
	int nroutes;
	int64_t shutdown_timeout_ns; /* 0: the default */
	char *metrics;		     /* HTTP endpoint address, NULL: none */
	bool metrics_public;	     /* a non-loopback metrics address is allowed */
	char *log_level;	     /* NULL: the command line's */
};

/** Called once per problem found, with the JSON path of the offending field. */
typedef void (*config_report_fn)(void *arg, const char *path, const char *msg);

/**
 * Read the JSON configuration file @p path into @p cfg (which it extends),
 * loading the plugins it lists, and report every problem through @p report.
 * @return the number of problems (0 when valid), or -errno when the file
 *         cannot be read (reported too).
 */
int config_load(struct config *cfg, const char *path, config_report_fn report, void *arg);

/** config_load() of a NUL-terminated text instead of a file. @return the number of problems. */
int config_load_text(struct config *cfg, const char *text, config_report_fn report, void *arg);

/** Serve metrics on @p addr (replacing the file's). @return 0 or -ENOMEM. */
int config_set_metrics(struct config *cfg, const char *addr);

/** Append a runner; takes @p opts. @return 0 or -ENOMEM. */
int config_add_runner(struct config *cfg, const char *name, const char *type, struct options *opts);

/** Append a sink; takes @p opts. @return 0 or -ENOMEM. */
int config_add_sink(struct config *cfg, const char *name, const char *type, struct options *opts,
		    size_t max_events, size_t max_bytes, const char *policy);

/** Append a route to the sinks named in the comma-separated @p sinks. @return 0 or -ENOMEM. */
int config_add_route(struct config *cfg, const char *runner, const char *match, const char *sinks);

/**
 * Build @p c from @p cfg: sinks, runners, routes. Options move into @p c.
 * @return 0 or a negative code with @p err.
 */
int config_apply(struct config *cfg, struct collector *c, struct error *err);

/** Free what @p cfg holds. */
void config_free(struct config *cfg);

#endif
