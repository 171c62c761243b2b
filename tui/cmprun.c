/*
 * cmprun.c: a run's deployments summed up (cmprun.h).
 */
#define _GNU_SOURCE
#include "cmprun.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "panes.h"

#define CMP_POINTS 64 /* the mean curve's points, at most */

/* A running mean and best (max, or min when lowest) of one number of the results. */
struct acc {
    double sum, best;
    size_t n;
};

static void acc_add(struct acc *a, const json_t *v, int lowest)
{
    double x;
    if (!json_is_number(v))
        return;
    x = json_number_value(v);
    if (!isfinite(x))
        return;
    if (a->n == 0 || (lowest ? x < a->best : x > a->best))
        a->best = x;
    a->sum += x;
    a->n++;
}

static json_t *acc_mean(const struct acc *a)
{
    return a->n ? json_real(a->sum / (double)a->n) : json_null();
}

static json_t *acc_best(const struct acc *a)
{
    return a->n ? json_real(a->best) : json_null();
}

/* Add value v's text to the set of name in sets ({name: {text: true}}). */
static void set_add(json_t *sets, const char *name, const json_t *v)
{
    char text[128];
    json_t *s = json_object_get(sets, name);
    if (v == NULL)
        return;
    if (s == NULL) {
        s = json_object();
        json_object_set_new(sets, name, s);
    }
    pane_json_value(text, sizeof text, v);
    json_object_set_new(s, text, json_true());
}

static int by_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* {name: {text: true}} -> {name: "text1, text2"}, the texts sorted. */
static json_t *sets_join(const json_t *sets)
{
    json_t *o = json_object(), *s;
    const char *name;
    json_object_foreach((json_t *)sets, name, s)
    {
        const char *texts[64], *t;
        size_t n = 0, len = 0;
        json_t *v;
        char *buf;
        json_object_foreach(s, t, v)
        {
            if (n < 64) {
                texts[n++] = t;
                len += strlen(t) + 2;
            }
        }
        qsort(texts, n, sizeof texts[0], by_str);
        if ((buf = calloc(1, len + 8)) == NULL)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                strcat(buf, ", ");
            strcat(buf, texts[i]);
        }
        if (json_object_size(s) > n)
            strcat(buf, ", ...");
        json_object_set_new(o, name, json_string(buf));
        free(buf);
    }
    return o;
}

json_t *cmprun_summary(int64_t run, const json_t *details)
{
    struct acc ret = {0}, sharpe = {0}, dd = {0};
    double eq[CMP_POINTS] = {0};
    size_t eqn[CMP_POINTS] = {0}, npts = 0, i;
    json_int_t ok = 0, failed = 0, cancelled = 0, live = 0;
    json_t *sets = json_object(), *d, *o, *curve;

    json_array_foreach((json_t *)details, i, d)
    {
        const char *st = json_string_value(json_object_get(d, "status"));
        const json_t *res = json_object_get(d, "result"), *v;
        const char *name;
        size_t k;
        if (st == NULL)
            live++;
        else if (strcmp(st, "succeeded") == 0)
            ok++;
        else if (strcmp(st, "failed") == 0 || strcmp(st, "timeout") == 0)
            failed++;
        else if (strcmp(st, "cancelled") == 0 || strcmp(st, "interrupted") == 0)
            cancelled++;
        else
            live++;
        acc_add(&ret, json_object_get(res, "total_return"), 0);
        acc_add(&sharpe, json_object_get(res, "sharpe"), 0);
        acc_add(&dd, json_object_get(res, "max_drawdown"), 0); /* the worst: the deepest */
        set_add(sets, "strategy", json_object_get(d, "strategy"));
        set_add(sets, "symbol", json_object_get(d, "symbol"));
        json_object_foreach(json_object_get(d, "params"), name, v)
        {
            set_add(sets, name, v);
        }
        json_array_foreach(json_object_get(d, "equity"), k, v)
        {
            if (k < CMP_POINTS && json_is_number(v)) {
                eq[k] += json_number_value(v);
                eqn[k]++;
                npts = k + 1 > npts ? k + 1 : npts;
            }
        }
    }
    curve = json_array();
    for (i = 0; i < npts; i++)
        json_array_append_new(curve, eqn[i] ? json_real(eq[i] / (double)eqn[i]) : json_null());
    o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "run",
                  (json_int_t)run, "count", (json_int_t)json_array_size(details), "succeeded", ok,
                  "failed", failed, "cancelled", cancelled, "running", live, "returnMean",
                  acc_mean(&ret), "returnBest", acc_best(&ret), "sharpeMean", acc_mean(&sharpe),
                  "sharpeBest", acc_best(&sharpe), "drawdownWorst", acc_best(&dd), "values",
                  sets_join(sets), "equity", curve);
    json_decref(sets);
    return o;
}
