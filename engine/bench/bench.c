/*
 * bench.c: the benchmark's metrics (bench.h).
 *
 * Aggregation sorts one copy of the latencies per group (scenario, then each
 * strategy) and derives every statistic from it; operation times are plain
 * sums. Rates divide by the number of deployments, so a failure can never be
 * counted as a success and every outcome is in exactly one count.
 */
#include "bench.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traj.h"

#define HIST_BINS 20

static const char *const outcome_names[BENCH_OUTCOMES] = {
    "succeeded", "failed", "timeout", "providerError", "cancelled",
};

static const char *const op_names[BENCH_OPS] = {
    "suggest", "create", "upload", "start", "stream", "collect", "destroy",
};

const char *bench_outcome_name(int outcome)
{
    return outcome >= 0 && outcome < BENCH_OUTCOMES ? outcome_names[outcome] : "unknown";
}

int bench_outcome_of(int traj_state, int ran)
{
    switch (traj_state) {
    case TS_SUCCEEDED:
        return BENCH_SUCCEEDED;
    case TS_TIMEOUT:
        return BENCH_TIMEOUT;
    case TS_CANCELLED:
    case TS_INTERRUPTED:
        return BENCH_CANCELLED;
    default:
        return ran ? BENCH_FAILED : BENCH_PROVIDER_ERROR;
    }
}

const char *bench_op_name(int op)
{
    return op >= 0 && op < BENCH_OPS ? op_names[op] : "unknown";
}

int bench_op_from_name(const char *name)
{
    for (int i = 0; i < BENCH_OPS; i++)
        if (strcmp(op_names[i], name) == 0)
            return i;
    return -1;
}

/* --- statistics ------------------------------------------------------------ */

double bench_percentile(const double *sorted, size_t n, double p)
{
    double h, lo;
    size_t i;

    if (n == 0)
        return NAN;
    if (p <= 0)
        return sorted[0];
    if (p >= 1)
        return sorted[n - 1];
    h = (double)(n - 1) * p;
    lo = floor(h);
    i = (size_t)lo;
    if (i + 1 >= n)
        return sorted[n - 1];
    return sorted[i] + (h - lo) * (sorted[i + 1] - sorted[i]);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int bench_stats_of(const double *v, size_t n, struct bench_stats *out)
{
    double *s, sum = 0;

    out->count = 0;
    out->avg = out->min = out->max = out->median = out->p95 = out->p99 = NAN;
    if (n == 0)
        return 0;
    if ((s = malloc(n * sizeof *s)) == NULL)
        return -1;
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    for (size_t i = 0; i < n; i++)
        sum += s[i];
    out->count = n;
    out->avg = sum / (double)n;
    out->min = s[0];
    out->max = s[n - 1];
    out->median = bench_percentile(s, n, 0.5);
    out->p95 = bench_percentile(s, n, 0.95);
    out->p99 = bench_percentile(s, n, 0.99);
    free(s);
    return 0;
}

/* A JSON number, or null for NaN (JSON has no NaN). */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *stats_json(const struct bench_stats *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "count", json_integer((json_int_t)st->count));
    json_object_set_new(o, "avg", num(st->avg));
    json_object_set_new(o, "min", num(st->min));
    json_object_set_new(o, "max", num(st->max));
    json_object_set_new(o, "median", num(st->median));
    json_object_set_new(o, "p95", num(st->p95));
    json_object_set_new(o, "p99", num(st->p99));
    return o;
}

/* --- aggregation ----------------------------------------------------------- */

/* Metrics of the samples s[i] for which strategy is NULL or s[i].strategy
 * equals it, into o. Returns -1 when memory ran out. */
