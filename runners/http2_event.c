/* An HTTP/2 stream's side as the data of an http.request or http.response event (gRPC included). */
#include <stdlib.h>

#include <collector/codec.h>

#include "http2_event.h"

static void put_str(struct event_builder *b, const char *key, const char *v)
{
	if (v)
		event_builder_str(b, key, v);
	else
		event_builder_null(b, key);
}

/* Bytes as text when they are UTF-8, else base64, with their encoding under @p enc_key. */
static void put_bytes(struct event_builder *b, const char *key, const char *enc_key, const char *p,
		      size_t n)
{
	char *tmp;

	if (utf8_text(p, n)) {
		event_builder_strn(b, key, p, n);
		event_builder_str(b, enc_key, "text");
		return;
	}
	tmp = malloc(base64_encoded_len(n) + 1);
	if (!tmp) {
		event_builder_fail(b);
		return;
	}
	event_builder_strn(b, key, tmp, base64_encode(p, n, tmp));
	free(tmp);
	event_builder_str(b, enc_key, "base64");
}

/* Service, method, status and the length-prefixed messages (payloads in base64, within the bound). */
static void put_grpc(struct event_builder *b, const struct http2_message *m)
{
	const struct http2_grpc *g = &m->grpc;

	event_builder_open_object(b, "grpc");
	put_str(b, "service", g->service);
	put_str(b, "method", g->method);
	if (!m->request) {
		if (g->status >= 0)
			event_builder_int(b, "status", g->status);
		else
			event_builder_null(b, "status");
		put_str(b, "message", g->message);
	}
	event_builder_uint(b, "message_count", g->count);
	event_builder_open_array(b, "messages");
	for (size_t i = 0; i < g->sizes_len; i++) {
		event_builder_open_object(b, NULL);
		event_builder_uint(b, "size", g->sizes[i]);
		event_builder_bool(b, "compressed", g->compressed[i]);
		if (i < g->payloads && m->body) {
			char *tmp = malloc(base64_encoded_len(g->payload_len[i]) + 1);

			if (!tmp) {
				event_builder_fail(b);
				return;
			}
			event_builder_strn(b, "payload", tmp,
					   base64_encode(m->body + g->payload_off[i],
							 g->payload_len[i], tmp));
			free(tmp);
			event_builder_bool(b, "payload_truncated", g->payload_len[i] < g->sizes[i]);
		}
		event_builder_close_object(b);
	}
	event_builder_close_array(b);
	event_builder_close_object(b);
}

void http2_event_put(struct event_builder *b, const struct http2_message *m)
{
	event_builder_uint(b, "stream_id", m->stream_id);
	event_builder_str(b, "version", "2");
	put_str(b, "method", m->method);
	put_str(b, "path", m->path);
	put_str(b, "authority", m->authority);
	if (m->request) {
		put_str(b, "scheme", m->scheme);
	} else {
		if (m->status)
			event_builder_int(b, "status", m->status);
		else
			event_builder_null(b, "status");
		if (m->latency_ns >= 0)
			event_builder_int(b, "latency_ns", m->latency_ns);
		else
			event_builder_null(b, "latency_ns");
	}
	event_builder_open_array(b, "headers");
	for (size_t i = 0; i < m->header_count; i++) {
		event_builder_open_array(b, NULL);
		event_builder_str(b, NULL, m->headers[i].name);
		event_builder_str(b, NULL, m->headers[i].value);
		event_builder_close_array(b);
	}
	event_builder_close_array(b);
	if (m->headers_truncated)
		event_builder_bool(b, "headers_truncated", true);
	if (m->headers_incomplete)
		event_builder_bool(b, "headers_incomplete", true);
	put_bytes(b, "body", "body_encoding", m->body ? m->body : "", m->body_len);
	event_builder_uint(b, "body_size", m->body_size);
	event_builder_bool(b, "body_truncated", m->body_truncated);
	if (m->reset >= 0)
		event_builder_int(b, "rst_error_code", m->reset);
	if (m->incomplete)
		event_builder_bool(b, "incomplete", true);
	if (m->grpc.on)
		put_grpc(b, m);
}
