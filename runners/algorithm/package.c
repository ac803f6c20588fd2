/* Loading an algorithm package's manifest.json: entry point, venv, workdir, env, config, limits. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "package.h"
#include "protocol.h"

extern char **environ;

#define MANIFEST_MAX ((long)1 << 20)

static char *read_file(const char *path, struct error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f) {
		error_set(err, errno, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(MANIFEST_MAX + 1);
	if (!buf) {
		fclose(f);
		error_set(err, ENOMEM, "%s: out of memory", path);
		return NULL;
	}
	n = (long)fread(buf, 1, MANIFEST_MAX, f);
	fclose(f);
	if (n >= MANIFEST_MAX) {
		free(buf);
		error_set(err, EFBIG, "%s: larger than 1 MiB", path);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* "@a@sep@b", allocated; NULL when out of memory. */
static char *pair(const char *a, char sep, const char *b)
{
	char *s;

	return asprintf(&s, "%s%c%s", a, sep, b) < 0 ? NULL : s;
}

static char *join(const char *a, const char *b)
{
	return pair(a, '/', b);
}

static char *kv(const char *k, const char *v)
{
	return pair(k, '=', v);
}

/* Replace or append KEY=VALUE in a NULL-terminated list with room for one more. */
static void env_put(char **env, size_t *count, char *entry)
{
	size_t klen;

	if (!entry) /* out of memory: load_env() finds the hole it leaves */
		return;
	klen = strcspn(entry, "=");

	for (size_t i = 0; i < *count; i++) {
		if (strncmp(env[i], entry, klen) == 0 && env[i][klen] == '=') {
			free(env[i]);
			env[i] = entry;
			return;
		}
	}
	env[(*count)++] = entry;
	env[*count] = NULL;
}

static bool is_python(const char *word)
{
	return strcmp(word, "python") == 0 || strcmp(word, "python3") == 0 ||
	       strncmp(word, "python3.", 8) == 0;
}

static int load_entry_point(struct algo_package *p, yajl_val ep, const char *venv_bin,
			    const char *file, struct error *err)
{
	size_t n = YAJL_IS_STRING(ep) ? 1 : YAJL_IS_ARRAY(ep) ? ep->u.array.len : 0;

	if (n == 0)
		return error_set(err, EINVAL,
				 "%s: \"entry_point\" is required (a string or an array of "
				 "strings)",
				 file);
	p->argv = calloc(n + 1, sizeof(char *));
	if (!p->argv)
		return error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yajl_val w = YAJL_IS_STRING(ep) ? ep : ep->u.array.values[i];

		if (!YAJL_IS_STRING(w) || !w->u.string[0])
			return error_set(err, EINVAL,
					 "%s: \"entry_point\"[%zu] must be a non-empty string",
					 file, i);
		if (i == 0 && venv_bin && is_python(w->u.string))
			p->argv[i] = join(venv_bin, w->u.string);
		else if (i == 0 && strchr(w->u.string, '/') && w->u.string[0] != '/')
			p->argv[i] = join(p->dir, w->u.string);
		else
			p->argv[i] = strdup(w->u.string);
		if (!p->argv[i])
			return error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int load_limits(struct algo_limits *l, yajl_val v, const char *file, struct error *err)
{
	static const char *const names[] = {
		"memory_mb",	"cpu_percent",		"call_timeout_ms",
		"max_inflight", "handshake_timeout_ms", "heartbeat_ms",
		"grace_ms",	"max_line_bytes",	"max_open_files"
	};
	int64_t *fields[] = { &l->memory_mb,	&l->cpu_percent,	  &l->call_timeout_ms,
			      &l->max_inflight, &l->handshake_timeout_ms, &l->heartbeat_ms,
			      &l->grace_ms,	&l->max_line_bytes,	  &l->max_open_files };

	*l = (struct algo_limits){ .call_timeout_ms = 1000,
				   .max_inflight = 1,
				   .handshake_timeout_ms = 2000,
				   .heartbeat_ms = 1000,
				   .grace_ms = 2000,
				   .max_line_bytes = 1 << 20 };
	if (!v)
		return 0;
	if (!YAJL_IS_OBJECT(v))
		return error_set(err, EINVAL, "%s: \"limits\" must be an object", file);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		yajl_val f = algo_member(v, names[i]);

		if (!f)
			continue;
		if (!YAJL_IS_INTEGER(f) || YAJL_GET_INTEGER(f) < 0)
			return error_set(err, EINVAL,
					 "%s: \"limits\".\"%s\" must be a non-negative integer",
					 file, names[i]);
		*fields[i] = YAJL_GET_INTEGER(f);
	}
	if (l->max_inflight < 1 || l->call_timeout_ms < 1 || l->handshake_timeout_ms < 1 ||
	    l->heartbeat_ms < 1 || l->max_line_bytes < 64)
		return error_set(err, EINVAL,
				 "%s: \"limits\": max_inflight, call_timeout_ms, "
				 "handshake_timeout_ms, heartbeat_ms must be > 0, max_line_bytes "
				 ">= 64",
				 file);
	return 0;
}

