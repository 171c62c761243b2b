/*
 * form.c: typed, validated form fields (form.h). UI thread only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "form.h"

void form_init(struct form *fm, const char *title)
{
    memset(fm, 0, sizeof *fm);
    snprintf(fm->title, sizeof fm->title, "%s", title ? title : "");
    fm->changed_field = -1;
}

int form_validate(struct form_field *f)
{
    char *end;
    double v;

    f->err[0] = '\0';
    switch (f->type) {
    case FT_TEXT:
        if (f->required && f->buf[0] == '\0')
            snprintf(f->err, sizeof f->err, "required");
        break;
    case FT_INT:
    case FT_NUM:
        if (f->buf[0] == '\0' && !f->required)
            break;
        errno = 0;
        v = strtod(f->buf, &end);
        if (f->buf[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
            (f->type == FT_INT && v != floor(v)))
            snprintf(f->err, sizeof f->err, "must be a %s",
                     f->type == FT_INT ? "whole number" : "number");
        else if (v < f->min || v > f->max)
            snprintf(f->err, sizeof f->err, "out of range [%g, %g]", f->min, f->max);
        break;
    default:
        break;
    }
    return f->err[0] ? -1 : 0;
}

int form_add(struct form *fm, const char *name, const char *label, int type, const char *value,
             double min, double max, const char *hint)
{
    struct form_field *f;
    if (fm->n >= FORM_MAX_FIELDS)
        return -1;
    f = &fm->f[fm->n];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->label, sizeof f->label, "%s", label ? label : name);
    f->type = type;
    f->min = min;
    f->max = max;
    f->required = type == FT_INT || type == FT_NUM;
    snprintf(f->hint, sizeof f->hint, "%s", hint ? hint : "");
    if (type == FT_BOOL) {
        f->choices[0] = "false";
        f->choices[1] = "true";
        f->nchoices = 2;
        f->choice = value && strcmp(value, "true") == 0;
    }
    snprintf(f->buf, sizeof f->buf, "%s", value ? value : "");
    form_validate(f);
    return fm->n++;
}

int form_add_choice(struct form *fm, const char *name, const char *label,
                    const char *const *choices, int n, int selected)
{
    int i = form_add(fm, name, label, FT_CHOICE, NULL, 0, 0, NULL);
    if (i < 0)
        return -1;
    for (int k = 0; k < n && k < FORM_MAX_CHOICES; k++)
        fm->f[i].choices[k] = choices[k];
    fm->f[i].nchoices = n < FORM_MAX_CHOICES ? n : FORM_MAX_CHOICES;
    fm->f[i].choice = selected >= 0 && selected < n ? selected : 0;
    return i;
}

void form_truncate(struct form *fm, int i)
{
    if (i >= 0 && i < fm->n)
        fm->n = i;
    if (fm->cur >= fm->n)
        fm->cur = fm->n ? fm->n - 1 : 0;
}

int form_find(const struct form *fm, const char *name)
{
    for (int i = 0; i < fm->n; i++)
        if (strcmp(fm->f[i].name, name) == 0)
            return i;
    return -1;
}

const char *form_value(const struct form *fm, int i)
{
    const struct form_field *f;
    if (i < 0 || i >= fm->n)
        return NULL;
    f = &fm->f[i];
    if (f->type == FT_BOOL || f->type == FT_CHOICE)
        return f->nchoices ? f->choices[f->choice] : "";
    return f->buf;
}

int form_set(struct form *fm, int i, const char *value)
{
    struct form_field *f;
    if (i < 0 || i >= fm->n)
        return -1;
    f = &fm->f[i];
    if (f->type == FT_BOOL || f->type == FT_CHOICE) {
        for (int k = 0; k < f->nchoices; k++)
            if (strcmp(f->choices[k], value) == 0) {
                f->choice = k;
                return 0;
            }
        return -1;
    }
    snprintf(f->buf, sizeof f->buf, "%s", value);
    return form_validate(f);
}

int form_first_invalid(struct form *fm)
{
    for (int i = 0; i < fm->n; i++)
        if (form_validate(&fm->f[i]) != 0)
            return i;
    return -1;
}

static int changed(struct form *fm)
{
    fm->changed_field = fm->cur;
    form_validate(&fm->f[fm->cur]);
    return WF_HANDLED | WF_DIRTY | WF_CHANGED;
}

static int form_key(void *w, int key)
{
    struct form *fm = w;
    struct form_field *f = fm->n ? &fm->f[fm->cur] : NULL;
    size_t len;

    switch (key) {
    case WK_ESC:
        return WF_HANDLED | WF_CANCEL;
    case WK_ENTER: {
        int bad = form_first_invalid(fm);
        if (bad >= 0) {
            fm->cur = bad;
            return WF_HANDLED | WF_DIRTY;
        }
        return WF_HANDLED | WF_SUBMIT;
    }
    case WK_DOWN:
    case WK_TAB:
        if (fm->n)
            fm->cur = (fm->cur + 1) % fm->n;
        return WF_HANDLED | WF_DIRTY;
    case WK_UP:
    case WK_BTAB:
        if (fm->n)
            fm->cur = (fm->cur + fm->n - 1) % fm->n;
        return WF_HANDLED | WF_DIRTY;
    }
    if (f == NULL)
        return 0;
    if (f->type == FT_BOOL || f->type == FT_CHOICE) {
        if (key == WK_RIGHT || key == ' ') {
            f->choice = (f->choice + 1) % (f->nchoices ? f->nchoices : 1);
            return changed(fm);
        }
        if (key == WK_LEFT) {
            f->choice = (f->choice + f->nchoices - 1) % (f->nchoices ? f->nchoices : 1);
            return changed(fm);
        }
        return WF_HANDLED;
    }
    len = strlen(f->buf);
    if (key == WK_BACKSPACE) {
        if (len == 0)
            return WF_HANDLED;
        while (len > 0 && (f->buf[len - 1] & 0xC0) == 0x80)
            len--;
        f->buf[len ? len - 1 : 0] = '\0';
        return changed(fm);
    }
    if (key == WK_CTRL('u')) {
        f->buf[0] = '\0';
        return changed(fm);
    }
    if (!WK_IS_FN(key) && key >= 32 && key != 127) {
        char mb[8];
        mbstate_t st;
        size_t n;
        memset(&st, 0, sizeof st);
        if (key < 128) {
            mb[0] = (char)key;
            n = 1;
        } else if ((n = wcrtomb(mb, (wchar_t)key, &st)) == (size_t)-1) {
            return WF_HANDLED;
        }
        if (f->type != FT_TEXT && !strchr("0123456789.-+eE", key))
            return WF_HANDLED; /* refuse non-numeric keys outright */
        if (len + n + 1 > sizeof f->buf)
            return WF_HANDLED;
        memcpy(f->buf + len, mb, n);
        f->buf[len + n] = '\0';
        return changed(fm);
    }
    return 0;
}

