/* The kafka sink: events produced with librdkafka, delivered only once their delivery report says so. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <ev.h>
#include <librdkafka/rdkafka.h>
#include <yajl/yajl_parse.h>

#include <collector/buffer.h>
#include <collector/event_encoder.h>
#include <collector/log.h>
#include <collector/sink.h>

#include "kafka_url.h"

/* The last flush waits in slices this long, to notice a stop signal. */
#define KAFKA_FLUSH_SLICE_MS 100

/* An event field a message key or header comes from. */
enum field {
	FIELD_NONE, /* key=none */
	FIELD_TYPE,
	FIELD_RUNNER,
	FIELD_COMM,
	FIELD_PID,
	FIELD_SEQ,
	FIELD_ID,
	FIELD_DATA, /* key=FIELD: a top-level member of data */
};

static const char *const field_names[] = {
	[FIELD_TYPE] = "type", [FIELD_RUNNER] = "runner", [FIELD_COMM] = "comm",
	[FIELD_PID] = "pid",   [FIELD_SEQ] = "seq",	  [FIELD_ID] = "id",
};

/* Most headers=: each envelope field once. */
#define KAFKA_MAX_HEADERS (FIELD_ID - FIELD_TYPE + 1)

/*
 * Most messages collected for one rd_kafka_produce_batch(): one call, one
 * clock read and one topic lock for all of them, where rd_kafka_producev()
 * takes each per message (bench-sinks, see docs/sinks.md).
 */
#define KAFKA_BATCH 1024

/* librdkafka's queue.buffering.max.messages unless -X says otherwise. */
#define KAFKA_QUEUE_MESSAGES "20000"

/* Room for any field's text (field_text()): an id and its NUL. */
#define FIELD_TEXT_MAX (EVENT_ID_TEXT + 1)

/* Where the scan of one event's data for the key=FIELD member stands. */
struct field_scan {
	const char *name;
	size_t name_len;
	struct buffer *out;
	int depth;
	bool at_field; /* the next value is the member's */
	bool done;     /* the member was seen: the rest of the data is skipped */
	int rc;
};

struct kafka_sink {
	struct sink_ctx *ctx;
	rd_kafka_t *rk;
	rd_kafka_queue_t *main_q;
	rd_kafka_topic_t *rkt; /* held for the sink's life: no lookup by name per message */
	char *topic;
	char *key; /* key=FIELD of data (FIELD_DATA) */
	struct event_encoder *enc;
	/* The messages written since the last produce: each value, its newline, its key. */
	struct buffer batch_bytes;
	rd_kafka_message_t batch[KAFKA_BATCH];	     /* len, key_len, the ticket in _private */
	size_t batch_off[KAFKA_BATCH];		     /* where each value starts in batch_bytes */
	rd_kafka_headers_t *batch_hdrs[KAFKA_BATCH]; /* headers=: ours until produced */
	size_t n_batch;
	struct buffer key_buf;
	struct field_scan scan; /* key=FIELD of data: the parser's context */
	yajl_handle scanner;
	int wake_fds[2]; /* librdkafka writes to [1] when its main queue gets work */
	ev_io wake;
	uint64_t outstanding; /* produced, delivery report pending */
	uint64_t delivered;
	uint64_t failed;
	uint64_t wake_below; /* sink_ready() once outstanding is down to this */
	int64_t flush_timeout_ms;
	int broker_nice;      /* niceness added to librdkafka's broker threads */
	enum field key_field; /* no key rule: FIELD_ID, so the event id is the key */
	enum field headers[KAFKA_MAX_HEADERS];
	size_t n_headers; /* headers=: none unless configured (a list per message costs) */
	bool want_ready;  /* write or flush said -EAGAIN */
	bool ending;	  /* destroy: no more sink_ready() */
};

