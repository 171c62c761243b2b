/*
 * statusline.h: a one-row bar of segments that degrades to fit its width
 * (the console's header).
 *
 * Each segment has a full text, an optional compact text, a role and a
 * priority. When the row is too narrow, statusline_fit shortens one step at
 * a time within the lowest priority still shown: a compact form, or (for
 * segments marked `elide`, such as a path, which keeps its file name) a cut
 * from the left with an ellipsis down to `min` columns; only when no segment
 * of that priority can shrink softly is one dropped (the rightmost). So at 80 columns the counts
 * and the provider health stay whole and the path goes, instead of the right end of the row being
 * clipped mid-word.
 *
 * statusline_fit is pure (tested without a terminal); statusline_draw is UI
 * thread only.
 */
#ifndef SD_WIDGETS_STATUSLINE_H
#define SD_WIDGETS_STATUSLINE_H

#include "widget.h"

#define SL_MAX 16

struct sl_seg {
    const char *text;    /* full form */
    const char *compact; /* shorter form, or NULL */
    int role;            /* ROLE_* */
    int prio;            /* higher survives longer */
    int elide;           /* may be cut from the left */
    int min;             /* elide: never narrower than this (then dropped) */
};

/* How each segment is shown: width[i] columns of its full (form 0) or
 * compact (form 1) text, cut from the left when narrower than that text;
 * form -1 = dropped. Segments are separated by sepw columns. Returns the
 * total width used (<= w when anything can fit). */
int statusline_fit(const struct sl_seg *s, int n, int w, int sepw, int form[], int width[]);

/* Draw the segments on row y from x, w wide, separated by sep, in roles over
 * a ROLE_STATUSBAR background. */
void statusline_draw(WINDOW *win, int y, int x, int w, const struct sl_seg *s, int n,
                     const char *sep, const struct draw_ctx *dc);

#endif
