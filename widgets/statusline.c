/*
 * statusline.c: segments that shrink to fit (statusline.h).
 */
#include <string.h>

#include "statusline.h"

static int total(int n, const int form[], const int width[], int sepw)
{
    int t = 0, shown = 0;
    for (int i = 0; i < n; i++)
        if (form[i] >= 0) {
            t += width[i];
            shown++;
        }
    return t + (shown > 1 ? (shown - 1) * sepw : 0);
}

/* Whether segment i can still be shortened. */
int statusline_fit(const struct sl_seg *s, int n, int w, int sepw, int form[], int width[])
{
    int over;

    if (n > SL_MAX)
        n = SL_MAX;
    for (int i = 0; i < n; i++) {
        form[i] = 0;
        width[i] = glyph_width(s[i].text ? s[i].text : "");
    }
    /* One step at a time on the lowest-priority segment still shown (ties:
     * the rightmost): its compact form, else cut it from the left (down to
     * its minimum), else drop it. */
    while ((over = total(n, form, width, sepw) - w) > 0) {
        int i = -1;
        for (int k = 0; k < n; k++)
            if (form[k] >= 0 && (i < 0 || s[k].prio <= s[i].prio))
                i = k;
        if (i < 0)
            break;
        if (form[i] == 0 && s[i].compact != NULL) {
            form[i] = 1;
            width[i] = glyph_width(s[i].compact);
        } else if (s[i].elide && width[i] > s[i].min) {
            width[i] = width[i] - over >= s[i].min ? width[i] - over : s[i].min;
        } else {
            form[i] = -1;
        }
    }
    return total(n, form, width, sepw);
}

/* Draw the last `cols` columns of t (an ellipsis first when cut). */
static int put_tail(WINDOW *win, int y, int x, const char *t, int cols, const struct glyphs *g)
{
    int tw = glyph_width(t), used;
    if (tw <= cols)
        return glyph_put(win, y, x, t, cols, 0);
    used = glyph_put(win, y, x, g->ellipsis, 1, 0);
    /* Skip characters until what is left fits in cols - 1. */
    while (*t && glyph_width(t) > cols - used)
        t++;
    while (*t && ((unsigned char)*t & 0xc0) == 0x80) /* not inside a UTF-8 sequence */
        t++;
    return used + glyph_put(win, y, x + used, t, cols - used, 0);
}

void statusline_draw(WINDOW *win, int y, int x, int w, const struct sl_seg *s, int n,
                     const char *sep, const struct draw_ctx *dc)
{
    int form[SL_MAX], width[SL_MAX], cx = x, first = 1, sepw = glyph_width(sep);

    if (n > SL_MAX)
        n = SL_MAX;
    statusline_fit(s, n, w, sepw, form, width);
    wattrset(win, dc->roles[ROLE_STATUSBAR]);
    mvwhline(win, y, x, ' ', w);
    for (int i = 0; i < n; i++) {
        if (form[i] < 0)
            continue;
        if (!first) {
            wattrset(win, dc->roles[ROLE_STATUSBAR]);
            cx += glyph_put(win, y, cx, sep, x + w - cx, 0);
        }
        first = 0;
        wattrset(win, dc->roles[s[i].role]);
        cx += put_tail(win, y, cx, form[i] ? s[i].compact : s[i].text,
                       width[i] < x + w - cx ? width[i] : x + w - cx, dc->g);
    }
    wattrset(win, A_NORMAL);
}