static const struct option_spec kafka_options[] = {
	{ .name = "url",
	  .type = OPT_STRING,
	  .help = "kafka://HOST:PORT[,HOST:PORT]/TOPIC?key=FIELD&headers=type,runner&acks=all&"
		  "compression=zstd" },
	{ .name = "brokers",
	  .type = OPT_STRING,
	  .help = "HOST:PORT[,HOST:PORT] (overrides the URL's)" },
	{ .name = "topic", .type = OPT_STRING, .help = "topic (overrides the URL's)" },
	{ .name = "key",
	  .type = OPT_STRING,
	  .help = "event field for the message key: type, runner, comm, pid, seq or a data field "
		  "(default: the event id; none: no key)" },
	{ .name = "headers",
	  .type = OPT_STRING,
	  .help = "event fields sent as message headers, a comma list of type, runner, comm, pid, "
		  "seq, id (default none)" },
	{ .name = "acks", .type = OPT_STRING, .help = "librdkafka acks (default all)" },
	{ .name = "compression",
	  .type = OPT_ENUM,
	  .choices = "none|gzip|snappy|lz4|zstd",
	  .help = "compression codec (default none)" },
	{ .name = "X",
	  .short_name = 'X',
	  .type = OPT_STRING,
	  .repeat = true,
	  .cli_global = true,
	  .help = "PROP=VALUE: a librdkafka property, as kcat -X (repeatable)" },
	{ .name = "broker-nice",
	  .type = OPT_INT,
	  .def = "5",
	  .help = "niceness added to librdkafka's broker threads, which busy-poll while requests "
		  "are in flight, so the loop feeding them keeps the CPU (0: none)" },
	{ .name = "flush-timeout",
	  .type = OPT_DURATION,
	  .def = "10s",
	  .help = "at the end, how long to wait for outstanding delivery reports" },
	SINK_SPOOL_OPTIONS,
	{ 0 },
};

static void wake_core(struct kafka_sink *s)
{
	if (s->want_ready && !s->ending) {
		s->want_ready = false;
		sink_ready(s->ctx);
	}
}

/* Served from rd_kafka_poll() on the loop's thread. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kafka_sink *s = opaque;
	bool ok = m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
	uint64_t ticket;

	(void)rk;
	s->outstanding--;
	/* Partitions complete out of order: settle this very event (a spool acks exactly it). */
	memcpy(&ticket, &m->_private, sizeof(ticket));
	sink_delivery_settle(s->ctx, ticket, ok);
	if (ok) {
		s->delivered++;
		return;
	}
	s->failed++;
	if (s->failed <= 10 || s->failed % 10000 == 0)
		sink_report_error(s->ctx,
				  "delivery failed after retries: %s (%" PRIu64 " failed so far)",
				  rd_kafka_err2str(m->err), s->failed);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_sink *s = opaque;

	(void)rk;
	sink_report_error(s->ctx, "%s%s: %s", err == RD_KAFKA_RESP_ERR__FATAL ? "fatal: " : "",
			  rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/*
 * librdkafka's own log lines (it prints "%3|...|FAIL|..." on stderr by default) go
 * through the collector's log at their syslog level. What the error callback or the
 * final flush already reports (a failed connection, messages left at the end) is
 * said there once; librdkafka's line for it is kept for --log-level debug.
 * Called on librdkafka's threads: the log is thread-safe.
 */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	const struct kafka_sink *s = rd_kafka_opaque(rk);
	bool said = strcmp(fac, "FAIL") == 0 || strcmp(fac, "TERMINATE") == 0 ||
		    strcmp(fac, "ERROR") == 0;
	enum log_level lvl = said	? LOG_DEBUG :
			     level <= 3 ? LOG_ERROR :
			     level == 4 ? LOG_WARN :
			     level <= 6 ? LOG_INFO :
					  LOG_DEBUG;

	log_msg(lvl, "sink %s: librdkafka %s: %s", s ? sink_name(s->ctx) : "kafka", fac, buf);
}

/* Serve the delivery reports waiting (on_delivery() passes each on to the core). */
static void poll_all(struct kafka_sink *s)
{
	while (rd_kafka_poll(s->rk, 0) > 0)
		;
	if (s->outstanding <= s->wake_below)
		wake_core(s);
}

/*
 * librdkafka's queue is full: ask for sink_ready() once half of what is
 * outstanding has its report, so the core writes on while the rest is in flight.
 */
static int wait_for_reports(struct kafka_sink *s)
{
	s->want_ready = true;
	s->wake_below = s->outstanding / 2;
	return -EAGAIN;
}

static void on_wake(struct ev_loop *loop, ev_io *w, int revents)
{
	struct kafka_sink *s = w->data;
	char buf[256];

	(void)loop;
	(void)revents;
	while (read(s->wake_fds[0], buf, sizeof(buf)) > 0)
		;
	poll_all(s);
}

/*
 * In a librdkafka broker thread as it starts. While the in-flight limit is
 * reached those threads poll their sockets with a zero timeout in a loop;
 * at equal priority that spin takes the CPU from the loop thread, which has
 * to produce the messages they send.
 */
