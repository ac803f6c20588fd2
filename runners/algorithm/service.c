/* The gRPC transport of the algorithm service: a completion-queue thread handing events to the loop. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ev.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include <collector/log.h>

#include "service.h"

/* What a finished stop waits for the last answers before cancelling them. */
#define DRAIN_SECONDS 5.0

enum tag_kind { TAG_NEW, TAG_RECV, TAG_SEND, TAG_CLOSE, TAG_SHUTDOWN };

struct svc_tag {
	struct svc_call *call;
	enum tag_kind kind;
};

struct out_msg {
	grpc_byte_buffer *bb;
	struct out_msg *next;
};

struct svc_call {
	struct service *svc;
	grpc_call *call;
	grpc_call_details details;
	grpc_metadata_array request_md;
	const struct svc_method *m;
	void *state;
	int refs;
	struct svc_tag t_new, t_recv, t_send, t_close;
	grpc_byte_buffer *recv_bb;
	int cancelled;
	bool md_sent, sending, sending_msg, finishing, status_sent, ended, end_told;
	struct out_msg *out_head, *out_tail;
	size_t out_len;
	grpc_status_code status;
	grpc_slice status_details;
	grpc_metadata trailer;
	char detail_text[16];
	struct svc_call *prev, *next; /* live calls */
};

struct event_slot {
	struct svc_tag *tag;
	bool ok;
};

struct service {
	struct runner_ctx *ctx;
	struct algorithm *algo;
	grpc_server *server;
	grpc_completion_queue *cq;
	pthread_t thread;
	bool thread_started, grpc_inited;
	ev_async async;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct event_slot *events;
	size_t nevents, cap;
	struct svc_tag t_shutdown;
	bool shutdown_sent, shutdown_done, stopping;
	struct svc_call *live;
	size_t nlive;
	struct svc_counters counters;
	struct svc_lists lists;
	size_t sub_queue;
	struct svc_leases *leases;
	struct svc_sources *sources;
	char unix_path[256];
};

struct algorithm *svc_algo(const struct service *s)
{
	return s->algo;
}

struct service *svc_of(const struct svc_call *c)
{
	return c->svc;
}

void *svc_state(const struct svc_call *c)
{
	return c->state;
}

void svc_set_state(struct svc_call *c, void *state)
{
	c->state = state;
}

bool svc_done(const struct svc_call *c)
{
	return c->finishing || c->ended;
}

size_t svc_queued(const struct svc_call *c)
{
	return c->out_len;
}

bool svc_stopping(const struct service *s)
{
	return s->stopping;
}

struct svc_counters *svc_counters(struct service *s)
{
	return &s->counters;
}

struct svc_lists *svc_lists(struct service *s)
{
	return &s->lists;
}

size_t svc_subscriber_queue(const struct service *s)
{
	return s->sub_queue;
}

struct svc_sources *svc_sources(struct service *s)
{
	return s->sources;
}

struct svc_leases *svc_leases(struct service *s)
{
	return s->leases;
}

bool svc_serving(const struct service *s)
{
	const struct algorithm *a = s->algo;

	if (s->stopping)
		return false;
	for (int i = 0; i < a->ninst; i++)
		if (a->inst[i].state != ALGO_BROKEN)
			return true;
	return false;
}

grpc_status_code svc_status_of(enum algorithm_code code, int *detail)
{
	static const struct {
		grpc_status_code status;
		int detail;
	} map[] = {
		[ALGORITHM_OK] = { GRPC_STATUS_OK, 0 },
		[ALGORITHM_FAILED] = { GRPC_STATUS_ABORTED, SVC_FAILED },
		[ALGORITHM_TIMEOUT] = { GRPC_STATUS_DEADLINE_EXCEEDED, SVC_TIMEOUT },
		[ALGORITHM_CRASHED] = { GRPC_STATUS_UNAVAILABLE, SVC_CRASHED },
		[ALGORITHM_BROKEN] = { GRPC_STATUS_UNAVAILABLE, SVC_BROKEN },
		[ALGORITHM_PROTOCOL] = { GRPC_STATUS_INTERNAL, SVC_PROTOCOL },
		[ALGORITHM_BAD_INPUT] = { GRPC_STATUS_INVALID_ARGUMENT, SVC_BAD_INPUT },
		[ALGORITHM_NO_CAPACITY] = { GRPC_STATUS_RESOURCE_EXHAUSTED, SVC_NO_CAPACITY },
		[ALGORITHM_STOPPED] = { GRPC_STATUS_UNAVAILABLE, SVC_STOPPING },
		[ALGORITHM_BAD_OUTPUT] = { GRPC_STATUS_DATA_LOSS, SVC_BAD_OUTPUT },
	};

	if ((size_t)code >= sizeof(map) / sizeof(map[0])) {
		*detail = SVC_INTERNAL;
		return GRPC_STATUS_INTERNAL;
	}
	*detail = map[code].detail;
	return map[code].status;
}

