/* `collector status` and `reset-breaker`: ask a running collector's HTTP endpoint, print the answer. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <http_parser.h>
#include <yajl/yajl_tree.h>

#include <collector/buffer.h>
#include <collector/collector.h>
#include <collector/error.h>

#include "http_endpoint.h"
#include "status_client.h"
#include "term_escape.h"

#define STATUS_TIMEOUT_MS 3000
#define STATUS_MAX_BODY (4u << 20)

/* Wait for @events on @fd. @return 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, STATUS_TIMEOUT_MS);

	return n > 0 ? 0 : n == 0 ? -ETIMEDOUT : -errno;
}

static int connect_to(const char *addr, struct error *e)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	char host[64];
	const char *port;
	int fd, err = 0;
	socklen_t len = sizeof(err);

	if (http_split_address(addr, host, sizeof(host), &port) < 0 ||
	    getaddrinfo(host, port, &hints, &ai) != 0)
		return error_set(e, EINVAL, "'%s' is not a numeric HOST:PORT", addr);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
		err = errno;
	else if (fd >= 0 && (err = -wait_fd(fd, POLLOUT)) == 0)
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	freeaddrinfo(ai);
	if (fd < 0 || err) {
		err = fd < 0 ? errno : err;
		if (fd >= 0)
			close(fd);
		return error_set(e, err, "%s: %s", addr, strerror(err));
	}
	return fd;
}

/* The control token, what lets us act and see children. */
struct token {
	char value[80];	   /* "" when it could not be read */
	char problem[512]; /* why not */
};

static int read_token_file(const char *addr, char *value, size_t size)
{
	char path[320];
	ssize_t n;
	int fd;

	if (http_token_path(addr, path, sizeof(path)) < 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, value, size - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	value[n] = '\0';
	value[strcspn(value, "\r\n")] = '\0';
	return 0;
}

/* The token of the endpoint at @addr, also when it listens on every address of the port. */
static void read_token(const char *addr, struct token *t)
{
	char path[320], host[64], wild[80];
	const char *port = NULL;
	int rc = read_token_file(addr, t->value, sizeof(t->value));

	if (rc == -ENOENT && http_split_address(addr, host, sizeof(host), &port) == 0) {
		snprintf(wild, sizeof(wild), "%s:%s", strchr(host, ':') ? "[::]" : "0.0.0.0", port);
		if (read_token_file(wild, t->value, sizeof(t->value)) == 0)
			return;
	}
	if (rc == 0)
		return;
	t->value[0] = '\0';
	if (http_token_path(addr, path, sizeof(path)) < 0)
		snprintf(path, sizeof(path), "(none for '%s')", addr);
	snprintf(t->problem, sizeof(t->problem), "cannot read the control token %s: %s", path,
		 strerror(-rc));
}

/* An answer as http_parser hands it over: its body, NUL-terminated, and whether it ended. */
struct answer {
	struct buffer *body;
	bool complete;
	bool too_large;
};

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct answer *a = p->data;

	if (a->body->len + len > STATUS_MAX_BODY || buffer_append(a->body, at, len) < 0) {
		a->too_large = true;
		return -1;
	}
	return 0;
}

static int on_complete(http_parser *p)
{
	struct answer *a = p->data;

	a->complete = true;
	return 0;
}

/* Feed @len bytes (0: the connection's end) to @p. @return 0 or -1 with @e. */
static int parse_answer(http_parser *p, const char *data, size_t len, const char *addr,
			struct error *e)
{
	static const http_parser_settings settings = { .on_body = on_body,
						       .on_message_complete = on_complete };
	struct answer *a = p->data;

	http_parser_execute(p, &settings, data, len);
	if (a->too_large)
		return error_set(e, EFBIG, "%s: answer too large", addr);
	if (HTTP_PARSER_ERRNO(p) != HPE_OK)
		return error_set(e, EPROTO, "%s: not an HTTP answer (%s)", addr,
				 http_errno_description(HTTP_PARSER_ERRNO(p)));
	return 0;
}

/*
 * One HTTP/1.0 request without a body; the answer's body (NUL-terminated) into @body.
 * @return the HTTP status, or -1 with @e.
 */
