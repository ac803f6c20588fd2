/* The collector's HTTP endpoint (/metrics, /healthz, /runners), served by libmicrohttpd on the loop. */
#ifndef COLLECTOR_HTTP_ENDPOINT_H
#define COLLECTOR_HTTP_ENDPOINT_H

#include <stddef.h>

#include <collector/collector.h>
#include <collector/error.h>

struct ev_loop;
struct http_endpoint;

/* Listen on @addr ("HOST:PORT", "[V6]:PORT"). @return the endpoint or NULL with @err. */
struct http_endpoint *http_endpoint_start(struct collector *c, struct ev_loop *loop,
					  const char *addr, struct error *err);

/* "HOST:PORT" actually bound (port 0 resolved). */
const char *http_endpoint_address(const struct http_endpoint *h);

/* Split "HOST:PORT" or "[V6]:PORT"; @port points into @addr. @return 0 or -EINVAL. */
int http_split_address(const char *addr, char *host, size_t host_size, const char **port);

/* Close the listener and every connection. NULL is allowed. */
void http_endpoint_free(struct http_endpoint *h);

#endif
