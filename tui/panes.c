/*
 * panes.c: the Learning and Patterns panes' content (panes.h). Pure: no
 * curses calls, any thread.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "panes.h"
#include "roles.h"
#include "sparkline.h"
#include "traj.h"

/* --- header ------------------------------------------------------------------ */

static void seg_add(struct header_out *o, int role, int prio, int elide, int min, const char *full,
                    const char *compact)
{
    struct sl_seg *g;
    if (o->n >= SL_MAX)
        return;
    g = &o->seg[o->n];
    snprintf(o->text[o->n][0], sizeof o->text[o->n][0], "%s", full);
    if (compact)
        snprintf(o->text[o->n][1], sizeof o->text[o->n][1], "%s", compact);
    *g = (struct sl_seg){
        o->text[o->n][0], compact ? o->text[o->n][1] : NULL, role, prio, elide, min};
    o->n++;
}

void pane_header(const struct header_in *in, struct header_out *o)
{
    char b[96], c[96];
    const int *k = in->counts;

    o->n = 0;
    snprintf(b, sizeof b, "swarmdeck %s%s%c", in->version, in->spin ? " " : "", in->spin);
    seg_add(o, ROLE_STATUSBAR, 4, 0, 0, b, "swarmdeck");
    if (in->readonly)
        seg_add(o, ROLE_WARN, 10, 0, 0, "read-only", NULL);
    if (in->paused)
        seg_add(o, ROLE_WARN, 10, 0, 0, "PAUSED", NULL);
    if (in->daemon && in->daemon_lost) {
        seg_add(o, ROLE_ERROR, 10, 0, 0, "daemon lost: reconnecting", "daemon lost");
    } else if (in->daemon) {
        snprintf(b, sizeof b, "daemon %d", in->daemon);
        seg_add(o, ROLE_STATUSBAR, 3, 0, 0, b, "daemon");
    }
    for (int i = 0; i < in->nhosts && i < 16; i++)
        /* every host's health stays as long as the counts: a short "lab-1 ok" */
        seg_add(o, in->host_state[i] ? ROLE_ERROR : ROLE_STATUSBAR, in->host_state[i] ? 10 : 9, 0,
                0, in->host_text[i][0], in->host_text[i][1]);
    snprintf(b, sizeof b, "isolation: %s", in->isolation ? in->isolation : "?");
    seg_add(o, ROLE_STATUSBAR, 8, 0, 0, b, in->isolation ? in->isolation : "?");
    for (size_t i = 0; i < in->nprov && o->n < SL_MAX - 4; i++) {
        const struct provider_health *h = &in->prov[i];
        int open = strcmp(h->breaker, "open") == 0, half = strcmp(h->breaker, "half-open") == 0;
        if (strcmp(h->kind, "local") == 0)
            continue; /* shown as the isolation level */
        snprintf(b, sizeof b, "%s%s%s%s: breaker %s", h->name, h->region[0] ? " (" : "", h->region,
                 h->region[0] ? ")" : "", h->breaker[0] ? h->breaker : "?");
        snprintf(c, sizeof c, "%s %s", h->name, open ? "open" : half ? "half" : "ok");
        seg_add(o,
                open   ? ROLE_ERROR
                : half ? ROLE_WARN
                       : ROLE_STATUSBAR,
                open   ? 9
                : half ? 8
                       : 7,
                0, 0, b, c);
    }
    /* failed counts failures and timeouts; what the operator stopped
     * (cancelled) or a crash cut short (interrupted) is said apart, when any */
    snprintf(b, sizeof b, "%d running %d queued %d done %d failed", k[TS_RUNNING], k[TS_QUEUED],
             k[TS_SUCCEEDED], k[TS_FAILED] + k[TS_TIMEOUT]);
    snprintf(c, sizeof c, "run %d queue %d done %d fail %d", k[TS_RUNNING], k[TS_QUEUED],
             k[TS_SUCCEEDED], k[TS_FAILED] + k[TS_TIMEOUT]);
    if (k[TS_CANCELLED]) {
        snprintf(b + strlen(b), sizeof b - strlen(b), " %d cancelled", k[TS_CANCELLED]);
        snprintf(c + strlen(c), sizeof c - strlen(c), " canc %d", k[TS_CANCELLED]);
    }
    if (k[TS_INTERRUPTED]) {
        snprintf(b + strlen(b), sizeof b - strlen(b), " %d interrupted", k[TS_INTERRUPTED]);
        snprintf(c + strlen(c), sizeof c - strlen(c), " intr %d", k[TS_INTERRUPTED]);
    }
    if (in->held) { /* among the running: paused by the operator */
        snprintf(b + strlen(b), sizeof b - strlen(b), " %d paused", in->held);
        snprintf(c + strlen(c), sizeof c - strlen(c), " paus %d", in->held);
    }
    seg_add(o, ROLE_STATUSBAR, 9, 0, 0, b, c);
    if (in->encrypted)
        seg_add(o, ROLE_OK, 6, 0, 0, "[encrypted]", "[enc]");
    {
        int broken = in->chain && strncasecmp(in->chain, "broken", 6) == 0;
        snprintf(b, sizeof b, "chain %s", in->chain && in->chain[0] ? in->chain : "?");
        seg_add(o, broken ? ROLE_ERROR : ROLE_STATUSBAR, broken ? 9 : 1, 0, 0, b, NULL);
    }
    seg_add(o, ROLE_STATUSBAR, 2, 1, 12, in->store_path ? in->store_path : "", NULL);
}

