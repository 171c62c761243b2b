/*
 * sparkline.h: a one-line chart of a series in block glyphs (or ASCII).
 *
 * The last `width` values are scaled between their own minimum and maximum
 * onto the eight levels of g->spark; a flat series draws at the lowest level.
 * Pure: no curses calls, so it is tested without a terminal.
 */
#ifndef SD_WIDGETS_SPARKLINE_H
#define SD_WIDGETS_SPARKLINE_H

#include <stddef.h>

#include "glyph.h"

/* Render into out (NUL-terminated, at most outsz bytes). Returns the number
 * of glyphs written. NaN values draw as a space. */
int sparkline_render(const double *v, size_t n, int width, const struct glyphs *g, char *out,
                     size_t outsz);

/* The same on a fixed scale: lo and hi are the lowest and highest levels
 * (values outside are clamped), for series with a natural range such as a
 * success rate in [0, 1], where a flat 100 % must not look like 0 %. NaN lo
 * or hi: the series' own minimum or maximum. */
int sparkline_render_range(const double *v, size_t n, int width, double lo, double hi,
                           const struct glyphs *g, char *out, size_t outsz);

/* The level (0..7) of value x between lo and hi. */
int sparkline_level(double x, double lo, double hi);

#endif
