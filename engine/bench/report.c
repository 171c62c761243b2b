/*
 * report.c: the benchmark's report files (report.h).
 *
 * Each writer walks the JSON report and prints; none computes a metric (that
 * is bench.c's job), so every file shows the same numbers. The HTML page's
 * charts are SVG written as text: a chart is a plot area with a y axis of
 * "nice" ticks (1, 2 or 5 times a power of ten) and bars scaled to it. Every
 * <svg> has explicit width and height so it has a size in any browser.
 */
#define _GNU_SOURCE
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static const char *const op_colors[BENCH_OPS] = {
    "#9e9e9e", "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
};

static double num(const json_t *o, const char *path)
{
    return bench_get(o, path);
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* "12.3" or "-" for NaN. */
static const char *fmt(char *buf, size_t n, const char *f, double v)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, f, v);
    return buf;
}

/* --- JSON ------------------------------------------------------------------ */

int report_json(FILE *f, const json_t *r)
{
    if (json_dumpf(r, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0)
        return -1;
    fputc('\n', f);
    return ferror(f) ? -1 : 0;
}

/* --- text ------------------------------------------------------------------ */

static void txt_outcomes(FILE *f, const json_t *g)
{
    char a[32], b[32];
    fprintf(f,
            "success %s%%   errors %s%% (failed %.0f, timeout %.0f, provider error %.0f, "
            "cancelled %.0f)\n",
            fmt(a, sizeof a, "%.1f", num(g, "successRate") * 100),
            fmt(b, sizeof b, "%.1f", num(g, "errorRate") * 100), num(g, "counts.failed"),
            num(g, "counts.timeout"), num(g, "counts.providerError"), num(g, "counts.cancelled"));
}

static void txt_latency(FILE *f, const json_t *l)
{
    static const char *const k[] = {"avg", "min", "median", "p95", "p99", "max"};
    char b[32];
    fprintf(f, "latency ms:");
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        fprintf(f, " %s %s ", k[i], fmt(b, sizeof b, "%.2f", num(l, k[i])));
    fputc('\n', f);
}

static void txt_scenario(FILE *f, const json_t *s)
{
    json_t *by = json_object_get(s, "byStrategy"), *g, *t, *cmp;
    const char *key;
    char a[32], b[32];
    size_t i;

    fprintf(f, "\nscenario %s: %.0f agent(s) x %.0f iteration(s) = %.0f deployments in %s s\n",
            str(s, "name"), num(s, "agents"), num(s, "iterations"), num(s, "deployments"),
            fmt(a, sizeof a, "%.3f", num(s, "wallMs") / 1000));
    fprintf(f, "  throughput %s/s   ", fmt(a, sizeof a, "%.2f", num(s, "throughput")));
    txt_outcomes(f, s);
    if (json_is_object(json_object_get(s, "providers"))) {
        /* where they ran: failover moves deployments off the asked provider */
        fprintf(f, "  ran on:");
        json_object_foreach(json_object_get(s, "providers"), key, g)
            fprintf(f, " %s %.0f", key, json_number_value(g));
        if (num(s, "failovers") > 0)
            fprintf(f, " (%.0f by failover from %s)", num(s, "failovers"), str(s, "provider"));
        fputc('\n', f);
    }
    fprintf(f, "  ");
    txt_latency(f, json_object_get(s, "latency"));
    fprintf(f, "  operations (avg ms per deployment that reached it):");
    for (int k = 0; k < BENCH_OPS; k++) {
        json_t *op = json_object_get(json_object_get(s, "operations"), bench_op_name(k));
        if (op != NULL)
            fprintf(f, " %s %s", bench_op_name(k), fmt(a, sizeof a, "%.2f", num(op, "avgMs")));
    }
    fputc('\n', f);
    fprintf(f, "  by strategy:\n");
    json_object_foreach(by, key, g)
    {
        fprintf(f, "    %-20s n %-5.0f success %6s%%  avg %s ms  p95 %s ms  throughput %s/s\n", key,
                num(g, "deployments"), fmt(a, sizeof a, "%.1f", num(g, "successRate") * 100),
                fmt(b, sizeof b, "%.2f", num(g, "latency.avg")),
                fmt((char[32]){0}, 32, "%.2f", num(g, "latency.p95")),
                fmt((char[32]){0}, 32, "%.2f", num(g, "throughput")));
    }
    fprintf(f, "  thresholds:\n");
    json_array_foreach(json_object_get(s, "thresholds"), i, t)
    {
        int ok = json_is_true(json_object_get(t, "passed"));
        fprintf(f, "    %s %-15s %s %s %s %g\n", ok ? "pass" : "MISS", str(t, "threshold"),
                str(t, "metric"), fmt(a, sizeof a, "%.4g", num(t, "value")),
                strncmp(str(t, "threshold"), "max", 3) == 0 ? "<=" : ">=", num(t, "limit"));
    }
    cmp = json_object_get(s, "comparison");
    if (json_is_object(cmp)) {
        fprintf(f, "  compared with run #%.0f (tolerance %.0f%%, success rate %.0f points):\n",
                num(cmp, "previousRunId"), num(cmp, "tolerance") * 100,
                num(cmp, "ratePoints") * 100);
        json_array_foreach(json_object_get(cmp, "metrics"), i, t)
        {
            int abs_ = strcmp(str(t, "metric"), "successRate") == 0;
            fprintf(f, "    %s %-15s %.4g -> %.4g (%s%s)\n",
                    json_is_true(json_object_get(t, "regression")) ? "REGRESSION" : "ok        ",
                    str(t, "metric"), num(t, "previous"), num(t, "current"),
                    fmt(a, sizeof a, abs_ ? "%+.1f" : "%+.1f", num(t, "change") * 100),
                    abs_ ? " points" : "%");
        }
    } else {
        fprintf(f, "  no earlier run of this scenario to compare with\n");
    }
}

/* "instances: local, e2b-eu (region eu-west), ..." when any has a region. */
static void txt_instances(FILE *f, const json_t *r)
{
    json_t *in = json_object_get(r, "instances"), *v;
    size_t i;
    int any = 0;

    json_array_foreach(in, i, v) any |= str(v, "region")[0] != '\0';
    if (!any)
        return;
    fprintf(f, "instances:");
    json_array_foreach(in, i, v)
    {
        fprintf(f, "%s %s", i ? "," : "", str(v, "name"));
        if (str(v, "region")[0])
            fprintf(f, " (region %s)", str(v, "region"));
    }
    fputc('\n', f);
}

int report_txt(FILE *f, const json_t *r)
{
    json_t *s, *m;
    size_t i;

    fprintf(f, "swarmdeck benchmark, run #%.0f, %s\n", num(r, "runId"), str(r, "timestamp"));
    fprintf(f, "provider %s, at most %.0f deployments at once, timeout %.0f ms\n",
            str(r, "provider"), num(r, "maxAgents"), num(r, "timeoutMs"));
    txt_instances(f, r);
    fprintf(f, "latency: %s\npercentiles: %s\n", str(r, "latencyDefinition"),
            str(r, "percentileMethod"));
    json_array_foreach(json_object_get(r, "scenarios"), i, s) txt_scenario(f, s);
    fprintf(f, "\nresult: %s%s\n", json_is_true(json_object_get(r, "passed")) ? "PASS" : "FAIL",
            json_is_true(json_object_get(r, "interrupted"))
                ? " (interrupted: the numbers cover the deployments that ran)"
                : "");
    json_array_foreach(json_object_get(r, "missed"), i, m)
        fprintf(f, "  missed: %s\n", json_string_value(m));
    fprintf(f, "\nrecommendations:\n");
    if (json_array_size(json_object_get(r, "recommendations")) == 0)
        fprintf(f, "  none: no measured number crossed a rule (docs/benchmark.md)\n");
    json_array_foreach(json_object_get(r, "recommendations"), i, m)
        fprintf(f, "  - [%s] %s\n", str(m, "area"), str(m, "message"));
    return ferror(f) ? -1 : 0;
}

/* --- coordinator ----------------------------------------------------------- */

static void coord_stats_line(FILE *f, const char *indent, const json_t *st)
{
    char a[32], b[32], c[32];
    fprintf(f,
            "%strajectories %.0f, succeeded %.0f, success rate %s%%, avg reward %s, "
            "improvement rate %s\n",
            indent, num(st, "totalTrajectories"), num(st, "succeeded"),
            fmt(a, sizeof a, "%.1f", num(st, "avgSuccessRate") * 100),
            fmt(b, sizeof b, "%.3f", num(st, "avgReward")),
            fmt(c, sizeof c, "%+.3f", num(st, "improvementRate")));
    fprintf(f, "%sprediction accuracy %s, Brier score %s over %.0f predictions\n", indent,
            fmt(a, sizeof a, "%.3f", num(st, "predictionAccuracy")),
            fmt(b, sizeof b, "%.3f", num(st, "brierScore")), num(st, "predictions"));
}

int report_coordinator(FILE *f, const json_t *r)
{
    json_t *l = json_object_get(r, "learning"), *st = json_object_get(l, "stats"), *p, *g;
    const char *key;
    size_t i;

    fprintf(f, "swarmdeck coordinator report, benchmark run #%.0f, %s\n", num(r, "runId"),
            str(r, "timestamp"));
    if (!json_is_true(json_object_get(l, "enabled"))) {
        fprintf(f, "learning is off for this run (--no-learning): no stats or patterns\n");
        return ferror(f) ? -1 : 0;
    }
    fprintf(f, "\nlearning stats over the whole store:\n");
    coord_stats_line(f, "  ", st);
    fprintf(f, "\nby strategy:\n");
    json_object_foreach(json_object_get(st, "byStrategy"), key, g)
    {
        fprintf(f, "  %s\n", key);
        coord_stats_line(f, "    ", g);
    }
    fprintf(f, "\npatterns (best first by confidence; the report keeps the first 20):\n");
    if (json_array_size(json_object_get(l, "patterns")) == 0)
        fprintf(f, "  none yet\n");
    json_array_foreach(json_object_get(l, "patterns"), i, p)
    {
        char a[32], b[32];
        fprintf(f, "  %-40s success %6s%% of %4.0f  confidence %s  mean reward %s\n    ops: %s\n",
                str(p, "name"), fmt(a, sizeof a, "%.1f", num(p, "successRate") * 100),
                num(p, "observationCount"), fmt(b, sizeof b, "%.3f", num(p, "confidence")),
                fmt((char[32]){0}, 32, "%.3f", num(p, "meanReward")), str(p, "operationSequence"));
    }
    return ferror(f) ? -1 : 0;
}

/* --- CSV ------------------------------------------------------------------- */

static void csv_str(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, double v)
{
    fputc(',', f);
    if (!isnan(v))
        fprintf(f, "%.6g", v);
}

static void csv_row(FILE *f, const json_t *s, const json_t *g, const char *strategy)
{
    csv_str(f, str(s, "name"));
    csv_num(f, num(s, "agents"));
    csv_num(f, num(s, "iterations"));
    csv_num(f, num(g, "latency.avg"));
    csv_num(f, num(g, "latency.p95"));
    csv_num(f, num(g, "latency.p99"));
    csv_num(f, num(g, "successRate"));
    csv_num(f, num(g, "throughput"));
    fputc(',', f);
    csv_str(f, strategy);
    csv_num(f, num(g, "deployments"));
    for (int k = 0; k < BENCH_OUTCOMES; k++) {
        char p[64];
        snprintf(p, sizeof p, "counts.%s", bench_outcome_name(k));
        csv_num(f, num(g, p));
    }
    csv_num(f, num(g, "errorRate"));
    csv_num(f, num(g, "latency.min"));
    csv_num(f, num(g, "latency.median"));
    csv_num(f, num(g, "latency.max"));
    csv_num(f, num(s, "wallMs"));
    for (int k = 0; k < BENCH_OPS; k++) {
        char p[64];
        snprintf(p, sizeof p, "operations.%s.avgMs", bench_op_name(k));
        csv_num(f, num(g, p));
    }
    fputc(',', f);
    if (g == s)
        fputs(json_is_true(json_object_get(s, "passed")) ? "true" : "false", f);
    fputc('\n', f);
}

int report_csv(FILE *f, const json_t *r)
{
    json_t *s, *g;
    const char *key;
    size_t i;

    fputs("Scenario,Agents,Iterations,AvgDuration,P95Latency,P99Latency,AvgSuccessRate,"
          "AvgThroughput,Strategy,Deployments",
          f);
    for (int k = 0; k < BENCH_OUTCOMES; k++) {
        const char *n = bench_outcome_name(k);
        fprintf(f, ",%c%s", n[0] - 'a' + 'A', n + 1);
    }
    fputs(",ErrorRate,MinLatency,MedianLatency,MaxLatency,WallMs", f);
    for (int k = 0; k < BENCH_OPS; k++) {
        const char *n = bench_op_name(k);
        fprintf(f, ",%c%sMs", n[0] - 'a' + 'A', n + 1);
    }
    fputs(",Passed\n", f);
    json_array_foreach(json_object_get(r, "scenarios"), i, s)
    {
        csv_row(f, s, s, "all");
        json_object_foreach(json_object_get(s, "byStrategy"), key, g) csv_row(f, s, g, key);
    }
    return ferror(f) ? -1 : 0;
}

/* --- HTML ------------------------------------------------------------------ */

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* A tick step giving about five ticks up to max: 1, 2 or 5 times 10^k; at
 * least 1 for counts (integer). */
static double nice_step(double max, int integer)
{
    double raw, mag, r, step;
    if (!(max > 0))
        return 1;
    raw = max / 5;
    mag = pow(10, floor(log10(raw)));
    r = raw / mag;
    step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
    return integer && step < 1 ? 1 : step;
}

#define CW      720 /* chart width */
#define CH      280 /* chart height */
#define ML      64  /* margins */
#define MR      16
#define MT      36
#define MB      56
#define BAR_MAX 56 /* widest bar, so one scenario is not one slab */

struct series {
    const char *name, *color;
};

/* A vertical bar chart: ncat categories of nser bars each; v[cat * nser +
 * ser] (NaN: no bar). Labels under every label_every-th category; integer:
 * the values are counts. */
static void svg_bars(FILE *f, const char *cls, const char *title, const char *xlabel,
                     const char *unit, size_t ncat, char (*cats)[48], size_t nser,
                     const struct series *ser, const double *v, size_t label_every, int integer)
{
    double max = 0, step, top, pw = CW - ML - MR, ph = CH - MT - MB, gw, bw;

    for (size_t i = 0; i < ncat * nser; i++)
        if (v[i] > max)
            max = v[i];
    step = nice_step(max, integer);
    top = ceil(max / step) * step;
    if (!(top > 0))
        top = step;
    gw = ncat ? pw / (double)ncat : pw;
    bw = gw * 0.8 / (double)(nser ? nser : 1);
    if (bw > BAR_MAX)
        bw = BAR_MAX;
    fprintf(f,
            "<svg class=\"chart %s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n<title>",
            cls, CW, CH, CW, CH);
    esc(f, title);
    fprintf(f, "</title>\n<text x=\"%d\" y=\"20\" class=\"t\">", ML);
    esc(f, title);
    fprintf(f, "</text>\n");
    for (double y = 0; y <= top + step / 2; y += step) {
        double py = MT + ph - y / top * ph;
        fprintf(f,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                "<text x=\"%d\" y=\"%.1f\" class=\"yl\">%g</text>\n",
                ML, CW - MR, py, py, ML - 6, py + 4, y);
    }
    fprintf(f, "<text x=\"14\" y=\"%d\" class=\"ax\" transform=\"rotate(-90 14 %d)\">%s</text>\n",
            MT + (int)ph / 2, MT + (int)ph / 2, unit);
    for (size_t c = 0; c < ncat; c++) {
        double gx = ML + gw * (double)c + (gw - bw * (double)nser) / 2;
        for (size_t k = 0; k < nser; k++) {
            double val = v[c * nser + k], h;
            if (isnan(val))
                continue;
            h = val / top * ph;
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"%s\"><title>",
                    gx + bw * (double)k, MT + ph - h, bw > 1 ? bw - 1 : bw, h, ser[k].color);
            esc(f, cats[c]);
            fprintf(f, " %s: %.4g %s</title></rect>\n", ser[k].name, val, unit);
            if (nser <= 3 && ncat <= 8)
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"vl\">%.3g</text>\n",
                        gx + bw * ((double)k + 0.5), MT + ph - h - 3, val);
        }
        if (c % (label_every ? label_every : 1) == 0) {
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"xl\">", ML + gw * ((double)c + 0.5),
                    MT + (int)ph + 16);
            esc(f, cats[c]);
            fprintf(f, "</text>\n");
        }
    }
    fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" class=\"axis\"/>\n", ML, CW - MR,
            MT + (int)ph, MT + (int)ph);
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"ax\">", ML + (int)pw / 2, CH - 10);
    esc(f, xlabel);
    fprintf(f, "</text>\n");
    for (size_t k = 0; nser > 1 && k < nser; k++)
        fprintf(f,
                "<rect x=\"%zu\" y=\"10\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                "<text x=\"%zu\" y=\"19\" class=\"lg\">%s</text>\n",
                (size_t)CW - MR - 70 * (nser - k), ser[k].color,
                (size_t)CW - MR - 70 * (nser - k) + 14, ser[k].name);
    fprintf(f, "</svg>\n");
}