/* --- learning ---------------------------------------------------------------- */

#define LABEL_W 12

static double num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void pct(char *b, size_t n, double v)
{
    if (isnan(v))
        snprintf(b, n, "-");
    else
        snprintf(b, n, "%.0f%%", 100 * v);
}

/* "0.545  ▁▂▃▅▆▇" : the value, then the series of key as a sparkline in the
 * columns left of a pane w wide. */
static void value_spark(struct textview *tv, const char *label, const char *value,
                        const json_t *series, const char *key, double lo, double hi, int w,
                        const struct glyphs *g)
{
    double v[64];
    size_t n = 0, i;
    json_t *b;
    char line[64 * 4 + 1] = "";
    int room = w - LABEL_W - 7;

    json_array_foreach(series, i, b)
    {
        if (n < 64)
            v[n++] = num(b, key);
    }
    if (n > 1 && room > 0)
        sparkline_render_range(v, n, room, lo, hi, g, line, sizeof line);
    i = textview_add(tv, ROLE_NORMAL, label, "%-6s %s", value, line);
    if (line[0])
        textview_set_alt(tv, i, strlen(tv->lines[i].text) - strlen(line), ROLE_SPARK);
}

/* How well the suggestions made before launch predicted: the reward's
 * error against the running-mean baseline and the rank correlation (issue
 * 15), and the success prediction only where runs have failed (with none,
 * any success "accuracy" is 1 by construction, so none is shown). */
static void skill_lines(struct textview *tv, const json_t *s, int w)
{
    const json_t *r = json_object_get(s, "reward"), *su = json_object_get(s, "success");
    char line[256];
    json_int_t np = json_integer_value(json_object_get(r, "predictions"));

    if (np > 0 && !isnan(num(r, "mae"))) {
        double sk = num(r, "skill"), rho = num(r, "rankCorrelation");
        int len = snprintf(line, sizeof line, "MAE %.3f vs %.3f running mean", num(r, "mae"),
                           num(r, "baselineMae"));
        if (!isnan(sk))
            len += snprintf(line + len, sizeof line - (size_t)len, ", skill %+.0f%%", 100 * sk);
        if (!isnan(rho))
            len += snprintf(line + len, sizeof line - (size_t)len, ", rank corr %.2f", rho);
        snprintf(line + len, sizeof line - (size_t)len, " (%lld)", (long long)np);
        pane_add_wrapped(tv, !isnan(sk) && sk < 0 ? ROLE_WARN : ROLE_NORMAL, "  skill", line,
                         w - 2);
    }
    if (json_is_number(json_object_get(su, "accuracy"))) {
        snprintf(line, sizeof line,
                 "right %.0f%% vs %.0f%% majority, Brier %.3f vs %.3f (%lld failed)",
                 100 * num(su, "accuracy"), 100 * num(su, "majorityAccuracy"),
                 num(su, "brierScore"), num(su, "baselineBrier"),
                 (long long)json_integer_value(json_object_get(su, "failures")));
        pane_add_wrapped(tv, ROLE_NORMAL, "  succ. pred", line, w - 2);
    }
}