static void form_draw(void *w, WINDOW *win, int y, int x, int h, int wd, const struct draw_ctx *dc)
{
    struct form *fm = w;
    int lw = 14, vw = 18, rows;

    for (int i = 0; i < fm->n; i++) {
        int l = glyph_width(fm->f[i].label);
        if (l + 1 > lw)
            lw = l + 1;
    }
    if (lw > wd / 3)
        lw = wd / 3;
    rows = h - 1; /* last row: the form's error */
    if (fm->cur < fm->top)
        fm->top = fm->cur;
    if (fm->cur >= fm->top + rows)
        fm->top = fm->cur - rows + 1;
    for (int r = 0; r < h; r++) {
        wattrset(win, dc->roles[ROLE_DIALOG]);
        mvwhline(win, y + r, x, ' ', wd);
    }
    for (int r = 0; r < rows && fm->top + r < fm->n; r++) {
        struct form_field *f = &fm->f[fm->top + r];
        int cur = fm->top + r == fm->cur, cx = x;
        char val[200];
        if (f->type == FT_BOOL || f->type == FT_CHOICE)
            snprintf(val, sizeof val, "< %s >", f->nchoices ? f->choices[f->choice] : "");
        else
            snprintf(val, sizeof val, "%s%s", f->buf, cur ? "_" : "");
        wattrset(win, dc->roles[cur ? ROLE_TITLE_FOCUS : ROLE_DIALOG]);
        cx += glyph_put(win, y + r, cx, f->label, lw, 1);
        wattrset(win, dc->roles[cur ? ROLE_SELECT : ROLE_INPUT]);
        cx += glyph_put(win, y + r, cx, val, vw, 1);
        cx++;
        if (cx < x + wd) {
            wattrset(win, dc->roles[f->err[0] ? ROLE_ERROR : ROLE_DIM]);
            glyph_put(win, y + r, cx, f->err[0] ? f->err : f->hint, x + wd - cx, 0);
        }
    }
    if (fm->error[0]) {
        wattrset(win, dc->roles[ROLE_ERROR]);
        glyph_put(win, y + h - 1, x, fm->error, wd, 1);
    }
    wattrset(win, A_NORMAL);
}

const struct widget_ops form_ops = {
    .name = "form",
    .draw = form_draw,
    .key = form_key,
};
