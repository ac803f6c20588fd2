/* /metrics, /healthz, /runners and the web page /ui over HTTP: libmicrohttpd in epoll mode, driven by libev. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>
#include <microhttpd.h>

#include <collector/buffer.h>
#include <collector/event_builder.h>
#include <collector/log.h>
#include <collector/runner.h>

#include "http_endpoint.h"
#include "web_ui.h"

#define APPEND_LITERAL(b, lit) buffer_append((b), (lit), sizeof(lit) - 1)

/*
 * Connections: a scraper, a health check and an operator need a handful. The
 * limits keep a crowd of slow or idle clients from holding every slot: an idle
 * connection is closed after HTTP_IDLE_TIMEOUT_S, and peers on other machines
 * (with --metrics-public) hold at most HTTP_REMOTE_LIMIT of the slots, so a
 * local health check always finds one.
 */
#define HTTP_CONNECTION_LIMIT 256u
#define HTTP_REMOTE_LIMIT 128u
#define HTTP_IDLE_TIMEOUT_S 5u
#define TOKEN_BYTES 32
/*
 * The page's own files and JSON only: no inline script, nothing from another
 * origin (machines may be offline, and a child's text must never run).
 */
#define PAGE_POLICY                                                                     \
	"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " \
	"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

struct http_endpoint {
	struct collector *c;
	struct ev_loop *loop;
	struct MHD_Daemon *daemon;
	ev_io io;
	ev_timer timer;
	char address[80];
	/* What authorizes actions and the detailed /runners; "" when none could be written. */
	char token[2 * TOKEN_BYTES + 1];
	char token_path[256];
	unsigned remote_connections;
	struct web_ui *ui;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *content_type, const struct buffer *body, bool page)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(body->len, body->data, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_X_CONTENT_TYPE_OPTIONS, "nosniff");
	if (page)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY, PAGE_POLICY);
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* Control actions change things: only a peer on this machine may ask for them. */
static bool peer_is_local(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	return info && is_loopback(info->client_addr);
}

/* MHD's accept policy: a remote peer only while remote peers hold fewer than their share. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	const struct http_endpoint *h = cls;

	(void)addrlen;
	return is_loopback(addr) || h->remote_connections < HTTP_REMOTE_LIMIT ? MHD_YES : MHD_NO;
}

/* Counts the remote connections as they open and close. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_endpoint *h = cls;
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	(void)socket_context;
	if (!info || is_loopback(info->client_addr))
		return;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		h->remote_connections++;
	else if (h->remote_connections)
		h->remote_connections--;
}

/* The request carries the token (compared in constant time: it is a secret). */
static bool authorized(const struct http_endpoint *h, struct MHD_Connection *conn)
{
	const char *got = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, HTTP_TOKEN_HEADER);
	size_t n = strlen(h->token);
	unsigned char diff = 0;

	if (!n || !got || strlen(got) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(got[i] ^ h->token[i]);
	return diff == 0;
}

static int error_status(int code)
{
	switch (code) {
	case -ENOENT:
	case -ENOTSUP:
		return MHD_HTTP_NOT_FOUND;
	case -EINVAL:
		return MHD_HTTP_BAD_REQUEST;
	default:
		return MHD_HTTP_CONFLICT;
	}
}

/* POST /runners/NAME/ACTION: {"runner":...,"action":...,"result":...} or {"error":...}. */
static unsigned int control(struct http_endpoint *h, struct MHD_Connection *conn, const char *url,
			    struct buffer *body)
{
	const char *name = url + strlen("/runners/"), *slash = strchr(name, '/');
	char runner[128];
	struct error err = { 0 };
	struct buffer result = { 0 };
	struct event_builder *b = event_builder_new();
	struct span text;
	unsigned int status;
	int rc;

