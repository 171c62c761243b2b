/*
 * logview.c: live output view pulling only the visible window (logview.h).
 * UI thread only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logview.h"

#define LV_MAXPAGE       512
#define LOGVIEW_LINE_MAX 4200

void logview_init(struct logview *lv)
{
    memset(lv, 0, sizeof *lv);
    lv->follow = 1;
    lv->empty = "(no output)";
}

void logview_set_source(struct logview *lv, const struct lv_source *src)
{
    if (src)
        lv->src = *src;
    else
        memset(&lv->src, 0, sizeof lv->src);
    lv->follow = 1;
    lv->top = 0;
    lv->match_seq = 0;
    lv->seen = 0;
    lv->done = 0;
}

static uint64_t src_first(struct logview *lv)
{
    return lv->src.get ? lv->src.first(lv->src.ctx) : 0;
}

static uint64_t src_last(const struct logview *lv)
{
    return lv->src.get ? lv->src.last(lv->src.ctx) : 0;
}

int logview_shows(const struct logview *lv, const char *text)
{
    if (lv->hide_proto && strncmp(text, "@@", 2) == 0)
        return 0;
    return !lv->filter[0] || strcasestr(text, lv->filter) != NULL;
}

static int filtering(const struct logview *lv)
{
    return lv->hide_proto || lv->filter[0];
}

static void free_copies(struct lv_line *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i].text);
}

/* Copy up to max lines the filters show into out (texts strdup'd: the
 * caller frees them with free_copies), starting at seq from (inclusive)
 * and going forward (dir 1, oldest first) or back (dir -1, newest first).
 * Scans at most the whole source. Returns how many. */
static size_t collect(struct logview *lv, uint64_t from, int dir, struct lv_line *out, size_t max)
{
    struct lv_line buf[256];
    uint64_t first = src_first(lv), last = src_last(lv), pos = from;
    size_t k = 0;

    if (lv->src.get == NULL || last == 0 || max == 0 || from == 0)
        return 0;
    if (pos < first) {
        if (dir < 0)
            return 0;
        pos = first;
    }
    if (pos > last) {
        if (dir > 0)
            return 0;
        pos = last;
    }
    while (k < max) {
        uint64_t start = dir > 0 ? pos : (pos >= first + 255 ? pos - 255 : first);
        size_t n = lv->src.get(lv->src.ctx, start, buf, 256);
        int full = 0;
        if (n == 0)
            break;
        for (size_t j = 0; j < n && !full; j++) {
            size_t i = dir > 0 ? j : n - 1 - j;
            int in = dir > 0 ? buf[i].seq >= pos : buf[i].seq <= pos;
            if (in && logview_shows(lv, buf[i].text)) {
                out[k] = buf[i];
                if ((out[k].text = strdup(buf[i].text)) == NULL)
                    full = 1;
                else
                    full = ++k == max;
            }
        }
        if (dir > 0)
            pos = buf[n - 1].seq + 1;
        lv->src.release(lv->src.ctx, buf, n);
        if (full || (dir > 0 && pos > last) || (dir < 0 && start <= first))
            break;
        if (dir < 0)
            pos = start - 1;
    }
    return k;
}

uint64_t logview_new_lines(const struct logview *lv)
{
    uint64_t last = src_last(lv);
    return lv->follow || last <= lv->seen ? 0 : last - lv->seen;
}

void logview_set_follow(struct logview *lv, int on)
{
    uint64_t last = src_last(lv);
    if (!on && lv->follow) {
        int page = lv->page > 0 ? lv->page : 1;
        lv->top = last > (uint64_t)page ? last - (uint64_t)page + 1 : 1;
        if (filtering(lv)) { /* the first of the last page of visible lines */
            struct lv_line v[LV_MAXPAGE];
            size_t n = collect(lv, last, -1, v, page < LV_MAXPAGE ? (size_t)page : LV_MAXPAGE);
            if (n)
                lv->top = v[n - 1].seq;
            free_copies(v, n);
        }
        lv->seen = last;
    }
    lv->follow = on;
}

