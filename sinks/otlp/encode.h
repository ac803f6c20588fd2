/*
 * A batch of OTLP messages as a request body: protobuf (protobuf-c) or OTLP
 * JSON (yajl_gen), optionally gzipped; and the partial success of a response.
 */
#ifndef SINKS_OTLP_ENCODE_H
#define SINKS_OTLP_ENCODE_H

#include <stdbool.h>

#include <collector/buffer.h>

#include "mapping.h"

/* The batch's log records (@p spans false) or spans, wrapped in the resource, appended to @p out. */
int otlp_encode(const struct otlp_resource *res, const struct otlp_batch *b, bool spans, bool json,
		struct buffer *out);

/* @p in gzipped into @p out (replacing its contents). 0, or a negative errno. */
int otlp_gzip(const char *in, size_t len, struct buffer *out);

/*
 * The rejected count of an Export*ServiceResponse body (0 when none or
 * unreadable), its error_message in @p msg.
 */
int64_t otlp_rejected(const char *body, size_t len, bool spans, bool json, char *msg,
		      size_t msg_size);

#endif