	if (!b)
		return 0;
	event_builder_begin(b);
	if (!peer_is_local(conn)) {
		event_builder_str(b, "error", "actions are only taken from this machine");
		status = MHD_HTTP_FORBIDDEN;
	} else if (!authorized(h, conn)) {
		event_builder_str(b, "error",
				  "actions need the control token (" HTTP_TOKEN_HEADER
				  "), readable only by root and the collector's user");
		status = MHD_HTTP_FORBIDDEN;
	} else if (!slash || slash == name || (size_t)(slash - name) >= sizeof(runner)) {
		event_builder_str(b, "error", "expected POST /runners/NAME/ACTION");
		status = MHD_HTTP_NOT_FOUND;
	} else {
		memcpy(runner, name, (size_t)(slash - name));
		runner[slash - name] = '\0';
		rc = collector_runner_action(h->c, runner, slash + 1, &result, &err);
		event_builder_str(b, "runner", runner);
		event_builder_str(b, "action", slash + 1);
		if (rc < 0)
			event_builder_str(b, "error", err.msg);
		else if (result.len)
			event_builder_raw(b, "result", result.data, result.len);
		else
			event_builder_null(b, "result");
		status = rc < 0 ? (unsigned int)error_status(rc) : MHD_HTTP_OK;
	}
	/* Out of memory: no reply (0), as when the body cannot be made. */
	if (event_builder_finish(b, &text) < 0 || buffer_append(body, text.ptr, text.len) < 0)
		status = 0;
	event_builder_free(b);
	buffer_free(&result);
	return status;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	static int post_seen;
	struct http_endpoint *h = cls;
	struct buffer body = { 0 };
	unsigned int status = MHD_HTTP_OK;
	const char *type = "application/json";
	struct web_ui_reply ui = { 0 };
	enum MHD_Result rc;
	int health = 0, err = 0, answered;

	(void)version;
	(void)upload;
	if (strcmp(method, "POST") == 0 && strncmp(url, "/runners/", 9) == 0) {
		/* First the headers, then the (ignored) body in pieces, then the answer. */
		if (!*state) {
			*state = &post_seen;
			return MHD_YES;
		}
		if (*upload_size) {
			*upload_size = 0;
			return MHD_YES;
		}
		status = control(h, conn, url, &body);
		if (status == 0) {
			buffer_free(&body);
			return MHD_NO;
		}
	} else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		APPEND_LITERAL(&body, "only GET (and POST /runners/NAME/ACTION)\n");
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		type = "text/plain";
		err = 0;
	} else if (strcmp(url, "/metrics") == 0) {
		type = "text/plain; version=0.0.4";
		err = collector_render_metrics(h->c, &body);
	} else if (strcmp(url, "/healthz") == 0) {
		err = collector_render_health(h->c, &body, &health);
		/* A load balancer reads the status code: only failing is unavailable. */
		if (health == RUNNER_FAILING)
			status = MHD_HTTP_SERVICE_UNAVAILABLE;
	} else if (strcmp(url, "/runners") == 0) {
		/* Children's pids and states only for whoever holds the token. */
		err = collector_render_status_view(h->c, &body, authorized(h, conn));
	} else if ((answered = web_ui_answer(h->ui, h->c, url, peer_is_local(conn), &body, &ui)) !=
		   0) {
		err = answered < 0 ? answered : 0;
		status = ui.status;
		type = ui.type;
	} else {
		static const char paths[] = "not found: try /ui, /metrics, /healthz or /runners "
					    "(POST /runners/NAME/ACTION for actions)\n";

		buffer_append(&body, paths, sizeof(paths) - 1);
		status = MHD_HTTP_NOT_FOUND;
		type = "text/plain";
		err = 0;
	}
	if (err < 0) {
		buffer_free(&body);
		return MHD_NO;
	}
	if (strcmp(type, "application/json") == 0)
		APPEND_LITERAL(&body, "\n");
	rc = reply(conn, status, type, &body, ui.page);
	buffer_free(&body);
	return rc;
}