static int http_request(const char *addr, const char *method, const char *path,
			const struct token *t, struct buffer *body, struct error *e)
{
	char req[640], chunk[4096], auth[128] = "";
	struct answer a = { .body = body };
	http_parser p;
	int fd, status = -1;
	int n;

	if (t && t->value[0])
		snprintf(auth, sizeof(auth), HTTP_TOKEN_HEADER ": %s\r\n", t->value);
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: %s\r\n%sContent-Length: 0\r\n\r\n",
		     method, path, addr, auth);
	if (n < 0 || (size_t)n >= sizeof(req))
		return error_set(e, E2BIG, "request too long");
	fd = connect_to(addr, e);
	if (fd < 0)
		return -1;
	http_parser_init(&p, HTTP_RESPONSE);
	p.data = &a;
	if (write(fd, req, (size_t)n) != n) {
		error_set(e, errno, "%s: %s", addr, strerror(errno));
		goto out;
	}
	while (!a.complete) {
		ssize_t got = read(fd, chunk, sizeof(chunk));

		if (got < 0 && errno == EAGAIN && wait_fd(fd, POLLIN) == 0)
			continue;
		if (got < 0) {
			error_set(e, errno, "%s: %s", addr,
				  errno == EAGAIN ? "no answer" : strerror(errno));
			goto out;
		}
		if (parse_answer(&p, chunk, (size_t)got, addr, e) < 0)
			goto out;
		if (got == 0)
			break;
	}
	if (!a.complete) {
		error_set(e, EPROTO, "%s: the answer ended early", addr);
		goto out;
	}
	if (buffer_append(body, "", 1) < 0) {
		error_set(e, ENOMEM, "out of memory");
		goto out;
	}
	status = (int)p.status_code;
out:
	close(fd);
	return status;
}

static int http_get(const char *addr, const char *path, const struct token *t, struct buffer *body,
		    struct error *e)
{
	return http_request(addr, "GET", path, t, body, e);
}

static const char *str_at(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_string);

	return v ? YAJL_GET_STRING(v) : "-";
}

static double num_at(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_number);

	return v ? YAJL_GET_DOUBLE(v) : 0;
}

static bool bool_at(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };

	return YAJL_IS_TRUE(yajl_tree_get(obj, path, yajl_t_true));
}

static yajl_val array_at(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };

	return yajl_tree_get(obj, path, yajl_t_array);
}

static size_t array_len(yajl_val v)
{
	return YAJL_IS_ARRAY(v) ? v->u.array.len : 0;
}

static void print_children(yajl_val children, FILE *out)
{
	size_t n = array_len(children);

	for (size_t i = 0; i < n; i++) {
		yajl_val ch = children->u.array.values[i];

		const char *path[] = { "rss_bytes", NULL };

		fprintf(out, "%s%.0f %s", i ? "; " : "", num_at(ch, "pid"), str_at(ch, "state"));
		if (yajl_tree_get(ch, path, yajl_t_number))
			fprintf(out, " (cpu %.2f s, rss %.1f MiB)", num_at(ch, "cpu_seconds"),
				num_at(ch, "rss_bytes") / 1048576.0);
	}
	if (n == 0)
		fputc('-', out);
}

static void print_status(yajl_val root, yajl_val health, FILE *out)
{
	const char *path[] = { "collector", NULL };
	yajl_val c = yajl_tree_get(root, path, yajl_t_object);
	yajl_val runners = array_at(root, "runners"), sinks = array_at(root, "sinks");
	yajl_val reasons = health ? array_at(health, "reasons") : NULL;

	const char *pid[] = { "pid", NULL };

	fprintf(out, "collector %s, ", str_at(c, "version"));
	if (yajl_tree_get(c, pid, yajl_t_number))
		fprintf(out, "pid %.0f, ", num_at(c, "pid"));
	fprintf(out, "up %.1f s, health %s\n", num_at(c, "uptime_seconds"), str_at(c, "health"));
	for (size_t i = 0; i < array_len(reasons); i++)
		if (YAJL_IS_STRING(reasons->u.array.values[i]))
			fprintf(out, "  - %s\n", reasons->u.array.values[i]->u.string);
	fprintf(out, "\n%-16s %-10s %-9s %-9s %10s %8s  %s\n", "RUNNER", "TYPE", "STATUS", "HEALTH",
		"EVENTS", "ERRORS", "CHILDREN");
	for (size_t i = 0; i < array_len(runners); i++) {
		yajl_val r = runners->u.array.values[i];

		fprintf(out, "%-16s %-10s %-9s %-9s %10.0f %8.0f  ", str_at(r, "name"),
			str_at(r, "type"), str_at(r, "status"), str_at(r, "health"),
			num_at(r, "events"), num_at(r, "errors"));
		print_children(array_at(r, "children"), out);
		fputc('\n', out);
	}
	if (array_len(runners) && !array_at(runners->u.array.values[0], "children"))
		fprintf(out, "(children not shown: only root and the collector's user see them)\n");
	fprintf(out, "\n%-16s %-10s %-12s %8s %12s %8s %8s  %s\n", "SINK", "TYPE", "POLICY",
		"QUEUED", "DELIVERED", "FAILED", "DROPPED", "WAITING");
	for (size_t i = 0; i < array_len(sinks); i++) {
		yajl_val s = sinks->u.array.values[i];

		fprintf(out, "%-16s %-10s %-12s %8.0f %12.0f %8.0f %8.0f  %s\n", str_at(s, "name"),
			str_at(s, "type"), str_at(s, "policy"), num_at(s, "queued"),
			num_at(s, "delivered"), num_at(s, "failed"), num_at(s, "dropped"),
			bool_at(s, "waiting") ? "yes" : "no");
	}
}

