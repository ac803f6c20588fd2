/* libcurl's multi interface on a libev loop: transfers run beside everything else, a callback when each ends. */
#ifndef COLLECTOR_RUNNERS_CURL_EV_H
#define COLLECTOR_RUNNERS_CURL_EV_H

#include <curl/curl.h>

#include <collector/error.h>

struct ev_loop;
struct curl_ev;

/* A transfer ended (done, failed or timed out) with @p rc; the easy handle is removed already. */
typedef void (*curl_ev_done_fn)(void *arg, CURL *easy, CURLcode rc);

/* @return the multi handle on @p loop, or NULL with @p err. */
struct curl_ev *curl_ev_new(struct ev_loop *loop, struct error *err);

/* Run @p easy; @p done is called once when it ends. @return 0 or -EIO with @p err. */
int curl_ev_add(struct curl_ev *m, CURL *easy, curl_ev_done_fn done, void *arg, struct error *err);

/* Abort @p easy without its callback; nothing when it is not running. */
void curl_ev_remove(struct curl_ev *m, CURL *easy);

/* Drive transfers after curl_easy_pause() was lifted (libcurl asks for a kick). */
void curl_ev_kick(struct curl_ev *m);

/* Abort what still runs (no callbacks) and free; NULL is allowed. */
void curl_ev_free(struct curl_ev *m);

#endif
