/* Fuzz target: the configuration loader reports problems in any text, and frees everything. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
	char *text;

	if (!registered) {
		registry_add_builtins();
		registered = 1;
	}
	/* Plugins are dlopen()ed: a fuzzer must not pick which. */
	if (memmem(data, size, "plugins", 7))
		return 0;
	text = strndup((const char *)data, size);
	if (!text)
		return 0;
	config_load_text(&cfg, text, ignore, NULL);
	config_free(&cfg);
	free(text);
	return 0;
}
