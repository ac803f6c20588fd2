/* The collector's HTTP endpoint (/metrics, /healthz, /runners), served by libmicrohttpd on the loop. */
#ifndef COLLECTOR_HTTP_ENDPOINT_H
#define COLLECTOR_HTTP_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include <collector/collector.h>
#include <collector/error.h>

struct ev_loop;
struct http_endpoint;

/* The request header that carries the control token. */
#define HTTP_TOKEN_HEADER "X-Collector-Token"

/*
 * Listen on @addr ("HOST:PORT", "[V6]:PORT"); a non-loopback address only when @public.
 * Writes a fresh control token to http_token_path(). @return the endpoint or NULL with @err.
 */
struct http_endpoint *http_endpoint_start(struct collector *c, struct ev_loop *loop,
					  const char *addr, bool allow_public, struct error *err);

/*
 * Where tokens live: $COLLECTOR_RUNTIME_DIR, else /run/collector for root,
 * $XDG_RUNTIME_DIR/collector, /tmp/collector-UID. @return 0 or -ENAMETOOLONG.
 */
int http_runtime_dir(char *dir, size_t size);

/* The token file of the endpoint bound to @addr. @return 0, or -EINVAL / -ENAMETOOLONG. */
int http_token_path(const char *addr, char *path, size_t size);

/* "HOST:PORT" actually bound (port 0 resolved). */
const char *http_endpoint_address(const struct http_endpoint *h);

/* Split "HOST:PORT" or "[V6]:PORT"; @port points into @addr. @return 0 or -EINVAL. */
int http_split_address(const char *addr, char *host, size_t host_size, const char **port);

/* Close the listener and every connection. NULL is allowed. */
void http_endpoint_free(struct http_endpoint *h);

#endif