static void run_daemon(struct http_endpoint *h)
{
	MHD_UNSIGNED_LONG_LONG timeout_ms;
	struct pollfd ready = { .fd = h->io.fd, .events = POLLIN };

	/*
	 * Accepting, reading the request and sending the answer are separate
	 * rounds; doing them in one wake-up keeps a scrape from waiting a loop
	 * iteration per round while the pipeline is busy.
	 */
	for (int round = 0; round < 4; round++) {
		MHD_run(h->daemon);
		if (poll(&ready, 1, 0) <= 0)
			break;
	}
	ev_timer_stop(h->loop, &h->timer);
	if (MHD_get_timeout(h->daemon, &timeout_ms) == MHD_YES) {
		ev_timer_set(&h->timer, (double)timeout_ms / 1e3, 0.);
		ev_timer_start(h->loop, &h->timer);
	}
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	run_daemon(w->data);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	run_daemon(w->data);
}

int http_split_address(const char *addr, char *host, size_t host_size, const char **port)
{
	const char *end;

	if (addr[0] == '[') {
		end = strchr(addr, ']');
		*port = end && end[1] == ':' ? end + 2 : NULL;
		addr++;
	} else {
		end = strrchr(addr, ':');
		*port = end ? end + 1 : NULL;
	}
	if (!*port || !**port || (size_t)(end - addr) >= host_size)
		return -EINVAL;
	memcpy(host, addr, (size_t)(end - addr));
	host[end - addr] = '\0';
	return 0;
}

