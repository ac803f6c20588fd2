/* Runner and sink tables: the built-ins and whatever plugins register. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <collector/collector.h>

#include <collector/registry.h>

#include "builtins.h"

#define REGISTRY_MAX 64
#define PLUGINS_MAX 32

static const struct runner_ops *runners[REGISTRY_MAX];
static int nrunners;
static const struct sink_ops *sinks[REGISTRY_MAX];
static int nsinks;
static void *plugins[PLUGINS_MAX];
static int nplugins;
static int first_plugin_runner;
static int first_plugin_sink;

int registry_add_runner(const struct runner_ops *ops, struct error *err)
{
	if (registry_runner(ops->name))
		return error_set(err, EEXIST, "a runner named '%s' is already registered",
				 ops->name);
	if (nrunners == REGISTRY_MAX)
		return error_set(err, ENOSPC, "too many runner types");
	runners[nrunners++] = ops;
	return 0;
}

int registry_add_sink(const struct sink_ops *ops, struct error *err)
{
	if (registry_sink(ops->name))
		return error_set(err, EEXIST, "a sink named '%s' is already registered", ops->name);
	if (nsinks == REGISTRY_MAX)
		return error_set(err, ENOSPC, "too many sink types");
	sinks[nsinks++] = ops;
	return 0;
}

const struct runner_ops *registry_runner(const char *name)
{
	for (int i = 0; i < nrunners; i++)
		if (strcmp(runners[i]->name, name) == 0)
			return runners[i];
	return NULL;
}

const struct sink_ops *registry_sink(const char *name)
{
	for (int i = 0; i < nsinks; i++)
		if (strcmp(sinks[i]->name, name) == 0)
			return sinks[i];
	return NULL;
}

const struct runner_ops *registry_runner_at(int i)
{
	return i >= 0 && i < nrunners ? runners[i] : NULL;
}

const struct sink_ops *registry_sink_at(int i)
{
	return i >= 0 && i < nsinks ? sinks[i] : NULL;
}

int registry_run_loader(const char *name, int argc, char **argv)
{
	const struct runner_ops *ops = registry_runner(name);
	struct options *o = ops && ops->loader_main ? options_new(ops->options) : NULL;
	struct options_table table = { ops ? ops->options : NULL, o };
	struct error err = { 0 };
	int first, rc = COLLECTOR_EXIT_USAGE;

	if (!o) {
		fprintf(stderr, "collector: loader: no runner '%s' with a loader\n", name);
		return rc;
	}
	first = options_parse_argv(argc, argv, &table, 1, &err);
	if (first >= 0 && first < argc)
		error_set(&err, EINVAL, "unexpected argument '%s'", argv[first]);
	else if (first >= 0 && options_finish(o, &err) == 0)
		rc = ops->loader_main(o);
	if (rc == COLLECTOR_EXIT_USAGE && err.msg[0])
		fprintf(stderr, "collector: loader %s: %s\n", name, err.msg);
	options_free(o);
	return rc;
}

void registry_add_builtins(void)
{
	if (registry_runner(exec_runner_ops.name))
		return;
	registry_add_runner(&exec_runner_ops, NULL);
	registry_add_runner(&script_runner_ops, NULL);
	registry_add_runner(&container_runner_ops, NULL);
	registry_add_runner(&http_task_runner_ops, NULL);
	registry_add_runner(&process_runner_ops, NULL);
	registry_add_runner(&ssl_runner_ops, NULL);
	registry_add_runner(&algorithm_runner_ops, NULL);
	registry_add_sink(&stdout_sink_ops, NULL);
	registry_add_sink(&file_sink_ops, NULL);
	registry_add_sink(&pipe_sink_ops, NULL);
	registry_add_sink(&fifo_sink_ops, NULL);
	registry_add_sink(&kafka_sink_ops, NULL);
	registry_add_sink(&http_sink_ops, NULL);
	registry_add_sink(&otlp_sink_ops, NULL);
}

int registry_load_plugin(const char *path, struct error *err)
{
	int (*init)(struct error *);
	const int *abi;
	int before_runners, before_sinks;
	void *h;
	int rc;

	if (nplugins == PLUGINS_MAX)
		return error_set(err, ENOSPC, "plugin %s: too many plugins", path);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return error_set(err, ENOENT, "plugin %s: %s", path, dlerror());
	/* Loaded already (a configuration read again): dlopen only counted a reference. */
	for (int i = 0; i < nplugins; i++) {
		if (plugins[i] == h) {
			dlclose(h);
			return 0;
		}
	}
	abi = dlsym(h, "collector_plugin_abi");
	*(void **)&init = dlsym(h, "collector_plugin_init");
	if (!abi || !init) {
		dlclose(h);
		return error_set(err, EINVAL,
				 "plugin %s: missing collector_plugin_abi or collector_plugin_init",
				 path);
	}
	if (*abi != COLLECTOR_PLUGIN_ABI) {
		/* Read before dlclose() unmaps it. */
		int theirs = *abi;

		dlclose(h);
		return error_set(err, EINVAL,
				 "plugin %s: built for plugin ABI %d, this collector has %d", path,
				 theirs, COLLECTOR_PLUGIN_ABI);
	}
	if (nplugins == 0) {
		first_plugin_runner = nrunners;
		first_plugin_sink = nsinks;
	}
	before_runners = nrunners;
	before_sinks = nsinks;
	rc = init(err);
	if (rc < 0) {
		nrunners = before_runners;
		nsinks = before_sinks;
		dlclose(h);
		return error_prefix(err, "plugin %s: ", path);
	}
	plugins[nplugins++] = h;
	return 0;
}

void registry_unload_plugins(void)
{
	if (nplugins == 0)
		return;
	/* Plugin types may not outlive their code: forget all registered since the first. */
	nrunners = first_plugin_runner;
	nsinks = first_plugin_sink;
	while (nplugins > 0)
		dlclose(plugins[--nplugins]);
}