static void strategy_lines(struct textview *tv, const json_t *s, int w, const struct glyphs *g)
{
    char b[64];
    double ir = num(s, "improvementRate");
    const json_t *series = json_object_get(s, "series");

    if (isnan(ir))
        textview_add(tv, ROLE_NORMAL, "  runs", "%lld",
                     (long long)json_integer_value(json_object_get(s, "totalTrajectories")));
    else
        textview_add(tv, ir >= 0 ? ROLE_NORMAL : ROLE_WARN, "  runs", "%-6lld improvement %+.1f%%",
                     (long long)json_integer_value(json_object_get(s, "totalTrajectories")),
                     100 * ir);
    pct(b, sizeof b, num(s, "avgSuccessRate"));
    value_spark(tv, "  success", b, series, "successRate", 0, 1, w, g);
    snprintf(b, sizeof b, "%.3f", num(s, "avgReward"));
    value_spark(tv, "  reward", b, series, "avgReward", NAN, NAN, w, g);
    skill_lines(tv, s, w);
}

static void date_of(char *b, size_t n, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(b, n, "%Y-%m-%d %H:%M", &tm);
}

/* The learning index's lines of snap (learnsnap.h's) appended to tv. */
static void learning_lines(struct textview *tv, const json_t *snap, int w, const struct glyphs *g)
{
    const json_t *all = json_object_get(snap, "stats"), *series, *st;
    size_t i;

    if (snap == NULL) {
        textview_add(tv, ROLE_DIM, NULL, "computing the learning stats...");
        return;
    }
    if (json_is_string(json_object_get(snap, "error"))) {
        textview_add(tv, ROLE_DIM, NULL, "%s", json_string_value(json_object_get(snap, "error")));
        if (all == NULL)
            return;
    }
    if (json_integer_value(json_object_get(all, "totalTrajectories")) == 0) {
        textview_add(tv, ROLE_DIM, NULL, "nothing learned yet: finished deployments teach");
        return;
    }
    textview_add(tv, ROLE_TITLE, NULL, "all strategies");
    strategy_lines(tv, all, w, g);
    series = json_object_get(all, "series");
    if (json_array_size(series) > 0) {
        char d0[32], d1[32];
        date_of(d0, sizeof d0, json_integer_value(json_object_get(json_array_get(series, 0), "t")));
        date_of(d1, sizeof d1,
                json_integer_value(
                    json_object_get(json_array_get(series, json_array_size(series) - 1), "t")));
        textview_add(tv, ROLE_DIM, "  period", "%s .. %s", d0, d1);
    }
    json_array_foreach(json_object_get(snap, "strategies"), i, st)
    {
        const json_t *s = json_object_get(st, "stats");
        const char *name = json_string_value(json_object_get(st, "name"));
        textview_add(tv, ROLE_NORMAL, NULL, "%s", "");
        textview_add(tv, ROLE_TITLE, NULL, "%s", name ? name : "?");
        if (json_integer_value(json_object_get(s, "totalTrajectories")) == 0)
            textview_add(tv, ROLE_DIM, "  runs", "none yet");
        else
            strategy_lines(tv, s, w, g);
    }
}

