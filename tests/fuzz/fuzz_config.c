/* Fuzz target: the configuration loader reports problems in any file, and frees everything. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <collector/registry.h>

#include "config.h"

static void ignore(void *arg, const char *path, const char *msg)
{
	(void)arg;
	(void)path;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int registered;
	struct config cfg = { 0 };
	char path[64];
	int fd;

	if (!registered) {
		registry_add_builtins();
		registered = 1;
	}
	/* Plugins are dlopen()ed: a fuzzer must not pick which. */
	if (memmem(data, size, "plugins", 7))
		return 0;
	fd = memfd_create("config", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	config_load(&cfg, path, ignore, NULL);
	config_free(&cfg);
	close(fd);
	return 0;
}
