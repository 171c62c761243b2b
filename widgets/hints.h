/*
 * hints.h: the footer of key hints ("q quit  d deploy ...").
 *
 * Hints come from the caller's key-binding table, so the footer can never
 * disagree with what the keys do. Hints that do not fit are dropped.
 */
#ifndef SD_WIDGETS_HINTS_H
#define SD_WIDGETS_HINTS_H

#include "widget.h"

struct hint {
    const char *key;
    const char *label;
};

/* Draw hints on one row; returns how many fit. */
int hints_draw(WINDOW *win, int y, int x, int w, const struct hint *h, int n,
               const struct draw_ctx *dc);

#endif
