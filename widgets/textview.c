/*
 * textview.c: scrolling labelled lines (textview.h). UI thread only for
 * drawing; building is pure.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textview.h"

static char *xstrdup_or_null(const char *s)
{
    char *d;
    if (s == NULL)
        return NULL;
    if ((d = strdup(s)) == NULL)
        abort();
    return d;
}

void textview_init(struct textview *tv, int label_w)
{
    memset(tv, 0, sizeof *tv);
    tv->label_w = label_w;
    tv->page = 1;
}

void textview_clear(struct textview *tv)
{
    for (size_t i = 0; i < tv->n; i++) {
        free(tv->lines[i].label);
        free(tv->lines[i].text);
    }
    tv->n = 0;
}

void textview_free(struct textview *tv)
{
    if (tv == NULL)
        return;
    textview_clear(tv);
    free(tv->lines);
    memset(tv, 0, sizeof *tv);
}

size_t textview_add(struct textview *tv, int role, const char *label, const char *fmt, ...)
{
    va_list ap;
    char *text;
    struct tv_line *l;

    if (tv->n == tv->cap) {
        tv->cap = tv->cap ? tv->cap * 2 : 32;
        if ((tv->lines = realloc(tv->lines, tv->cap * sizeof *tv->lines)) == NULL)
            abort();
    }
    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        abort();
    va_end(ap);
    l = &tv->lines[tv->n];
    l->label = xstrdup_or_null(label);
    l->text = text;
    l->role = role;
    l->alt_at = 0;
    l->alt_role = role;
    return tv->n++;
}

void textview_set_alt(struct textview *tv, size_t i, size_t at, int role)
{
    if (i < tv->n && at < strlen(tv->lines[i].text)) {
        tv->lines[i].alt_at = at;
        tv->lines[i].alt_role = role;
    }
}

/* The largest top that still fills a page. */
static size_t max_top(const struct textview *tv)
{
    size_t page = tv->page > 0 ? (size_t)tv->page : 1;
    return tv->n > page ? tv->n - page : 0;
}

int textview_scroll(struct textview *tv, long delta)
{
    long t = (long)tv->top + delta, mt = (long)max_top(tv);
    if (t > mt)
        t = mt;
    if (t < 0)
        t = 0;
    if ((size_t)t == tv->top)
        return 0;
    tv->top = (size_t)t;
    return WF_DIRTY;
}

static int textview_key(void *w, int key)
{
    struct textview *tv = w;
    long page = tv->page > 1 ? tv->page - 1 : 1;

    switch (key) {
    case WK_DOWN:
    case 'j':
        return WF_HANDLED | textview_scroll(tv, 1);
    case WK_UP:
        return WF_HANDLED | textview_scroll(tv, -1);
    case WK_PGDN:
        return WF_HANDLED | textview_scroll(tv, page);
    case WK_PGUP:
        return WF_HANDLED | textview_scroll(tv, -page);
    case WK_HOME:
    case 'g':
        return WF_HANDLED | textview_scroll(tv, -(long)tv->n);
    case WK_END:
    case 'G':
        return WF_HANDLED | textview_scroll(tv, (long)tv->n);
    }
    return 0;
}

static void textview_draw(void *w, WINDOW *win, int y, int x, int h, int wd,
                          const struct draw_ctx *dc)
{
    struct textview *tv = w;

    if (h < 1 || wd < 1)
        return;
    tv->page = h;
    if (tv->top > max_top(tv))
        tv->top = max_top(tv);
    for (int r = 0; r < h; r++) {
        size_t i = tv->top + (size_t)r;
        int cx = x;
        wattrset(win, dc->roles[ROLE_NORMAL]);
        mvwhline(win, y + r, x, ' ', wd);
        if (i >= tv->n)
            continue;
        if (tv->lines[i].label && tv->label_w > 0) {
            wattrset(win, dc->roles[ROLE_DIM]);
            glyph_put(win, y + r, x, tv->lines[i].label, tv->label_w < wd ? tv->label_w : wd, 1);
            cx += tv->label_w;
        }
        if (cx < x + wd) {
            const struct tv_line *l = &tv->lines[i];
            char head[512];
            size_t at = l->alt_at < sizeof head ? l->alt_at : 0;
            wattrset(win, dc->roles[l->role]);
            if (at > 0) {
                memcpy(head, l->text, at);
                head[at] = '\0';
                cx += glyph_put(win, y + r, cx, head, x + wd - cx, 0);
                wattrset(win, dc->roles[l->alt_role]);
                if (cx < x + wd)
                    glyph_put(win, y + r, cx, l->text + at, x + wd - cx, 0);
            } else {
                glyph_put(win, y + r, cx, l->text, x + wd - cx, 0);
            }
        }
    }
    /* A mark on the last column when there is more below or above. */
    if (tv->n > (size_t)h) {
        wattrset(win, dc->roles[ROLE_DIM]);
        if (tv->top > 0)
            glyph_put(win, y, x + wd - 1, dc->g->up, 1, 0);
        if (tv->top < max_top(tv))
            glyph_put(win, y + h - 1, x + wd - 1, dc->g->down, 1, 0);
    }
    wattrset(win, A_NORMAL);
}

const struct widget_ops textview_ops = {
    .name = "textview",
    .draw = textview_draw,
    .key = textview_key,
};
