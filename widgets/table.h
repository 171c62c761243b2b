/*
 * table.h: a sortable, filterable table whose selection follows row ids.
 *
 * DESIGN
 * The owner refills the rows every update (table_clear, table_add,
 * table_set, table_commit); the table keeps what belongs to the operator
 * across refills: the sort column and direction, the filter, the tags and
 * the selected row's id. table_commit rebuilds the view (filter, then a
 * stable sort with the id as tie-breaker) and finds the selected id again,
 * so the selection stays on the same row when rows move; if that row is
 * gone the selection keeps its position.
 *
 * A cell has text and an optional numeric sort key (NaN: sort by text).
 * The filter is a case-insensitive substring over every cell, or
 * "column:text" to match one column (by title, case-insensitive).
 *
 * UI thread only. Memory: the table owns copies of every string.
 */
#ifndef SD_WIDGETS_TABLE_H
#define SD_WIDGETS_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "widget.h"

/* Column widths in a pane of w columns: every column gets its minimum (the
 * columns that do not fit are dropped from the right); the flex columns
 * share what is left, each up to its max; what they cannot take is spread
 * over every shown column, so a wide pane widens the gaps instead of one
 * column. */
struct table_col {
    const char *title;
    int width;     /* minimum width */
    int right;     /* right-aligned */
    int flex;      /* grows with the pane */
    int sort_desc; /* first sort direction (numbers usually want descending) */
    int max;       /* flex: the widest it grows (0: no limit) */
};

struct table_row {
    int64_t id;
    int role; /* ROLE_* for the row's text (ROLE_NORMAL by default) */
    char **text;
    double *key;
};

struct table {
    const struct table_col *cols;
    int ncols;
    struct table_row *rows;
    size_t nrows, cap;
    size_t *view; /* indexes into rows, filtered and sorted */
    size_t nview;
    int sort_col, sort_desc;
    char filter[128];
    int64_t sel_id;
    size_t sel; /* index into view */
    size_t top;
    int64_t *tags;
    size_t ntags;
    int page; /* rows visible at the last draw */
};

extern const struct widget_ops table_ops;

void table_init(struct table *t, const struct table_col *cols, int ncols);
void table_free(struct table *t);

/* Refill: clear, add rows, set cells, commit. */
void table_clear(struct table *t);
size_t table_add(struct table *t, int64_t id, int role);
void table_set(struct table *t, size_t row, int col, const char *text, double key);
void table_commit(struct table *t);

void table_set_filter(struct table *t, const char *filter);
void table_sort_by(struct table *t, int col, int desc);
void table_cycle_sort(struct table *t); /* next column, its natural direction */
void table_invert_sort(struct table *t);

/* The selected row's id, or -1 when the view is empty. */
int64_t table_selected(const struct table *t);
int table_select_id(struct table *t, int64_t id); /* 0 or -1 if not in view */

void table_tag_toggle(struct table *t, int64_t id);
int table_tagged(const struct table *t, int64_t id);
void table_untag_all(struct table *t);

/* The ids to act on: the tagged rows in view, else the selected row.
 * Returns the count written (at most max). */
size_t table_targets(const struct table *t, int64_t *out, size_t max);

/* Move the selection by delta rows (clamped); returns WF_DIRTY if it moved. */
int table_move(struct table *t, long delta);

/* A click dy rows below the table's top (0: the header line) as of the
 * last draw: selects the row drawn there. Returns WF_DIRTY if the selection
 * moved, WF_HANDLED if it was already there, 0 if no row is drawn there. */
int table_click(struct table *t, int dy);

/* The widths of the columns shown in a pane w wide (the table draws at x + 2
 * after its tag column) into cw[0 .. ncols); returns how many are shown. */
int table_layout(const struct table *t, int w, int *cw);

#endif
