/* Per-child cgroups: created beneath the collector's own, limits written, members killed, removed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <collector/child_cgroup.h>

#define CPU_PERIOD_US 100000

bool name_of_dead_collector(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end;
	long pid;

	if (strncmp(name, prefix, n) != 0 || name[n] < '1' || name[n] > '9')
		return false;
	pid = strtol(name + n, &end, 10);
	if (*end != '.' || pid <= 0 || pid > 0x7fffffff || pid == (long)getpid())
		return false;
	/* EPERM means alive under another user: only "no such process" is dead. */
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static int write_file(const char *dir, const char *file, const char *value)
{
	char path[600];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* The collector's cgroup path for @p controller ("" for the v2 line) from /proc/self/cgroup. */
static int own_path(const char *controller, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[1024];
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		bool match;

		if (!c2)
			continue;
		*c2 = '\0';
		line[strcspn(line, "\n")] = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		if (!*controller) {
			match = c1[1] == '\0';
		} else {
			/* "cpu,cpuacct" lists several controllers. */
			char *tok, *save = NULL;

			match = false;
			for (tok = strtok_r(c1 + 1, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save))
				match |= strcmp(tok, controller) == 0;
		}
		if (match) {
			snprintf(out, len, "%s", c2 + 1);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* Where the hierarchy holding @p controller is mounted (v1), or the cgroup2 mount. */
static int mount_point(bool v2, const char *controller, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char dev[256], dir[512], type[64], opts[1024];
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (fscanf(f, "%255s %511s %63s %1023s %*d %*d", dev, dir, type, opts) == 4) {
		if (v2 && strcmp(type, "cgroup2") == 0) {
			snprintf(out, len, "%s", dir);
			rc = 0;
			break;
		}
		if (!v2 && strcmp(type, "cgroup") == 0) {
			char *tok, *save = NULL;

			for (tok = strtok_r(opts, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save))
				if (strcmp(tok, controller) == 0)
					break;
			if (tok) {
				snprintf(out, len, "%s", dir);
				rc = 0;
				break;
			}
		}
	}
	fclose(f);
	return rc;
}

static void remove_dir(const char *dir);

/*
 * Leaves of @p parent named @p prefix "PID." of a collector that is gone
 * (killed with -9): kill what is inside, remove them.
 */
static void remove_stale_in(const char *parent, const char *prefix)
{
	DIR *d = opendir(parent);
	struct dirent *de;
	char dir[1100];

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && name_of_dead_collector(de->d_name, prefix) &&
		    snprintf(dir, sizeof(dir), "%s/%s", parent, de->d_name) < (int)sizeof(dir))
			remove_dir(dir);
	closedir(d);
}

static int make_dir(struct child_cgroup *cg, const char *mnt, const char *own, const char *leaf)
{
	char *d = cg->dirs[cg->ndirs];
	char parent[1100], prefix[64];

	snprintf(parent, sizeof(parent), "%s%s", mnt, strcmp(own, "/") == 0 ? "" : own);
	snprintf(prefix, sizeof(prefix), "%.*s", (int)strcspn(leaf, ".") + 1, leaf);
	remove_stale_in(parent, prefix);
	if (snprintf(d, sizeof(cg->dirs[0]), "%s/%s", parent, leaf) >= (int)sizeof(cg->dirs[0]))
		return -ENAMETOOLONG;
	if (mkdir(d, 0755) < 0 && errno != EEXIST)
		return -errno;
	cg->procs_fds[cg->ndirs] = -1;
	cg->ndirs++;
	return 0;
}

static int open_procs(struct child_cgroup *cg)
{
	for (int i = 0; i < cg->ndirs; i++) {
		char path[600];

		snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dirs[i]);
		cg->procs_fds[i] = open(path, O_WRONLY | O_CLOEXEC);
		if (cg->procs_fds[i] < 0)
			return -errno;
	}
	return 0;
}

static int try_v2(struct child_cgroup *cg, const char *leaf, int64_t memory_mb, int64_t cpu_percent)
{
	char mnt[512], own[512], parent[1100], value[64];
	int rc;

	if (mount_point(true, NULL, mnt, sizeof(mnt)) < 0 || own_path("", own, sizeof(own)) < 0)
		return -ENOENT;
	snprintf(parent, sizeof(parent), "%s%s", mnt, strcmp(own, "/") == 0 ? "" : own);
	/* The controllers must be available and delegated to our children (none: only a tree). */
	if (memory_mb || cpu_percent) {
		const char *ctl = memory_mb && cpu_percent ? "+memory +cpu" :
				  memory_mb		   ? "+memory" :
							     "+cpu";

		if (write_file(parent, "cgroup.subtree_control", ctl) < 0)
			return -ENOTSUP;
	}
	if ((rc = make_dir(cg, mnt, own, leaf)) < 0)
		return rc;
	if (memory_mb) {
		snprintf(value, sizeof(value), "%lld", (long long)memory_mb << 20);
		if ((rc = write_file(cg->dirs[0], "memory.max", value)) < 0)
			return rc;
		write_file(cg->dirs[0], "memory.swap.max", "0");
	}
	if (cpu_percent) {
		snprintf(value, sizeof(value), "%lld %d",
			 (long long)cpu_percent * CPU_PERIOD_US / 100, CPU_PERIOD_US);
		if ((rc = write_file(cg->dirs[0], "cpu.max", value)) < 0)
			return rc;
	}
	cg->version = "v2";
	return open_procs(cg);
}

static int try_v1(struct child_cgroup *cg, const char *leaf, int64_t memory_mb, int64_t cpu_percent)
{
	char mnt[512], own[512], value[64];
	int rc;

	if (memory_mb) {
		if (mount_point(false, "memory", mnt, sizeof(mnt)) < 0 ||
		    own_path("memory", own, sizeof(own)) < 0)
			return -ENOENT;
		if ((rc = make_dir(cg, mnt, own, leaf)) < 0)
			return rc;
		snprintf(value, sizeof(value), "%lld", (long long)memory_mb << 20);
		if ((rc = write_file(cg->dirs[cg->ndirs - 1], "memory.limit_in_bytes", value)) < 0)
			return rc;
	}
	if (cpu_percent) {
		if (mount_point(false, "cpu", mnt, sizeof(mnt)) < 0 ||
		    own_path("cpu", own, sizeof(own)) < 0)
			return -ENOENT;
		if ((rc = make_dir(cg, mnt, own, leaf)) < 0)
			return rc;
		snprintf(value, sizeof(value), "%d", CPU_PERIOD_US);
		write_file(cg->dirs[cg->ndirs - 1], "cpu.cfs_period_us", value);
		snprintf(value, sizeof(value), "%lld",
			 (long long)cpu_percent * CPU_PERIOD_US / 100);
		if ((rc = write_file(cg->dirs[cg->ndirs - 1], "cpu.cfs_quota_us", value)) < 0)
			return rc;
	}
	cg->version = "v1";
	return open_procs(cg);
}

int child_cgroup_create_tree(struct child_cgroup *cg, const char *leaf, struct error *err)
{
	char mnt[512], own[512];
	int rc;

	memset(cg, 0, sizeof(*cg));
	cg->version = "none";
	for (int i = 0; i < CHILD_CGROUP_MAX_DIRS; i++)
		cg->procs_fds[i] = -1;
	if (try_v2(cg, leaf, 0, 0) == 0)
		return 0;
	child_cgroup_destroy(cg);
	/* v1: the pids controller's hierarchy only tracks, it limits nothing by default. */
	if (mount_point(false, "pids", mnt, sizeof(mnt)) < 0 ||
	    own_path("pids", own, sizeof(own)) < 0)
		rc = -ENOENT;
	else if ((rc = make_dir(cg, mnt, own, leaf)) == 0)
		rc = open_procs(cg);
	if (rc == 0) {
		cg->version = "v1";
		return 0;
	}
	child_cgroup_destroy(cg);
	return error_set(err, -rc, "cannot create a cgroup for the command's processes: %s",
			 strerror(-rc));
}

int child_cgroup_create(struct child_cgroup *cg, const char *leaf, int64_t memory_mb,
			int64_t cpu_percent, struct error *err)
{
	int rc;

	memset(cg, 0, sizeof(*cg));
	cg->version = "none";
	for (int i = 0; i < CHILD_CGROUP_MAX_DIRS; i++)
		cg->procs_fds[i] = -1;
	if (!memory_mb && !cpu_percent)
		return 0;
	if (try_v2(cg, leaf, memory_mb, cpu_percent) == 0)
		return 0;
	child_cgroup_destroy(cg);
	rc = try_v1(cg, leaf, memory_mb, cpu_percent);
	if (rc == 0)
		return 0;
	child_cgroup_destroy(cg);
	return error_set(err, -rc, "cannot create a cgroup for the limits (v2 and v1): %s",
			 strerror(-rc));
}

int child_cgroup_join_self(const struct child_cgroup *cg)
{
	char digits[16], *p = digits + sizeof(digits);
	unsigned pid = (unsigned)getpid();

	do {
		*--p = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid);
	for (int i = 0; i < cg->ndirs; i++)
		if (write(cg->procs_fds[i], p, (size_t)(digits + sizeof(digits) - p)) < 0)
			return -1;
	return 0;
}

void child_cgroup_close_fds(struct child_cgroup *cg)
{
	for (int i = 0; i < CHILD_CGROUP_MAX_DIRS; i++) {
		if (cg->procs_fds[i] >= 0)
			close(cg->procs_fds[i]);
		cg->procs_fds[i] = -1;
	}
}

/* Send @p sig to what is inside (a child that escaped its process group); how many there were. */
static int signal_members(const char *dir, int sig)
{
	char path[600];
	char line[32];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		long pid = strtol(line, NULL, 10);

		if (pid > 0)
			kill((pid_t)pid, sig);
		n++;
	}
	fclose(f);
	return n;
}

