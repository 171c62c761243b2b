/*
 * app_compare.c: two deployments side by side (app_int.h): `=` with two
 * rows tagged reads both from the store on the job worker (app_jobs.c) and
 * opens an overlay with their strategy, symbol, state, provider, return,
 * Sharpe, drawdown, trades, every parameter (those that differ marked) and
 * their equity curves on one scale. With more than two rows tagged, all in two runs (or
 * `:compare-run A B`) it compares the runs: each run's deployments summed up (cmprun.h) side by
 * side, the parameters whose values differ, both mean equity curves on one scale.
 *
 * UI thread only.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_int.h"
#include "sparkline.h"

int app_c_compare_run(struct app *a, const char *x)
{
    long long r0 = 0, r1 = 0;
    char extra = 0;
    if (x == NULL || sscanf(x, "%lld %lld %c", &r0, &r1, &extra) != 2 || r0 <= 0 || r1 <= 0 ||
        r0 == r1) {
        app_notify(a, 1, "compare-run: give two different run numbers (compare-run 3 4)");
        return -1;
    }
    if (a->store == NULL) {
        app_notify(a, 1, "compare-run: no store in this console");
        return -1;
    }
    return app_job_cmprun(a, r0 < r1 ? r0 : r1, r0 < r1 ? r1 : r0, 1);
}

int app_c_compare(struct app *a, const char *x)
{
    static int64_t ids[4096];
    size_t n = a->tbl.ntags ? table_targets(&a->tbl, ids, 4096) : 0;
    (void)x;
    /* More than two tagged rows, all of this machine's store and in exactly two runs (a
     * tag-run of each, say): the runs compared. Two rows are always the two deployments. */
    if (n > 2 && a->store != NULL) {
        int64_t r[2] = {0, 0};
        size_t i;
        for (i = 0; i < n; i++) {
            int64_t k = REMOTE_HOST(ids[i]) == 0 ? app_row_run(a, ids[i]) : 0;
            if (k <= 0)
                break;
            if (r[0] == 0 || r[0] == k)
                r[0] = k;
            else if (r[1] == 0 || r[1] == k)
                r[1] = k;
            else
                break;
        }
        if (i == n && r[1] > 0)
            return app_job_cmprun(a, r[0] < r[1] ? r[0] : r[1], r[0] < r[1] ? r[1] : r[0], 0);
        app_notify(a, 1,
                   "compare: tag two deployments, or the rows of two runs (:compare-run A B)");
        return -1;
    }
    if (n != 2) {
        app_notify(a, 1, "compare: tag two deployments (Space), then =");
        return -1;
    }
    for (size_t i = 0; i < 2; i++)
        if (REMOTE_HOST(ids[i]) > 0) { /* its details are in its own store */
            app_notify(a, 1,
                       "compare: #%lld is in %s's store (compare there: `ssh -t %s swarmdeck`)",
                       (long long)REMOTE_LOCAL(ids[i]), app_host_name(a, REMOTE_HOST(ids[i])),
                       app_host_name(a, REMOTE_HOST(ids[i])));
            return -1;
        }
    return app_job_compare(a, ids[0] < ids[1] ? ids[0] : ids[1], ids[0] < ids[1] ? ids[1] : ids[0]);
}

void app_compare_show(struct app *a, json_t *d0, json_t *d1)
{
    json_decref(a->cmp[0]);
    json_decref(a->cmp[1]);
    a->cmp[0] = d0;
    a->cmp[1] = d1;
    a->cmp_tv.top = 0;
    a->overlay = OV_COMPARE;
    a->dirty = D_ALL;
}

/* One row: label, the two values in columns of cw; with mark, a row whose
 * values differ is marked "* " and drawn in the warning colour. */
/* The keys of objects o0 and o1 (o0's, then o1's not in o0), at most max,
 * sorted by name into names (borrowed from the objects). Returns how many. */