static int group_into(json_t *o, const struct bench_sample *s, size_t n, const char *strategy,
                      double wall_ms, int histogram)
{
    double *lat = malloc((n ? n : 1) * sizeof *lat), op_total[BENCH_OPS] = {0}, all_ops = 0;
    size_t counts[BENCH_OUTCOMES] = {0}, op_count[BENCH_OPS] = {0}, m = 0;
    struct bench_stats st;
    json_t *c, *er, *ops;

    if (lat == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (strategy != NULL && strcmp(s[i].strategy, strategy) != 0)
            continue;
        lat[m++] = s[i].latency_ms;
        if (s[i].outcome >= 0 && s[i].outcome < BENCH_OUTCOMES)
            counts[s[i].outcome]++;
        for (int k = 0; k < BENCH_OPS; k++)
            if (s[i].op_seen[k]) {
                op_count[k]++;
                op_total[k] += s[i].op_ms[k];
                all_ops += s[i].op_ms[k];
            }
    }
    if (bench_stats_of(lat, m, &st) != 0) {
        free(lat);
        return -1;
    }
    json_object_set_new(o, "deployments", json_integer((json_int_t)m));
    json_object_set_new(o, "throughput", num(wall_ms > 0 ? (double)m / (wall_ms / 1000) : NAN));
    json_object_set_new(o, "successRate",
                        num(m ? (double)counts[BENCH_SUCCEEDED] / (double)m : NAN));
    json_object_set_new(o, "errorRate",
                        num(m ? (double)(m - counts[BENCH_SUCCEEDED]) / (double)m : NAN));
    c = json_object();
    er = json_object();
    for (int k = 0; k < BENCH_OUTCOMES; k++) {
        json_object_set_new(c, outcome_names[k], json_integer((json_int_t)counts[k]));
        if (k != BENCH_SUCCEEDED)
            json_object_set_new(er, outcome_names[k], num(m ? (double)counts[k] / (double)m : NAN));
    }
    json_object_set_new(o, "counts", c);
    json_object_set_new(o, "errorRates", er);
    json_object_set_new(o, "latency", stats_json(&st));
    ops = json_object();
    for (int k = 0; k < BENCH_OPS; k++) {
        json_t *op;
        if (op_count[k] == 0)
            continue;
        op = json_object();
        json_object_set_new(op, "count", json_integer((json_int_t)op_count[k]));
        json_object_set_new(op, "totalMs", json_real(op_total[k]));
        json_object_set_new(op, "avgMs", json_real(op_total[k] / (double)op_count[k]));
        json_object_set_new(op, "share", num(all_ops > 0 ? op_total[k] / all_ops : NAN));
        json_object_set_new(ops, op_names[k], op);
    }
    json_object_set_new(o, "operations", ops);
    if (histogram) {
        json_t *h = json_object(), *bins = json_array();
        size_t hc[HIST_BINS] = {0};
        double lo = m ? st.min : 0, width = m ? (st.max - st.min) / HIST_BINS : 1;
        if (!(width > 0))
            width = 1;
        for (size_t i = 0; i < m; i++) {
            size_t b = (size_t)((lat[i] - lo) / width);
            hc[b >= HIST_BINS ? HIST_BINS - 1 : b]++;
        }
        for (int b = 0; b < HIST_BINS; b++)
            json_array_append_new(bins, json_integer((json_int_t)hc[b]));
        json_object_set_new(h, "lo", json_real(lo));
        json_object_set_new(h, "width", json_real(width));
        json_object_set_new(h, "counts", bins);
        json_object_set_new(o, "histogram", h);
    }
    free(lat);
    return 0;
}

json_t *bench_aggregate(const struct bench_scenario *sc, const struct bench_sample *s, size_t n,
                        double wall_ms)
{
    json_t *o = json_object(), *by = json_object();

    if (o == NULL || by == NULL)
        goto fail;
    json_object_set_new(o, "name", json_string(sc->name));
    json_object_set_new(o, "agents", json_integer(sc->agents));
    json_object_set_new(o, "iterations", json_integer(sc->iterations));
    json_object_set_new(o, "wallMs", json_real(wall_ms));
    if (group_into(o, s, n, NULL, wall_ms, 1) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        json_t *g;
        if (json_object_get(by, s[i].strategy) != NULL)
            continue;
        g = json_object();
        json_object_set_new(by, s[i].strategy, g);
        if (group_into(g, s, n, s[i].strategy, wall_ms, 0) != 0)
            goto fail;
    }
    json_object_set_new(o, "byStrategy", by);
    return o;
fail:
    json_decref(by);
    json_decref(o);
    return NULL;
}

json_t *bench_summary(const json_t *agg)
{
    json_t *o = json_deep_copy(agg);
    json_object_del(o, "histogram");
    json_object_del(o, "byStrategy");
    json_object_del(o, "comparison");
    return o;
}

/* The provider a summary asked for; summaries stored before they named one
 * were local. */
static const char *asked_provider(const json_t *x)
{
    const char *p = json_string_value(json_object_get(x, "provider"));
    return p ? p : "local";
}

int bench_same_scenario(const json_t *prev, const json_t *cur)
{
    static const char *const same[] = {"name", "agents", "iterations", "strategies"};

    for (size_t k = 0; k < sizeof same / sizeof same[0]; k++)
        if (!json_equal(json_object_get(prev, same[k]), json_object_get(cur, same[k])))
            return 0;
    return strcmp(asked_provider(prev), asked_provider(cur)) == 0;
}