static bool kill_members(const char *dir)
{
	return signal_members(dir, SIGKILL) == 0;
}

int child_cgroup_signal(const struct child_cgroup *cg, int sig)
{
	int most = 0;

	/* v1 may hold the same processes in two hierarchies: count the fuller one. */
	for (int i = 0; i < cg->ndirs; i++) {
		int n = signal_members(cg->dirs[i], sig);

		most = n > most ? n : most;
	}
	return most;
}

/* SIGKILL what is inside, then remove it. */
static void remove_dir(const char *dir)
{
	/* Killed members leave the cgroup once reaped by their parent: wait a little. */
	for (int tries = 0; tries < 100; tries++) {
		errno = 0;
		if (kill_members(dir) && rmdir(dir) == 0)
			break;
		if (errno == ENOENT)
			break;
		nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	}
}

void child_cgroup_destroy(struct child_cgroup *cg)
{
	child_cgroup_close_fds(cg);
	for (int i = 0; i < cg->ndirs; i++)
		remove_dir(cg->dirs[i]);
	cg->ndirs = 0;
}

void child_cgroup_remove_stale(const char *prefix)
{
	static const char *const v1[] = { "memory", "cpu", "pids" };
	char mnt[512], own[512], parent[1100];

	if (mount_point(true, NULL, mnt, sizeof(mnt)) == 0 && own_path("", own, sizeof(own)) == 0 &&
	    snprintf(parent, sizeof(parent), "%s%s", mnt, strcmp(own, "/") == 0 ? "" : own) <
		    (int)sizeof(parent))
		remove_stale_in(parent, prefix);
	for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]); i++)
		if (mount_point(false, v1[i], mnt, sizeof(mnt)) == 0 &&
		    own_path(v1[i], own, sizeof(own)) == 0 &&
		    snprintf(parent, sizeof(parent), "%s%s", mnt,
			     strcmp(own, "/") == 0 ? "" : own) < (int)sizeof(parent))
			remove_stale_in(parent, prefix);
}
