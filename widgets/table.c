/*
 * table.c: sortable, filterable table with selection by id (table.h).
 * UI thread only.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "table.h"

static void *xre(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        abort();
    return q;
}

void table_init(struct table *t, const struct table_col *cols, int ncols)
{
    memset(t, 0, sizeof *t);
    t->cols = cols;
    t->ncols = ncols;
    t->sel_id = -1;
    t->sort_col = -1;
}

static void free_rows(struct table *t)
{
    for (size_t i = 0; i < t->nrows; i++) {
        for (int c = 0; c < t->ncols; c++)
            free(t->rows[i].text[c]);
        free(t->rows[i].text);
        free(t->rows[i].key);
    }
    t->nrows = 0;
}

void table_free(struct table *t)
{
    if (t == NULL)
        return;
    free_rows(t);
    free(t->rows);
    free(t->view);
    free(t->tags);
    memset(t, 0, sizeof *t);
}

void table_clear(struct table *t)
{
    free_rows(t);
}

size_t table_add(struct table *t, int64_t id, int role)
{
    struct table_row *r;
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->rows = xre(t->rows, t->cap * sizeof *t->rows);
    }
    r = &t->rows[t->nrows];
    r->id = id;
    r->role = role;
    r->text = xre(NULL, (size_t)t->ncols * sizeof *r->text);
    r->key = xre(NULL, (size_t)t->ncols * sizeof *r->key);
    for (int c = 0; c < t->ncols; c++) {
        r->text[c] = NULL;
        r->key[c] = NAN;
    }
    return t->nrows++;
}

void table_set(struct table *t, size_t row, int col, const char *text, double key)
{
    if (row >= t->nrows || col < 0 || col >= t->ncols)
        return;
    free(t->rows[row].text[col]);
    t->rows[row].text[col] = strdup(text ? text : "");
    if (t->rows[row].text[col] == NULL)
        abort();
    t->rows[row].key[col] = key;
}

static int row_matches(const struct table *t, const struct table_row *r)
{
    const char *f = t->filter, *colon;
    int only = -1;

    if (!*f)
        return 1;
    if ((colon = strchr(f, ':')) != NULL) {
        for (int c = 0; c < t->ncols; c++)
            if (strncasecmp(t->cols[c].title, f, (size_t)(colon - f)) == 0 &&
                t->cols[c].title[colon - f] == '\0') {
                only = c;
                f = colon + 1;
                break;
            }
    }
    for (int c = 0; c < t->ncols; c++) {
        if (only >= 0 && c != only)
            continue;
        if (r->text[c] && strcasestr(r->text[c], f))
            return 1;
    }
    return 0;
}

static const struct table *sort_t; /* qsort has no context argument in C11 */

static int cmp_rows(const void *a, const void *b)
{
    const struct table_row *x = &sort_t->rows[*(const size_t *)a];
    const struct table_row *y = &sort_t->rows[*(const size_t *)b];
    int c = sort_t->sort_col, r = 0;

    if (c >= 0) {
        double kx = x->key[c], ky = y->key[c];
        if (!isnan(kx) || !isnan(ky)) {
            if (isnan(kx))
                return 1; /* empty cells last, whatever the direction */
            if (isnan(ky))
                return -1;
            r = kx < ky ? -1 : kx > ky;
        } else {
            r = strcasecmp(x->text[c] ? x->text[c] : "", y->text[c] ? y->text[c] : "");
        }
        if (sort_t->sort_desc)
            r = -r;
    }
    if (r == 0) /* stable tie-breaker: the id */
        r = x->id < y->id ? -1 : x->id > y->id;
    return r;
}

void table_commit(struct table *t)
{
    size_t old_sel = t->sel;
    int found = 0;

    t->view = xre(t->view, (t->nrows ? t->nrows : 1) * sizeof *t->view);
    t->nview = 0;
    for (size_t i = 0; i < t->nrows; i++)
        if (row_matches(t, &t->rows[i]))
            t->view[t->nview++] = i;
    sort_t = t;
    qsort(t->view, t->nview, sizeof *t->view, cmp_rows);
    sort_t = NULL;
    for (size_t i = 0; i < t->nview; i++)
        if (t->rows[t->view[i]].id == t->sel_id) {
            t->sel = i;
            found = 1;
            break;
        }
    if (!found) {
        t->sel = t->nview == 0 ? 0 : (old_sel < t->nview ? old_sel : t->nview - 1);
        t->sel_id = t->nview ? t->rows[t->view[t->sel]].id : -1;
    }
}

