/* The web page /ui and the JSON it polls: /api/state, /api/crashes, /api/crashes/ID. */
#ifndef COLLECTOR_WEB_UI_H
#define COLLECTOR_WEB_UI_H

#include <stdbool.h>

#include <collector/buffer.h>
#include <collector/collector.h>

/* How to answer. */
struct web_ui_reply {
	unsigned int status;
	const char *type; /* Content-Type */
	bool page;	  /* a file of the page: served with its Content-Security-Policy */
};

/* The page's state: the crash list's summaries, kept while their files are there. */
struct web_ui;

/* @return a new one, or NULL when out of memory. */
struct web_ui *web_ui_new(void);

/*
 * Answer GET @p url when it is the page's (/ui, /ui/FILE, /api/...) into
 * @p body and @p r. Crash reports hold a child's stderr, argv and call
 * parameters: they go only to a peer on this machine (@p local).
 * @return 1 when answered, 0 when @p url is not the page's, -ENOMEM
 */
int web_ui_answer(struct web_ui *ui, struct collector *c, const char *url, bool local,
		  struct buffer *body, struct web_ui_reply *r);

/* NULL is allowed. */
void web_ui_free(struct web_ui *ui);

#endif
