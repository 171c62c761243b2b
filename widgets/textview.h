/*
 * textview.h: a scrolling view of short lines, each an optional dim label
 * and a text drawn in a role (detail views, the learning pane).
 *
 * The owner rebuilds the lines whenever its data changes (textview_clear,
 * textview_add); the scroll position survives a rebuild (clamped to the new
 * length), so a pane refreshed while the operator reads it does not jump.
 * Keys: Up/Down/j, PgUp/PgDn, Home/g, End/G scroll.
 *
 * UI thread only (drawing). Building lines is pure and may run anywhere.
 * Memory: the view owns copies of every string.
 */
#ifndef SD_WIDGETS_TEXTVIEW_H
#define SD_WIDGETS_TEXTVIEW_H

#include <stddef.h>

#include "widget.h"

struct tv_line {
    char *label; /* NULL: the text starts at the left edge */
    char *text;
    int role;
    size_t alt_at; /* > 0: text from this byte on is drawn in alt_role */
    int alt_role;
};

struct textview {
    struct tv_line *lines;
    size_t n, cap;
    size_t top;
    int label_w; /* columns for labels (0: labels are not drawn) */
    int page;    /* rows visible at the last draw */
};

extern const struct widget_ops textview_ops;

void textview_init(struct textview *tv, int label_w);
void textview_free(struct textview *tv); /* accepts NULL */
void textview_clear(struct textview *tv);

/* Append a line (label may be NULL). Can't fail (aborts on OOM). Returns
 * its index. */
size_t textview_add(struct textview *tv, int role, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Draw line i's text from byte `at` on in role (a sparkline after a value). */
void textview_set_alt(struct textview *tv, size_t i, size_t at, int role);

/* Scroll by delta lines (clamped to the content and the last page);
 * returns WF_DIRTY if the view moved. */
int textview_scroll(struct textview *tv, long delta);

#endif