void table_set_filter(struct table *t, const char *filter)
{
    snprintf(t->filter, sizeof t->filter, "%s", filter ? filter : "");
    table_commit(t);
}

void table_sort_by(struct table *t, int col, int desc)
{
    t->sort_col = col < t->ncols ? col : -1;
    t->sort_desc = desc;
    table_commit(t);
}

void table_cycle_sort(struct table *t)
{
    int c = t->sort_col + 1 >= t->ncols ? 0 : t->sort_col + 1;
    table_sort_by(t, c, t->cols[c].sort_desc);
}

void table_invert_sort(struct table *t)
{
    table_sort_by(t, t->sort_col, !t->sort_desc);
}

int64_t table_selected(const struct table *t)
{
    return t->nview ? t->rows[t->view[t->sel]].id : -1;
}

int table_select_id(struct table *t, int64_t id)
{
    for (size_t i = 0; i < t->nview; i++)
        if (t->rows[t->view[i]].id == id) {
            t->sel = i;
            t->sel_id = id;
            return 0;
        }
    return -1;
}

int table_tagged(const struct table *t, int64_t id)
{
    for (size_t i = 0; i < t->ntags; i++)
        if (t->tags[i] == id)
            return 1;
    return 0;
}

void table_tag_toggle(struct table *t, int64_t id)
{
    for (size_t i = 0; i < t->ntags; i++)
        if (t->tags[i] == id) {
            t->tags[i] = t->tags[--t->ntags];
            return;
        }
    t->tags = xre(t->tags, (t->ntags + 1) * sizeof *t->tags);
    t->tags[t->ntags++] = id;
}

void table_untag_all(struct table *t)
{
    t->ntags = 0;
}

size_t table_targets(const struct table *t, int64_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nview && n < max; i++)
        if (table_tagged(t, t->rows[t->view[i]].id))
            out[n++] = t->rows[t->view[i]].id;
    if (n == 0 && t->nview && max)
        out[n++] = table_selected(t);
    return n;
}

int table_move(struct table *t, long delta)
{
    long s = (long)t->sel + delta;
    if (t->nview == 0)
        return 0;
    if (s < 0)
        s = 0;
    if (s >= (long)t->nview)
        s = (long)t->nview - 1;
    if ((size_t)s == t->sel)
        return 0;
    t->sel = (size_t)s;
    t->sel_id = t->rows[t->view[t->sel]].id;
    return WF_DIRTY;
}

static int table_key(void *w, int key)
{
    struct table *t = w;
    long page = t->page > 1 ? t->page - 1 : 1;

    switch (key) {
    case WK_DOWN:
    case 'j':
        return WF_HANDLED | table_move(t, 1);
    case WK_UP:
        return WF_HANDLED | table_move(t, -1);
    case WK_PGDN:
        return WF_HANDLED | table_move(t, page);
    case WK_PGUP:
        return WF_HANDLED | table_move(t, -page);
    case WK_HOME:
    case 'g':
        return WF_HANDLED | table_move(t, -(long)t->nview);
    case WK_END:
    case 'G':
        return WF_HANDLED | table_move(t, (long)t->nview);
    case ' ':
        if (t->nview) {
            table_tag_toggle(t, table_selected(t));
            table_move(t, 1);
        }
        return WF_HANDLED | WF_DIRTY;
    }
    return 0;
}

int table_click(struct table *t, int dy)
{
    size_t vi = t->top + (size_t)dy - 1;
    if (dy < 1 || dy > t->page || vi >= t->nview)
        return 0;
    if (vi == t->sel)
        return WF_HANDLED;
    return WF_HANDLED | table_move(t, (long)vi - (long)t->sel);
}