/* ---- the completion-queue thread: it only hands events to the loop ---- */

static void push_event(struct service *s, struct svc_tag *tag, bool ok)
{
	pthread_mutex_lock(&s->mu);
	if (s->nevents == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct event_slot *e = realloc(s->events, cap * sizeof(*e));

		/* Nowhere to put it: the only safe thing left is to wait for memory. */
		while (!e) {
			pthread_mutex_unlock(&s->mu);
			gpr_sleep_until(gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
						     gpr_time_from_millis(10, GPR_TIMESPAN)));
			pthread_mutex_lock(&s->mu);
			e = realloc(s->events, cap * sizeof(*e));
		}
		s->events = e;
		s->cap = cap;
	}
	s->events[s->nevents++] = (struct event_slot){ tag, ok };
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

static void *cq_thread(void *arg)
{
	struct service *s = arg;

	for (;;) {
		grpc_event ev =
			grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);

		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		push_event(s, ev.tag, ev.success != 0);
		ev_async_send(runner_loop(s->ctx), &s->async);
	}
	return NULL;
}

/* ---- calls ---- */

static void request_call(struct service *s);

static void call_free(struct svc_call *c)
{
	struct service *s = c->svc;

	while (c->out_head) {
		struct out_msg *m = c->out_head;

		c->out_head = m->next;
		grpc_byte_buffer_destroy(m->bb);
		free(m);
	}
	if (c->prev)
		c->prev->next = c->next;
	else if (s->live == c)
		s->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->call) {
		s->nlive--;
		grpc_call_unref(c->call);
	}
	grpc_slice_unref(c->status_details);
	grpc_call_details_destroy(&c->details);
	grpc_metadata_array_destroy(&c->request_md);
	free(c);
}

void svc_ref(struct svc_call *c)
{
	c->refs++;
}

void svc_unref(struct svc_call *c)
{
	if (--c->refs == 0)
		call_free(c);
}

static void start(struct svc_call *c, const grpc_op *ops, size_t n, struct svc_tag *tag)
{
	svc_ref(c);
	if (grpc_call_start_batch(c->call, ops, n, tag, NULL) != GRPC_CALL_OK) {
		log_warn("algorithm service: a gRPC batch was refused (%s)",
			 grpc_slice_to_c_string(c->details.method));
		svc_unref(c);
	}
}

static void arm_recv(struct svc_call *c)
{
	grpc_op recv = { .op = GRPC_OP_RECV_MESSAGE };

	recv.data.recv_message.recv_message = &c->recv_bb;
	start(c, &recv, 1, &c->t_recv);
}

/* The next queued message, or the status once none is left; one send batch at a time. */
static void pump_sends(struct svc_call *c)
{
	grpc_op ops[2];
	size_t n = 0;

	if (c->sending || c->status_sent || c->ended)
		return;
	memset(ops, 0, sizeof(ops));
	if (!c->md_sent) {
		ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
		c->md_sent = true;
	}
	c->sending_msg = c->out_head != NULL;
	if (c->out_head) {
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n++].data.send_message.send_message = c->out_head->bb;
	} else if (c->finishing) {
		ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
		ops[n].data.send_status_from_server.status = c->status;
		ops[n].data.send_status_from_server.status_details = &c->status_details;
		if (c->detail_text[0]) {
			ops[n].data.send_status_from_server.trailing_metadata_count = 1;
			ops[n].data.send_status_from_server.trailing_metadata = &c->trailer;
		}
		n++;
		c->status_sent = true;
	} else if (n == 0) {
		return;
	}
	c->sending = true;
	start(c, ops, n, &c->t_send);
}