static rd_kafka_resp_err_t on_thread_start(rd_kafka_t *rk, rd_kafka_thread_type_t type,
					   const char *name, void *opaque)
{
	struct kafka_sink *s = opaque;
	id_t tid = (id_t)gettid();
	int nice;

	(void)rk;
	(void)name;
	if (type != RD_KAFKA_THREAD_BROKER || s->broker_nice == 0)
		return RD_KAFKA_RESP_ERR_NO_ERROR;
	errno = 0;
	nice = getpriority(PRIO_PROCESS, tid) + s->broker_nice;
	if (errno == 0)
		setpriority(PRIO_PROCESS, tid, nice > 19 ? 19 : nice);
	return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf, void *opaque,
				  char *errstr, size_t errstr_size)
{
	(void)conf;
	(void)errstr;
	(void)errstr_size;
	return rd_kafka_interceptor_add_on_thread_start(rk, "collector", on_thread_start, opaque);
}

static int set_prop(rd_kafka_conf_t *conf, const char *name, const char *value, struct error *err)
{
	char msg[512];

	if (rd_kafka_conf_set(conf, name, value, msg, sizeof(msg)) != RD_KAFKA_CONF_OK)
		return error_set(err, EINVAL, "%s=%s: %s", name, value, msg);
	return 0;
}

static int set_x(rd_kafka_conf_t *conf, const char *pv, struct error *err)
{
	const char *eq = strchr(pv, '=');
	char name[256];

	if (!eq || eq == pv || (size_t)(eq - pv) >= sizeof(name))
		return error_set(err, EINVAL, "-X '%s': expected PROP=VALUE", pv);
	memcpy(name, pv, (size_t)(eq - pv));
	name[eq - pv] = '\0';
	return set_prop(conf, name, eq + 1, err);
}

static const char *pick(const struct options *opts, const char *name, const char *from_url,
			const char *def)
{
	const char *v = options_str(opts, name);

	return v ? v : from_url ? from_url : def;
}

static rd_kafka_conf_t *make_conf(struct kafka_sink *s, const struct options *opts,
				  const struct kafka_url *url, struct error *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	const char *brokers = pick(opts, "brokers", url->brokers, NULL);
	char *const *xs = options_list(opts, "X", NULL);

	if (!brokers) {
		error_set(err, EINVAL, "kafka sink needs brokers (kafka://HOST:PORT/TOPIC)");
		goto fail;
	}
	if (set_prop(conf, "bootstrap.servers", brokers, err) < 0 ||
	    set_prop(conf, "enable.idempotence", "true", err) < 0 ||
	    set_prop(conf, "acks", pick(opts, "acks", url->acks, "all"), err) < 0 ||
	    set_prop(conf, "compression.codec", pick(opts, "compression", url->compression, "none"),
		     err) < 0 ||
	    /*
	     * The collector's queue (and spool) hold what waits; librdkafka's
	     * 100,000 default kept that many messages' memory in flight, cold in
	     * cache by the time their reports came (measured, docs/sinks.md).
	     */
	    set_prop(conf, "queue.buffering.max.messages", KAFKA_QUEUE_MESSAGES, err) < 0)
		goto fail;
	/* Spooled, a message waits for the broker as long as it takes: the spool holds it. */
	if (options_str(opts, "spool") && set_prop(conf, "message.timeout.ms", "0", err) < 0)
		goto fail;
	for (; xs && *xs; xs++)
		if (set_x(conf, *xs, err) < 0)
			goto fail;
	rd_kafka_conf_set_opaque(conf, s);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log);
	if (rd_kafka_conf_interceptor_add_on_new(conf, "collector", on_new, s) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		error_set(err, EINVAL, "kafka: cannot add the thread-start interceptor");
		goto fail;
	}
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

static void kafka_free(struct kafka_sink *s)
{
	if (ev_is_active(&s->wake))
		ev_io_stop(sink_loop(s->ctx), &s->wake);
	if (s->main_q)
		rd_kafka_queue_destroy(s->main_q);
	if (s->rkt)
		rd_kafka_topic_destroy(s->rkt);
	if (s->rk)
		rd_kafka_destroy(s->rk);
	for (int i = 0; i < 2; i++)
		if (s->wake_fds[i] >= 0)
			close(s->wake_fds[i]);
	for (size_t i = 0; i < s->n_batch; i++)
		if (s->batch_hdrs[i])
			rd_kafka_headers_destroy(s->batch_hdrs[i]);
	buffer_free(&s->batch_bytes);
	buffer_free(&s->key_buf);
	if (s->scanner)
		yajl_free(s->scanner);
	event_encoder_free(s->enc);
	free(s->topic);
	free(s->key);
	free(s);
}

