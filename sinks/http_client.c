/* An HTTP client: libcurl's multi socket interface on a libev loop, with retries and backoff. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include <collector/buffer.h>
#include <collector/sink.h>

#include "http_client.h"

/* The end's drain looks at its stop condition this often. */
#define DRAIN_SLICE_S 0.1

struct http_request {
	struct http_client *c;
	struct http_request *prev, *next; /* the client's list of pending requests */
	CURL *easy;
	char *body;
	size_t len;
	struct buffer resp;
	struct http_retry retry;
	ev_timer backoff; /* waiting for the next attempt */
	int64_t first_ns; /* monotonic time of the first attempt */
	int attempts;
	http_done_fn done;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
};

/* One socket libcurl asked us to watch. */
struct http_socket {
	ev_io io;
	struct http_client *c;
};

struct http_client {
	struct ev_loop *loop;
	CURLM *multi;
	struct http_tls tls;
	ev_timer timeout; /* libcurl's own timer (CURLMOPT_TIMERFUNCTION) */
	struct http_request *pending;
	size_t npending;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t http_backoff_ms(const struct http_retry *retry, int attempt)
{
	int64_t ms = retry->base_ms;

	for (int i = 1; i < attempt && ms < retry->cap_ms; i++)
		ms *= 2;
	return ms < retry->cap_ms ? ms : retry->cap_ms;
}

static void check_done(struct http_client *c);

static void on_socket_event(struct ev_loop *loop, ev_io *w, int revents)
{
	struct http_socket *s = w->data;
	/* The action may remove the socket (CURL_POLL_REMOVE frees @s): keep the client. */
	struct http_client *c = s->c;
	int flags = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
		    (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;

	(void)loop;
	curl_multi_socket_action(c->multi, w->fd, flags, &running);
	check_done(c);
}

static void on_curl_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_client *c = w->data;
	int running;

	(void)loop;
	(void)revents;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

/* CURLMOPT_SOCKETFUNCTION: watch @p fd for what libcurl wants, or stop watching it. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_client *c = userp;
	struct http_socket *s = socketp;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			ev_io_stop(c->loop, &s->io);
			free(s);
			curl_multi_assign(c->multi, fd, NULL);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1; /* libcurl fails the transfer: it comes back as an error */
		s->c = c;
		ev_init(&s->io, on_socket_event);
		s->io.data = s;
		curl_multi_assign(c->multi, fd, s);
	}
	ev_io_stop(c->loop, &s->io);
	ev_io_set(&s->io, fd,
		  (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0));
	ev_io_start(c->loop, &s->io);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer for the whole multi handle. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *c = userp;

	(void)multi;
	ev_timer_stop(c->loop, &c->timeout);
	if (timeout_ms >= 0) {
		ev_timer_set(&c->timeout, (double)timeout_ms / 1000., 0.);
		ev_timer_start(c->loop, &c->timeout);
	}
	return 0;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_request *r = userdata;
	size_t n = size * nmemb, room = HTTP_RESPONSE_MAX - r->resp.len;

	/* Past the bound the rest is read and dropped: the status is what counts. */
	if (buffer_append(&r->resp, ptr, n < room ? n : room) < 0)
		return 0;
	return n;
}

struct http_client *http_client_new(struct ev_loop *loop, const struct http_tls *tls,
				    struct error *err)
{
	struct http_client *c;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		error_set(err, EIO, "libcurl: global init failed");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->multi = curl_multi_init())) {
		free(c);
		curl_global_cleanup();
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	c->loop = loop;
	if (tls)
		c->tls = *tls;
	ev_init(&c->timeout, on_curl_timeout);
	c->timeout.data = c;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return c;
}

static void unlink_request(struct http_request *r)
{
	struct http_client *c = r->c;

	if (r->prev)
		r->prev->next = r->next;
	else
		c->pending = r->next;
	if (r->next)
		r->next->prev = r->prev;
	c->npending--;
}

static void free_request(struct http_request *r)
{
	ev_timer_stop(r->c->loop, &r->backoff);
	if (r->easy) {
		curl_multi_remove_handle(r->c->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	buffer_free(&r->resp);
	free(r->body);
	free(r);
}

static int send_attempt(struct http_request *r)
{
	r->resp.len = 0;
	r->errbuf[0] = '\0';
	r->attempts++;
	if (curl_multi_add_handle(r->c->multi, r->easy) != CURLM_OK)
		return -ENOMEM;
	return 0;
}

static void finish(struct http_request *r, long status, const char *error)
{
	struct http_result res = {
		.status = status,
		.error = error,
		.body = r->resp.data,
		.body_len = r->resp.len,
		.attempts = r->attempts,
	};

	unlink_request(r);
	r->done(r->arg, &res);
	free_request(r);
}

static void on_backoff(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct http_request *r = w->data;

	(void)loop;
	(void)revents;
	if (send_attempt(r) < 0)
		finish(r, 0, "cannot add the request to libcurl");
}

static bool status_retryable(const struct http_retry *retry, long status)
{
	if (status == 429 || status == 502 || status == 503 || status == 504)
		return true;
	return retry->retry_all_5xx && status >= 500 && status <= 599;
}

/*
 * A transport error that may pass (the server restarting, a reset, a
 * timeout); a refused certificate or a bad URL would fail the same way again.
 */
static bool code_retryable(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

/* Retry @p r after its backoff (or its Retry-After) if its budget allows; false when spent. */
static bool schedule_retry(struct http_request *r, curl_off_t retry_after_s)
{
	int64_t delay_ms = http_backoff_ms(&r->retry, r->attempts);
	int64_t spent_ms = (mono_ns() - r->first_ns) / 1000000;

	if (retry_after_s > 0 && retry_after_s * 1000 > delay_ms)
		delay_ms = (int64_t)retry_after_s * 1000;
	if (spent_ms + delay_ms > r->retry.budget_ms)
		return false;
	ev_timer_set(&r->backoff, (double)delay_ms / 1000., 0.);
	ev_timer_start(r->c->loop, &r->backoff);
	return true;
}

static void complete(struct http_request *r, CURLcode code)
{
	long status = 0;
	curl_off_t retry_after = 0;
	const char *error = NULL;

	curl_multi_remove_handle(r->c->multi, r->easy);
	if (code == CURLE_OK) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &retry_after);
		if (status_retryable(&r->retry, status) && schedule_retry(r, retry_after))
			return;
	} else {
		error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(code);
		if (code_retryable(code) && schedule_retry(r, 0))
			return;
	}
	finish(r, status, error);
}

static void check_done(struct http_client *c)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(c->multi, &left))) {
		char *r = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &r);
		complete((struct http_request *)r, msg->data.result);
	}
}

