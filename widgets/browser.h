/*
 * browser.h: a list/detail browser: a table of items and, for the chosen
 * item, a scrolling detail view in the same rectangle (the patterns pane).
 *
 * The owner fills `list` like any table (table.h: sort, filter and the
 * selection by id survive refills). Enter on the list returns WF_SUBMIT:
 * the owner fills `detail` for table_selected(&b->list) and calls
 * browser_open. While open, the keys scroll the detail and Esc, Backspace or
 * Left close it (WF_CANCEL | WF_DIRTY) back to the list with the selection
 * where it was. A refill of the list while open keeps the detail shown: the
 * owner decides whether the item it describes still exists (browser_item).
 *
 * UI thread only.
 */
#ifndef SD_WIDGETS_BROWSER_H
#define SD_WIDGETS_BROWSER_H

#include <stdint.h>

#include "table.h"
#include "textview.h"

struct browser {
    struct table list;
    struct textview detail;
    int open;     /* the detail is shown */
    int64_t item; /* the id the detail describes (valid while open) */
};

extern const struct widget_ops browser_ops;

void browser_init(struct browser *b, const struct table_col *cols, int ncols, int label_w);
void browser_free(struct browser *b); /* accepts NULL */

/* Show the detail (already filled) for item id; scrolled to the top. */
void browser_open(struct browser *b, int64_t id);
void browser_close(struct browser *b);

#endif
