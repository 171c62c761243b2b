/*
 * glyph.h: glyph tables for UTF-8 and ASCII terminals.
 *
 * Everything the widgets draw that is not text comes from one of these two
 * tables, chosen once from the locale (glyph_pick), so a C locale gets
 * clean ASCII and never mojibake. Strings are drawn with waddstr, not ACS,
 * so what is on screen is exactly what the table says.
 */
#ifndef SD_WIDGETS_GLYPH_H
#define SD_WIDGETS_GLYPH_H

#include <curses.h>

struct glyphs {
    const char *hline, *vline, *ul, *ur, *ll, *lr;
    const char *tag, *ellipsis, *up, *down;
    const char *spark[8]; /* lowest to highest */
    int utf8;
    int braille; /* sparklines in braille (sparkline.h); needs utf8 */
};

/* glyphs_braille is glyphs_utf8 with braille sparklines. */
extern const struct glyphs glyphs_utf8, glyphs_ascii, glyphs_braille;

/* The table for the current locale (call after setlocale). */
const struct glyphs *glyph_pick(void);

/* Draw a box of h x w at (y, x) with a title (may be NULL) in title_attr. */
void glyph_box(WINDOW *win, const struct glyphs *g, int y, int x, int h, int w, attr_t border,
               const char *title, attr_t title_attr);

/* Display width of a UTF-8 string (ASCII: its length). */
int glyph_width(const char *s);

/* Draw at most w columns of s at (y, x) (clipped at a character boundary),
 * padded with spaces to w when pad. Returns columns drawn. */
int glyph_put(WINDOW *win, int y, int x, const char *s, int w, int pad);

#endif