int status_client_print(const char *addr, FILE *out)
{
	struct buffer body = { 0 }, hbody = { 0 };
	char err[256];
	struct error e = { 0 }, ignored = { 0 };
	yajl_val root = NULL, health = NULL;
	struct token t = { 0 };
	int status, rc = COLLECTOR_EXIT_FAILED;

	read_token(addr, &t);
	status = http_get(addr, "/runners", &t, &body, &e);

	if (status != 200) {
		fprintf(stderr, "collector: status: %s\n",
			status < 0 ? e.msg : "unexpected HTTP status from /runners");
		if (status < 0)
			fprintf(stderr,
				"collector: status: is a collector running with --metrics%s%s?\n",
				strcmp(addr, "127.0.0.1:9477") ? "=" : "",
				strcmp(addr, "127.0.0.1:9477") ? addr : "");
		goto out;
	}
	root = yajl_tree_parse(body.data, err, sizeof(err));
	/* /healthz answers 503 when failing: its body still says why. */
	if (http_get(addr, "/healthz", NULL, &hbody, &ignored) > 0)
		health = yajl_tree_parse(hbody.data, err, sizeof(err));
	/* Names and reasons come from configurations and children: escaped for the terminal. */
	term_escape_tree(root);
	term_escape_tree(health);
	if (!root) {
		fprintf(stderr, "collector: status: /runners is not JSON\n");
		goto out;
	}
	print_status(root, health, out);
	rc = 0;
out:
	yajl_tree_free(root);
	yajl_tree_free(health);
	buffer_free(&body);
	buffer_free(&hbody);
	return rc;
}

int status_client_action(const char *addr, const char *runner, const char *action, FILE *out)
{
	struct buffer body = { 0 };
	char path[256], err[256];
	struct error e = { 0 };
	yajl_val root = NULL;
	const char *result[] = { "result", NULL }, *error[] = { "error", NULL };
	yajl_val v;
	struct token t = { 0 };
	int status, rc = COLLECTOR_EXIT_FAILED;

	if (strchr(runner, '/') ||
	    snprintf(path, sizeof(path), "/runners/%s/%s", runner, action) >= (int)sizeof(path)) {
		fprintf(stderr, "collector: %s: '%s' is not a runner name\n", action, runner);
		return COLLECTOR_EXIT_USAGE;
	}
	read_token(addr, &t);
	status = http_request(addr, "POST", path, &t, &body, &e);
	if (status < 0) {
		fprintf(stderr, "collector: %s: %s\n", action, e.msg);
		fprintf(stderr, "collector: %s: is a collector running with --metrics%s%s?\n",
			action, strcmp(addr, "127.0.0.1:9477") ? "=" : "",
			strcmp(addr, "127.0.0.1:9477") ? addr : "");
		goto out;
	}
	root = yajl_tree_parse(body.data, err, sizeof(err));
	if (status != 200) {
		term_escape_tree(root);
		v = root ? yajl_tree_get(root, error, yajl_t_string) : NULL;
		fprintf(stderr, "collector: %s %s: %s (HTTP %d)\n", action, runner,
			v ? YAJL_GET_STRING(v) : "unexpected answer", status);
		if (status == 403 && !t.value[0])
			fprintf(stderr,
				"collector: %s: %s (run it as root or as the collector's user)\n",
				action, t.problem);
		goto out;
	}
	v = root ? yajl_tree_get(root, result, yajl_t_any) : NULL;
	if (!v) {
		fprintf(stderr, "collector: %s: the answer is not JSON with a result\n", action);
		goto out;
	}
	fputs(body.data, out);
	rc = 0;
out:
	yajl_tree_free(root);
	buffer_free(&body);
	return rc;
}
