/**
 * @file
 * The tables of runner and sink implementations, built-in and plugins.
 */
#ifndef COLLECTOR_REGISTRY_H
#define COLLECTOR_REGISTRY_H

#include <collector/error.h>
#include <collector/runner.h>
#include <collector/sink.h>

/** Version of the plugin interface; a plugin built for another is refused. */
#define COLLECTOR_PLUGIN_ABI 2

/**
 * Register a runner implementation (the struct must outlive the process).
 * @return 0, or -EEXIST when the name is taken, -ENOSPC when full.
 */
int registry_add_runner(const struct runner_ops *ops, struct error *err);

/** Register a sink implementation. @return as registry_add_runner(). */
int registry_add_sink(const struct sink_ops *ops, struct error *err);

/** The runner registered as @p name, or NULL. */
const struct runner_ops *registry_runner(const char *name);

/** The sink registered as @p name, or NULL. */
const struct sink_ops *registry_sink(const char *name);

/** The @p i-th registered runner, or NULL past the end. */
const struct runner_ops *registry_runner_at(int i);

/** The @p i-th registered sink, or NULL past the end. */
const struct sink_ops *registry_sink_at(int i);

/** Register the built-in runners and sinks (idempotent). */
void registry_add_builtins(void);

/**
 * Load a plugin: dlopen() @p path and call its
 * `int collector_plugin_init(struct error *err)`, which registers its
 * runners and sinks. The plugin must also export
 * `const int collector_plugin_abi = COLLECTOR_PLUGIN_ABI;`.
 * @return 0, or a negative code with @p err saying what failed.
 */
int registry_load_plugin(const char *path, struct error *err);

/** Unload every plugin (at exit, after all instances are destroyed). */
void registry_unload_plugins(void);

#endif