bool svc_send(struct svc_call *c, const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	grpc_slice slice = grpc_slice_malloc(len);
	struct out_msg *o;

	if (svc_done(c)) {
		grpc_slice_unref(slice);
		return false;
	}
	protobuf_c_message_pack(m, GRPC_SLICE_START_PTR(slice));
	o = calloc(1, sizeof(*o));
	if (!o) {
		grpc_slice_unref(slice);
		return false;
	}
	o->bb = grpc_raw_byte_buffer_create(&slice, 1);
	grpc_slice_unref(slice);
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
	c->out_len++;
	pump_sends(c);
	return true;
}

void svc_finish(struct svc_call *c, grpc_status_code status, int detail, const char *fmt, ...)
{
	char msg[512] = "";
	va_list ap;

	if (svc_done(c))
		return;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	c->finishing = true;
	c->status = status;
	grpc_slice_unref(c->status_details);
	c->status_details = grpc_slice_from_copied_string(msg);
	if (detail) {
		snprintf(c->detail_text, sizeof(c->detail_text), "%d", detail);
		c->trailer.key = grpc_slice_from_static_string("collector-code");
		c->trailer.value = grpc_slice_from_static_string(c->detail_text);
	}
	pump_sends(c);
}

void svc_bad_request(struct svc_call *c)
{
	svc_finish(c, GRPC_STATUS_INVALID_ARGUMENT, SVC_BAD_INPUT,
		   "the request is not a valid %s message (see collector/algorithm/v1)",
		   c->m->path);
}

static const struct svc_method *find_method(const grpc_slice *path)
{
	const struct svc_method *const *tables[] = { svc_call_methods, svc_stream_methods,
						     svc_source_methods };

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct svc_method *const *m = tables[t]; *m; m++)
			if (grpc_slice_str_cmp(*path, (*m)->path) == 0)
				return *m;
	return NULL;
}

/* A new call: watch for its end, then read its request (or refuse it). */
static void accept_call(struct svc_call *c)
{
	struct service *s = c->svc;
	grpc_op close_op = { .op = GRPC_OP_RECV_CLOSE_ON_SERVER };

	c->prev = NULL;
	c->next = s->live;
	if (s->live)
		s->live->prev = c;
	s->live = c;
	s->nlive++;
	close_op.data.recv_close_on_server.cancelled = &c->cancelled;
	start(c, &close_op, 1, &c->t_close);
	c->m = find_method(&c->details.method);
	if (s->stopping)
		svc_finish(c, GRPC_STATUS_UNAVAILABLE, SVC_STOPPING, "the runner is stopping");
	else if (!c->m)
		svc_finish(c, GRPC_STATUS_UNIMPLEMENTED, 0, "no such method");
	else
		arm_recv(c);
}

static void on_recv(struct svc_call *c, bool ok)
{
	grpc_byte_buffer *bb = c->recv_bb;

	c->recv_bb = NULL;
	if (!ok || c->ended || c->finishing) {
		if (bb)
			grpc_byte_buffer_destroy(bb);
		return;
	}
	if (!bb) {
		if (c->m->on_half_close)
			c->m->on_half_close(c);
		else if (!c->m->client_stream)
			svc_bad_request(c);
		return;
	}
	{
		grpc_byte_buffer_reader r;
		grpc_slice all;

		if (!grpc_byte_buffer_reader_init(&r, bb)) {
			grpc_byte_buffer_destroy(bb);
			svc_bad_request(c);
			return;
		}
		all = grpc_byte_buffer_reader_readall(&r);
		grpc_byte_buffer_reader_destroy(&r);
		grpc_byte_buffer_destroy(bb);
		c->m->on_message(c, GRPC_SLICE_START_PTR(all), GRPC_SLICE_LENGTH(all));
		grpc_slice_unref(all);
	}
	if (c->m->client_stream && !svc_done(c))
		arm_recv(c);
}