void logview_set_filter(struct logview *lv, const char *text)
{
    snprintf(lv->filter, sizeof lv->filter, "%s", text ? text : "");
    lv->follow = 1;
    lv->match_seq = 0;
}

/* logview_scroll while a filter is on: delta counts visible lines. */
static int scroll_filtered(struct logview *lv, long delta)
{
    struct lv_line v[LV_MAXPAGE];
    int page = lv->page > 0 ? lv->page : 1;
    size_t steps = (size_t)(delta < 0 ? -delta : delta), n;
    uint64_t old;

    if (page > LV_MAXPAGE)
        page = LV_MAXPAGE;
    if (steps > LV_MAXPAGE)
        steps = LV_MAXPAGE;
    if (lv->follow) {
        if (delta >= 0)
            return 0;
        logview_set_follow(lv, 0);
    }
    old = lv->top;
    n = collect(lv, delta > 0 ? lv->top + 1 : lv->top - 1, delta > 0 ? 1 : -1, v, steps);
    if (n)
        lv->top = v[n - 1].seq;
    free_copies(v, n);
    if (delta > 0) { /* the rest fits in a page: follow again */
        n = collect(lv, lv->top, 1, v, (size_t)page);
        free_copies(v, n);
        if (n < (size_t)page) {
            lv->follow = 1;
            return WF_DIRTY;
        }
    }
    return lv->top != old ? WF_DIRTY : 0;
}

int logview_scroll(struct logview *lv, long delta)
{
    uint64_t first = src_first(lv), last = src_last(lv), old;
    int page = lv->page > 0 ? lv->page : 1;
    long long t;

    if (last == 0)
        return 0;
    if (filtering(lv))
        return scroll_filtered(lv, delta);
    if (lv->follow) {
        if (delta >= 0)
            return 0;
        logview_set_follow(lv, 0);
    }
    old = lv->top;
    t = (long long)lv->top + delta;
    if (t < (long long)first)
        t = (long long)first;
    if (t + page > (long long)last + 1) { /* scrolled to the end: follow again */
        lv->follow = 1;
        return WF_DIRTY;
    }
    lv->top = (uint64_t)t;
    if (lv->top + (uint64_t)page - 1 > lv->seen)
        lv->seen = lv->top + (uint64_t)page - 1;
    return lv->top != old ? WF_DIRTY : 0;
}

int logview_search(struct logview *lv, const char *text, int dir)
{
    struct lv_line buf[256];
    uint64_t first = src_first(lv), last = src_last(lv), pos;

    if (text && text != lv->search)
        snprintf(lv->search, sizeof lv->search, "%s", text);
    if (!lv->search[0] || last == 0)
        return -1;
    if (lv->match_seq)
        pos = dir > 0 ? lv->match_seq + 1 : lv->match_seq - 1;
    else
        pos = dir > 0 ? (lv->follow ? first : lv->top) : last;
    while (pos >= first && pos <= last && pos > 0) {
        uint64_t from = dir > 0 ? pos : (pos > 256 ? pos - 255 : 1);
        size_t n = lv->src.get(lv->src.ctx, from < first ? first : from, buf, 256);
        uint64_t hit = 0;
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++) {
            if (dir > 0 && buf[i].seq < pos)
                continue;
            if (dir < 0 && buf[i].seq > pos)
                break;
            if (strcasestr(buf[i].text, lv->search) && logview_shows(lv, buf[i].text)) {
                hit = buf[i].seq;
                if (dir > 0)
                    break;
            }
        }
        pos = dir > 0 ? buf[n - 1].seq + 1 : (from <= first ? 0 : from - 1);
        lv->src.release(lv->src.ctx, buf, n);
        if (hit) {
            int page = lv->page > 0 ? lv->page : 1;
            logview_set_follow(lv, 0);
            lv->match_seq = hit;
            lv->top = hit > (uint64_t)page / 2 ? hit - (uint64_t)page / 2 : 1;
            if (lv->top < first)
                lv->top = first;
            return 0;
        }
    }
    return -1;
}

