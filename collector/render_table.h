/* The tables of the readable view: their columns and how each event type fills a row. */
#ifndef COLLECTOR_RENDER_TABLE_H
#define COLLECTOR_RENDER_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include <collector/buffer.h>
#include <collector/event_view.h>

#define RENDER_COLS 10
#define RENDER_CELL 96

/* A column: a fixed width (the last column of a table takes the rest of the line). */
struct render_column {
	const char *title;
	int width;
	bool right; /* right-aligned (numbers) */
};

/* How a cell is coloured. */
enum render_tone { TONE_PLAIN, TONE_GOOD, TONE_BAD, TONE_DIM };

/* One row being filled: fixed cells, then the free text of the last column. */
struct render_row {
	char cell[RENDER_COLS][RENDER_CELL];
	struct buffer rest;
	enum render_tone tone; /* the row's colour */
};

/* A table: the event types it shows and how it fills a row for one of them. */
struct render_kind {
	const char *glob;		     /* fnmatch(3) of the types it takes */
	const struct render_column *columns; /* ended by a NULL title; the last one is the rest */
	void (*fill)(const struct event_view *v, struct render_row *row, void *state);
};

/* The tables, the generic one last (it takes every type). */
extern const struct render_kind render_kinds[];

/* State the fill functions keep across rows (the host of an HTTP connection). */
void *render_types_state_new(void);
void render_types_state_free(void *state);

/* Helpers for the fill functions. */
yajl_val render_data(const struct event_view *v, const char *name);
yajl_val render_top(const struct event_view *v, const char *name);
void render_time(const struct event_view *v, char *out);
void render_size(double bytes, char *out, size_t len);
void render_duration(double ns, char *out, size_t len);
/* A scalar as text ("" when absent, "..." for an object or array); strings as they are. */
void render_scalar(yajl_val val, char *out, size_t len);
/* Append an object's members as "k=v k=v" (nested ones flattened: a.b=1 list[0]=x). */
void render_pairs(yajl_val obj, struct buffer *out, const char *const *skip);

#endif
