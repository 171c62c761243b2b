/*
 * browser.c: list/detail browser (browser.h). UI thread only.
 */
#include <string.h>

#include "browser.h"

void browser_init(struct browser *b, const struct table_col *cols, int ncols, int label_w)
{
    memset(b, 0, sizeof *b);
    table_init(&b->list, cols, ncols);
    textview_init(&b->detail, label_w);
    b->item = -1;
}

void browser_free(struct browser *b)
{
    if (b == NULL)
        return;
    table_free(&b->list);
    textview_free(&b->detail);
}

void browser_open(struct browser *b, int64_t id)
{
    b->open = 1;
    b->item = id;
    b->detail.top = 0;
}

void browser_close(struct browser *b)
{
    b->open = 0;
    b->item = -1;
}

static int browser_key(void *w, int key)
{
    struct browser *b = w;

    if (!b->open) {
        if (key == WK_ENTER)
            return b->list.nview ? WF_HANDLED | WF_SUBMIT : WF_HANDLED;
        return table_ops.key(&b->list, key);
    }
    if (key == WK_ESC || key == WK_BACKSPACE || key == WK_LEFT) {
        browser_close(b);
        return WF_HANDLED | WF_CANCEL | WF_DIRTY;
    }
    return textview_ops.key(&b->detail, key);
}

static void browser_draw(void *w, WINDOW *win, int y, int x, int h, int wd,
                         const struct draw_ctx *dc)
{
    struct browser *b = w;
    if (b->open)
        textview_ops.draw(&b->detail, win, y, x, h, wd, dc);
    else
        table_ops.draw(&b->list, win, y, x, h, wd, dc);
}

const struct widget_ops browser_ops = {
    .name = "browser",
    .draw = browser_draw,
    .key = browser_key,
};
