/*
 * complete.c: symbol completion for the deploy dialog (complete.h).
 *
 * The candidates are a small sorted array (a data directory holds a handful of symbols, a
 * store some hundreds at most), so every query is a linear scan: simple and fast enough.
 * A token is the text after the last comma with the spaces around it trimmed; completing
 * rewrites only that token and keeps what precedes it byte for byte.
 *
 * UI thread only (one struct per dialog).
 */
#define _GNU_SOURCE
#include "complete.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

static int by_name(const void *x, const void *y)
{
    const struct complete_sym *a = x, *b = y;
    return strcasecmp(a->name, b->name);
}

size_t complete_load(struct complete *c, const json_t *list)
{
    size_t i;
    json_t *o;

    complete_free(c);
    c->syms = xcalloc(json_array_size(list) + 1, sizeof *c->syms);
    json_array_foreach(list, i, o)
    {
        const char *s = json_string_value(json_object_get(o, "symbol"));
        int dup = 0;
        if (s == NULL || s[0] == '\0' || strlen(s) >= sizeof c->syms[0].name)
            continue;
        for (size_t k = 0; k < c->n; k++) /* bundled and imported may both hold one */
            dup |= strcasecmp(c->syms[k].name, s) == 0;
        if (dup)
            continue;
        snprintf(c->syms[c->n].name, sizeof c->syms[c->n].name, "%s", s);
        c->syms[c->n].synthetic = json_is_true(json_object_get(o, "synthetic"));
        c->n++;
    }
    qsort(c->syms, c->n, sizeof *c->syms, by_name);
    return c->n;
}

void complete_free(struct complete *c)
{
    if (c == NULL)
        return;
    free(c->syms);
    memset(c, 0, sizeof *c);
}

void complete_reset(struct complete *c)
{
    c->cycling = 0;
    c->stem[0] = '\0';
    c->after[0] = '\0';
}

/* Where buf's last token starts (after the last comma and the spaces after it). */
static size_t token_start(const char *buf)
{
    const char *comma = strrchr(buf, ',');
    size_t i = comma ? (size_t)(comma - buf) + 1 : 0;
    while (buf[i] == ' ')
        i++;
    return i;
}

/* The last token of buf, trimmed, into tok (capacity n). */
static void last_token(const char *buf, char *tok, size_t n)
{
    size_t i = token_start(buf), len = strlen(buf + i);
    while (len > 0 && buf[i + len - 1] == ' ')
        len--;
    snprintf(tok, n, "%.*s", (int)len, buf + i);
}

static int matches(const struct complete_sym *s, const char *stem)
{
    return strncasecmp(s->name, stem, strlen(stem)) == 0;
}

/* Replace buf's last token with s; returns 1 if buf changed (0 when it does not fit). */
static int put_token(char *buf, size_t n, const char *s)
{
    size_t i = token_start(buf);
    if (i + strlen(s) + 1 > n)
        return 0;
    if (strcmp(buf + i, s) == 0)
        return 0;
    snprintf(buf + i, n - i, "%s", s);
    return 1;
}

int complete_tab(struct complete *c, char *buf, size_t n)
{
    char tok[64], common[32];
    size_t first = 0, count = 0;

    if (c->cycling && strcmp(buf, c->after) == 0) {
        /* The next candidate of the same stem, wrapping around. */
        for (size_t k = 1; k <= c->n; k++) {
            size_t j = (c->idx + k) % c->n;
            if (matches(&c->syms[j], c->stem)) {
                c->idx = j;
                break;
            }
        }
        put_token(buf, n, c->syms[c->idx].name);
        snprintf(c->after, sizeof c->after, "%s", buf);
        return 1;
    }
    complete_reset(c);
    last_token(buf, tok, sizeof tok);
    if (tok[0] == '\0' || strlen(tok) >= sizeof c->stem)
        return 0;
    for (size_t k = 0; k < c->n; k++)
        if (matches(&c->syms[k], tok)) {
            if (count++ == 0) {
                first = k;
                snprintf(common, sizeof common, "%s", c->syms[k].name);
            } else {
                size_t l = 0;
                while (common[l] && strncasecmp(common + l, c->syms[k].name + l, 1) == 0)
                    l++;
                common[l] = '\0';
            }
        }
    if (count == 0)
        return 0;
    if (count == 1) /* the one candidate (nothing to do when it is already written so) */
        return put_token(buf, n, c->syms[first].name);
    if (strlen(common) > strlen(tok))
        return put_token(buf, n, common);
    /* Several, and nothing longer in common: cycle through them from the first. */
    snprintf(c->stem, sizeof c->stem, "%.*s", (int)sizeof c->stem - 1, tok);
    c->idx = first;
    c->cycling = 1;
    put_token(buf, n, c->syms[first].name);
    snprintf(c->after, sizeof c->after, "%s", buf);
    return 1;
}

int complete_check(const struct complete *c, const char *buf, char *msg, size_t n)
{
    const char *p = buf;

    if (c->n == 0)
        return 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int known = 0;
        while (len > 0 && *p == ' ')
            p++, len--;
        while (len > 0 && p[len - 1] == ' ')
            len--;
        for (size_t k = 0; k < c->n && len > 0; k++)
            known |= strlen(c->syms[k].name) == len && strncasecmp(c->syms[k].name, p, len) == 0;
        if (!known) {
            if (len == 0)
                snprintf(msg, n, "an empty symbol between commas");
            else
                snprintf(msg, n, "unknown symbol %.*s (see `swarmdeck data list`)",
                         (int)(len > 32 ? 32 : len), p);
            return -1;
        }
        if (end == NULL)
            return 0;
        p = end + 1;
    }
}

void complete_hint(const struct complete *c, const char *buf, char *out, size_t n)
{
    char tok[64];
    size_t len = 0;
    int any = 0;

    if (n == 0)
        return;
    out[0] = '\0';
    last_token(buf, tok, sizeof tok);
    {
        /* A symbol written out that nothing else extends: nothing to offer. */
        size_t count = 0, exact = 0;
        for (size_t k = 0; k < c->n; k++)
            if (matches(&c->syms[k], tok)) {
                count++;
                exact |= strcasecmp(c->syms[k].name, tok) == 0;
            }
        if (count == 1 && exact)
            return;
    }
    for (size_t k = 0; k < c->n; k++) {
        const struct complete_sym *s = &c->syms[k];
        size_t need = strlen(s->name) + (s->synthetic ? 1 : 0) + 1;
        if (!matches(s, tok))
            continue;
        if (!any) {
            len = (size_t)snprintf(out, n, "Tab:");
            any = 1;
        }
        if (len + need + 4 >= n) {
            snprintf(out + len, n - len, " ...");
            return;
        }
        len += (size_t)snprintf(out + len, n - len, " %s%s", s->name, s->synthetic ? "*" : "");
    }
}
