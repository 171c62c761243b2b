/*
 * panes_sugg.c: the deploy dialog's suggestion panel as lines (panes.h):
 * pane_suggestion_fill, and the word wrapping it and the Learning pane use.
 * Pure: builds a textview, draws nothing.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "panes.h"
#include "roles.h"

void pane_add_wrapped(struct textview *tv, int role, const char *label, const char *text, int w)
{
    int tw = label && tv->label_w > 0 ? w - tv->label_w : w;
    int first = 1;

    if (tw < 8)
        tw = 8;
    while (first || *text) {
        char row[512];
        size_t n = strlen(text), cut = n;
        if (n > (size_t)tw) { /* the last space that fits, else a hard cut */
            cut = (size_t)tw;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = (size_t)tw;
        }
        if (cut >= sizeof row)
            cut = sizeof row - 1;
        memcpy(row, text, cut);
        row[cut] = '\0';
        while (cut > 0 && row[cut - 1] == ' ')
            row[--cut] = '\0';
        textview_add(tv, role, label ? (first ? label : "") : NULL, "%s", row);
        text += strlen(row);
        while (*text == ' ')
            text++;
        first = 0;
    }
}

static double num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

void pane_json_value(char *b, size_t n, const json_t *v)
{
    if (json_is_boolean(v))
        snprintf(b, n, "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_integer(v))
        snprintf(b, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_number(v))
        snprintf(b, n, "%.6g", json_number_value(v));
    else if (json_is_string(v))
        snprintf(b, n, "%s", json_string_value(v));
    else
        snprintf(b, n, "-");
}

/* "#1 #6 #9" from an array of ids. */
static void ids_text(char *b, size_t n, const json_t *ids)
{
    size_t i, len = 0;
    json_t *v;
    b[0] = '\0';
    json_array_foreach(ids, i, v)
    {
        if (len + 24 >= n)
            break;
        len += (size_t)snprintf(b + len, n - len, "%s#%lld", i ? " " : "",
                                (long long)json_integer_value(v));
    }
}

void pane_suggestion_fill(struct textview *tv, const json_t *sugg, const char *err,
                          const json_t *current, int w)
{
    const json_t *rec = json_object_get(sugg, "recommendation"), *iv, *v, *ops;
    char line[1024];
    size_t i;
    int nchange = 0;

    textview_clear(tv);
    tv->label_w = 0;
    textview_add(tv, ROLE_TITLE_FOCUS, NULL, "Suggestion (learned)");
    if (sugg == NULL) {
        pane_add_wrapped(tv, ROLE_DIM, NULL, err && *err ? err : "no suggestion", w);
        return;
    }
    iv = json_object_get(sugg, "rewardInterval");
    if (json_array_size(iv) == 2)
        snprintf(line, sizeof line, "expected reward %.3f (90%% %.3f to %.3f)",
                 num(sugg, "expectedReward"), json_number_value(json_array_get(iv, 0)),
                 json_number_value(json_array_get(iv, 1)));
    else
        snprintf(line, sizeof line, "expected reward %.3f", num(sugg, "expectedReward"));
    pane_add_wrapped(tv, ROLE_DIALOG, NULL, line, w);
    snprintf(
        line, sizeof line,
        "evidence: %lld similar run(s), confidence %.2f (how much, not how right)",
        (long long)json_integer_value(json_object_get(json_object_get(sugg, "evidence"), "runs")),
        num(sugg, "confidence"));
    pane_add_wrapped(tv, ROLE_DIM, NULL, line, w);

    /* what Ctrl-A will change */
    ops = json_object_get(sugg, "recommendedOperations");
    textview_add(tv, ROLE_NORMAL, NULL, "%s", "");
    json_array_foreach(ops, i, v)
    {
        const char *op = json_string_value(json_object_get(v, "op"));
        const char *name = json_string_value(json_object_get(v, "name"));
        char from[64], to[64];
        if (op == NULL || strcmp(op, "set_param") != 0 || name == NULL)
            continue;
        pane_json_value(from, sizeof from, json_object_get(current, name));
        pane_json_value(to, sizeof to, json_object_get(v, "value"));
        if (strcmp(from, to) == 0)
            continue;
        if (nchange++ == 0)
            textview_add(tv, ROLE_KEY, NULL, "Ctrl-A will set:");
        snprintf(line, sizeof line, "  %s %s -> %s", name, from, to);
        pane_add_wrapped(tv, ROLE_OK, NULL, line, w);
    }
    if (nchange == 0)
        textview_add(tv, ROLE_DIM, NULL, "Ctrl-A: nothing to change");
    json_array_foreach(ops, i, v)
    {
        const char *op = json_string_value(json_object_get(v, "op"));
        if (op && strcmp(op, "raise_timeout") == 0)
            snprintf(line, sizeof line, "consider a timeout of %lld s",
                     (long long)(json_integer_value(json_object_get(v, "timeoutMs")) + 999) / 1000);
        else if (op && strcmp(op, "avoid_provider") == 0)
            snprintf(line, sizeof line, "consider avoiding %s",
                     json_is_string(json_object_get(v, "provider"))
                         ? json_string_value(json_object_get(v, "provider"))
                         : "that provider");
        else
            continue;
        pane_add_wrapped(tv, ROLE_WARN, NULL, line, w);
    }

    /* the recommendation: a whole parameter set */
    if (json_is_object(json_object_get(rec, "params"))) {
        const char *key;
        size_t len = 0;
        char ids[200];
        const json_t *riv = json_object_get(rec, "interval");
        int sig = json_is_true(json_object_get(rec, "significant"));
        json_object_foreach((json_t *)json_object_get(rec, "params"), key, v)
        {
            char val[64];
            pane_json_value(val, sizeof val, v);
            if (len < sizeof line - 80)
                len += (size_t)snprintf(line + len, sizeof line - len, "%s%s=%s", len ? " " : "",
                                        key, val);
        }
        textview_add(tv, ROLE_NORMAL, NULL, "%s", "");
        textview_add(tv, sig ? ROLE_OK : ROLE_WARN, NULL, "best parameter set%s:",
                     json_is_integer(json_object_get(rec, "run")) ? "" : " (the model's)");
        pane_add_wrapped(tv, sig ? ROLE_OK : ROLE_NORMAL, NULL, line, w);
        if (json_array_size(riv) == 2)
            snprintf(line, sizeof line, "reward %.3f (90%% %.3f to %.3f), %s",
                     num(rec, "predictedReward"), json_number_value(json_array_get(riv, 0)),
                     json_number_value(json_array_get(riv, 1)),
                     json_is_string(json_object_get(rec, "basis"))
                         ? json_string_value(json_object_get(rec, "basis"))
                         : "in-sample");
        else
            snprintf(line, sizeof line, "reward %.3f", num(rec, "predictedReward"));
        pane_add_wrapped(tv, ROLE_DIALOG, NULL, line, w);
        ids_text(ids, sizeof ids, json_object_get(rec, "restsOn"));
        if (ids[0]) {
            snprintf(line, sizeof line, "rests on %s", ids);
            pane_add_wrapped(tv, ROLE_DIM, NULL, line, w);
        }
        if (!sig) {
            const json_t *sh = json_object_get(rec, "sharpe");
            if (!isnan(num(sh, "deflated")))
                snprintf(line, sizeof line,
                         "not significant: deflated Sharpe %.0f%% over %lld trial(s)",
                         100 * num(sh, "deflated"),
                         (long long)json_integer_value(json_object_get(sh, "trials")));
            else
                snprintf(line, sizeof line, "not significant: too little evidence");
            pane_add_wrapped(tv, ROLE_WARN, NULL, line, w);
        }
    }

    textview_add(tv, ROLE_NORMAL, NULL, "%s", "");
    json_array_foreach(json_object_get(sugg, "reasoning"), i, v)
    {
        snprintf(line, sizeof line, "- %s", json_string_value(v) ? json_string_value(v) : "");
        pane_add_wrapped(tv, ROLE_DIM, NULL, line, w);
    }
}