/* Horizontal stacked bars: per scenario, the average ms per deployment of
 * each operation. */
static void svg_ops(FILE *f, const json_t *scen)
{
    size_t n = json_array_size(scen), i;
    int h = MT + 34 * (int)n + 60, lw = 130;
    double max = 0, step, top, pw = CW - lw - MR;
    json_t *s;

    json_array_foreach(scen, i, s)
    {
        double sum = 0;
        for (int k = 0; k < BENCH_OPS; k++) {
            char p[64];
            double v;
            snprintf(p, sizeof p, "operations.%s.avgMs", bench_op_name(k));
            v = num(s, p);
            if (!isnan(v))
                sum += v;
        }
        if (sum > max)
            max = sum;
    }
    step = nice_step(max, 0);
    top = ceil(max / step) * step;
    if (!(top > 0))
        top = step;
    fprintf(f,
            "<svg class=\"chart ops\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n<title>Operation breakdown"
            "</title>\n<text x=\"%d\" y=\"20\" class=\"t\">Operation breakdown: average ms per "
            "deployment</text>\n",
            CW, h, CW, h, lw);
    for (double x = 0; x <= top + step / 2; x += step) {
        double px = lw + x / top * pw;
        fprintf(f,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" class=\"grid\"/>"
                "<text x=\"%.1f\" y=\"%d\" class=\"xl\">%g</text>\n",
                px, px, MT, MT + 34 * (int)n, px, MT + 34 * (int)n + 14, x);
    }
    json_array_foreach(scen, i, s)
    {
        double x = lw, y = MT + 34.0 * (double)i + 6;
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"yl\">", lw - 6, y + 15);
        esc(f, str(s, "name"));
        fprintf(f, "</text>\n");
        for (int k = 0; k < BENCH_OPS; k++) {
            char p[64];
            double v, w;
            snprintf(p, sizeof p, "operations.%s.avgMs", bench_op_name(k));
            v = num(s, p);
            if (isnan(v) || v <= 0)
                continue;
            w = v / top * pw;
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"22\" fill=\"%s\">"
                    "<title>",
                    x, y, w, op_colors[k]);
            esc(f, str(s, "name"));
            fprintf(f, " %s: %.3f ms</title></rect>\n", bench_op_name(k), v);
            x += w;
        }
    }
    for (int k = 0; k < BENCH_OPS; k++)
        fprintf(f,
                "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                "<text x=\"%d\" y=\"%d\" class=\"lg\">%s</text>\n",
                lw + 80 * k, h - 22, op_colors[k], lw + 80 * k + 14, h - 13, bench_op_name(k));
    fprintf(f, "</svg>\n");
}

