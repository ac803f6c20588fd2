/* Where crash reports live: the default state directory, writing one report, listing and reading them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <collector/crash_dir.h>

#define DIR_MAX 512

static char noted[CRASH_DIR_NOTED][DIR_MAX];
static int nnoted;

int crash_dir_default(char *dir, size_t size)
{
	const char *env = getenv("COLLECTOR_STATE_DIR"), *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	struct passwd pwd, *pw = NULL;
	char pwbuf[1024];
	int n;

	if (env && *env)
		n = snprintf(dir, size, "%s/crashes", env);
	else if (geteuid() == 0)
		n = snprintf(dir, size, "/var/lib/collector/crashes");
	else if (xdg && xdg[0] == '/')
		n = snprintf(dir, size, "%s/collector/crashes", xdg);
	else {
		/* The XDG rule: a relative $XDG_STATE_HOME is ignored. */
		if ((!home || home[0] != '/') &&
		    getpwuid_r(geteuid(), &pwd, pwbuf, sizeof(pwbuf), &pw) == 0 && pw)
			home = pw->pw_dir;
		if (!home || home[0] != '/')
			return -ENOENT;
		n = snprintf(dir, size, "%s/.local/state/collector/crashes", home);
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int crash_dir_prepare(const char *dir, struct error *err)
{
	char path[DIR_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return error_set(err, ENAMETOOLONG, "crash directory '%.64s': bad name", dir);
	memcpy(path, dir, n + 1);
	/* mkdir -p: each parent, then the directory itself. */
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return error_set(err, errno, "crash directory %s: %s", path,
					 strerror(errno));
		*p = '/';
	}
	if (mkdir(path, 0750) < 0 && errno != EEXIST)
		return error_set(err, errno, "crash directory %s: %s", path, strerror(errno));
	return 0;
}

static int is_report(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".json") == 0;
}

int crash_dir_list(const char *dir, char ***names, struct error *err)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, is_report, alphasort);

	*names = NULL;
	if (n < 0)
		return error_set(err, errno, "%s: %s", dir, strerror(errno));
	*names = calloc((size_t)n + 1, sizeof(**names));
	for (int i = 0; i < n; i++) {
		if (*names)
			(*names)[i] = strdup(ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	for (int i = 0; *names && i < n; i++)
		if (!(*names)[i]) {
			crash_dir_names_free(*names, n);
			*names = NULL;
		}
	if (!*names)
		return error_set(err, ENOMEM, "out of memory");
	return n;
}

void crash_dir_names_free(char **names, int n)
{
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

/* The oldest reports beyond CRASH_DIR_KEEP: a crash loop must not fill the disk. */
static void prune(const char *dir)
{
	struct error err = { 0 };
	char **names, path[DIR_MAX + 256];
	int n = crash_dir_list(dir, &names, &err);

	for (int i = 0; names && i < n - CRASH_DIR_KEEP; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	crash_dir_names_free(names, n);
}

int crash_dir_write(const char *dir, const char *id, const char *report, size_t len,
		    struct error *err)
{
	char tmp[DIR_MAX + 256], path[DIR_MAX + 256];
	int fd, rc = 0;
	bool ok;

	if (!crash_dir_valid_id(id))
		return error_set(err, EINVAL, "'%.64s' is not a crash ID", id);
	snprintf(tmp, sizeof(tmp), "%s/.%s.json.tmp", dir, id);
	snprintf(path, sizeof(path), "%s/%s.json", dir, id);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return error_set(err, errno, "crash report %s: %s", tmp, strerror(errno));
	/* The umask may have taken group read away: a report is for the operator's group. */
	fchmod(fd, 0640);
	errno = 0;
	ok = write(fd, report, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
	if (close(fd) < 0)
		ok = false;
	if (!ok || rename(tmp, path) < 0) {
		rc = error_set(err, errno ? errno : EIO, "crash report %s: %s", path,
			       errno ? strerror(errno) : "short write");
		unlink(tmp);
		return rc;
	}
	prune(dir);
	return 0;
}

bool crash_dir_valid_id(const char *id)
{
	return id && id[0] && id[0] != '.' && !strchr(id, '/');
}

int crash_dir_read(const char *dir, const char *id, struct buffer *out, struct error *err)
{
	char path[DIR_MAX + 256], chunk[4096];
	size_t n = id ? strlen(id) : 0;
	bool has_ext = n > 5 && strcmp(id + n - 5, ".json") == 0;
	int fd, rc = 0;
	ssize_t got;

	if (!crash_dir_valid_id(id))
		return error_set(err, EINVAL, "'%.64s' is not a crash ID", id ? id : "");
	snprintf(path, sizeof(path), "%s/%s%s", dir, id, has_ext ? "" : ".json");
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errno, "%s: %s", path, strerror(errno));
	while ((got = read(fd, chunk, sizeof(chunk))) > 0)
		if (buffer_append(out, chunk, (size_t)got) < 0) {
			rc = error_set(err, ENOMEM, "out of memory");
			break;
		}
	if (got < 0)
		rc = error_set(err, errno, "%s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

void crash_dir_note(const char *dir)
{
	for (int i = 0; i < nnoted; i++)
		if (strcmp(noted[i], dir) == 0)
			return;
	if (nnoted < CRASH_DIR_NOTED && strlen(dir) < DIR_MAX)
		snprintf(noted[nnoted++], DIR_MAX, "%s", dir);
}

int crash_dir_noted(const char **dirs, int max)
{
	static char def[DIR_MAX];
	int n = 0;

	if (max > 0 && crash_dir_default(def, sizeof(def)) == 0)
		dirs[n++] = def;
	for (int i = 0; i < nnoted && n < max; i++)
		if (n == 0 || strcmp(noted[i], dirs[0]) != 0)
			dirs[n++] = noted[i];
	return n;
}