static void on_sent(struct svc_call *c, bool ok)
{
	c->sending = false;
	if (c->sending_msg) {
		c->sending_msg = false;
		struct out_msg *m = c->out_head;

		c->out_head = m->next;
		if (!c->out_head)
			c->out_tail = NULL;
		c->out_len--;
		grpc_byte_buffer_destroy(m->bb);
		free(m);
	}
	if (ok)
		pump_sends(c);
}

static void tell_end(struct svc_call *c)
{
	if (c->end_told)
		return;
	c->end_told = true;
	if (c->m && c->m->on_end)
		c->m->on_end(c, c->cancelled != 0);
}

static void handle_event(struct service *s, struct svc_tag *tag, bool ok)
{
	struct svc_call *c = tag->call;

	switch (tag->kind) {
	case TAG_SHUTDOWN:
		s->shutdown_done = true;
		return;
	case TAG_NEW:
		if (!ok) { /* the server is shutting down */
			svc_unref(c);
			return;
		}
		if (!s->stopping)
			request_call(s);
		accept_call(c);
		svc_unref(c); /* the request's reference; the close batch holds one */
		return;
	case TAG_RECV:
		on_recv(c, ok);
		break;
	case TAG_SEND:
		on_sent(c, ok);
		break;
	case TAG_CLOSE:
		c->ended = true;
		tell_end(c);
		break;
	}
	svc_unref(c);
}

static void drain_events(struct service *s)
{
	struct event_slot *batch;
	size_t n;

	pthread_mutex_lock(&s->mu);
	batch = s->events;
	n = s->nevents;
	s->events = NULL;
	s->nevents = s->cap = 0;
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < n; i++)
		handle_event(s, batch[i].tag, batch[i].ok);
	free(batch);
}

static void on_async(struct ev_loop *loop, ev_async *w, int revents)
{
	(void)loop;
	(void)revents;
	drain_events(w->data);
}

static void request_call(struct service *s)
{
	struct svc_call *c = calloc(1, sizeof(*c));

	if (!c) {
		log_error("algorithm service: out of memory: no new gRPC calls are taken");
		return;
	}
	c->svc = s;
	c->refs = 1;
	c->t_new = (struct svc_tag){ c, TAG_NEW };
	c->t_recv = (struct svc_tag){ c, TAG_RECV };
	c->t_send = (struct svc_tag){ c, TAG_SEND };
	c->t_close = (struct svc_tag){ c, TAG_CLOSE };
	c->status_details = grpc_empty_slice();
	grpc_call_details_init(&c->details);
	grpc_metadata_array_init(&c->request_md);
	if (grpc_server_request_call(s->server, &c->call, &c->details, &c->request_md, s->cq, s->cq,
				     &c->t_new) != GRPC_CALL_OK) {
		c->call = NULL;
		call_free(c);
	}
}

/* ---- listening ---- */