/*
 * What key=FIELD names; names other than the envelope's are data's. No rule:
 * the event id, so a consumer can drop at-least-once duplicates by key.
 */
static enum field key_field(const char *key)
{
	if (!key)
		return FIELD_ID;
	if (strcmp(key, "none") == 0)
		return FIELD_NONE;
	for (enum field f = FIELD_TYPE; f <= FIELD_SEQ; f++)
		if (strcmp(key, field_names[f]) == 0)
			return f;
	return FIELD_DATA;
}

/* headers=type,runner: envelope fields, each once. */
static int parse_headers(struct kafka_sink *s, const char *list, struct error *err)
{
	const char *p = list;

	while (p && *p) {
		size_t len = strcspn(p, ",");
		enum field f = FIELD_TYPE;

		while (f <= FIELD_ID &&
		       (strlen(field_names[f]) != len || strncmp(p, field_names[f], len) != 0))
			f++;
		if (f > FIELD_ID)
			return error_set(err, EINVAL,
					 "kafka headers '%s': unknown field '%.*s' (a comma list "
					 "of "
					 "type, runner, comm, pid, seq, id)",
					 list, (int)len, p);
		for (size_t i = 0; i < s->n_headers; i++)
			if (s->headers[i] == f)
				return error_set(err, EINVAL,
						 "kafka headers '%s': '%s' twice (name each once)",
						 list, field_names[f]);
		s->headers[s->n_headers++] = f;
		p += len + (p[len] == ',');
	}
	return 0;
}

