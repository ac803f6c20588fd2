/* Text from children and packages made safe for a terminal: control characters shown, not obeyed. */
#ifndef COLLECTOR_TERM_ESCAPE_H
#define COLLECTOR_TERM_ESCAPE_H

#include <yajl/yajl_tree.h>

/*
 * Every string and member name in @p v (recursively) with C0 controls and DEL as "\xHH" and
 * C1 controls (U+0080..U+009F) as "\uHHHH", so a name or a stderr line
 * cannot move the cursor, retitle the window or clear the screen.
 */
void term_escape_tree(yajl_val v);

/* Control characters in @p s become '?' in place (a fixed buffer, an error message). */
void term_blank_controls(char *s);

#endif