static bool loopback(const char *addr)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	size_t n = colon ? (size_t)(colon - addr) : strlen(addr);
	struct in_addr v4;

	if (n >= sizeof(host))
		return false;
	memcpy(host, addr, n);
	host[n] = '\0';
	if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0)
		return true;
	return inet_pton(AF_INET, host, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

static char *read_pem(const char *path, const char *what, struct error *err)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0;

	if (!f) {
		error_set(err, errno, "--%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	if (getdelim(&text, &len, '\0', f) < 0) {
		error_set(err, EINVAL, "--%s %s: cannot read it", what, path);
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

static grpc_server_credentials *tls_credentials(const struct options *o, struct error *err)
{
	char *cert = read_pem(options_str(o, "tls-cert"), "tls-cert", err);
	char *key = cert ? read_pem(options_str(o, "tls-key"), "tls-key", err) : NULL;
	char *ca = NULL;
	grpc_server_credentials *creds = NULL;

	if (key && options_str(o, "tls-client-ca"))
		ca = read_pem(options_str(o, "tls-client-ca"), "tls-client-ca", err);
	if (key && (!options_str(o, "tls-client-ca") || ca)) {
		grpc_ssl_pem_key_cert_pair pair = { key, cert };

		creds = grpc_ssl_server_credentials_create_ex(
			ca, &pair, 1,
			ca ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY :
			     GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
			NULL);
		if (!creds)
			error_set(err, EINVAL, "--tls-cert/--tls-key: gRPC refused them");
	}
	free(cert);
	free(key);
	free(ca);
	return creds;
}

int service_check_options(const struct options *o, struct error *err)
{
	const char *addr = options_str(o, "listen");

	bool is_unix = addr && strncmp(addr, "unix:", 5) == 0;

	if (!addr)
		return options_str(o, "tls-cert") || options_bool(o, "listen-public") ?
			       error_set(err, EINVAL,
					 "--tls-cert and --listen-public need --listen") :
			       0;
	if (!is_unix && !loopback(addr) && !options_bool(o, "listen-public"))
		return error_set(err, EINVAL,
				 "--listen %s is not a loopback address: add --listen-public "
				 "(with --tls-cert and --tls-key) to serve other hosts",
				 addr);
	if (!is_unix && !loopback(addr) &&
	    (!options_str(o, "tls-cert") || !options_str(o, "tls-key")))
		return error_set(err, EINVAL,
				 "--listen-public needs --tls-cert and --tls-key: calls from "
				 "other hosts are not served in clear text");
	if (!!options_str(o, "tls-cert") != !!options_str(o, "tls-key"))
		return error_set(err, EINVAL, "--tls-cert and --tls-key go together");
	if (options_str(o, "tls-client-ca") && !options_str(o, "tls-cert"))
		return error_set(err, EINVAL, "--tls-client-ca needs --tls-cert and --tls-key");
	if (is_unix && strlen(addr + 5) >= sizeof(((struct service *)0)->unix_path))
		return error_set(err, ENAMETOOLONG, "--listen %s: the path is too long", addr);
	return 0;
}

static int bind_server(struct service *s, const struct options *o, const char *addr,
		       struct error *err)
{
	grpc_server_credentials *creds = options_str(o, "tls-cert") ?
						 tls_credentials(o, err) :
						 grpc_insecure_server_credentials_create();
	int port;

	if (!creds)
		return -err->code;
	if (strncmp(addr, "unix:", 5) == 0) {
		snprintf(s->unix_path, sizeof(s->unix_path), "%s", addr + 5);
		unlink(s->unix_path); /* a socket a killed runner left */
	}
	port = grpc_server_add_http2_port(s->server, addr, creds);
	grpc_server_credentials_release(creds);
	if (port == 0)
		return error_set(err, EADDRNOTAVAIL, "--listen %s: cannot listen there", addr);
	if (s->unix_path[0] && chmod(s->unix_path, 0660) < 0)
		return error_set(err, errno, "--listen %s: chmod 0660: %s", addr, strerror(errno));
	if (s->unix_path[0])
		log_info("algorithm: gRPC service collector.algorithm.v1 on %s", addr);
	else
		log_info("algorithm: gRPC service collector.algorithm.v1 on %s (port %d)", addr,
			 port);
	return 0;
}

/* An inline image may be as large as a slot (gRPC's default cap, 4 MiB, refuses a 6.2 MB 1080p RGB frame). */
static grpc_server *server_new(const struct options *o)
{
	int64_t max_msg = options_int(o, "slot-size") + (int64_t)64 * 1024;
	grpc_arg arg = { .type = GRPC_ARG_INTEGER,
			 .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
			 .value.integer = max_msg > INT32_MAX ? INT32_MAX : (int)max_msg };
	grpc_channel_args server_args = { .num_args = 1, .args = &arg };

	return grpc_server_create(&server_args, NULL);
}

int service_start(struct runner_ctx *ctx, struct algorithm *algo, const struct options *o,
		  struct service **out, struct error *err)
{
	const char *addr = options_str(o, "listen");
	struct service *s;
	int rc;

	*out = NULL;
	if (!addr)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return error_set(err, ENOMEM, "out of memory");
	s->ctx = ctx;
	s->algo = algo;
	s->sub_queue = (size_t)options_int(o, "service-queue");
	s->t_shutdown = (struct svc_tag){ NULL, TAG_SHUTDOWN };
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cond, NULL);
	ev_async_init(&s->async, on_async);
	s->async.data = s;
	ev_async_start(runner_loop(ctx), &s->async);
	grpc_init();
	s->grpc_inited = true;
	s->cq = grpc_completion_queue_create_for_next(NULL);
	s->server = server_new(o);
	grpc_server_register_completion_queue(s->server, s->cq, NULL);
	*out = s;
	if ((rc = svc_leases_new(s, &s->leases)) < 0 || (rc = svc_sources_new(s, &s->sources)) < 0)
		return error_set(err, -rc, "out of memory");
	if ((rc = bind_server(s, o, addr, err)) < 0)
		return rc;
	grpc_server_start(s->server);
	if (pthread_create(&s->thread, NULL, cq_thread, s) != 0)
		return error_set(err, EAGAIN, "cannot start the gRPC thread");
	s->thread_started = true;
	request_call(s);
	return 0;
}

void service_stop(struct service *s)
{
	if (!s || s->stopping)
		return;
	s->stopping = true;
	svc_sources_stop(s->sources);
	if (s->server && s->thread_started) {
		grpc_server_shutdown_and_notify(s->server, s->cq, &s->t_shutdown);
		s->shutdown_sent = true;
	}
	/* Streams never end by themselves: they end here, their queued messages first. */
	for (struct svc_call *c = s->live; c; c = c->next)
		if (c->m && c->m->server_stream)
			svc_finish(c, GRPC_STATUS_UNAVAILABLE, SVC_STOPPING,
				   "the runner is stopping");
	svc_streams_health(s);
}

/* Handle events off the loop until the server's shutdown is done or @p secs pass. */
static void wait_shutdown(struct service *s, double secs)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)secs;
	while (!s->shutdown_done) {
		int rc = 0;

		pthread_mutex_lock(&s->mu);
		while (s->nevents == 0 && rc == 0)
			rc = pthread_cond_timedwait(&s->cond, &s->mu, &until);
		pthread_mutex_unlock(&s->mu);
		drain_events(s);
		if (rc != 0)
			return;
	}
}