static size_t key_union(const json_t *o0, const json_t *o1, const char **names, size_t max)
{
    const char *key;
    json_t *v;
    size_t nn = 0;

    json_object_foreach((json_t *)o0, key, v)
    {
        if (nn < max)
            names[nn++] = key;
    }
    json_object_foreach((json_t *)o1, key, v)
    {
        if (nn < max && json_object_get(o0, key) == NULL)
            names[nn++] = key;
    }
    for (size_t i = 1; i < nn; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    return nn;
}

static void row(struct textview *tv, const char *label, const char *l, const char *r, int cw,
                int mark)
{
    int differ = mark && strcmp(l, r) != 0;
    char lab[64];
    snprintf(lab, sizeof lab, "%s%s", differ ? "* " : "", label); /* they differ: marked */
    textview_add(tv, differ ? ROLE_WARN : ROLE_NORMAL, lab, "%-*.*s %.*s", cw, cw, l, cw, r);
}

static void metric(struct textview *tv, const char *label, const json_t *d0, const json_t *d1,
                   const char *key, const char *fmt, double scale, int cw)
{
    char l[64] = "-", r[64] = "-";
    const json_t *v0 = json_object_get(json_object_get(d0, "result"), key);
    const json_t *v1 = json_object_get(json_object_get(d1, "result"), key);
    if (json_is_number(v0))
        snprintf(l, sizeof l, fmt, json_number_value(v0) * scale);
    if (json_is_number(v1))
        snprintf(r, sizeof r, fmt, json_number_value(v1) * scale);
    row(tv, label, l, r, cw, 0);
}

void app_compare_fill(struct textview *tv, const json_t *d0, const json_t *d1, int w,
                      const struct glyphs *g)
{
    static const char *const keys[] = {"strategy", "symbol", "status", "provider"};
    int cw = (w - 12 - 1) / 2 > 8 ? (w - 12 - 1) / 2 : 8;
    const json_t *p0 = json_object_get(d0, "params"), *p1 = json_object_get(d1, "params");
    const char *names[128];
    size_t nn = 0;
    json_t *v;
    char l[128], r[128];

    textview_clear(tv);
    tv->label_w = 12;
    snprintf(l, sizeof l, "#%lld", (long long)json_integer_value(json_object_get(d0, "id")));
    snprintf(r, sizeof r, "#%lld", (long long)json_integer_value(json_object_get(d1, "id")));
    textview_add(tv, ROLE_TITLE, "", "%-*.*s %.*s", cw, cw, l, cw, r);
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        pane_json_value(l, sizeof l, json_object_get(d0, keys[k]));
        pane_json_value(r, sizeof r, json_object_get(d1, keys[k]));
        row(tv, keys[k], l, r, cw, 1);
    }
    metric(tv, "return", d0, d1, "total_return", "%+.2f%%", 100, cw);
    metric(tv, "sharpe", d0, d1, "sharpe", "%.2f", 1, cw);
    metric(tv, "drawdown", d0, d1, "max_drawdown", "%.2f%%", 100, cw);
    metric(tv, "trades", d0, d1, "trades", "%.0f", 1, cw);
    /* every parameter of either, by name; those that differ marked */
    nn = key_union(p0, p1, names, 128);
    for (size_t i = 0; i < nn; i++) {
        pane_json_value(l, sizeof l, json_object_get(p0, names[i]));
        pane_json_value(r, sizeof r, json_object_get(p1, names[i]));
        row(tv, names[i], l, r, cw, 1);
    }
    /* the equity curves on one scale, one above the other */
    {
        double e[2][64], lo = INFINITY, hi = -INFINITY;
        size_t n[2] = {0, 0};
        const json_t *ds[2] = {d0, d1};
        for (int k = 0; k < 2; k++) {
            size_t i;
            json_array_foreach(json_object_get(ds[k], "equity"), i, v)
            {
                if (n[k] < 64) {
                    e[k][n[k]] = json_number_value(v);
                    lo = fmin(lo, e[k][n[k]]);
                    hi = fmax(hi, e[k][n[k]]);
                    n[k]++;
                }
            }
        }
        for (int k = 0; k < 2; k++) {
            char line[64 * 4 + 1] = "-";
            size_t idx;
            if (n[k] > 1)
                sparkline_render_range(e[k], n[k], w - 13 < 64 ? w - 13 : 64, lo, hi, g, line,
                                       sizeof line);
            snprintf(l, sizeof l, "equity #%lld",
                     (long long)json_integer_value(json_object_get(ds[k], "id")));
            idx = textview_add(tv, ROLE_SPARK, l, "%s", line);
            (void)idx;
        }
        if (n[0] > 1 || n[1] > 1)
            textview_add(tv, ROLE_DIM, "", "one scale: %.2f .. %.2f", lo, hi);
    }
}

