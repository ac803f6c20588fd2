/**
 * @file
 * The readable view of events: per-type tables as libbpf-tools print them,
 * fitted to the terminal, for `--pretty` and `collector show`.
 */
#ifndef COLLECTOR_RENDER_H
#define COLLECTOR_RENDER_H

#include <stdbool.h>

#include <collector/buffer.h>
#include <collector/event_view.h>

/** How the view looks. */
struct render_opts {
	bool color; /**< ANSI colours */
	bool forks; /**< show process.fork rows (hidden by default: they flood the view) */
	int width;  /**< columns of the terminal; 0: lines are not cut */
};

struct renderer;

/**
 * A renderer.
 * @param opts how the view looks (copied)
 * @return the renderer, or NULL when out of memory.
 */
struct renderer *renderer_new(const struct render_opts *opts);

/**
 * Free a renderer.
 * @param r the renderer, or NULL (ignored)
 */
void renderer_free(struct renderer *r);

/**
 * Append @p v's row to @p out, preceded by a header line when the table
 * changes (the first row, or a row of another kind of event than the last).
 * Control characters in the event's strings are shown escaped, not obeyed.
 * @param r the renderer
 * @param v the event
 * @param out the row (and header) are appended here
 * @return the header lines written before the row (0 or 1), -1 when the
 *         event is hidden (nothing written), or -ENOMEM.
 */
int renderer_row(struct renderer *r, struct event_view *v, struct buffer *out);

/**
 * The width to fit: the terminal's on @p fd (TIOCGWINSZ), else $COLUMNS,
 * else 0 (not a terminal: lines are not cut).
 * @param fd the descriptor the view goes to
 * @return columns, or 0.
 */
int render_terminal_width(int fd);

#endif