static void *kafka_create(struct sink_ctx *ctx, const struct options *opts, struct error *err)
{
	struct kafka_url url = { 0 };
	const char *text = options_str(opts, "url");
	struct kafka_sink *s = calloc(1, sizeof(*s));
	rd_kafka_conf_t *conf = NULL;
	const char *topic, *key;
	char msg[512];
	int64_t nice;

	if (!s) {
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	s->ctx = ctx;
	s->wake_fds[0] = s->wake_fds[1] = -1;
	ev_init(&s->wake, on_wake);
	s->wake.data = s;
	s->flush_timeout_ms = options_int(opts, "flush-timeout") / 1000000;
	nice = options_int(opts, "broker-nice");
	if (nice < 0 || nice > 19) {
		error_set(err, EINVAL, "broker-nice %lld: expected 0 to 19", (long long)nice);
		goto fail;
	}
	s->broker_nice = (int)nice;
	if (text && kafka_url_parse(text, &url, err) < 0)
		goto fail;
	topic = pick(opts, "topic", url.topic, NULL);
	key = pick(opts, "key", url.key, NULL);
	s->key_field = key_field(key);
	if (!topic) {
		error_set(err, EINVAL, "kafka sink needs a topic (kafka://HOST:PORT/TOPIC)");
		goto fail;
	}
	if (parse_headers(s, pick(opts, "headers", url.headers, NULL), err) < 0)
		goto fail;
	if (!(s->topic = strdup(topic)) ||
	    (s->key_field == FIELD_DATA && !(s->key = strdup(key))) ||
	    !(s->enc = event_encoder_new())) {
		error_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	s->scan.name = s->key;
	s->scan.name_len = s->key ? strlen(s->key) : 0;
	s->scan.out = &s->key_buf;
	conf = make_conf(s, opts, &url, err);
	if (!conf)
		goto fail;
	s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, msg, sizeof(msg));
	if (!s->rk) {
		rd_kafka_conf_destroy(conf);
		error_set(err, EINVAL, "kafka: %s", msg);
		goto fail;
	}
	/* The handle also asks for the topic's metadata now, not on the first message. */
	s->rkt = rd_kafka_topic_new(s->rk, s->topic, NULL);
	if (!s->rkt) {
		error_set(err, EINVAL, "kafka topic %s: %s", s->topic,
			  rd_kafka_err2str(rd_kafka_last_error()));
		goto fail;
	}
	if (pipe2(s->wake_fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		error_set(err, errno, "pipe: %s", strerror(errno));
		goto fail;
	}
	/* librdkafka pokes the pipe when delivery reports wait: no polling thread. */
	s->main_q = rd_kafka_queue_get_main(s->rk);
	rd_kafka_queue_io_event_enable(s->main_q, s->wake_fds[1], "1", 1);
	ev_io_set(&s->wake, s->wake_fds[0], EV_READ);
	ev_io_start(sink_loop(ctx), &s->wake);
	/* Delivered means acknowledged by the brokers: the window in flight is librdkafka's queue. */
	sink_reports_deliveries(ctx);
	kafka_url_free(&url);
	return s;
fail:
	kafka_url_free(&url);
	kafka_free(s);
	return NULL;
}

/*
 * A top-level member of the data object, found with yajl's streaming parser
 * as the data goes by: nothing is copied or built, and one parser (allowing
 * one value after another) serves every event, so a key costs no allocation.
 */
static int scan_value(struct field_scan *f, const char *text, size_t len)
{
	if (f->at_field) {
		f->rc = buffer_append(f->out, text, len);
		f->at_field = false;
		f->done = true;
	}
	return 1;
}

static int scan_null(void *ctx)
{
	return scan_value(ctx, "", 0);
}

static int scan_bool(void *ctx, int v)
{
	return scan_value(ctx, v ? "true" : "false", v ? 4 : 5);
}

static int scan_number(void *ctx, const char *s, size_t len)
{
	return scan_value(ctx, s, len);
}

static int scan_string(void *ctx, const unsigned char *s, size_t len)
{
	return scan_value(ctx, (const char *)s, len);
}

/* Objects and arrays make no key. */
static int scan_open(void *ctx)
{
	struct field_scan *f = ctx;

	if (f->at_field) {
		f->at_field = false;
		f->done = true;
	}
	f->depth++;
	return 1;
}

static int scan_close(void *ctx)
{
	((struct field_scan *)ctx)->depth--;
	return 1;
}

static int scan_key(void *ctx, const unsigned char *s, size_t len)
{
	struct field_scan *f = ctx;

	f->at_field = !f->done && f->depth == 1 && len == f->name_len &&
		      memcmp(s, f->name, len) == 0;
	return 1;
}

static const yajl_callbacks field_scan_callbacks = {
	.yajl_null = scan_null,
	.yajl_boolean = scan_bool,
	.yajl_number = scan_number,
	.yajl_string = scan_string,
	.yajl_start_map = scan_open,
	.yajl_map_key = scan_key,
	.yajl_end_map = scan_close,
	.yajl_start_array = scan_open,
	.yajl_end_array = scan_close,
};

static int data_field(struct kafka_sink *s, const struct event *ev)
{
	struct field_scan *f = &s->scan;

	f->depth = 0;
	f->at_field = f->done = false;
	f->rc = 0;
	if (!s->scanner) {
		s->scanner = yajl_alloc(&field_scan_callbacks, NULL, f);
		if (!s->scanner)
			return -ENOMEM;
		yajl_config(s->scanner, yajl_allow_multiple_values, 1);
	}
	/* The space ends a bare number; data that does not parse gives no key. */
	if (yajl_parse(s->scanner, (const unsigned char *)ev->data.ptr, ev->data.len) !=
		    yajl_status_ok ||
	    yajl_parse(s->scanner, (const unsigned char *)" ", 1) != yajl_status_ok) {
		yajl_free(s->scanner);
		s->scanner = NULL;
		s->key_buf.len = 0;
	}
	return f->rc;
}

/*
 * An envelope field's text: a span of the event, or written into @p tmp.
 * False when the event has none (no pid, no id) or it is empty.
 */
static bool field_text(const struct event *ev, enum field f, char tmp[FIELD_TEXT_MAX],
		       const char **text, size_t *len)
{
	const struct span *sp = f == FIELD_TYPE	  ? &ev->type :
				f == FIELD_RUNNER ? &ev->runner :
				f == FIELD_COMM	  ? &ev->comm :
						    NULL;

	if (sp) {
		*text = sp->ptr;
		*len = sp->len;
	} else if (f == FIELD_PID && (ev->flags & EVENT_HAS_PID)) {
		*text = tmp;
		*len = (size_t)snprintf(tmp, FIELD_TEXT_MAX, "%" PRId32, ev->pid);
	} else if (f == FIELD_SEQ) {
		*text = tmp;
		*len = (size_t)snprintf(tmp, FIELD_TEXT_MAX, "%" PRIu64, ev->seq);
	} else if (f == FIELD_ID && (ev->flags & EVENT_HAS_ID)) {
		event_id_text(ev, tmp);
		*text = tmp;
		*len = EVENT_ID_TEXT;
	} else {
		*len = 0;
	}
	return *len > 0;
}

/* The key (strings bare, others as JSON text); *len is 0 for no key. */
static int event_key(struct kafka_sink *s, const struct event *ev, char tmp[FIELD_TEXT_MAX],
		     const char **key, size_t *len)
{
	int rc;

	if (s->key_field != FIELD_DATA) {
		field_text(ev, s->key_field, tmp, key, len);
		return 0;
	}
	s->key_buf.len = 0;
	rc = data_field(s, ev);
	*key = s->key_buf.data;
	*len = s->key_buf.len;
	return rc;
}

/* headers=: a list librdkafka takes over with the message. */
static rd_kafka_headers_t *event_headers(const struct kafka_sink *s, const struct event *ev)
{
	rd_kafka_headers_t *hdrs = rd_kafka_headers_new(s->n_headers);
	char tmp[FIELD_TEXT_MAX];
	const char *text;
	size_t len;

	for (size_t i = 0; i < s->n_headers; i++)
		if (field_text(ev, s->headers[i], tmp, &text, &len))
			rd_kafka_header_add(hdrs, field_names[s->headers[i]], -1, text,
					    (ssize_t)len);
	return hdrs;
}

_Static_assert(sizeof(void *) == sizeof(uint64_t), "a ticket fits a message's opaque");

/* A message librdkafka refused for good: it settles as failed alone. */
static void produce_failed(struct kafka_sink *s, const rd_kafka_message_t *m)
{
	uint64_t ticket;

	memcpy(&ticket, &m->_private, sizeof(ticket));
	sink_delivery_settle(s->ctx, ticket, false);
	sink_report_error(s->ctx, "produce: %s", rd_kafka_err2str(m->err));
}

/*
 * headers=: produce_batch() takes no headers, so each message goes alone
 * with its list (librdkafka owns the list once the message is taken).
 */
static void produce_each(struct kafka_sink *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rd_kafka_message_t *m = &s->batch[i];

		m->err = rd_kafka_producev(s->rk, RD_KAFKA_V_RKT(s->rkt),
					   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
					   RD_KAFKA_V_VALUE(m->payload, m->len),
					   RD_KAFKA_V_KEY(m->key, m->key_len),
					   RD_KAFKA_V_OPAQUE(m->_private),
					   RD_KAFKA_V_HEADERS(s->batch_hdrs[i]), RD_KAFKA_V_END);
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
			s->batch_hdrs[i] = NULL;
	}
}

/*
 * Hand the messages written so far to librdkafka, which copies each beside
 * its own header. Those its full queue refused stay, in order, with their
 * bytes moved to the front; -EAGAIN until delivery reports make room.
 */
static int produce_pending(struct kafka_sink *s)
{
	size_t n = s->n_batch, kept = 0, to = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		rd_kafka_message_t *m = &s->batch[i];

		m->payload = s->batch_bytes.data + s->batch_off[i];
		m->key = m->key_len ? (char *)m->payload + m->len + 1 : NULL;
		m->err = RD_KAFKA_RESP_ERR_NO_ERROR;
	}
	if (s->n_headers)
		produce_each(s, n);
	else
		rd_kafka_produce_batch(s->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, s->batch,
				       (int)n);
	for (size_t i = 0; i < n; i++) {
		rd_kafka_message_t *m = &s->batch[i];
		size_t size = m->len + 1 + m->key_len;

		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			s->outstanding++;
			continue;
		}
		if (m->err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			produce_failed(s, m);
			if (s->batch_hdrs[i])
				rd_kafka_headers_destroy(s->batch_hdrs[i]);
			continue;
		}
		memmove(s->batch_bytes.data + to, m->payload, size);
		s->batch[kept] = *m;
		s->batch_off[kept] = to;
		s->batch_hdrs[kept++] = s->batch_hdrs[i];
		to += size;
	}
	s->n_batch = kept;
	s->batch_bytes.len = to;
	if (kept == 0)
		return 0;
	/* Delivery reports make room; the messages kept go first next time. */
	poll_all(s);
	return wait_for_reports(s);
}