void service_free(struct service *s)
{
	if (!s)
		return;
	service_stop(s);
	if (s->shutdown_sent) {
		wait_shutdown(s, DRAIN_SECONDS);
		/* Whatever is still open after the drain time is cancelled; the loop is gone. */
		grpc_server_cancel_all_calls(s->server);
		wait_shutdown(s, DRAIN_SECONDS);
	}
	for (struct svc_call *c = s->live; c; c = c->next)
		tell_end(c);
	if (s->server)
		grpc_server_destroy(s->server);
	if (s->cq)
		grpc_completion_queue_shutdown(s->cq);
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	drain_events(s);
	if (s->cq)
		grpc_completion_queue_destroy(s->cq);
	ev_async_stop(runner_loop(s->ctx), &s->async);
	svc_sources_free(s->sources);
	svc_leases_free(s->leases);
	if (s->unix_path[0])
		unlink(s->unix_path);
	if (s->grpc_inited)
		grpc_shutdown_blocking();
	free(s->events);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cond);
	free(s);
}

void service_on_event(struct service *s, const char *type, const char *json, size_t len)
{
	if (s)
		svc_streams_event(s, type, json, len);
}

void service_metrics(struct service *s, struct metrics_writer *w)
{
	if (!s)
		return;
	metrics_add(w, METRIC_GAUGE, "collector_runner_service_calls_open",
		    "algorithm service: gRPC calls and streams open", (double)s->nlive);
	metrics_add(w, METRIC_GAUGE, "collector_runner_service_slots_leased",
		    "algorithm service: pool slots leased by clients and not yet used",
		    svc_leases_held(s->leases));
	metrics_add(w, METRIC_COUNTER, "collector_runner_service_frames_dropped_total",
		    "algorithm service: stream frames refused because the stream was full",
		    (double)s->counters.frames_dropped);
	metrics_add(w, METRIC_COUNTER, "collector_runner_service_results_dropped_total",
		    "algorithm service: results a slow subscriber lost",
		    (double)s->counters.results_dropped);
}
