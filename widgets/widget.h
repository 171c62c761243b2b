/*
 * widget.h: what every widget shares: key codes, handler flags and the
 * const ops table (htop's Panel, tmux's window modes).
 *
 * Key handlers return WF_* flags and never draw; the owner draws once per
 * frame. Keys are Unicode code points, or WK_FN(curses KEY_*) for function
 * keys so the two ranges never collide.
 */
#ifndef SD_WIDGETS_WIDGET_H
#define SD_WIDGETS_WIDGET_H

#include <curses.h>

#include "glyph.h"
#include "roles.h"

#define WK_FN(k)     (0x110000 + (k))
#define WK_IS_FN(k)  ((k) >= 0x110000)
#define WK_CTRL(c)   ((c)&0x1f)
#define WK_ESC       27
#define WK_ENTER     '\r'
#define WK_TAB       '\t'
#define WK_UP        WK_FN(KEY_UP)
#define WK_DOWN      WK_FN(KEY_DOWN)
#define WK_LEFT      WK_FN(KEY_LEFT)
#define WK_RIGHT     WK_FN(KEY_RIGHT)
#define WK_PGUP      WK_FN(KEY_PPAGE)
#define WK_PGDN      WK_FN(KEY_NPAGE)
#define WK_HOME      WK_FN(KEY_HOME)
#define WK_END       WK_FN(KEY_END)
#define WK_BTAB      WK_FN(KEY_BTAB)
#define WK_BACKSPACE WK_FN(KEY_BACKSPACE)
#define WK_DC        WK_FN(KEY_DC)
#define WK_RESIZE    WK_FN(KEY_RESIZE)
#define WK_NONE      (-1)

enum widget_flags {
    WF_HANDLED = 1 << 0, /* the key was used */
    WF_DIRTY = 1 << 1,   /* redraw me */
    WF_SUBMIT = 1 << 2,  /* Enter on a form or dialog */
    WF_CANCEL = 1 << 3,  /* Esc */
    WF_CHANGED = 1 << 4, /* a value changed (forms) */
};

/* Teach curses the common Home/End/PgUp/PgDn/Del/F1-F10 escape sequences
 * that the terminfo entry does not list (tmux under TERM=xterm*, vt100,
 * PuTTY, rxvt). Call once after newterm and keypad(TRUE). */
void wk_init(void);

/* Read one key from win (non-blocking if win is nodelay): a code point, a
 * WK_FN key, or WK_NONE. Enter is normalised to WK_ENTER, DEL to
 * WK_BACKSPACE. An escape sequence curses does not know is read whole:
 * one of wk_init's variants becomes its key, any other is dropped (its
 * bytes never come back as keys); a lone ESC is WK_ESC. */
int wk_read(WINDOW *win);

/* A short name for a key ("q", "C-l", "Up", "Tab", "F1") into buf. */
const char *wk_name(int key, char *buf, size_t n);

/* What the owner needs to draw any widget. */
struct draw_ctx {
    const attr_t *roles; /* ROLE_COUNT attributes */
    const struct glyphs *g;
    int focused;
};

struct widget_ops {
    const char *name;
    void (*draw)(void *w, WINDOW *win, int y, int x, int h, int wd, const struct draw_ctx *dc);
    int (*key)(void *w, int key); /* WF_* flags; never draws */
};

#endif
