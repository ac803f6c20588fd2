/* One process-loader JSON line decoded in a single streaming pass: envelope, data, exec details. */
#ifndef RUNNERS_PROCESS_LINE_H
#define RUNNERS_PROCESS_LINE_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_gen.h>

#include <collector/buffer.h>

/* What a line says; strings are NUL-terminated, longer ones cut. */
struct process_line {
	char type[16]; /* "exec", "fork", "exit", "ready", "loss"; "" if absent */
	char comm[64]; /* "" if absent */
	bool has_comm;
	bool has_pid;  /* a "pid" member was there */
	long long pid; /* 0 unless an integer, as tid, ppid, ts_ns, count */
	long long tid;
	long long ppid;
	long long ts_ns;
	long long count; /* a loss line's total */
	bool thread;	 /* "thread": true (an exit of one thread) */
	/*
	 * Every member but the envelope's (type, ts_ns, pid, tid, ppid, comm), in
	 * order and re-generated, as one JSON object.
	 */
	struct buffer data;
	/* Where the "filename" and "argv" values are in data (len 0: absent). */
	size_t filename_at, filename_len, argv_at, argv_len;
};

/* The decoder: its output line and a generator writing into line.data. */
struct process_line_decoder {
	struct process_line line;
	yajl_gen gen;
	/* Parse state. */
	int depth;
	int field;	/* the envelope member whose value comes next, or 0 */
	int skip_depth; /* inside a container value of an envelope member: its depth, or 0 */
	int member;	/* the top-level "filename"/"argv" member being generated, or 0 */
	size_t member_at;
	bool object; /* the line is an object */
};

/* @return 0, or -ENOMEM. */
int process_line_decoder_init(struct process_line_decoder *d);
void process_line_decoder_free(struct process_line_decoder *d);

/*
 * Decode @p text (one line, no newline) into d->line; its data object is left
 * open for process_line_add_raw() and process_line_close().
 * @return 0, or -EBADMSG when it is not exactly one JSON object (with a
 * reason in @p why), or -ENOMEM.
 */
int process_line_decode(struct process_line_decoder *d, const char *text, size_t len, char *why,
			size_t why_size);

/* Add the member @p key with the JSON text @p json (one valid value) to the open data object. */
void process_line_add_raw(struct process_line_decoder *d, const char *key, const char *json,
			  size_t len);

/* Close the data object. @return 0, or -ENOMEM when generating it ran out of memory. */
int process_line_close(struct process_line_decoder *d);

#endif