long logview_save(struct logview *lv, const char *path)
{
    struct lv_line buf[256];
    uint64_t pos = src_first(lv), last = src_last(lv);
    long count = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f;

    if (fd < 0)
        return -1;
    if ((f = fdopen(fd, "w")) == NULL) {
        close(fd);
        return -1;
    }
    while (last && pos <= last) {
        size_t n = lv->src.get(lv->src.ctx, pos, buf, 256);
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++, count++)
            fprintf(f, "%s%s\n", buf[i].stream == 2 ? "[stderr] " : "", buf[i].text);
        pos = buf[n - 1].seq + 1;
        lv->src.release(lv->src.ctx, buf, n);
    }
    if (fclose(f) != 0)
        return -1;
    return count;
}

static int logview_key(void *w, int key)
{
    struct logview *lv = w;
    long page = lv->page > 1 ? lv->page - 1 : 1;

    switch (key) {
    case WK_DOWN:
    case 'j':
        return WF_HANDLED | logview_scroll(lv, 1);
    case WK_UP:
        return WF_HANDLED | logview_scroll(lv, -1);
    case WK_PGDN:
        return WF_HANDLED | logview_scroll(lv, page);
    case WK_PGUP:
        return WF_HANDLED | logview_scroll(lv, -page);
    case WK_HOME:
    case 'g':
        logview_set_follow(lv, 0);
        lv->top = src_first(lv);
        return WF_HANDLED | WF_DIRTY;
    case WK_END:
    case 'G':
        lv->follow = 1;
        return WF_HANDLED | WF_DIRTY;
    }
    return 0;
}

/* Rows line l takes at width w. */
static int rows_of(const struct logview *lv, const struct lv_line *l, int w)
{
    int cols = glyph_width(l->text) + (lv->timestamps ? 13 : 0);
    if (!lv->wrap || w <= 0)
        return 1;
    return cols <= w ? 1 : (cols + w - 1) / w;
}

/* Draw text from column `skip` (in display columns) for at most w columns,
 * highlighting matches of search. */
static void put_highlighted(WINDOW *win, int y, int x, const char *s, int w, attr_t base,
                            attr_t match, const char *search)
{
    size_t slen = strlen(search);
    const char *hit = slen ? strcasestr(s, search) : NULL;
    int used = 0;

    wattrset(win, base);
    while (used < w && *s) {
        if (hit && s == hit) {
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%.*s", (int)(slen < 255 ? slen : 255), s);
            wattrset(win, match);
            used += glyph_put(win, y, x + used, tmp, w - used, 0);
            wattrset(win, base);
            s += slen;
            hit = strcasestr(s, search);
            continue;
        }
        {
            const char *end = hit ? hit : s + strlen(s);
            char tmp[4200];
            size_t n = (size_t)(end - s) < sizeof tmp - 1 ? (size_t)(end - s) : sizeof tmp - 1;
            memcpy(tmp, s, n);
            tmp[n] = '\0';
            used += glyph_put(win, y, x + used, tmp, w - used, 0);
            s += n;
            if (!hit)
                break;
        }
    }
}