/* The event, encoded, joins the batch; librdkafka gets it at the next flush or a full batch. */
static int kafka_write(void *self, const struct event *ev)
{
	struct kafka_sink *s = self;
	uint64_t ticket = sink_write_ticket(s->ctx);
	struct buffer *b = &s->batch_bytes;
	char tmp[FIELD_TEXT_MAX];
	const char *key = NULL;
	size_t key_len = 0, off;
	rd_kafka_message_t *m;
	int rc;

	if (s->n_batch == KAFKA_BATCH && produce_pending(s) < 0 && s->n_batch == KAFKA_BATCH)
		return -EAGAIN; /* the event stays in the core's queue */
	off = b->len;		/* after the produce, which moves what it keeps to the front */
	rc = event_encoder_write(s->enc, ev, b);
	if (rc == 0 && s->key_field == FIELD_ID && (ev->flags & EVENT_HAS_ID)) {
		/* The default key: the envelope has the id's text already. */
		key = memcpy(tmp, b->data + event_encoder_id_offset(s->enc), EVENT_ID_TEXT);
		key_len = EVENT_ID_TEXT;
	} else if (rc == 0) {
		rc = event_key(s, ev, tmp, &key, &key_len);
	}
	if (rc < 0 || (rc = buffer_append(b, key, key_len)) < 0) {
		b->len = off;
		return rc;
	}
	m = &s->batch[s->n_batch];
	/* The message is the JSON line without its newline; the key follows the newline. */
	*m = (rd_kafka_message_t){ .len = b->len - off - key_len - 1, .key_len = key_len };
	/* The ticket rides in the message's opaque pointer, bit for bit (64-bit only). */
	memcpy(&m->_private, &ticket, sizeof(ticket));
	s->batch_off[s->n_batch] = off;
	s->batch_hdrs[s->n_batch] = s->n_headers ? event_headers(s, ev) : NULL;
	s->n_batch++;
	return 0;
}

