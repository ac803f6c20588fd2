/* The Docker Engine API over the daemon's unix socket, with libcurl on the loop: one call, one callback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "docker_api.h"

/* An answer bigger than this is not one the runner needs (inspect is a few KiB). */
#define ANSWER_MAX ((size_t)1024 * 1024)

static size_t on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct docker_call *c = arg;
	size_t n = size * nmemb;

	if (c->on_data)
		return c->on_data(c->arg, p, n) ? n : CURL_WRITEFUNC_PAUSE;
	if (c->answer.len + n > ANSWER_MAX || buffer_append(&c->answer, p, n) < 0)
		return 0;
	return n;
}

/* The blank line after the headers: the daemon has the attach stream open. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct docker_call *c = arg;
	size_t n = size * nmemb;

	if (n <= 2 && !c->headers_done && (p[0] == '\r' || p[0] == '\n')) {
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
		/* 1xx is not the answer (libcurl hands us "100 Continue" too). */
		if (c->status >= 200) {
			c->headers_done = true;
			if (c->on_headers)
				c->on_headers(c->arg);
		}
	}
	return n;
}

static void on_done(void *arg, CURL *easy, CURLcode rc)
{
	struct docker_call *c = arg;

	c->in_flight = false;
	c->rc = rc;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &c->status);
	c->done(c->arg, c);
}

static void reset(struct docker_call *c)
{
	if (c->easy)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	free(c->body_out);
	buffer_free(&c->answer);
	c->easy = NULL;
	c->headers = NULL;
	c->body_out = NULL;
	c->status = 0;
	c->rc = CURLE_OK;
	c->headers_done = false;
}

static int prepare(struct docker *d, struct docker_call *c, const char *method, const char *path,
		   const char *json, struct error *err)
{
	char url[2048];

	reset(c);
	if (!(c->easy = curl_easy_init()))
		return error_set(err, ENOMEM, "out of memory");
	snprintf(url, sizeof(url), "http://docker" DOCKER_API_PREFIX "%s", path);
	curl_easy_setopt(c->easy, CURLOPT_UNIX_SOCKET_PATH, d->socket);
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	if (json) {
		if (!(c->body_out = strdup(json)) ||
		    !(c->headers = curl_slist_append(NULL, "Content-Type: application/json")))
			return error_set(err, ENOMEM, "out of memory");
		curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body_out);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, "");
	}
	return 0;
}

int docker_call_start(struct docker *d, struct docker_call *c, const char *method, const char *path,
		      const char *json, struct error *err)
{
	int rc = prepare(d, c, method, path, json, err);

	if (rc == 0)
		rc = curl_ev_add(d->m, c->easy, on_done, c, err);
	c->in_flight = rc == 0;
	return rc;
}

int docker_call_sync(struct docker *d, struct docker_call *c, const char *method, const char *path,
		     long timeout_s, struct error *err)
{
	int rc = prepare(d, c, method, path, NULL, err);

	if (rc < 0)
		return rc;
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT, timeout_s);
	c->rc = curl_easy_perform(c->easy);
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &c->status);
	if (c->rc != CURLE_OK)
		return error_set(err, EIO, "%s", curl_easy_strerror(c->rc));
	return 0;
}

const char *docker_call_error(const struct docker *d, const struct docker_call *c, char *buf,
			      size_t size)
{
	static const char *key[] = { "message", NULL };
	yajl_val v = NULL, msg;
	char text[4096]; /* an error message is short; the rest of the answer is not needed */

	if (c->rc != CURLE_OK && c->rc != CURLE_WRITE_ERROR) {
		if (c->rc == CURLE_COULDNT_CONNECT || c->rc == CURLE_OPERATION_TIMEDOUT)
			snprintf(buf, size,
				 "cannot reach the Docker daemon at %s: %s (is dockerd running? "
				 "--socket names another)",
				 d->socket, curl_easy_strerror(c->rc));
		else
			snprintf(buf, size, "%s: %s", c->what, curl_easy_strerror(c->rc));
		return buf;
	}
	if (c->answer.len) {
		size_t n = c->answer.len < sizeof(text) - 1 ? c->answer.len : sizeof(text) - 1;

		memcpy(text, c->answer.data, n);
		text[n] = '\0';
		v = yajl_tree_parse(text, NULL, 0);
	}
	msg = v ? yajl_tree_get(v, key, yajl_t_string) : NULL;
	snprintf(buf, size, "%s: the daemon answered %ld%s%s", c->what, c->status, msg ? ": " : "",
		 msg ? YAJL_GET_STRING(msg) : "");
	yajl_tree_free(v);
	return buf;
}

void docker_call_resume(struct docker *d, struct docker_call *c)
{
	if (c->in_flight) {
		curl_easy_pause(c->easy, CURLPAUSE_CONT);
		curl_ev_kick(d->m);
	}
}

void docker_call_release(struct docker *d, struct docker_call *c)
{
	if (c->in_flight && d->m)
		curl_ev_remove(d->m, c->easy);
	c->in_flight = false;
	reset(c);
}
