/* Machine facts for BPF tracing, each with a one-line fix when it is missing. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <stdarg.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "system_checks.h"

#define CAP_BIT(caps, n) (((caps)[(n) / 32].effective >> ((n) % 32)) & 1)

static void set(struct check *c, const char *name, bool ok, bool needed, const char *fix,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void set(struct check *c, const char *name, bool ok, bool needed, const char *fix,
		const char *fmt, ...)
{
	va_list ap;

	c->name = name;
	c->ok = ok;
	c->needed_for_bpf = needed;
	c->fix = ok ? NULL : fix;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

static bool readable(const char *path)
{
	return access(path, R_OK) == 0;
}

static void check_bpf_syscall(struct check *c)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "doctor", 4, 4, 1, NULL);
	int e = errno;

	if (fd >= 0) {
		close(fd);
		set(c, "bpf(2)", true, true, NULL, "a BPF map can be created");
		return;
	}
	set(c, "bpf(2)", false, true,
	    e == ENOSYS ? "use a kernel with CONFIG_BPF_SYSCALL=y" :
			  "run as root, or give the binary CAP_BPF and CAP_PERFMON",
	    "creating a BPF map failed: %s", strerror(e));
}

static void check_caps(struct check *c)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };
	bool bpf, perfmon, admin;

	if (syscall(SYS_capget, &hdr, data) < 0) {
		set(c, "CAP_BPF/CAP_PERFMON", false, true, "check the process's capabilities",
		    "capget: %s", strerror(errno));
		return;
	}
	bpf = CAP_BIT(data, 39);
	perfmon = CAP_BIT(data, 38);
	admin = CAP_BIT(data, 21);
	set(c, "CAP_BPF/CAP_PERFMON", (bpf && perfmon) || admin, true,
	    "run as root, or: setcap cap_bpf,cap_perfmon+ep collector",
	    "CAP_BPF %s, CAP_PERFMON %s, CAP_SYS_ADMIN %s", bpf ? "yes" : "no",
	    perfmon ? "yes" : "no", admin ? "yes" : "no");
}

static bool mounted(const char *fstype, char *where, size_t len)
{
	FILE *f = fopen("/proc/mounts", "re");
	char dev[256], dir[256], type[64];
	bool found = false;

	if (!f)
		return false;
	while (!found && fscanf(f, "%255s %255s %63s %*[^\n]", dev, dir, type) == 3) {
		if (strcmp(type, fstype) == 0) {
			snprintf(where, len, "%s", dir);
			found = true;
		}
	}
	fclose(f);
	return found;
}

static void check_cgroups(struct check *v2, struct check *v1)
{
	char controllers[200] = "", v1list[200] = "";
	struct statfs sf;
	FILE *f = fopen("/sys/fs/cgroup/cgroup.controllers", "re");
	char dev[256], dir[256], type[64], opts[512];
	bool is_v2 = statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;

	if (f) {
		if (!fgets(controllers, sizeof(controllers), f))
			controllers[0] = '\0';
		controllers[strcspn(controllers, "\n")] = '\0';
		fclose(f);
	}
	if (!is_v2 && readable("/sys/fs/cgroup/unified/cgroup.procs"))
		is_v2 = true;
	set(v2, "cgroup v2", is_v2, false, "mount cgroup2 on /sys/fs/cgroup (systemd does)",
	    "%s%s%s", is_v2 ? "mounted" : "not mounted", is_v2 ? ", controllers: " : "",
	    is_v2 ? (controllers[0] ? controllers : "none") : "");
	f = fopen("/proc/mounts", "re");
	while (f && fscanf(f, "%255s %255s %63s %511s %*[^\n]", dev, dir, type, opts) == 4) {
		const char *base = strrchr(dir, '/');

		if (strcmp(type, "cgroup") != 0 || !base)
			continue;
		if (v1list[0])
			strncat(v1list, " ", sizeof(v1list) - strlen(v1list) - 1);
		strncat(v1list, base + 1, sizeof(v1list) - strlen(v1list) - 1);
	}
	if (f)
		fclose(f);
	set(v1, "cgroup v1", v1list[0] != '\0', false,
	    "only needed where cgroup v2 has no memory/cpu controllers", "%s",
	    v1list[0] ? v1list : "no v1 hierarchy mounted");
}

static void find_library(struct check *c, const char *name, const char *stem, const char *fix)
{
	static const char *const dirs[] = { "/usr/lib/*/",	"/lib/*/", "/usr/lib/",
					    "/usr/lib64/",	"/lib64/", "/usr/local/lib/",
					    "/usr/local/lib64/" };
	char pattern[128], found[256] = "";
	glob_t g;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(pattern, sizeof(pattern), "%s%s.so.*", dirs[i], stem);
		if (glob(pattern, 0, NULL, &g) == 0) {
			for (size_t j = 0; j < g.gl_pathc && strlen(found) < 200; j++) {
				char real[PATH_MAX];

				/* /lib is often /usr/lib: name each file once. */
				if (!realpath(g.gl_pathv[j], real) || strstr(found, real))
					continue;
				if (found[0])
					strncat(found, " ", sizeof(found) - strlen(found) - 1);
				strncat(found, real, sizeof(found) - strlen(found) - 1);
			}
		}
		globfree(&g);
	}
	set(c, name, found[0] != '\0', false, fix, "%s", found[0] ? found : "not found");
}

void system_checks_run(struct check *out)
{
	char where[256];
	bool tracefs = mounted("tracefs", where, sizeof(where));

	set(&out[CHECK_BTF], "BTF", readable("/sys/kernel/btf/vmlinux"), true,
	    "use a kernel built with CONFIG_DEBUG_INFO_BTF=y", "%s",
	    readable("/sys/kernel/btf/vmlinux") ? "/sys/kernel/btf/vmlinux" :
						  "/sys/kernel/btf/vmlinux missing");
	check_bpf_syscall(&out[CHECK_BPF_SYSCALL]);
	check_caps(&out[CHECK_CAPS]);
	set(&out[CHECK_UPROBE], "uprobe PMU", readable("/sys/bus/event_source/devices/uprobe/type"),
	    false, "use a kernel with CONFIG_UPROBE_EVENTS=y (the ssl runner needs it)", "%s",
	    readable("/sys/bus/event_source/devices/uprobe/type") ? "available" : "missing");
	set(&out[CHECK_TRACEFS], "tracefs", tracefs, false,
	    "mount -t tracefs nodev /sys/kernel/tracing (only classic tp/ programs need it)",
	    "%s%s", tracefs ? "mounted on " : "not mounted", tracefs ? where : "");
	set(&out[CHECK_KPROBES], "kprobes", readable("/sys/bus/event_source/devices/kprobe/type"),
	    false, "not needed: the collector uses tp_btf, raw_tp and uprobes", "%s",
	    readable("/sys/bus/event_source/devices/kprobe/type") ? "available" :
								    "kernel without kprobes");
	check_cgroups(&out[CHECK_CGROUP_V2], &out[CHECK_CGROUP_V1]);
	find_library(&out[CHECK_LIBSSL], "libssl", "libssl",
		     "apt-get install libssl3 (the ssl runner attaches to it)");
	find_library(&out[CHECK_LIBGNUTLS], "libgnutls", "libgnutls",
		     "apt-get install libgnutls30 (for GnuTLS clients)");
}
