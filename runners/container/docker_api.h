/* The Docker Engine API over the daemon's unix socket, with libcurl on the loop: one call, one callback. */
#ifndef COLLECTOR_RUNNERS_CONTAINER_DOCKER_API_H
#define COLLECTOR_RUNNERS_CONTAINER_DOCKER_API_H

#include <stdbool.h>
#include <stddef.h>

#include <collector/buffer.h>
#include <collector/error.h>

#include "../curl_ev.h"

/* The API version asked for: Docker 20.10 and Podman's compatible socket both serve it. */
#define DOCKER_API_PREFIX "/v1.41"

struct docker_call;

typedef void (*docker_done_fn)(void *arg, struct docker_call *c);
/* A streaming call's bytes (attach): return false to pause it (a full sink). */
typedef bool (*docker_data_fn)(void *arg, const char *p, size_t n);

/* One request and its answer; zero it before first use, reuse it for the next. */
struct docker_call {
	CURL *easy;
	struct curl_slist *headers;
	char *body_out; /* what was sent */
	struct buffer answer;
	long status; /* HTTP status, 0 before the headers */
	CURLcode rc; /* of the transfer */
	bool in_flight;
	bool headers_done;
	docker_done_fn done;
	docker_data_fn on_data;	    /* NULL: the answer is kept in @c answer */
	void (*on_headers)(void *); /* the answer's headers are in (attach is live) */
	void *arg;
	char what[48]; /* "create", "start": for messages */
};

struct docker {
	struct curl_ev *m;
	const char *socket;
};

/*
 * Send METHOD PATH (below DOCKER_API_PREFIX) with @p json (NULL: no body);
 * @p c->done is called when the answer is complete.
 */
int docker_call_start(struct docker *d, struct docker_call *c, const char *method, const char *path,
		      const char *json, struct error *err);

/* The same call, blocking up to @p timeout_s, for cleanups after the loop has ended. */
int docker_call_sync(struct docker *d, struct docker_call *c, const char *method, const char *path,
		     long timeout_s, struct error *err);

/* The answer's "message" (the daemon's error text), or the HTTP/transfer failure, in @p buf. */
const char *docker_call_error(const struct docker *d, const struct docker_call *c, char *buf,
			      size_t size);

/* Pause or resume a streaming call's reading. */
void docker_call_resume(struct docker *d, struct docker_call *c);

/* Abort a call in flight (no callback) and free its handle. */
void docker_call_release(struct docker *d, struct docker_call *c);

#endif
