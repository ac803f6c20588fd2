/* A command's output lines as events: JSON objects or text, over-long and forged lines reported, stderr's tail kept. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <collector/event.h>
#include <collector/json_decoder.h>

#include "exec_lines.h"

/* Event types under this prefix are the collector's own: a command's are renamed. */
#define RESERVED_PREFIX "collector."
/* A stderr line kept for a crash report is cut here: the tail says what happened, not all of it. */
#define TAIL_LINE_MAX 512

static void emit_text(struct exec_lines *r, const struct line *l, const char *type)
{
	event_builder_begin(r->eb);
	event_builder_strn(r->eb, "line", l->ptr, l->len);
	if (l->flags & LINE_TRUNCATED)
		event_builder_bool(r->eb, "truncated", true);
	if (l->flags & LINE_INVALID_UTF8)
		event_builder_bool(r->eb, "invalid_utf8", true);
	/* The runner's own members: a script names the file and line a message is about. */
	if (type == r->type_stderr && r->annotate)
		r->annotate(r->annotate_arg, r->eb, l);
	event_builder_emit(r->eb, r->ctx, type, r->pid);
}

/*
 * A command may not speak for the collector: a "collector.*" type becomes
 * "KIND.forged.collector.*" (cut to the longest type), counted and reported.
 */
static struct event *unforge(struct exec_lines *r, struct event *ev, const struct line *l)
{
	char type[EVENT_TYPE_MAX];
	int n;
	struct event *renamed;

	if (ev->type.len < strlen(RESERVED_PREFIX) ||
	    memcmp(ev->type.ptr, RESERVED_PREFIX, strlen(RESERVED_PREFIX)) != 0)
		return ev;
	n = snprintf(type, sizeof(type), "%s.forged.%.*s", r->kind, (int)ev->type.len,
		     ev->type.ptr);
	r->n.forged++;
	r->n.errors++;
	runner_report_error(r->ctx, "reserved_type", l->number, l->offset, l->ptr, l->len,
			    "stdout line %llu: type '%.*s' is reserved for the collector; emitted "
			    "as '%.*s'",
			    (unsigned long long)l->number, (int)ev->type.len, ev->type.ptr,
			    n < (int)sizeof(type) ? n : (int)sizeof(type) - 1, type);
	renamed = event_new((struct span){ type, strnlen(type, sizeof(type)) }, ev->comm, ev->data);
	if (renamed) {
		renamed->flags = ev->flags;
		renamed->pid = ev->pid;
		renamed->tid = ev->tid;
		renamed->ppid = ev->ppid;
	}
	event_unref(ev);
	return renamed;
}

static bool try_json(struct exec_lines *r, const struct line *l, bool report)
{
	struct error err = { 0 };
	struct event *ev = json_decoder_decode(r->decoder, l->ptr, l->len, &err);

	if (ev && json_decoder_repaired(r->decoder) && !(l->flags & LINE_INVALID_UTF8))
		r->n.invalid_utf8++;
	if (ev && !(ev = unforge(r, ev, l))) {
		runner_emit_failed(r->ctx, r->type_event);
		return true;
	}
	if (ev) {
		if (!(ev->flags & EVENT_HAS_PID) && r->pid > 0)
			event_set_pid(ev, r->pid);
		r->n.events++;
		runner_emit(r->ctx, ev);
		return true;
	}
	if (report && err.code != ENODATA) {
		r->n.errors++;
		runner_report_error(r->ctx, "invalid_json", l->number, l->offset, l->ptr, l->len,
				    "stdout line %llu: %s", (unsigned long long)l->number, err.msg);
	}
	return err.code == ENODATA && report;
}

static void handle_stdout(struct exec_lines *r, const struct line *l)
{
	r->n.stdout_lines++;
	if (l->flags & LINE_TRUNCATED) {
		r->n.errors++;
		runner_report_error(r->ctx, "line_too_long", l->number, l->offset, l->ptr, l->len,
				    "stdout line %llu is longer than %zu bytes; the rest was "
				    "discarded",
				    (unsigned long long)l->number, r->max_line);
		if (r->format != FORMAT_JSON)
			emit_text(r, l, r->type_line);
		return;
	}
	switch (r->format) {
	case FORMAT_JSON:
		try_json(r, l, true);
		return;
	case FORMAT_AUTO:
		if (l->len && l->ptr[0] == '{' && try_json(r, l, false))
			return;
		/* fall through */
	case FORMAT_TEXT:
		emit_text(r, l, r->type_line);
		return;
	}
}

static void count_flags(struct exec_lines *r, const struct line *l)
{
	if (l->flags & LINE_TRUNCATED)
		r->n.truncated++;
	if (l->flags & LINE_INVALID_UTF8)
		r->n.invalid_utf8++;
}

/* The last stderr lines, for a crash report. */
static void keep_tail(struct exec_lines *r, const struct line *l)
{
	char **slot = &r->stderr_tail[r->stderr_count % EXEC_LINES_TAIL];
	size_t n = l->len < TAIL_LINE_MAX ? l->len : TAIL_LINE_MAX;

	free(*slot);
	*slot = strndup(l->ptr, n);
	if (*slot)
		r->stderr_count++;
}

void exec_lines_take(struct exec_lines *r, bool is_stderr, const struct line *l)
{
	count_flags(r, l);
	if (is_stderr) {
		r->n.stderr_lines++;
		keep_tail(r, l);
		emit_text(r, l, r->type_stderr);
	} else {
		handle_stdout(r, l);
	}
}

void exec_lines_new_run(struct exec_lines *r, pid_t pid)
{
	r->pid = pid;
	memset(&r->n, 0, sizeof(r->n));
	for (int i = 0; i < EXEC_LINES_TAIL; i++) {
		free(r->stderr_tail[i]);
		r->stderr_tail[i] = NULL;
	}
	r->stderr_count = 0;
}

void exec_lines_put_tail(const struct exec_lines *r, struct event_builder *b)
{
	int first = r->stderr_count > EXEC_LINES_TAIL ? r->stderr_count - EXEC_LINES_TAIL : 0;

	event_builder_open_array(b, "stderr");
	for (int i = first; i < r->stderr_count; i++)
		event_builder_str(b, NULL, r->stderr_tail[i % EXEC_LINES_TAIL]);
	event_builder_close_array(b);
}

int exec_lines_init(struct exec_lines *r, struct runner_ctx *ctx, const struct options *opts,
		    const char *kind, struct error *err)
{
	const char *fmt = options_str(opts, "format");

	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->kind = kind;
	r->pid = -1;
	r->max_line = (size_t)options_int(opts, "max-line");
	r->format = strcmp(fmt, "json") == 0 ? FORMAT_JSON :
		    strcmp(fmt, "text") == 0 ? FORMAT_TEXT :
					       FORMAT_AUTO;
	snprintf(r->type_line, sizeof(r->type_line), "%s.line", kind);
	snprintf(r->type_stderr, sizeof(r->type_stderr), "%s.stderr", kind);
	snprintf(r->type_event, sizeof(r->type_event), "%s.event", kind);
	r->decoder = json_decoder_new(r->type_event);
	r->eb = event_builder_new();
	/* Every line comes from a line_framer, its UTF-8 checked and repaired. */
	if (!r->decoder || !r->eb || json_decoder_utf8_checked(r->decoder) < 0)
		return error_set(err, ENOMEM, "out of memory");
	return 0;
}

void exec_lines_release(struct exec_lines *r)
{
	exec_lines_new_run(r, -1);
	json_decoder_free(r->decoder);
	event_builder_free(r->eb);
	r->decoder = NULL;
	r->eb = NULL;
}