void pane_learning_fill(struct textview *tv, const json_t *snap, int w, const struct glyphs *g)
{
    textview_clear(tv);
    tv->label_w = LABEL_W;
    learning_lines(tv, snap, w, g);
}

/* One host's section: its name, then what its daemon's snapshot says
 * (remote.h: totalTrajectories, successRatio, rewardMean, strategies). */
static void host_lines(struct textview *tv, const json_t *snap, const char *name, int w)
{
    const json_t *st;
    size_t i;
    json_int_t n = json_integer_value(json_object_get(snap, "totalTrajectories"));
    char pc[16];

    textview_add(tv, ROLE_TITLE, NULL, "%s", name);
    if (!json_is_object(snap)) {
        textview_add(tv, ROLE_DIM, NULL, "  no snapshot from its daemon yet");
        return;
    }
    if (n <= 0) {
        textview_add(tv, ROLE_DIM, NULL, "  nothing learned yet");
        return;
    }
    pct(pc, sizeof pc, num(snap, "successRatio"));
    textview_add(tv, ROLE_NORMAL, "  learned", "%lld, %s succeeded", (long long)n, pc);
    textview_add(tv, ROLE_NORMAL, "  reward", "%.3f", num(snap, "rewardMean"));
    json_array_foreach(json_object_get(snap, "strategies"), i, st)
    {
        char line[256];
        const char *sn = json_string_value(json_object_get(st, "name"));
        pct(pc, sizeof pc, num(st, "successRatio"));
        snprintf(line, sizeof line, "  %s: %lld, %s ok, %.3f", sn ? sn : "?",
                 (long long)json_integer_value(json_object_get(st, "n")), pc,
                 num(st, "rewardMean"));
        pane_add_wrapped(tv, ROLE_NORMAL, NULL, line, w - 2);
    }
}

void pane_hosts_learning_fill(struct textview *tv, const json_t *const *snaps,
                              const char *const *names, int n, const json_t *local, int w,
                              const struct glyphs *g)
{
    textview_clear(tv);
    tv->label_w = LABEL_W;
    for (int h = 0; h < n; h++) {
        host_lines(tv, snaps[h], names[h] ? names[h] : "?", w);
        textview_add(tv, ROLE_NORMAL, NULL, "%s", "");
    }
    textview_add(tv, ROLE_TITLE, NULL, "local store");
    textview_add(tv, ROLE_DIM, NULL, "  this machine's runs and what the fleet synced");
    learning_lines(tv, local, w, g);
}

/* --- patterns ---------------------------------------------------------------- */

const struct table_col pattern_cols[PC_COUNT] = {
    {"LB", 5, 1, 0, 1, 0},  {"CONF", 5, 1, 0, 1, 0},   {"RUNS", 5, 1, 0, 1, 0},
    {"OK%", 4, 1, 0, 1, 0}, {"REWARD", 6, 1, 0, 1, 0}, {"PATTERN", 8, 0, 1, 0, 0},
};

