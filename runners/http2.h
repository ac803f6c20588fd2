/* HTTP/2 and gRPC reconstruction of one connection's two byte streams (frames, HPACK by libnghttp2). */
#ifndef COLLECTOR_RUNNERS_HTTP2_H
#define COLLECTOR_RUNNERS_HTTP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_stream.h"

/* Bounds: a frame's payload, a header block (HEADERS + CONTINUATION), streams tracked at once. */
#define HTTP2_MAX_FRAME (1u << 20)
#define HTTP2_MAX_HEADER_BLOCK ((size_t)64 * 1024)
#define HTTP2_MAX_STREAMS 128
/* gRPC messages whose sizes are listed per side of a stream (all are counted). */
#define HTTP2_GRPC_SIZES 32

struct http2_grpc {
	bool on;	     /* content-type application/grpc */
	const char *service; /* from :path "/package.Service/Method" */
	const char *method;
	int status;		  /* grpc-status from the trailers, -1 if none */
	const char *message;	  /* grpc-message, or NULL */
	unsigned long long count; /* length-prefixed messages seen */
	uint32_t sizes[HTTP2_GRPC_SIZES];
	bool compressed[HTTP2_GRPC_SIZES];
	size_t sizes_len;
	/* The first messages' payloads within the body bound: offsets into the body. */
	size_t payload_off[HTTP2_GRPC_SIZES], payload_len[HTTP2_GRPC_SIZES];
	size_t payloads;
};

/* One side of a stream: the request (client's) or the response (server's). */
struct http2_message {
	bool request;
	unsigned stream_id;
	const char *method, *path, *authority, *scheme; /* the request's (NULL when unknown) */
	int status;					/* responses, 0 when unknown */
	struct http_header headers[HTTP_MAX_HEADERS];	/* regular fields and trailers */
	size_t header_count;
	bool headers_truncated;
	/* A header block could not be decoded (a capture that began mid-connection): its fields are left out. */
	bool headers_incomplete;
	const char *body; /* the first max_body bytes of DATA, padding stripped */
	size_t body_len;
	unsigned long long body_size;
	bool body_truncated;
	long long ts_ns;      /* its first frame */
	long long latency_ns; /* responses: from the end of the request; -1 if unknown */
	long long reset;      /* RST_STREAM's error code, -1 if none */
	/* Ended without END_STREAM: GOAWAY, the connection closing, or too many streams. */
	bool incomplete;
	struct http2_grpc grpc;
};

struct http2_callbacks {
	void (*on_message)(void *arg, const struct http2_message *m);
};

struct http2_stream;

/* Whether @p bytes start like the client connection preface ("PRI * HTTP/2.0..."). */
bool http2_looks_like(const char *bytes, size_t len);

/*
 * Whether @p bytes are exactly a run of well-formed HTTP/2 frames (known
 * types, stream ids where their type needs them): a capture that began
 * mid-connection, after the preface.
 */
bool http2_frames_like(const char *bytes, size_t len);

/*
 * A connection's analyzer; @p preface_dir is the direction that carries the
 * preface (the client's), or -1 when the capture began mid-connection.
 * @return NULL when out of memory.
 */
struct http2_stream *http2_stream_new(const struct http_stream_config *cfg,
				      const struct http2_callbacks *cb, void *arg, int preface_dir);
void http2_stream_free(struct http2_stream *s);

/*
 * Feed bytes of one direction (0 written by the traced process, 1 read) seen at @p ts_ns.
 * @return 0, or -1 when the direction is not (or no longer) HTTP/2.
 */
int http2_stream_feed(struct http2_stream *s, int direction, long long ts_ns, const char *bytes,
		      size_t len);

/* The connection closed: streams still open are given as incomplete. */
void http2_stream_finish(struct http2_stream *s);

/* Why a direction stopped, or NULL. */
const char *http2_stream_error(const struct http2_stream *s, int direction);

#endif