int http_runtime_dir(char *dir, size_t size)
{
	const char *env = getenv("COLLECTOR_RUNTIME_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (env && *env)
		n = snprintf(dir, size, "%s", env);
	else if (geteuid() == 0)
		n = snprintf(dir, size, "/run/collector");
	else if (xdg && *xdg)
		n = snprintf(dir, size, "%s/collector", xdg);
	else
		n = snprintf(dir, size, "/tmp/collector-%u", (unsigned)geteuid());
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int http_token_path(const char *addr, char *path, size_t size)
{
	char dir[192];
	int n;

	if (strchr(addr, '/') || http_runtime_dir(dir, sizeof(dir)) < 0)
		return -EINVAL;
	n = snprintf(path, size, "%s/%s.token", dir, addr);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The runtime directory, made if missing; refused when others could swap files in it. */
static int runtime_dir_ready(char *dir, size_t size, struct error *err)
{
	struct stat st;

	if (http_runtime_dir(dir, size) < 0)
		return error_set(err, ENAMETOOLONG, "the runtime directory's name is too long");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return error_set(err, errno, "%s: %s", dir, strerror(errno));
	if (lstat(dir, &st) < 0)
		return error_set(err, errno, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return error_set(err, EPERM,
				 "%s must be a directory of uid %u that only it can write", dir,
				 (unsigned)geteuid());
	return 0;
}

/*
 * A fresh random token in a file only this user (root or the collector's) can
 * read: whoever reads it may act and see the children. Written under a
 * temporary name and renamed, so a reader never sees half of it.
 */
static int write_token(struct http_endpoint *h, struct error *err)
{
	unsigned char raw[TOKEN_BYTES];
	char dir[192], tmp[sizeof(h->token_path) + 16];
	int fd, rc = 0;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return error_set(err, errno, "getrandom: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(h->token + 2 * i, 3, "%02x", raw[i]);
	if (runtime_dir_ready(dir, sizeof(dir), err) < 0)
		return -err->code;
	if (http_token_path(h->address, h->token_path, sizeof(h->token_path)) < 0)
		return error_set(err, ENAMETOOLONG, "the token file's name is too long");
	snprintf(tmp, sizeof(tmp), "%s.%d", h->token_path, (int)getpid());
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_set(err, errno, "%s: %s", tmp, strerror(errno));
	if (write(fd, h->token, strlen(h->token)) != (ssize_t)strlen(h->token) ||
	    write(fd, "\n", 1) != 1 || close(fd) < 0 || rename(tmp, h->token_path) < 0) {
		rc = error_set(err, errno, "%s: %s", h->token_path, strerror(errno));
		unlink(tmp);
	}
	return rc;
}

/* Without a token file nothing authorizes: reading still works, acting does not. */
static void setup_token(struct http_endpoint *h)
{
	struct error err = { 0 };

	if (write_token(h, &err) == 0)
		return;
	h->token[0] = h->token_path[0] = '\0';
	log_warn("metrics endpoint: no control token (%s): actions and /runners' children are "
		 "refused; fix: make the directory writable by this user only, or set "
		 "COLLECTOR_RUNTIME_DIR",
		 err.msg);
}

/* "HOST:PORT" or "[V6]:PORT" into a bound, listening socket. @return the fd or -errno. */
static int listen_on(const char *addr, bool allow_public, char *bound, size_t bound_size, bool *v6,
		     struct error *err)
{
	char host[64];
	const char *port;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "?";
	int fd, one = 1, rc;

	memset(&ss, 0, sizeof(ss));
	if (http_split_address(addr, host, sizeof(host), &port) < 0)
		return error_set(err, EINVAL, "metrics address '%s': expected HOST:PORT", addr);
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0)
		return error_set(err, EINVAL,
				 "metrics address %s:%s: %s (a numeric address is needed)", host,
				 port, gai_strerror(rc));
	if (!allow_public && !is_loopback(ai->ai_addr)) {
		freeaddrinfo(ai);
		return error_set(err, EINVAL,
				 "metrics address %s:%s is not a loopback address: add "
				 "--metrics-public to serve it to other machines",
				 host, port);
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return error_set(err, errno, "socket: %s", strerror(errno));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0) {
		rc = errno;
		close(fd);
		freeaddrinfo(ai);
		return error_set(err, rc, "metrics address %s:%s: %s", host, port, strerror(rc));
	}
	freeaddrinfo(ai);
	*v6 = ss.ss_family == AF_INET6;
	if (*v6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(bound, bound_size, "[%s]:%u", ip, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(bound, bound_size, "%s:%u", ip, ntohs(a->sin_port));
	}
	return fd;
}

struct http_endpoint *http_endpoint_start(struct collector *c, struct ev_loop *loop,
					  const char *addr, bool allow_public, struct error *err)
{
	struct http_endpoint *h = calloc(1, sizeof(*h));
	const union MHD_DaemonInfo *info;
	bool v6 = false;
	int fd;

	if (h)
		h->ui = web_ui_new();
	if (!h || !h->ui) {
		free(h);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	fd = listen_on(addr, allow_public, h->address, sizeof(h->address), &v6, err);
	if (fd < 0) {
		web_ui_free(h->ui);
		free(h);
		return NULL;
	}
	h->c = c;
	h->loop = loop;
	/* The daemon owns the socket from here; MHD_stop_daemon() closes it. */
	h->daemon = MHD_start_daemon(MHD_USE_EPOLL | (v6 ? MHD_USE_IPv6 : 0), 0, on_accept, h,
				     on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
				     MHD_OPTION_CONNECTION_LIMIT, HTTP_CONNECTION_LIMIT,
				     MHD_OPTION_CONNECTION_TIMEOUT, HTTP_IDLE_TIMEOUT_S,
				     MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				     MHD_OPTION_END);
	info = h->daemon ? MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!info) {
		if (h->daemon)
			MHD_stop_daemon(h->daemon);
		else
			close(fd);
		web_ui_free(h->ui);
		free(h);
		error_set(err, EIO, "metrics address %s: the HTTP server could not start", addr);
		return NULL;
	}
	ev_io_init(&h->io, on_io, info->epoll_fd, EV_READ);
	ev_init(&h->timer, on_timer);
	h->io.data = h->timer.data = h;
	ev_io_start(loop, &h->io);
	setup_token(h);
	log_info("serving /metrics, /healthz and /runners on http://%s (the web page: "
		 "http://%s/ui)",
		 h->address, h->address);
	if (allow_public)
		log_warn("metrics endpoint http://%s is public (--metrics-public): whoever reaches "
			 "it reads the metrics, health, and runner and sink names and states",
			 h->address);
	return h;
}

const char *http_endpoint_address(const struct http_endpoint *h)
{
	return h->address;
}

void http_endpoint_free(struct http_endpoint *h)
{
	if (!h)
		return;
	ev_io_stop(h->loop, &h->io);
	ev_timer_stop(h->loop, &h->timer);
	if (h->token_path[0])
		unlink(h->token_path);
	MHD_stop_daemon(h->daemon);
	web_ui_free(h->ui);
	free(h);
}
