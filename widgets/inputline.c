/*
 * inputline.c: line editor with history and completion (inputline.h).
 * UI thread only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "inputline.h"

void inputline_init(struct inputline *in, const char *prompt, input_complete_fn fn, void *ctx)
{
    memset(in, 0, sizeof *in);
    snprintf(in->prompt, sizeof in->prompt, "%s", prompt);
    in->complete = fn;
    in->ctx = ctx;
}

void inputline_start(struct inputline *in, const char *prompt, const char *text)
{
    snprintf(in->prompt, sizeof in->prompt, "%s", prompt);
    snprintf(in->buf, sizeof in->buf, "%s", text ? text : "");
    in->hpos = in->nhist;
    in->cands[0] = '\0';
}

static void remember(struct inputline *in)
{
    if (!in->buf[0] || (in->nhist && strcmp(in->hist[in->nhist - 1], in->buf) == 0))
        return;
    if (in->nhist == INPUT_HIST) {
        memmove(in->hist[0], in->hist[1], sizeof in->hist[0] * (INPUT_HIST - 1));
        in->nhist--;
    }
    snprintf(in->hist[in->nhist++], INPUT_MAX, "%s", in->buf);
}

static void do_complete(struct inputline *in)
{
    const char *c[64];
    int n;
    char *word = strrchr(in->buf, ' ');
    size_t wl, common;

    in->cands[0] = '\0';
    if (!in->complete || (n = in->complete(in->ctx, in->buf, c, 64)) <= 0)
        return;
    word = word ? word + 1 : in->buf;
    wl = strlen(word);
    common = strlen(c[0]);
    for (int i = 1; i < n; i++) {
        size_t k = 0;
        while (k < common && c[i][k] == c[0][k])
            k++;
        common = k;
    }
    if (common > wl && (size_t)(word - in->buf) + common + 2 < INPUT_MAX) {
        memcpy(word, c[0], common);
        word[common] = '\0';
    }
    if (n == 1) {
        size_t l = strlen(in->buf);
        if (l + 1 < INPUT_MAX) {
            in->buf[l] = ' ';
            in->buf[l + 1] = '\0';
        }
    } else {
        for (int i = 0; i < n; i++) {
            size_t l = strlen(in->cands);
            snprintf(in->cands + l, sizeof in->cands - l, "%s%s", i ? " " : "", c[i]);
        }
    }
}

static int inputline_key(void *w, int key)
{
    struct inputline *in = w;
    size_t len = strlen(in->buf);

    switch (key) {
    case WK_ESC:
        return WF_HANDLED | WF_CANCEL;
    case WK_ENTER:
        remember(in);
        return WF_HANDLED | WF_SUBMIT;
    case WK_TAB:
        do_complete(in);
        return WF_HANDLED | WF_DIRTY;
    case WK_UP:
        if (in->hpos > 0)
            snprintf(in->buf, sizeof in->buf, "%s", in->hist[--in->hpos]);
        return WF_HANDLED | WF_DIRTY;
    case WK_DOWN:
        if (in->hpos < in->nhist - 1)
            snprintf(in->buf, sizeof in->buf, "%s", in->hist[++in->hpos]);
        else {
            in->hpos = in->nhist;
            in->buf[0] = '\0';
        }
        return WF_HANDLED | WF_DIRTY;
    case WK_BACKSPACE:
        if (len == 0)
            return WF_HANDLED | WF_CANCEL;
        while (len > 0 && (in->buf[len - 1] & 0xC0) == 0x80)
            len--;
        in->buf[len ? len - 1 : 0] = '\0';
        return WF_HANDLED | WF_DIRTY | WF_CHANGED;
    case WK_CTRL('u'):
        in->buf[0] = '\0';
        return WF_HANDLED | WF_DIRTY | WF_CHANGED;
    }
    if (!WK_IS_FN(key) && key >= 32 && key != 127) {
        char mb[8];
        mbstate_t st;
        size_t n;
        memset(&st, 0, sizeof st);
        if ((n = wcrtomb(mb, (wchar_t)key, &st)) == (size_t)-1 || len + n + 1 > INPUT_MAX)
            return WF_HANDLED;
        memcpy(in->buf + len, mb, n);
        in->buf[len + n] = '\0';
        return WF_HANDLED | WF_DIRTY | WF_CHANGED;
    }
    return WF_HANDLED;
}

static void inputline_draw(void *w, WINDOW *win, int y, int x, int h, int wd,
                           const struct draw_ctx *dc)
{
    struct inputline *in = w;
    int pw = glyph_width(in->prompt), bw = glyph_width(in->buf);
    const char *shown = in->buf;

    wattrset(win, dc->roles[ROLE_INPUT]);
    mvwhline(win, y, x, ' ', wd);
    glyph_put(win, y, x, in->prompt, wd, 0);
    while (bw > wd - pw - 2 && *shown) { /* keep the end (the cursor) visible */
        shown++;
        bw = glyph_width(shown);
    }
    glyph_put(win, y, x + pw, shown, wd - pw, 0);
    waddstr(win, "_");
    wattrset(win, A_NORMAL);
}

const struct widget_ops inputline_ops = {
    .name = "inputline",
    .draw = inputline_draw,
    .key = inputline_key,
};
