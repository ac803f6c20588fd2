/**
 * @file
 * The tables of runner and sink implementations, built-in and plugins.
 */
#ifndef COLLECTOR_REGISTRY_H
#define COLLECTOR_REGISTRY_H

#include <collector/error.h>
#include <collector/runner.h>
#include <collector/sink.h>

/**
 * Version of the plugin interface; a plugin built for another is refused.
 * It changes whenever a struct or call a plugin uses changes incompatibly.
 */
#define COLLECTOR_PLUGIN_ABI 5

/**
 * Register a runner implementation.
 * @param ops the implementation; not copied, it must outlive every instance
 *        (a static const struct does)
 * @param err filled on failure (may be NULL)
 * @return 0, or -EEXIST when the name is taken, -ENOSPC when full.
 */
int registry_add_runner(const struct runner_ops *ops, struct error *err);

/**
 * Register a sink implementation.
 * @param ops the implementation; not copied, as for registry_add_runner()
 * @param err filled on failure (may be NULL)
 * @return 0, or -EEXIST when the name is taken, -ENOSPC when full.
 */
int registry_add_sink(const struct sink_ops *ops, struct error *err);

/**
 * Look a runner type up.
 * @param name its name ("exec")
 * @return the registered implementation, or NULL.
 */
const struct runner_ops *registry_runner(const char *name);

/**
 * Look a sink type up.
 * @param name its name ("file")
 * @return the registered implementation, or NULL.
 */
const struct sink_ops *registry_sink(const char *name);

/**
 * Iterate over the runner types in registration order.
 * @param i an index from 0
 * @return the @p i-th registered runner, or NULL past the end.
 */
const struct runner_ops *registry_runner_at(int i);

/**
 * Iterate over the sink types in registration order.
 * @param i an index from 0
 * @return the @p i-th registered sink, or NULL past the end.
 */
const struct sink_ops *registry_sink_at(int i);

/** Register the built-in runners and sinks (idempotent). */
void registry_add_builtins(void);

/**
 * Run a runner's loader (`collector loader NAME FLAGS`): parse @p argv's flags
 * with the runner's own option table, as the runner passed them
 * (loader_child_argv()), and call its @c loader_main.
 * @param name the runner
 * @param argc the number of words
 * @param argv the words; argv[0] is the loader's name
 * @return the loader's exit status; 2 (usage) for bad flags or a runner
 *         without a loader, after one line on stderr.
 */
int registry_run_loader(const char *name, int argc, char **argv);

/**
 * Load a plugin: dlopen() @p path and call its
 * `int collector_plugin_init(struct error *err)`, which registers its
 * runners and sinks. The plugin must also export
 * `const int collector_plugin_abi = COLLECTOR_PLUGIN_ABI;`.
 * The plugin stays loaded until registry_unload_plugins().
 * @param path the shared object; a name without '/' is searched like dlopen() does
 * @param err filled on failure (may be NULL)
 * @return 0, or a negative code with @p err saying what failed: ENOENT when
 *         it cannot be loaded, EINVAL for a missing symbol or another ABI,
 *         ENOSPC for too many plugins, or what its init returned (whatever
 *         it registered is then forgotten).
 */
int registry_load_plugin(const char *path, struct error *err);

/** Unload every plugin and forget its types (at exit, after all instances are destroyed). */
void registry_unload_plugins(void);

#endif