/* A run summary's number (cmprun.h) as fmt of it times scale, or "-". */
static void num(char *b, size_t n, const json_t *s, const char *key, const char *fmt, double scale)
{
    const json_t *v = json_object_get(s, key);
    if (json_is_number(v))
        snprintf(b, n, fmt, json_number_value(v) * scale);
    else
        snprintf(b, n, "-");
}

void app_cmprun_fill(struct textview *tv, const json_t *s0, const json_t *s1, int w,
                     const struct glyphs *g)
{
    static const struct {
        const char *label, *key, *fmt;
        double scale;
    } nums[] = {{"return mean", "returnMean", "%+.2f%%", 100},
                {"return best", "returnBest", "%+.2f%%", 100},
                {"sharpe mean", "sharpeMean", "%.2f", 1},
                {"sharpe best", "sharpeBest", "%.2f", 1},
                {"worst dd", "drawdownWorst", "%.2f%%", 100}};
    int cw = (w - 14 - 1) / 2 > 8 ? (w - 14 - 1) / 2 : 8;
    const json_t *v0 = json_object_get(s0, "values"), *v1 = json_object_get(s1, "values");
    const json_t *ss[2] = {s0, s1};
    const char *names[128];
    size_t nn = 0, same = 0;
    json_t *v;
    char l[160], r[160];

    textview_clear(tv);
    tv->label_w = 14;
    snprintf(l, sizeof l, "run #%lld", (long long)json_integer_value(json_object_get(s0, "run")));
    snprintf(r, sizeof r, "run #%lld", (long long)json_integer_value(json_object_get(s1, "run")));
    textview_add(tv, ROLE_TITLE, "", "%-*.*s %.*s", cw, cw, l, cw, r);
    snprintf(l, sizeof l, "%lld", (long long)json_integer_value(json_object_get(s0, "count")));
    snprintf(r, sizeof r, "%lld", (long long)json_integer_value(json_object_get(s1, "count")));
    row(tv, "deployments", l, r, cw, 0);
    for (int k = 0; k < 2; k++) {
        const json_t *s = ss[k];
        long long live = json_integer_value(json_object_get(s, "running"));
        char *b = k ? r : l;
        int m = snprintf(b, sizeof l, "%lld ok %lld failed %lld cancelled",
                         (long long)json_integer_value(json_object_get(s, "succeeded")),
                         (long long)json_integer_value(json_object_get(s, "failed")),
                         (long long)json_integer_value(json_object_get(s, "cancelled")));
        if (live > 0 && m > 0 && (size_t)m < sizeof l)
            snprintf(b + m, sizeof l - (size_t)m, " %lld live", live);
    }
    row(tv, "states", l, r, cw, 0);
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
        num(l, sizeof l, s0, nums[k].key, nums[k].fmt, nums[k].scale);
        num(r, sizeof r, s1, nums[k].key, nums[k].fmt, nums[k].scale);
        row(tv, nums[k].label, l, r, cw, 0);
    }
    /* the parameters (and strategies, symbols) whose values differ between the runs */
    nn = key_union(v0, v1, names, 128);
    for (size_t i = 0; i < nn; i++) {
        const char *a0 = json_string_value(json_object_get(v0, names[i]));
        const char *a1 = json_string_value(json_object_get(v1, names[i]));
        if (a0 && a1 && strcmp(a0, a1) == 0) {
            same++;
            continue;
        }
        row(tv, names[i], a0 ? a0 : "-", a1 ? a1 : "-", cw, 1);
    }
    if (same > 0)
        textview_add(tv, ROLE_DIM, "", "%zu parameter(s) the same in both", same);
    /* both runs' mean equity on one scale */
    {
        double e[2][64], lo = INFINITY, hi = -INFINITY;
        size_t n[2] = {0, 0};
        for (int k = 0; k < 2; k++) {
            size_t i;
            json_array_foreach(json_object_get(ss[k], "equity"), i, v)
            {
                if (n[k] < 64 && json_is_number(v)) {
                    e[k][n[k]] = json_number_value(v);
                    lo = fmin(lo, e[k][n[k]]);
                    hi = fmax(hi, e[k][n[k]]);
                    n[k]++;
                }
            }
        }
        for (int k = 0; k < 2; k++) {
            char line[64 * 4 + 1] = "-";
            if (n[k] > 1)
                sparkline_render_range(e[k], n[k], w - 15 < 64 ? w - 15 : 64, lo, hi, g, line,
                                       sizeof line);
            snprintf(l, sizeof l, "mean eq #%lld",
                     (long long)json_integer_value(json_object_get(ss[k], "run")));
            textview_add(tv, ROLE_SPARK, l, "%s", line);
        }
        if (n[0] > 1 || n[1] > 1)
            textview_add(tv, ROLE_DIM, "", "one scale: %.2f .. %.2f", lo, hi);
    }
}