/* librdkafka sends on its own (linger.ms); a flush hands it the batch and passes on the reports that came. */
static int kafka_flush(void *self)
{
	struct kafka_sink *s = self;
	int rc = produce_pending(s);

	poll_all(s);
	return rc;
}

static void kafka_destroy(void *self)
{
	struct kafka_sink *s = self;
	rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;

	s->ending = true;
	/* In slices: a stop signal now (a second one) cuts the wait short. */
	for (int64_t left = s->flush_timeout_ms;
	     (s->outstanding || s->n_batch) && left > 0 && !sink_stop_now(s->ctx);
	     left -= KAFKA_FLUSH_SLICE_MS) {
		produce_pending(s);
		e = rd_kafka_flush(
			s->rk, (int)(left < KAFKA_FLUSH_SLICE_MS ? left : KAFKA_FLUSH_SLICE_MS));
	}
	if (s->outstanding || s->n_batch)
		sink_report_error(s->ctx, "flush: %s; %zu messages not delivered",
				  sink_stop_now(s->ctx) ? "stopped by a signal" :
							  rd_kafka_err2str(e),
				  (size_t)rd_kafka_outq_len(s->rk) + s->n_batch);
	/* What the last flush settled counted (on_delivery()): the core decides the loss after it. */
	if (s->failed)
		sink_report_error(s->ctx, "%" PRIu64 " delivered, %" PRIu64 " failed", s->delivered,
				  s->failed);
	kafka_free(s);
}

static void kafka_metrics(void *self, struct metrics_writer *w)
{
	struct kafka_sink *s = self;

	metrics_add(w, METRIC_GAUGE, "collector_sink_kafka_outstanding",
		    "kafka: messages produced whose delivery report is pending",
		    (double)s->outstanding);
	metrics_add(w, METRIC_COUNTER, "collector_sink_kafka_delivered_total",
		    "kafka: messages the brokers acknowledged", (double)s->delivered);
	metrics_add(w, METRIC_COUNTER, "collector_sink_kafka_failed_total",
		    "kafka: messages that failed for good after librdkafka's retries",
		    (double)s->failed);
}

const struct sink_ops kafka_sink_ops = {
	.name = "kafka",
	.summary = "produces events to Kafka with librdkafka (kafka://HOST:PORT/TOPIC)",
	.options = kafka_options,
	.spec_option = "url",
	.create = kafka_create,
	.write = kafka_write,
	.flush = kafka_flush,
	.destroy = kafka_destroy,
	.metrics = kafka_metrics,
};