int64_t pane_pattern_id(const json_t *p)
{
    const char *parts[3] = {json_string_value(json_object_get(p, "strategyName")),
                            json_string_value(json_object_get(p, "name")),
                            json_string_value(json_object_get(p, "operationSequence"))};
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (int k = 0; k < 3; k++) {
        for (const char *s = parts[k] ? parts[k] : ""; *s; s++)
            h = (h ^ (unsigned char)*s) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    h &= 0x3fffffffffffffffull;
    return h ? (int64_t)h : 1;
}

/* The pattern's name without its strategy prefix. */
static const char *short_name(const json_t *p)
{
    const char *n = json_string_value(json_object_get(p, "name"));
    const char *s = json_string_value(json_object_get(p, "strategyName"));
    size_t l = s ? strlen(s) : 0;
    if (n == NULL)
        return "";
    if (s && strncmp(n, s, l) == 0) {
        n += l;
        while (*n == ' ' || *n == ',')
            n++;
    }
    return n;
}

void pane_patterns_fill(struct table *t, const json_t *snap)
{
    size_t i;
    json_t *p;

    table_clear(t);
    json_array_foreach(json_object_get(snap, "patterns"), i, p)
    {
        char b[64];
        double conf = num(p, "confidence"), ok = num(p, "successRate"), rw = num(p, "meanReward");
        json_int_t runs = json_integer_value(json_object_get(p, "observationCount"));
        size_t r = table_add(t, pane_pattern_id(p),
                             ok >= 0.9  ? ROLE_OK
                             : ok < 0.5 ? ROLE_ERROR
                                        : ROLE_NORMAL);
        snprintf(b, sizeof b, "%.3f", num(p, "rewardLowerBound"));
        table_set(t, r, PC_LB, isnan(num(p, "rewardLowerBound")) ? "-" : b,
                  num(p, "rewardLowerBound"));
        snprintf(b, sizeof b, "%.2f", conf);
        table_set(t, r, PC_CONF, b, conf);
        snprintf(b, sizeof b, "%lld", (long long)runs);
        table_set(t, r, PC_RUNS, b, (double)runs);
        snprintf(b, sizeof b, "%.0f", 100 * ok);
        table_set(t, r, PC_OK, b, ok);
        snprintf(b, sizeof b, "%.3f", rw);
        table_set(t, r, PC_REWARD, b, rw);
        table_set(t, r, PC_NAME, json_string_value(json_object_get(p, "name")), NAN);
    }
    table_commit(t);
}

json_t *pane_pattern_find(const json_t *snap, int64_t id)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(snap, "patterns"), i, p)
    {
        if (pane_pattern_id(p) == id)
            return p;
    }
    return NULL;
}

/* The evidence run with the highest reward that has readable params. */
static const json_t *best_run(const json_t *p)
{
    const json_t *best = NULL, *r;
    size_t i;
    json_array_foreach(json_object_get(p, "runs"), i, r)
    {
        if (!json_is_object(json_object_get(r, "params")))
            continue;
        if (best == NULL || num(r, "reward") > num(best, "reward"))
            best = r;
    }
    return best;
}

