/*
 * dialog.c: modal confirmation dialog (dialog.h). UI thread only.
 */
#include <stdio.h>
#include <string.h>

#include "dialog.h"

void dialog_init(struct dialog *d, const char *title, const char *msg, const char *b0,
                 const char *b1)
{
    memset(d, 0, sizeof *d);
    snprintf(d->title, sizeof d->title, "%s", title);
    snprintf(d->msg, sizeof d->msg, "%s", msg);
    d->buttons[0] = b0;
    d->buttons[1] = b1;
    d->nbuttons = b1 ? 2 : 1;
    d->chosen = -1;
}

static int dialog_key(void *w, int key)
{
    struct dialog *d = w;
    switch (key) {
    case WK_ESC:
    case 'n':
        return WF_HANDLED | WF_CANCEL;
    case 'y':
        d->chosen = d->nbuttons - 1;
        return WF_HANDLED | WF_SUBMIT;
    case WK_ENTER:
        d->chosen = d->cur;
        return WF_HANDLED | WF_SUBMIT;
    case WK_LEFT:
    case WK_BTAB:
        d->cur = (d->cur + d->nbuttons - 1) % d->nbuttons;
        return WF_HANDLED | WF_DIRTY;
    case WK_RIGHT:
    case WK_TAB:
        d->cur = (d->cur + 1) % d->nbuttons;
        return WF_HANDLED | WF_DIRTY;
    }
    return WF_HANDLED; /* modal: swallow everything else */
}

/* Lines of msg wrapped at w columns; calls fn for each (if not NULL). */
static int wrap_lines(const char *msg, int w, WINDOW *win, int y, int x, int maxrows)
{
    int rows = 0;
    const char *p = msg;
    while (*p && rows < maxrows) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        int take = len > w ? w : len;
        if (len > w) { /* break at the last space */
            int sp = take;
            while (sp > 0 && p[sp] != ' ')
                sp--;
            if (sp > 0)
                take = sp;
        }
        if (win) {
            char tmp[1024];
            snprintf(tmp, sizeof tmp, "%.*s", take, p);
            glyph_put(win, y + rows, x, tmp, w, 1);
        }
        rows++;
        p += take;
        if (*p == ' ' || *p == '\n')
            p++;
    }
    return rows;
}

void dialog_size(const struct dialog *d, int maxw, int *h, int *w)
{
    int iw = (int)strlen(d->msg) + 4;
    if (iw > 64)
        iw = 64;
    if (iw < 36)
        iw = 36;
    if (iw > maxw - 2)
        iw = maxw - 2;
    *w = iw;
    *h = wrap_lines(d->msg, iw - 4, NULL, 0, 0, 100) + 4;
}

static void dialog_draw(void *w, WINDOW *win, int y, int x, int h, int wd,
                        const struct draw_ctx *dc)
{
    struct dialog *d = w;
    int bx;

    wattrset(win, dc->roles[ROLE_DIALOG]);
    for (int r = 0; r < h; r++)
        mvwhline(win, y + r, x, ' ', wd);
    glyph_box(win, dc->g, y, x, h, wd, dc->roles[ROLE_BORDER], d->title,
              dc->roles[ROLE_TITLE_FOCUS]);
    wattrset(win, dc->roles[ROLE_DIALOG]);
    wrap_lines(d->msg, wd - 4, win, y + 1, x + 2, h - 3);
    bx = x + wd - 2;
    for (int i = d->nbuttons - 1; i >= 0; i--) {
        char b[48];
        snprintf(b, sizeof b, "[ %s ]", d->buttons[i]);
        bx -= (int)strlen(b) + 1;
        wattrset(win, dc->roles[i == d->cur ? ROLE_SELECT : ROLE_DIALOG]);
        glyph_put(win, y + h - 2, bx, b, (int)strlen(b), 0);
    }
    wattrset(win, A_NORMAL);
}

const struct widget_ops dialog_ops = {
    .name = "dialog",
    .draw = dialog_draw,
    .key = dialog_key,
};
