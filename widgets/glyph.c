/*
 * glyph.c: glyph tables and small drawing helpers (glyph.h). UI thread only.
 */
#define _GNU_SOURCE
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "glyph.h"
#include "roles.h"

const char *const role_names[ROLE_COUNT] = {
    "normal", "border", "title", "title-focus", "header",  "select", "tag",
    "dim",    "error",  "warn",  "ok",          "running", "stderr", "match",
    "status", "key",    "flash", "spark",       "dialog",  "input",
};

int role_from_name(const char *name)
{
    for (int i = 0; i < ROLE_COUNT; i++)
        if (strcmp(role_names[i], name) == 0)
            return i;
    return -1;
}

/* The UTF-8 set; the braille set differs only in its last field. */
#define UTF8_GLYPHS                                                                                \
    "\u2500", "\u2502", "\u250c", "\u2510", "\u2514", "\u2518", "\u25cf", "\u2026", "\u25b2",      \
        "\u25bc",                                                                                  \
        {"\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"}, 1

const struct glyphs glyphs_utf8 = {UTF8_GLYPHS, 0};
const struct glyphs glyphs_braille = {UTF8_GLYPHS, 1};

const struct glyphs glyphs_ascii = {
    "-", "|", "+", "+", "+", "+", "*", "~", "^", "v", {"_", ".", ",", "-", "=", "+", "*", "#"},
    0,   0,
};

const struct glyphs *glyph_pick(void)
{
    const char *cs = nl_langinfo(CODESET);
    return (cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0)) ? &glyphs_utf8
                                                                         : &glyphs_ascii;
}

/* Decode one UTF-8 character; returns its byte length (>= 1) and width. */
static int next_char(const char *s, int *cols)
{
    mbstate_t st;
    wchar_t wc;
    size_t n;

    memset(&st, 0, sizeof st);
    n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
    if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
        *cols = 1;
        return 1;
    }
    *cols = wcwidth(wc);
    if (*cols < 0)
        *cols = 1;
    return (int)n;
}

int glyph_width(const char *s)
{
    int w = 0, c;
    while (*s) {
        s += next_char(s, &c);
        w += c;
    }
    return w;
}

int glyph_put(WINDOW *win, int y, int x, const char *s, int w, int pad)
{
    int used = 0, c, n;
    char buf[16];

    wmove(win, y, x);
    while (s && *s && used < w) {
        n = next_char(s, &c);
        if (used + c > w)
            break;
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            waddch(win, '?');
        } else if (n < (int)sizeof buf) {
            memcpy(buf, s, (size_t)n);
            buf[n] = '\0';
            waddstr(win, buf);
        }
        used += c;
        s += n;
    }
    while (pad && used < w) {
        waddch(win, ' ');
        used++;
    }
    return used;
}

void glyph_box(WINDOW *win, const struct glyphs *g, int y, int x, int h, int w, attr_t border,
               const char *title, attr_t title_attr)
{
    if (h < 2 || w < 2)
        return;
    wattrset(win, border);
    mvwaddstr(win, y, x, g->ul);
    for (int i = 1; i < w - 1; i++)
        waddstr(win, g->hline);
    waddstr(win, g->ur);
    for (int r = 1; r < h - 1; r++) {
        mvwaddstr(win, y + r, x, g->vline);
        mvwaddstr(win, y + r, x + w - 1, g->vline);
    }
    mvwaddstr(win, y + h - 1, x, g->ll);
    for (int i = 1; i < w - 1; i++)
        waddstr(win, g->hline);
    waddstr(win, g->lr);
    if (title && *title && w > 4) {
        wattrset(win, title_attr);
        mvwaddch(win, y, x + 1, ' ');
        glyph_put(win, y, x + 2, title, w - 5, 0);
        waddch(win, ' ');
    }
    wattrset(win, A_NORMAL);
}