void app_compare_key(struct app *a, int key)
{
    if (key == WK_DOWN || key == 'j')
        textview_scroll(&a->cmp_tv, 1);
    else if (key == WK_UP || key == 'k')
        textview_scroll(&a->cmp_tv, -1);
    else if (key == WK_PGDN)
        textview_scroll(&a->cmp_tv, a->cmp_tv.page > 1 ? a->cmp_tv.page - 1 : 1);
    else if (key == WK_PGUP)
        textview_scroll(&a->cmp_tv, -(a->cmp_tv.page > 1 ? a->cmp_tv.page - 1 : 1));
    else if (key == WK_HOME || key == 'g')
        a->cmp_tv.top = 0;
    else if (key == WK_END || key == 'G')
        textview_scroll(&a->cmp_tv, (long)a->cmp_tv.n);
    else
        a->overlay = OV_NONE;
    a->dirty = D_ALL;
}

void app_compare_draw(struct app *a)
{
    struct draw_ctx dc = app_dctx(a, 1);
    int w = COLS - 4 > 120 ? 120 : COLS - 4, h = LINES - 4, y0 = 2, x0 = (COLS - w) / 2;
    if (h < 3 || w < 20)
        return;
    if (json_object_get(a->cmp[0], "count") != NULL) /* two runs (cmprun.h) */
        app_cmprun_fill(&a->cmp_tv, a->cmp[0], a->cmp[1], w - 4, a->spark_g);
    else
        app_compare_fill(&a->cmp_tv, a->cmp[0], a->cmp[1], w - 4, a->spark_g);
    wattrset(stdscr, a->roles[ROLE_DIALOG]);
    for (int r = 0; r < h; r++)
        mvhline(y0 + r, x0, ' ', w);
    glyph_box(stdscr, a->g, y0, x0, h, w, a->roles[ROLE_BORDER],
              "Compare (Esc closes, arrows scroll)", a->roles[ROLE_TITLE_FOCUS]);
    textview_ops.draw(&a->cmp_tv, stdscr, y0 + 1, x0 + 2, h - 2, w - 4, &dc);
    wattrset(stdscr, A_NORMAL);
}
