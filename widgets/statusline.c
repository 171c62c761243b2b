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
    /* One step at a time in the lowest priority still shown: a soft step
     * (the compact form, else cutting an elidable segment from the left, down
     * to its minimum) on the rightmost segment of that priority that has one;
     * only when none has, drop the rightmost segment of that priority. */
    while ((over = total(n, form, width, sepw) - w) > 0) {
        int p = -1, soft = -1, drop = -1;
        for (int k = 0; k < n; k++)
            if (form[k] >= 0 && (p < 0 || s[k].prio < p))
                p = s[k].prio;
        if (p < 0)
            break;
        for (int k = 0; k < n; k++) {
            if (form[k] < 0 || s[k].prio != p)
                continue;
            drop = k;
            if ((form[k] == 0 && s[k].compact != NULL) || (s[k].elide && width[k] > s[k].min))
                soft = k;
        }
        if (soft >= 0 && form[soft] == 0 && s[soft].compact != NULL) {
            form[soft] = 1;
            width[soft] = glyph_width(s[soft].compact);
        } else if (soft >= 0) {
            width[soft] = width[soft] - over >= s[soft].min ? width[soft] - over : s[soft].min;
        } else {
            form[drop] = -1;
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
