/*
 * sparkline.h: a one-line chart of a series in block glyphs (or ASCII).
 *
 * The last `width` values are scaled between their own minimum and maximum
 * onto the eight levels of g->spark; a flat series draws at the lowest level.
 *
 * BRAILLE (g->braille): each cell is a braille pattern (U+2800 + dots), a
 * grid of 2 x 4 dots, and holds two values: the left dot column the older,
 * the right the newer. A value is a bar of 1 to 4 dots from the bottom (4
 * levels), so `width` cells show the last 2 * width values, twice the
 * history of the block form at half its vertical resolution. The newest
 * value is always the right half of the last cell (with an odd count the
 * first cell's left half stays empty). A NaN value has no dots; a cell with
 * none at all is a space.
 *
 * Pure: no curses calls, so it is tested without a terminal.
 */
#ifndef SD_WIDGETS_SPARKLINE_H
#define SD_WIDGETS_SPARKLINE_H

#include <stddef.h>

#include "glyph.h"

/* Render into out (NUL-terminated, at most outsz bytes). Returns the number
 * of cells written. NaN values draw as a space. */
int sparkline_render(const double *v, size_t n, int width, const struct glyphs *g, char *out,
                     size_t outsz);

/* The same on a fixed scale: lo and hi are the lowest and highest levels
 * (values outside are clamped), for series with a natural range such as a
 * success rate in [0, 1], where a flat 100 % must not look like 0 %. NaN lo
 * or hi: the series' own minimum or maximum. */
int sparkline_render_range(const double *v, size_t n, int width, double lo, double hi,
                           const struct glyphs *g, char *out, size_t outsz);

/* The level (0..levels-1) of value x between lo and hi (0 when hi <= lo). */
int sparkline_level_of(double x, double lo, double hi, int levels);

/* The level (0..7) of value x between lo and hi. */
int sparkline_level(double x, double lo, double hi);

#endif