static int set_options(struct http_request *r, const char *url, const struct curl_slist *headers)
{
	const struct http_tls *tls = &r->c->tls;
	CURL *e = r->easy;
	CURLcode rc = CURLE_OK;

	/* The first failing setopt wins; later ones are skipped by the && chain. */
	(void)((rc = curl_easy_setopt(e, CURLOPT_URL, url)) == CURLE_OK &&
	       (rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https")) == CURLE_OK &&
	       (rc = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L)) == CURLE_OK &&
	       (rc = curl_easy_setopt(e, CURLOPT_POST, 1L)) == CURLE_OK &&
	       (rc = curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body)) == CURLE_OK &&
	       (rc = curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len)) ==
		       CURLE_OK &&
	       (rc = curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers)) == CURLE_OK &&
	       (rc = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body)) == CURLE_OK &&
	       (rc = curl_easy_setopt(e, CURLOPT_WRITEDATA, r)) == CURLE_OK &&
	       (rc = curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf)) == CURLE_OK &&
	       (rc = curl_easy_setopt(e, CURLOPT_PRIVATE, r)) == CURLE_OK &&
	       (rc = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)r->retry.timeout_ms)) ==
		       CURLE_OK &&
	       (!tls->ca || (rc = curl_easy_setopt(e, CURLOPT_CAINFO, tls->ca)) == CURLE_OK) &&
	       (!tls->cert || (rc = curl_easy_setopt(e, CURLOPT_SSLCERT, tls->cert)) == CURLE_OK) &&
	       (!tls->key || (rc = curl_easy_setopt(e, CURLOPT_SSLKEY, tls->key)) == CURLE_OK) &&
	       (!tls->insecure ||
		((rc = curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L)) == CURLE_OK &&
		 (rc = curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L)) == CURLE_OK)));
	return rc == CURLE_OK ? 0 : -EINVAL;
}

int http_client_post(struct http_client *c, const char *url, const struct curl_slist *headers,
		     char *body, size_t len, const struct http_retry *retry, http_done_fn done,
		     void *arg)
{
	struct http_request *r = calloc(1, sizeof(*r));

	if (!r) {
		free(body);
		return -ENOMEM;
	}
	r->c = c;
	r->body = body;
	r->len = len;
	r->retry = *retry;
	r->done = done;
	r->arg = arg;
	r->first_ns = mono_ns();
	ev_init(&r->backoff, on_backoff);
	r->backoff.data = r;
	r->next = c->pending;
	if (c->pending)
		c->pending->prev = r;
	c->pending = r;
	c->npending++;
	if (!(r->easy = curl_easy_init()) || set_options(r, url, headers) < 0 ||
	    send_attempt(r) < 0) {
		unlink_request(r);
		free_request(r);
		return -ENOMEM;
	}
	return 0;
}

size_t http_client_pending(const struct http_client *c)
{
	return c->npending;
}

static void on_drain_slice(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

size_t http_client_finish(struct http_client *c, int64_t timeout_ms, struct sink_ctx *ctx)
{
	int64_t end_ns = mono_ns() + timeout_ms * 1000000;
	ev_timer slice;

	/* No more waiting for backoffs: each waiting request gets its next attempt now. */
	for (struct http_request *r = c->pending; r; r = r->next)
		if (ev_is_active(&r->backoff)) {
			ev_timer_stop(c->loop, &r->backoff);
			ev_feed_event(c->loop, &r->backoff, EV_TIMER);
		}
	ev_timer_init(&slice, on_drain_slice, DRAIN_SLICE_S, DRAIN_SLICE_S);
	ev_timer_start(c->loop, &slice);
	while (c->npending && mono_ns() < end_ns && !sink_stop_now(ctx))
		ev_run(c->loop, EVRUN_ONCE);
	ev_timer_stop(c->loop, &slice);
	if (c->npending)
		sink_report_error(ctx, "%s; %zu requests not completed",
				  sink_stop_now(ctx) ? "stopped by a signal" : "flush timed out",
				  c->npending);
	return c->npending;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	for (struct http_request *r = c->pending, *next; r; r = next) {
		next = r->next;
		free_request(r);
	}
	c->pending = NULL;
	c->npending = 0;
	ev_timer_stop(c->loop, &c->timeout);
	curl_multi_cleanup(c->multi);
	free(c);
	curl_global_cleanup();
}

struct http_tls http_tls_from_options(const struct options *opts)
{
	return (struct http_tls){
		.ca = options_str(opts, "ca"),
		.cert = options_str(opts, "cert"),
		.key = options_str(opts, "key"),
		.insecure = options_bool(opts, "insecure"),
	};
}