/* --- thresholds ------------------------------------------------------------ */

void bench_thresholds_default(struct bench_thresholds *t)
{
    t->max_latency_ms = 5000;
    t->min_throughput = 10;
    t->max_error_rate = 0.05;
    t->min_success_rate = 0.95;
}

double bench_get(const json_t *o, const char *path)
{
    char key[64];
    const char *dot;

    while ((dot = strchr(path, '.')) != NULL) {
        snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
        o = json_object_get(o, key);
        path = dot + 1;
    }
    o = json_object_get(o, path);
    return json_is_number(o) ? json_number_value(o) : NAN;
}

json_t *bench_check(const json_t *agg, const struct bench_thresholds *t, int *missed)
{
    static const struct {
        const char *name, *metric;
        int at_most;
    } rules[] = {
        {"maxLatencyMs", "latency.p95", 1},
        {"minThroughput", "throughput", 0},
        {"maxErrorRate", "errorRate", 1},
        {"minSuccessRate", "successRate", 0},
    };
    double limits[] = {t->max_latency_ms, t->min_throughput, t->max_error_rate,
                       t->min_success_rate};
    json_t *out = json_array();

    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        double v = bench_get(agg, rules[i].metric);
        int ok = !isnan(v) && (rules[i].at_most ? v <= limits[i] : v >= limits[i]);
        json_t *r = json_object();
        json_object_set_new(r, "threshold", json_string(rules[i].name));
        json_object_set_new(r, "metric", json_string(rules[i].metric));
        json_object_set_new(r, "limit", json_real(limits[i]));
        json_object_set_new(r, "value", num(v));
        json_object_set_new(r, "passed", json_boolean(ok));
        json_array_append_new(out, r);
        if (!ok)
            (*missed)++;
    }
    return out;
}

/* --- comparison ------------------------------------------------------------ */

json_t *bench_compare(const json_t *prev, const json_t *cur, double tolerance, double rate_points)
{
    static const struct {
        const char *metric;
        int lower_better, absolute;
    } rules[] = {
        {"latency.avg", 1, 0}, {"latency.median", 1, 0}, {"latency.p95", 1, 0},
        {"throughput", 0, 0},  {"successRate", 0, 1},
    };
    json_t *out = json_object(), *arr = json_array();
    int regressions = 0;

    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        double p = bench_get(prev, rules[i].metric), c = bench_get(cur, rules[i].metric), change,
               worse;
        int reg;
        json_t *m;

        if (isnan(p) || isnan(c))
            continue;
        if (rules[i].absolute)
            change = c - p;
        else
            change = p != 0 ? (c - p) / fabs(p) : (c == 0 ? 0 : INFINITY);
        worse = rules[i].lower_better ? change : -change;
        reg = worse > (rules[i].absolute ? rate_points : tolerance);
        m = json_object();
        json_object_set_new(m, "metric", json_string(rules[i].metric));
        json_object_set_new(m, "previous", json_real(p));
        json_object_set_new(m, "current", json_real(c));
        json_object_set_new(m, "change", num(change));
        json_object_set_new(m, "regression", json_boolean(reg));
        json_array_append_new(arr, m);
        regressions += reg;
    }
    json_object_set_new(out, "metrics", arr);
    json_object_set_new(out, "regressions", json_integer(regressions));
    return out;
}

/* --- recommendations ------------------------------------------------------- */

