/* An algorithm package: its manifest.json parsed into what the spawner needs. */
#ifndef COLLECTOR_ALGORITHM_PACKAGE_H
#define COLLECTOR_ALGORITHM_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include <collector/error.h>

/** The manifest's limits, with defaults applied. */
struct algo_limits {
	int64_t memory_mb;
	int64_t cpu_percent;
	int64_t call_timeout_ms;
	int64_t max_inflight;
	int64_t handshake_timeout_ms;
	int64_t heartbeat_ms;
	int64_t grace_ms;
	int64_t max_line_bytes;
	int64_t max_open_files;
};

/** A parsed package; every string is owned by it. */
struct algo_package {
	char *dir; /* absolute package directory */
	char *name;
	char *version;
	char **argv; /* NULL-terminated, argv[0] resolved */
	char **env;  /* NULL-terminated KEY=VALUE: base (inherited), venv, manifest env */
	size_t env_count;
	char *workdir;	   /* absolute */
	char *config_json; /* the manifest's config, as JSON text */
	struct algo_limits limits;
};

/*
 * Read DIR/manifest.json; errors name the file and the field. The children's
 * environment starts from @p base_env, or the host's when NULL.
 */
int algo_package_load(struct algo_package *p, const char *dir, char *const *base_env,
		      struct error *err);

void algo_package_free(struct algo_package *p);

/* A copy of the package's environment with extra KEY=VALUE entries (replacing same keys). */
char **algo_package_env(const struct algo_package *p, char *const *extra, int n_extra);

void algo_env_free(char **env);

#endif