static void logview_draw(void *w, WINDOW *win, int y, int x, int h, int wd,
                         const struct draw_ctx *dc)
{
    struct logview *lv = w;
    struct lv_line lines[LV_MAXPAGE];
    size_t n = 0, start = 0;
    uint64_t last = src_last(lv), first = src_first(lv);
    int row = 0, rows = 0, owned = 0;

    wattrset(win, dc->roles[ROLE_NORMAL]);
    for (int r = 0; r < h; r++)
        mvwhline(win, y + r, x, ' ', wd);
    if (h < 1 || wd < 1)
        return;
    lv->page = h;
    if (last == 0) {
        wattrset(win, dc->roles[ROLE_DIM]);
        glyph_put(win, y, x, lv->empty ? lv->empty : "", wd, 0);
        wattrset(win, A_NORMAL);
        return;
    }
    if (h > LV_MAXPAGE)
        h = LV_MAXPAGE;
    if (filtering(lv)) { /* copies of the visible lines only */
        owned = 1;
        if (lv->follow) {
            n = collect(lv, last, -1, lines, (size_t)h);
            for (size_t i = 0; i < n / 2; i++) { /* oldest first */
                struct lv_line t = lines[i];
                lines[i] = lines[n - 1 - i];
                lines[n - 1 - i] = t;
            }
        } else {
            n = collect(lv, lv->top < first ? first : lv->top, 1, lines, (size_t)h);
        }
        if (n == 0) {
            wattrset(win, dc->roles[ROLE_DIM]);
            glyph_put(win, y, x,
                      lv->filter[0] ? "(no line matches the filter)"
                                    : "(only hidden @@ protocol lines so far)",
                      wd, 0);
        }
    }
    if (owned && lv->follow) {
        start = n;
        while (start > 0 && rows + rows_of(lv, &lines[start - 1], wd) <= h)
            rows += rows_of(lv, &lines[--start], wd);
        lv->seen = last;
    } else if (owned) {
        /* the window starts at top */
    } else if (lv->follow) {
        uint64_t from = last >= (uint64_t)h ? last - (uint64_t)h + 1 : 1;
        n = lv->src.get(lv->src.ctx, from < first ? first : from, lines, (size_t)h);
        /* keep the tail that fits when wrapped */
        start = n;
        while (start > 0 && rows + rows_of(lv, &lines[start - 1], wd) <= h)
            rows += rows_of(lv, &lines[--start], wd);
        lv->seen = last;
    } else {
        if (lv->top < first)
            lv->top = first;
        n = lv->src.get(lv->src.ctx, lv->top, lines, (size_t)h);
    }
    for (size_t i = start; i < n && row < h; i++) {
        const struct lv_line *l = &lines[i];
        attr_t a = dc->roles[l->stream == 2 ? ROLE_STDERR : ROLE_NORMAL];
        char full[LOGVIEW_LINE_MAX];
        const char *p;
        int total;

        if (lv->timestamps && l->time_ms <= 0) {
            snprintf(full, sizeof full, "--:--:--.--- %s", l->text); /* not recorded */
        } else if (lv->timestamps) {
            time_t t = (time_t)(l->time_ms / 1000);
            struct tm tm;
            gmtime_r(&t, &tm);
            snprintf(full, sizeof full, "%02d:%02d:%02d.%03d %s", tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(l->time_ms % 1000), l->text);
        } else {
            snprintf(full, sizeof full, "%s", l->text);
        }
        if (l->seq == lv->match_seq)
            a |= A_BOLD;
        p = full;
        total = rows_of(lv, l, wd);
        for (int k = 0; k < total && row < h; k++, row++) {
            put_highlighted(win, y + row, x, p, wd, a, dc->roles[ROLE_MATCH], lv->search);
            /* advance p by wd columns */
            for (int c = 0; *p && c < wd; c++) { /* one column per character */
                p++;
                while ((*p & 0xC0) == 0x80)
                    p++;
            }
        }
    }
    if (owned)
        free_copies(lines, n);
    else if (n)
        lv->src.release(lv->src.ctx, lines, n);
    if (!lv->follow) {
        uint64_t nn = logview_new_lines(lv), bottom = lv->top + (uint64_t)h - 1;
        char m[48];
        if (lv->done)
            snprintf(m, sizeof m, " %llu below ",
                     (unsigned long long)(last > bottom ? last - bottom : 0));
        else
            snprintf(m, sizeof m, nn ? " +%llu new " : " paused ", (unsigned long long)nn);
        wattrset(win, dc->roles[ROLE_FLASH]);
        int mx = wd > glyph_width(m) ? x + wd - glyph_width(m) : x;
        glyph_put(win, y + h - 1, mx, m, wd, 0);
    }
    wattrset(win, A_NORMAL);
}

const struct widget_ops logview_ops = {
    .name = "logview",
    .draw = logview_draw,
    .key = logview_key,
};
