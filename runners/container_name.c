/* A container's name and main pid from the Docker API (GET /containers/REF/json), with a cache of names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

#include <collector/buffer.h>

#include "container_name.h"

/* A daemon that answers at all answers an inspect at once: don't stall the events longer. */
#define INSPECT_TIMEOUT_MS 1000L
/* Names remembered; a host runs few containers at a time, the oldest entry is replaced. */
#define NAME_CACHE 64

static size_t on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	return buffer_append(arg, p, size * nmemb) == 0 ? size * nmemb : 0;
}

/* GET the inspect JSON of @p ref into @p body. @return the HTTP status, or -1. */
static long inspect_get(const char *socket, const char *ref, struct buffer *body, char *why,
			size_t why_size)
{
	CURL *easy = curl_easy_init();
	char url[512];
	char *escaped;
	long status = -1;
	CURLcode rc;

	if (!easy) {
		snprintf(why, why_size, "out of memory");
		return -1;
	}
	escaped = curl_easy_escape(easy, ref, 0);
	snprintf(url, sizeof(url), "http://localhost/v1.41/containers/%s/json",
		 escaped ? escaped : "");
	curl_free(escaped);
	curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, socket);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, INSPECT_TIMEOUT_MS);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, body);
	rc = curl_easy_perform(easy);
	if (rc == CURLE_OK)
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	else
		snprintf(why, why_size, "%s", curl_easy_strerror(rc));
	curl_easy_cleanup(easy);
	return status;
}

static int from_json(const struct buffer *body, struct docker_container *out)
{
	static const char *id_path[] = { "Id", NULL }, *name_path[] = { "Name", NULL },
			  *pid_path[] = { "State", "Pid", NULL };
	char *text = strndup(body->data ? body->data : "", body->len);
	yajl_val root = text ? yajl_tree_parse(text, NULL, 0) : NULL;
	yajl_val id = yajl_tree_get(root, id_path, yajl_t_string);
	yajl_val name = yajl_tree_get(root, name_path, yajl_t_string);
	yajl_val pid = yajl_tree_get(root, pid_path, yajl_t_number);
	int rc = -EIO;

	free(text);
	const char *id_text = id ? YAJL_GET_STRING(id) : NULL;

	if (id_text && strlen(id_text) == CONTAINER_ID_LEN) {
		const char *n = name && YAJL_GET_STRING(name) ? YAJL_GET_STRING(name) : "";

		snprintf(out->id, sizeof(out->id), "%s", id_text);
		snprintf(out->name, sizeof(out->name), "%s", n[0] == '/' ? n + 1 : n);
		out->pid = pid && YAJL_IS_INTEGER(pid) ? (int)YAJL_GET_INTEGER(pid) : 0;
		rc = 0;
	}
	yajl_tree_free(root);
	return rc;
}

int docker_inspect(const char *socket, const char *ref, struct docker_container *out,
		   struct error *err)
{
	struct buffer body = { 0 };
	char why[256] = "";
	long status = inspect_get(socket, ref, &body, why, sizeof(why));
	int rc;

	if (status == 200)
		rc = from_json(&body, out) == 0 ?
			     0 :
			     error_set(err, EIO, "docker: inspect %s: not an inspect answer", ref);
	else if (status == 404)
		rc = error_set(err, ENOENT, "docker: no container %s (docker ps -a lists them)",
			       ref);
	else if (status > 0)
		rc = error_set(err, EIO, "docker: inspect %s: HTTP %ld", ref, status);
	else
		rc = error_set(err, EIO, "docker: %s does not answer: %s (is dockerd running?)",
			       socket, why);
	buffer_free(&body);
	return rc;
}

const char *docker_name_cached(const char *socket, const char *id)
{
	static struct {
		char id[CONTAINER_ID_LEN + 1];
		char name[128]; /* "" for a miss */
	} cache[NAME_CACHE];
	static unsigned next;
	struct docker_container c;
	unsigned slot;

	for (unsigned i = 0; i < NAME_CACHE; i++)
		if (strcmp(cache[i].id, id) == 0)
			return cache[i].name[0] ? cache[i].name : NULL;
	slot = next++ % NAME_CACHE;
	snprintf(cache[slot].id, sizeof(cache[slot].id), "%s", id);
	cache[slot].name[0] = '\0';
	if (docker_inspect(socket, id, &c, NULL) == 0)
		snprintf(cache[slot].name, sizeof(cache[slot].name), "%s", c.name);
	return cache[slot].name[0] ? cache[slot].name : NULL;
}

const char *container_name(const struct container_ref *c)
{
	return strcmp(c->runtime, "docker") == 0 ? docker_name_cached(DOCKER_SOCKET, c->id) : NULL;
}
