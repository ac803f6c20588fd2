/* An HTTP/2 stream's side as the data of an http.request or http.response event (gRPC included). */
#ifndef COLLECTOR_RUNNERS_HTTP2_EVENT_H
#define COLLECTOR_RUNNERS_HTTP2_EVENT_H

#include <collector/event_builder.h>

#include "http2.h"

/* Add @p m's members to the open data object of @p b. */
void http2_event_put(struct event_builder *b, const struct http2_message *m);

#endif