static void html_histogram(FILE *f, const json_t *s)
{
    json_t *h = json_object_get(s, "histogram"), *counts = json_object_get(h, "counts");
    size_t n = json_array_size(counts);
    double lo = num(h, "lo"), width = num(h, "width"), *v = xcalloc(n ? n : 1, sizeof *v);
    char(*cats)[48] = xcalloc(n ? n : 1, sizeof *cats), title[160];
    struct series ser = {"deployments", "#4e79a7"};

    for (size_t i = 0; i < n; i++) {
        v[i] = (double)json_integer_value(json_array_get(counts, i));
        snprintf(cats[i], sizeof cats[i], "%.3g", lo + width * (double)i);
    }
    snprintf(title, sizeof title, "Latency histogram: %s (%.0f deployments)", str(s, "name"),
             num(s, "deployments"));
    svg_bars(f, "hist", title, "latency (ms), lower edge of each bin", "deployments", n, cats, 1,
             &ser, v, 4, 1);
    free(v);
    free(cats);
}

static void html_td(FILE *f, const char *fm, double v)
{
    char b[48];
    fprintf(f, "<td>%s</td>", fmt(b, sizeof b, fm, v));
}

static void html_group_row(FILE *f, const char *label, const json_t *g)
{
    fprintf(f, "<tr><th>");
    esc(f, label);
    fprintf(f, "</th>");
    html_td(f, "%.0f", num(g, "deployments"));
    html_td(f, "%.1f%%", num(g, "successRate") * 100);
    html_td(f, "%.0f", num(g, "counts.failed"));
    html_td(f, "%.0f", num(g, "counts.timeout"));
    html_td(f, "%.0f", num(g, "counts.providerError"));
    html_td(f, "%.0f", num(g, "counts.cancelled"));
    html_td(f, "%.2f", num(g, "throughput"));
    html_td(f, "%.2f", num(g, "latency.avg"));
    html_td(f, "%.2f", num(g, "latency.min"));
    html_td(f, "%.2f", num(g, "latency.median"));
    html_td(f, "%.2f", num(g, "latency.p95"));
    html_td(f, "%.2f", num(g, "latency.p99"));
    html_td(f, "%.2f", num(g, "latency.max"));
    fprintf(f, "</tr>\n");
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>swarmdeck benchmark</title>\n<style>\n"
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;"
    "max-width:1000px;padding:0 1em;color:#222;background:#fff}\n"
    ".tw{overflow-x:auto}\n"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;"
    "padding-bottom:.2em}\n"
    "table{border-collapse:collapse;margin:.6em 0;font-size:.9em}"
    "th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}"
    "th{background:#f5f5f5}td.l,th.l{text-align:left}\n"
    ".pass{color:#1b7a2f;font-weight:600}.miss{color:#b00020;font-weight:600}\n"
    ".meta{color:#555;font-size:.9em}.charts{display:flex;flex-wrap:wrap;gap:1em}\n"
    "svg.chart{background:#fcfcfc;border:1px solid #e5e5e5;max-width:100%;height:auto}\n"
    "svg .t{font-size:14px;font-weight:600}svg text{font-size:11px;fill:#333}\n"
    "svg .yl{text-anchor:end}svg .xl{text-anchor:middle}svg .vl{text-anchor:middle;"
    "font-size:10px}\nsvg .ax{text-anchor:middle;fill:#555}svg .grid{stroke:#e3e3e3}"
    "svg .axis{stroke:#888}\nul.rec li{margin:.3em 0}\n</style>\n</head>\n<body>\n";

static const char group_head[] =
    "<tr><th class=\"l\"></th><th>n</th><th>success</th><th>failed</th><th>timeout</th>"
    "<th>provider error</th><th>cancelled</th><th>per s</th><th>avg ms</th><th>min</th>"
    "<th>median</th><th>p95</th><th>p99</th><th>max</th></tr>\n";

static void html_scenario(FILE *f, const json_t *s)
{
    json_t *t, *g, *cmp = json_object_get(s, "comparison");
    const char *key;
    size_t i;

    fprintf(f, "<h2 id=\"s-");
    esc(f, str(s, "name"));
    fprintf(f, "\">Scenario ");
    esc(f, str(s, "name"));
    fprintf(f,
            " <span class=\"%s\">%s</span></h2>\n<p class=\"meta\">%.0f agent(s) &times; %.0f "
            "iteration(s) = %.0f deployments in %.3f s</p>\n",
            json_is_true(json_object_get(s, "passed")) ? "pass" : "miss",
            json_is_true(json_object_get(s, "passed")) ? "pass" : "MISS", num(s, "agents"),
            num(s, "iterations"), num(s, "deployments"), num(s, "wallMs") / 1000);
    fprintf(f, "<div class=\"tw\"><table>\n%s", group_head);
    html_group_row(f, "all strategies", s);
    json_object_foreach(json_object_get(s, "byStrategy"), key, g) html_group_row(f, key, g);
    fprintf(f,
            "</table></div>\n<table><tr><th class=\"l\">threshold</th><th class=\"l\">metric</th>"
            "<th>value</th><th>limit</th><th>verdict</th></tr>\n");
    json_array_foreach(json_object_get(s, "thresholds"), i, t)
    {
        int ok = json_is_true(json_object_get(t, "passed"));
        fprintf(f, "<tr><td class=\"l\">%s</td><td class=\"l\">%s</td>", str(t, "threshold"),
                str(t, "metric"));
        html_td(f, "%.4g", num(t, "value"));
        html_td(f, "%g", num(t, "limit"));
        fprintf(f, "<td class=\"%s\">%s</td></tr>\n", ok ? "pass" : "miss", ok ? "pass" : "MISS");
    }
    fprintf(f, "</table>\n");
    if (json_is_object(cmp)) {
        fprintf(f,
                "<table><tr><th class=\"l\">vs run #%.0f</th><th>previous</th><th>now</th>"
                "<th>change</th><th></th></tr>\n",
                num(cmp, "previousRunId"));
        json_array_foreach(json_object_get(cmp, "metrics"), i, t)
        {
            int reg = json_is_true(json_object_get(t, "regression"));
            int pts = strcmp(str(t, "metric"), "successRate") == 0;
            fprintf(f, "<tr><td class=\"l\">%s</td>", str(t, "metric"));
            html_td(f, "%.4g", num(t, "previous"));
            html_td(f, "%.4g", num(t, "current"));
            html_td(f, pts ? "%+.1f pts" : "%+.1f%%", num(t, "change") * 100);
            fprintf(f, "<td class=\"%s\">%s</td></tr>\n", reg ? "miss" : "pass",
                    reg ? "regression" : "ok");
        }
        fprintf(f, "</table>\n");
    } else {
        fprintf(f, "<p class=\"meta\">No earlier run of this scenario to compare with.</p>\n");
    }
    html_histogram(f, s);
}

int report_html(FILE *f, const json_t *r)
{
    json_t *scen = json_object_get(r, "scenarios"), *s, *m;
    size_t n = json_array_size(scen), i;
    char(*cats)[48] = xcalloc(n ? n : 1, sizeof *cats);
    double *pv = xcalloc(n ? 3 * n : 1, sizeof *pv), *tv = xcalloc(n ? n : 1, sizeof *tv);
    static const struct series pser[] = {
        {"p50", "#4e79a7"}, {"p95", "#f28e2b"}, {"p99", "#e15759"}};
    static const struct series tser = {"deployments/s", "#59a14f"};
    int passed = json_is_true(json_object_get(r, "passed"));

    fputs(html_head, f);
    fprintf(f, "<h1>swarmdeck benchmark <span class=\"%s\">%s</span></h1>\n",
            passed ? "pass" : "miss", passed ? "PASS" : "FAIL");
    if (json_is_true(json_object_get(r, "interrupted")))
        fprintf(f, "<p class=\"miss\">Interrupted: the numbers cover the deployments that "
                   "ran.</p>\n");
    fprintf(f, "<p class=\"meta\">Run #%.0f, ", num(r, "runId"));
    esc(f, str(r, "timestamp"));
    fprintf(f, ", provider ");
    esc(f, str(r, "provider"));
    fprintf(f, ", at most %.0f deployments at once, timeout %.0f ms.", num(r, "maxAgents"),
            num(r, "timeoutMs"));
    {
        json_t *in = json_object_get(r, "instances"), *v;
        size_t k;
        json_array_foreach(in, k, v) if (str(v, "region")[0])
        {
            fprintf(f, "<br>Instance ");
            esc(f, str(v, "name"));
            fprintf(f, ": region ");
            esc(f, str(v, "region"));
            fprintf(f, ".");
        }
    }
    fprintf(f, "<br>Latency: ");
    esc(f, str(r, "latencyDefinition"));
    fprintf(f, ".<br>Percentiles: ");
    esc(f, str(r, "percentileMethod"));
    fprintf(f, ".</p>\n");
    json_array_foreach(json_object_get(r, "missed"), i, m)
    {
        fprintf(f, "<p class=\"miss\">Missed: ");
        esc(f, json_string_value(m));
        fprintf(f, "</p>\n");
    }

    fprintf(f, "<h2>Overview</h2>\n<div class=\"tw\"><table>\n%s", group_head);
    json_array_foreach(scen, i, s)
    {
        html_group_row(f, str(s, "name"), s);
        snprintf(cats[i], sizeof cats[i], "%s", str(s, "name"));
        pv[3 * i] = num(s, "latency.median");
        pv[3 * i + 1] = num(s, "latency.p95");
        pv[3 * i + 2] = num(s, "latency.p99");
        tv[i] = num(s, "throughput");
    }
    fprintf(f, "</table></div>\n<div class=\"charts\">\n");
    svg_bars(f, "pct", "Latency percentiles per scenario", "scenario", "ms", n, cats, 3, pser, pv,
             1, 0);
    svg_bars(f, "thr", "Throughput per scenario", "scenario", "deployments/s", n, cats, 1, &tser,
             tv, 1, 0);
    svg_ops(f, scen);
    fprintf(f, "</div>\n<h2>Recommendations</h2>\n<ul class=\"rec\">\n");
    if (json_array_size(json_object_get(r, "recommendations")) == 0)
        fprintf(f, "<li>None: no measured number crossed a rule.</li>\n");
    json_array_foreach(json_object_get(r, "recommendations"), i, m)
    {
        fprintf(f, "<li><b>");
        esc(f, str(m, "area"));
        fprintf(f, "</b>: ");
        esc(f, str(m, "message"));
        fprintf(f, "</li>\n");
    }
    fprintf(f, "</ul>\n");
    json_array_foreach(scen, i, s) html_scenario(f, s);
    fprintf(f, "<p class=\"meta\">Generated by swarmdeck benchmark. The same numbers are in the "
               "JSON, text and CSV files of this run.</p>\n</body>\n</html>\n");
    free(cats);
    free(pv);
    free(tv);
    return ferror(f) ? -1 : 0;
}

/* --- files ----------------------------------------------------------------- */

void report_stamp(const char *dir, int64_t ms, char *buf, size_t n)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char base[24], path[4096];
    struct stat st;

    gmtime_r(&t, &tm);
    strftime(base, sizeof base, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(buf, n, "%s", base);
    for (int k = 2; k < 1000; k++) {
        snprintf(path, sizeof path, "%s/benchmark-%s.json", dir, buf);
        if (stat(path, &st) != 0)
            return;
        snprintf(buf, n, "%s-%d", base, k);
    }
}

static int write_one(const char *dir, const char *name, int (*fn)(FILE *, const json_t *),
                     const json_t *r, struct sd_err *err)
{
    char path[4096], tmp[4200];
    FILE *f;
    int fd, rc;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp-%d", path, (int)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return sd_err_set(err, SD_EENV, "cannot write %s: %s", path, strerror(errno));
    if ((f = fdopen(fd, "w")) == NULL) {
        close(fd);
        unlink(tmp);
        return sd_err_set(err, SD_EENV, "cannot write %s: %s", path, strerror(errno));
    }
    rc = fn(f, r);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sd_err_set(err, SD_EENV, "cannot write %s: %s", path, e ? strerror(e) : "error");
    }
    return 0;
}

int report_write_all(const json_t *r, const char *dir, const char *ts, struct sd_err *err)
{
    static const struct {
        const char *prefix, *ext;
        int (*fn)(FILE *, const json_t *);
    } files[] = {
        {"benchmark", "json", report_json},         {"benchmark", "txt", report_txt},
        {"benchmark", "csv", report_csv},           {"benchmark", "html", report_html},
        {"coordinator", "txt", report_coordinator},
    };

    if (sd_mkdir_p(dir, 0700) != 0)
        return sd_err_set(err, SD_EENV, "cannot create %s: %s", dir, strerror(errno));
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s-%s.%s", files[i].prefix, ts, files[i].ext);
        errno = 0;
        if (write_one(dir, name, files[i].fn, r, err) != 0)
            return -1;
    }
    return 0;
}