void pane_pattern_detail(struct textview *tv, const json_t *p)
{
    const char *key;
    const json_t *v, *r, *best = best_run(p);
    size_t i, nev = json_array_size(json_object_get(p, "evidence"));
    int first = 1;

    textview_clear(tv);
    tv->label_w = 12;
    tv->top = 0;
    textview_add(tv, ROLE_TITLE, "pattern", "%s", short_name(p)[0] ? short_name(p) : "-");
    textview_add(tv, ROLE_NORMAL, "strategy", "%s",
                 json_string_value(json_object_get(p, "strategyName")));
    textview_add(tv, ROLE_NORMAL, "confidence", "%.3f (Wilson 95%% lower bound on success)",
                 num(p, "confidence"));
    textview_add(tv, ROLE_NORMAL, "success", "%.1f%% of %lld run(s)", 100 * num(p, "successRate"),
                 (long long)json_integer_value(json_object_get(p, "observationCount")));
    textview_add(tv, ROLE_NORMAL, "reward", "%.3f mean, %.3f lower bound (95%%, %s)",
                 num(p, "meanReward"), num(p, "rewardLowerBound"),
                 json_is_string(json_object_get(p, "basis"))
                     ? json_string_value(json_object_get(p, "basis"))
                     : "in-sample");
    if (!isnan(num(p, "meanOutOfSampleReward")))
        textview_add(tv, ROLE_NORMAL, "", "%.3f mean out of sample",
                     num(p, "meanOutOfSampleReward"));
    textview_add(tv, ROLE_NORMAL, "operations", "%s",
                 json_is_string(json_object_get(p, "operationSequence"))
                     ? json_string_value(json_object_get(p, "operationSequence"))
                     : "-");
    json_object_foreach((json_t *)json_object_get(p, "region"), key, v)
    {
        char lo[32], hi[32];
        pane_json_value(lo, sizeof lo, json_array_get(v, 0));
        pane_json_value(hi, sizeof hi, json_array_get(v, 1));
        if (strcmp(lo, hi) == 0)
            textview_add(tv, ROLE_NORMAL, first ? "region" : "", "%s = %s", key, lo);
        else
            textview_add(tv, ROLE_NORMAL, first ? "region" : "", "%s in [%s, %s]", key, lo, hi);
        first = 0;
    }
    if (first)
        textview_add(tv, ROLE_DIM, "region", "(every run used the same parameter bins)");
    textview_add(tv, ROLE_NORMAL, "evidence", "%zu run(s), newest first%s", nev,
                 nev >= 20 ? " (the 20 newest)" : "");
    json_array_foreach(json_object_get(p, "runs"), i, r)
    {
        const char *st = json_string_value(json_object_get(r, "status"));
        char ret[32] = "-", sh[32] = "-", id[32];
        if (!isnan(num(r, "totalReturn")))
            snprintf(ret, sizeof ret, "%+.2f%%", 100 * num(r, "totalReturn"));
        if (!isnan(num(r, "sharpe")))
            snprintf(sh, sizeof sh, "%.2f", num(r, "sharpe"));
        snprintf(id, sizeof id, "  #%lld", (long long)json_integer_value(json_object_get(r, "id")));
        textview_add(tv,
                     st && strcmp(st, "succeeded") == 0 ? ROLE_OK
                     : st                               ? ROLE_ERROR
                                                        : ROLE_DIM,
                     id, "%-5s %-9s %8s  sharpe %5s  reward %.3f%s",
                     json_is_string(json_object_get(r, "symbol"))
                         ? json_string_value(json_object_get(r, "symbol"))
                         : "-",
                     st ? st : "?", ret, sh, isnan(num(r, "reward")) ? 0 : num(r, "reward"),
                     r == best ? "  best" : "");
    }
    textview_add(tv, ROLE_NORMAL, NULL, "%s", "");
    if (best)
        textview_add(tv, ROLE_KEY, NULL, "d deploys with the parameters of run #%lld (best)",
                     (long long)json_integer_value(json_object_get(best, "id")));
    else
        textview_add(tv, ROLE_KEY, NULL, "d deploys with the middle of each region");
    textview_add(tv, ROLE_DIM, NULL, "Esc goes back to the list");
}

json_t *pane_pattern_deploy(const json_t *p)
{
    const json_t *best = best_run(p), *v;
    const char *key;
    json_t *out = json_pack("{s:s}", "strategy",
                            json_is_string(json_object_get(p, "strategyName"))
                                ? json_string_value(json_object_get(p, "strategyName"))
                                : "");
    json_t *params = json_object();

    if (best != NULL) {
        json_object_update(params, json_object_get(best, "params"));
        if (json_is_string(json_object_get(best, "symbol")))
            json_object_set(out, "symbol", json_object_get(best, "symbol"));
        json_object_set_new(
            out, "from",
            json_sprintf("run #%lld", (long long)json_integer_value(json_object_get(best, "id"))));
    } else {
        json_object_foreach((json_t *)json_object_get(p, "region"), key, v)
        {
            const json_t *lo = json_array_get(v, 0), *hi = json_array_get(v, 1);
            if (json_is_boolean(lo))
                json_object_set(params, key, (json_t *)lo);
            else if (json_is_integer(lo) && json_is_integer(hi))
                json_object_set_new(
                    params, key,
                    json_integer((json_integer_value(lo) + json_integer_value(hi)) / 2));
            else if (json_is_number(lo) && json_is_number(hi))
                json_object_set_new(params, key,
                                    json_real((json_number_value(lo) + json_number_value(hi)) / 2));
        }
        json_object_set_new(out, "from", json_string("region"));
    }
    json_object_del(params, "symbol");
    json_object_del(params, "symbols");
    json_object_set_new(out, "params", params);
    return out;
}
