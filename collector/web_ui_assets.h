/* The web page's static files, embedded at build time by tools/ui-embed.sh from collector/ui/. */
#ifndef COLLECTOR_WEB_UI_ASSETS_H
#define COLLECTOR_WEB_UI_ASSETS_H

#include <stddef.h>

struct web_ui_asset {
	const char *name; /* the file's name in collector/ui/ */
	const char *type; /* its Content-Type */
	const unsigned char *data;
	size_t len;
};

/* Every file, then one with a NULL name. */
extern const struct web_ui_asset web_ui_assets[];

#endif