static void rec(json_t *out, const char *area, const char *scenario, const char *metric,
                double value, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void rec(json_t *out, const char *area, const char *scenario, const char *metric,
                double value, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    json_t *r = json_object();

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_object_set_new(r, "area", json_string(area));
    json_object_set_new(r, "scenario", scenario ? json_string(scenario) : json_null());
    json_object_set_new(r, "metric", json_string(metric));
    json_object_set_new(r, "value", num(value));
    json_object_set_new(r, "message", json_string(msg));
    json_array_append_new(out, r);
}

static void recommend_scenario(json_t *out, const json_t *a, const struct bench_thresholds *t)
{
    const char *name = json_string_value(json_object_get(a, "name"));
    double succ = bench_get(a, "successRate"), p95 = bench_get(a, "latency.p95"),
           med = bench_get(a, "latency.median");
    double p99 = bench_get(a, "latency.p99"), thr = bench_get(a, "throughput"),
           n = bench_get(a, "deployments");
    double prov = bench_get(a, "counts.providerError"), tmo = bench_get(a, "counts.timeout");
    double fail = bench_get(a, "counts.failed"), agents = bench_get(a, "agents");
    double max_agents = bench_get(a, "maxAgents"), moved = bench_get(a, "failovers");
    const char *asked = json_string_value(json_object_get(a, "provider"));
    int remote = asked != NULL && strcmp(asked, "local") != 0;
    json_t *ops = json_object_get(a, "operations");
    const char *key;
    json_t *op;

    if (succ < 0.90)
        rec(out, "reliability", name, "successRate", succ,
            "%s: success rate %.1f%% is below 90%% (failed %.0f, timeout %.0f, provider errors "
            "%.0f of %.0f): read the failures with `swarmdeck history` and `swarmdeck show ID`",
            name, succ * 100, fail, tmo, prov, n);
    if (prov > 0)
        rec(out, "reliability", name, "counts.providerError", prov,
            "%s: %.0f deployment(s) never ran because the sandbox could not be created or "
            "started: check the provider with %s",
            name, prov,
            remote ? "`swarmdeck status` (its circuit breaker) and `swarmdeck show ID`"
                   : "`swarmdeck doctor`");
    /* Failover keeps the success rate up, but then the numbers measure
     * another provider than the one asked for. */
    if (moved > 0)
        rec(out, "reliability", name, "failovers", moved,
            "%s: %.0f of %.0f deployment(s) ran on the failover provider because every instance "
            "of %s had an open circuit breaker: their latency is not %s's (`swarmdeck status`)",
            name, moved, n, asked ? asked : "the provider", asked ? asked : "the provider");
    if (tmo > 0)
        rec(out, "reliability", name, "counts.timeout", tmo,
            "%s: %.0f deployment(s) timed out: raise --timeout or make the strategy faster", name,
            tmo);
    if (p95 > t->max_latency_ms)
        rec(out, "latency", name, "latency.p95", p95,
            "%s: p95 latency %.1f ms exceeds the %.0f ms limit: fewer agents at once or a faster "
            "strategy",
            name, p95, t->max_latency_ms);
    else if (n >= 20 && med > 0 && p99 > 3 * med)
        rec(out, "latency", name, "latency.p99", p99,
            "%s: p99 latency %.1f ms is %.1fx the median %.1f ms: a slow tail (queueing or "
            "contention for CPU)",
            name, p99, p99 / med, med);
    json_object_foreach((json_t *)ops, key, op)
    {
        double share = bench_get(op, "share");
        if (strcmp(key, "stream") != 0 && share > 0.5)
            rec(out, "latency", name, "operations.share", share,
                "%s: the %s operation takes %.0f%% of the time spent in operations (%.1f ms per "
                "deployment): it, not the strategy, dominates",
                name, key, share * 100, bench_get(op, "avgMs"));
    }
    if (thr < t->min_throughput) {
        if (max_agents > 0 && agents > max_agents)
            rec(out, "throughput", name, "throughput", thr,
                "%s: throughput %.2f/s is below %.2f/s and %.0f agents share %.0f workers: raise "
                "--max-agents to %.0f",
                name, thr, t->min_throughput, agents, max_agents, agents);
        else
            rec(out, "throughput", name, "throughput", thr,
                "%s: throughput %.2f/s is below %.2f/s; with a median deployment of %.1f ms and "
                "%.0f agent(s) at once the ceiling is about %.1f/s: run more agents at once",
                name, thr, t->min_throughput, med, agents, med > 0 ? agents * 1000 / med : 0);
    }
}

json_t *bench_recommend(const json_t *scenarios, const struct bench_thresholds *t,
                        const json_t *patterns)
{
    json_t *out = json_array(), *a, *p;
    size_t i;
    int good = 0, bad = 0;

    json_array_foreach(scenarios, i, a) recommend_scenario(out, a, t);
    json_array_foreach(patterns, i, p)
    {
        const char *name = json_string_value(json_object_get(p, "name"));
        double sr = bench_get(p, "successRate"), obs = bench_get(p, "observationCount");
        double conf = bench_get(p, "confidence");
        if (name == NULL || !(obs >= 5))
            continue;
        if (sr >= 0.9 && good < 3) {
            good++;
            rec(out, "learning", NULL, "pattern.successRate", sr,
                "pattern %s succeeded in %.0f%% of %.0f runs (confidence %.2f): prefer its "
                "parameters (`swarmdeck suggest`, --auto-optimize)",
                name, sr * 100, obs, conf);
        } else if (sr < 0.5 && bad < 2) {
            bad++;
            rec(out, "learning", NULL, "pattern.successRate", sr,
                "pattern %s succeeded in only %.0f%% of %.0f runs: avoid its parameter region",
                name, sr * 100, obs);
        }
    }
    return out;
}
