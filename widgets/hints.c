/*
 * hints.c: footer key hints (hints.h). UI thread only.
 */
#include "hints.h"

int hints_draw(WINDOW *win, int y, int x, int w, const struct hint *h, int n,
               const struct draw_ctx *dc)
{
    int cx = x, shown = 0;

    wattrset(win, dc->roles[ROLE_STATUSBAR]);
    mvwhline(win, y, x, ' ', w);
    for (int i = 0; i < n; i++) {
        int need = glyph_width(h[i].key) + 1 + glyph_width(h[i].label) + 2;
        if (cx + need > x + w)
            break;
        wattrset(win, dc->roles[ROLE_KEY]);
        cx += glyph_put(win, y, cx, h[i].key, w, 0);
        wattrset(win, dc->roles[ROLE_STATUSBAR]);
        cx += glyph_put(win, y, cx, " ", 1, 0);
        cx += glyph_put(win, y, cx, h[i].label, w, 0);
        cx += glyph_put(win, y, cx, "  ", 2, 0);
        shown++;
    }
    wattrset(win, A_NORMAL);
    return shown;
}
