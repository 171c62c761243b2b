/*
 * dialog.h: a modal message with buttons (confirmations, notices).
 *
 * Destructive confirmations put Cancel first and focus it (tmux's
 * confirm-before): Enter on the default does nothing harmful. y picks the
 * last button, n and Esc cancel, Left/Right/Tab move. On WF_SUBMIT `chosen`
 * is the button index. UI thread only.
 */
#ifndef SD_WIDGETS_DIALOG_H
#define SD_WIDGETS_DIALOG_H

#include "widget.h"

struct dialog {
    char title[64];
    char msg[1024]; /* may hold newlines */
    const char *buttons[3];
    int nbuttons, cur, chosen;
};

extern const struct widget_ops dialog_ops;

void dialog_init(struct dialog *d, const char *title, const char *msg, const char *b0,
                 const char *b1);

/* The size a dialog wants for screen width maxw (h and w in cells). */
void dialog_size(const struct dialog *d, int maxw, int *h, int *w);

#endif