/* VALUE of KEY=VALUE in @p env, or NULL. */
static const char *env_get(char *const *env, const char *key)
{
	size_t n = strlen(key);

	for (; *env; env++)
		if (strncmp(*env, key, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static int load_env(struct algo_package *p, yajl_val env, const char *venv, char *const *base,
		    const char *file, struct error *err)
{
	size_t n = 0, extra = (env && YAJL_IS_OBJECT(env) ? env->u.object.len : 0) + 2;

	if (env && !YAJL_IS_OBJECT(env))
		return error_set(err, EINVAL, "%s: \"env\" must be an object of strings", file);
	while (base[n])
		n++;
	p->env = calloc(n + extra + 1, sizeof(char *));
	if (!p->env)
		return error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!(p->env[p->env_count++] = strdup(base[i])))
			return error_set(err, ENOMEM, "out of memory");
	if (venv) {
		const char *path = env_get(base, "PATH");
		char *bin = join(venv, "bin"), *val;
		size_t len;

		if (!bin)
			return error_set(err, ENOMEM, "out of memory");
		len = strlen(bin) + strlen(path ? path : "") + 2;
		val = malloc(len);
		if (val)
			snprintf(val, len, "%s:%s", bin, path ? path : "");
		free(bin);
		if (!val)
			return error_set(err, ENOMEM, "out of memory");
		env_put(p->env, &p->env_count, kv("PATH", val));
		env_put(p->env, &p->env_count, kv("VIRTUAL_ENV", venv));
		free(val);
		if (!p->env[p->env_count - 1])
			return error_set(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; env && i < env->u.object.len; i++) {
		yajl_val v = env->u.object.values[i];
		char *e;

		if (!YAJL_IS_STRING(v))
			return error_set(err, EINVAL, "%s: \"env\".\"%s\" must be a string", file,
					 env->u.object.keys[i]);
		e = kv(env->u.object.keys[i], v->u.string);
		if (!e)
			return error_set(err, ENOMEM, "out of memory");
		env_put(p->env, &p->env_count, e);
	}
	for (size_t i = 0; i < p->env_count; i++)
		if (!p->env[i])
			return error_set(err, ENOMEM, "out of memory");
	return 0;
}

static const char *opt_string(yajl_val root, const char *key, const char *file, int *rc,
			      struct error *err)
{
	yajl_val v = algo_member(root, key);

	if (!v)
		return NULL;
	if (!YAJL_IS_STRING(v)) {
		*rc = error_set(err, EINVAL, "%s: \"%s\" must be a string", file, key);
		return NULL;
	}
	return v->u.string;
}

static int load(struct algo_package *p, yajl_val root, char *const *base_env, const char *file,
		struct error *err)
{
	yajl_val proto = algo_member(root, "protocol");
	const char *name, *version, *venv, *workdir;
	char *venv_abs = NULL, *venv_bin = NULL;
	int rc = 0;

	if (!YAJL_IS_OBJECT(root))
		return error_set(err, EINVAL, "%s: not a JSON object", file);
	name = opt_string(root, "name", file, &rc, err);
	version = opt_string(root, "version", file, &rc, err);
	venv = opt_string(root, "venv", file, &rc, err);
	workdir = opt_string(root, "workdir", file, &rc, err);
	if (rc < 0)
		return rc;
	if (!name || !name[0])
		return error_set(err, EINVAL, "%s: \"name\" is required (a string)", file);
	if (!proto || !YAJL_IS_INTEGER(proto))
		return error_set(err, EINVAL, "%s: \"protocol\" is required (an integer)", file);
	if (YAJL_GET_INTEGER(proto) != ALGO_PROTOCOL_VERSION)
		return error_set(err, EINVAL, "%s: \"protocol\" %lld is not supported (only %d)",
				 file, YAJL_GET_INTEGER(proto), ALGO_PROTOCOL_VERSION);
	if (!(p->name = strdup(name)) || !(p->version = strdup(version ? version : "")))
		return error_set(err, ENOMEM, "out of memory");
	p->workdir = workdir && workdir[0] == '/' ? strdup(workdir) :
						    join(p->dir, workdir ? workdir : ".");
	if (!p->workdir)
		return error_set(err, ENOMEM, "out of memory");
	if (venv) {
		venv_abs = venv[0] == '/' ? strdup(venv) : join(p->dir, venv);
		venv_bin = venv_abs ? join(venv_abs, "bin") : NULL;
		if (!venv_bin)
			rc = error_set(err, ENOMEM, "out of memory");
	}
	if (rc == 0)
		rc = load_entry_point(p, algo_member(root, "entry_point"), venv_bin, file, err);
	if (rc == 0)
		rc = load_env(p, algo_member(root, "env"), venv_abs, base_env, file, err);
	if (rc == 0)
		rc = load_limits(&p->limits, algo_member(root, "limits"), file, err);
	if (rc == 0 && !(p->config_json = algo_json_text(algo_member(root, "config"))))
		rc = error_set(err, ENOMEM, "out of memory");
	free(venv_abs);
	free(venv_bin);
	return rc;
}

int algo_package_load(struct algo_package *p, const char *dir, char *const *base_env,
		      struct error *err)
{
	char real[PATH_MAX], *file, *text, ebuf[256];
	yajl_val root;
	int rc;

	memset(p, 0, sizeof(*p));
	if (!realpath(dir, real))
		return error_set(err, errno, "package %s: %s", dir, strerror(errno));
	if (!(p->dir = strdup(real)) || !(file = join(real, "manifest.json"))) {
		algo_package_free(p);
		return error_set(err, ENOMEM, "out of memory");
	}
	text = read_file(file, err);
	if (!text) {
		rc = -err->code;
		goto out;
	}
	root = yajl_tree_parse(text, ebuf, sizeof(ebuf));
	free(text);
	if (!root) {
		ebuf[strcspn(ebuf, "\n")] = '\0';
		rc = error_set(err, EINVAL, "%s: invalid JSON: %s", file, ebuf);
		goto out;
	}
	rc = load(p, root, base_env ? base_env : environ, file, err);
	yajl_tree_free(root);
out:
	free(file);
	if (rc < 0)
		algo_package_free(p);
	return rc;
}

void algo_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

void algo_package_free(struct algo_package *p)
{
	algo_env_free(p->argv);
	for (size_t i = 0; p->env && i < p->env_count; i++)
		free(p->env[i]);
	free(p->env);
	free(p->dir);
	free(p->name);
	free(p->version);
	free(p->workdir);
	free(p->config_json);
	memset(p, 0, sizeof(*p));
}

char **algo_package_env(const struct algo_package *p, char *const *extra, int n_extra)
{
	char **env = calloc(p->env_count + (size_t)n_extra + 1, sizeof(char *));
	size_t count = 0;

	if (!env)
		return NULL;
	for (size_t i = 0; i < p->env_count; i++)
		if (!(env[count++] = strdup(p->env[i])))
			goto fail;
	for (int i = 0; i < n_extra; i++) {
		char *e = strdup(extra[i]);

		if (!e)
			goto fail;
		env_put(env, &count, e);
	}
	return env;
fail:
	algo_env_free(env);
	return NULL;
}