/* Column widths (table.h, struct table_col). */
int table_layout(const struct table *t, int w, int *cw)
{
    int used = 2, shown = 0, left, grew;
    for (int c = 0; c < t->ncols; c++) {
        if (used + t->cols[c].width + 1 > w)
            break;
        cw[c] = t->cols[c].width;
        used += cw[c] + 1;
        shown++;
    }
    left = w - used;
    /* Flex columns first, in equal shares, each up to its max. */
    do {
        int open = 0, share;
        grew = 0;
        for (int c = 0; c < shown; c++)
            open += t->cols[c].flex && (t->cols[c].max <= 0 || cw[c] < t->cols[c].max);
        if (open == 0 || left <= 0)
            break;
        share = left / open > 0 ? left / open : 1;
        for (int c = 0; c < shown && left > 0; c++) {
            int g = share;
            if (!t->cols[c].flex || (t->cols[c].max > 0 && cw[c] >= t->cols[c].max))
                continue;
            if (t->cols[c].max > 0 && cw[c] + g > t->cols[c].max)
                g = t->cols[c].max - cw[c];
            cw[c] += g;
            left -= g;
            grew += g;
        }
    } while (grew > 0 && left > 0);
    /* The rest over every column (the first ones get the remainder). */
    for (int c = 0; c < shown && left > 0; c++) {
        int g = left / (shown - c) + (left % (shown - c) != 0);
        cw[c] += g;
        left -= g;
    }
    return shown;
}

static void table_draw(void *w, WINDOW *win, int y, int x, int h, int wd, const struct draw_ctx *dc)
{
    struct table *t = w;
    int cw[64], shown, cx;

    if (h < 1 || wd < 4)
        return;
    shown = table_layout(t, wd, cw);
    /* header */
    wattrset(win, dc->roles[ROLE_HEADER]);
    mvwhline(win, y, x, ' ', wd);
    cx = x + 2;
    for (int c = 0; c < shown; c++) {
        char title[64];
        const char *arrow = c == t->sort_col ? (t->sort_desc ? dc->g->down : dc->g->up) : "";
        int tl = (int)strlen(t->cols[c].title), aw = glyph_width(arrow);
        /* The arrow always shows: a title as wide as its column gives up
         * its last letters for it (titles are ASCII). */
        if (aw > 0 && tl + aw > cw[c] && cw[c] > aw)
            tl = cw[c] - aw;
        snprintf(title, sizeof title, "%.*s%s", tl, t->cols[c].title, arrow);
        if (t->cols[c].right) {
            int tw = glyph_width(title);
            glyph_put(win, y, cx + (cw[c] > tw ? cw[c] - tw : 0), title, cw[c], 0);
        } else {
            glyph_put(win, y, cx, title, cw[c], 0);
        }
        cx += cw[c] + 1;
    }
    t->page = h - 1;
    if (t->page < 1)
        t->page = 1;
    if (t->sel < t->top)
        t->top = t->sel;
    if (t->sel >= t->top + (size_t)t->page)
        t->top = t->sel - (size_t)t->page + 1;
    if (t->top + (size_t)t->page > t->nview)
        t->top = t->nview > (size_t)t->page ? t->nview - (size_t)t->page : 0;
    for (int r = 0; r < h - 1; r++) {
        size_t vi = t->top + (size_t)r;
        int ry = y + 1 + r;
        attr_t a;
        const struct table_row *row;

        if (vi >= t->nview) {
            wattrset(win, dc->roles[ROLE_NORMAL]);
            mvwhline(win, ry, x, ' ', wd);
            continue;
        }
        row = &t->rows[t->view[vi]];
        a = dc->roles[row->role];
        if (vi == t->sel)
            a = dc->focused ? dc->roles[ROLE_SELECT] : (dc->roles[ROLE_SELECT] & ~A_COLOR) | A_BOLD;
        wattrset(win, a);
        mvwhline(win, ry, x, ' ', wd);
        if (table_tagged(t, row->id)) {
            wattrset(win, vi == t->sel ? a : dc->roles[ROLE_TAG]);
            glyph_put(win, ry, x, dc->g->tag, 1, 0);
            wattrset(win, a);
        }
        cx = x + 2;
        for (int c = 0; c < shown; c++) {
            const char *s = row->text[c] ? row->text[c] : "";
            int sw = glyph_width(s);
            if (t->cols[c].right && sw < cw[c])
                glyph_put(win, ry, cx + cw[c] - sw, s, cw[c], 0);
            else
                glyph_put(win, ry, cx, s, cw[c], 0);
            cx += cw[c] + 1;
        }
    }
    wattrset(win, A_NORMAL);
}

const struct widget_ops table_ops = {
    .name = "table",
    .draw = table_draw,
    .key = table_key,
};
