/*
 * bench_test.c: unit tests of the benchmark's metrics (engine/bench/bench.c),
 * report writers (engine/bench/report.c), scenarios and plans (scenario.c) and
 * queries (engine/store/query_bench.c). Every expected number is computed
 * by hand in the comment beside it. Usage: bench_test CASE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "check.h"
#include "query.h"
#include "report.h"
#include "scenario.h"
#include "store.h"
#include "traj.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

static double g(const json_t *o, const char *path)
{
    return bench_get(o, path);
}

static void t_percentile_hand(void)
{
    /* h = (n-1)p; P = x[floor h] + frac(h) * (x[floor h + 1] - x[floor h]). */
    double five[] = {15, 20, 35, 40, 50};
    double four[] = {1, 2, 3, 4};
    double one[] = {7};

    CHECK(NEAR(bench_percentile(five, 5, 0.5), 35));    /* h = 2 */
    CHECK(NEAR(bench_percentile(five, 5, 0.4), 29));    /* h = 1.6: 20 + 0.6 * 15 */
    CHECK(NEAR(bench_percentile(five, 5, 0.95), 48));   /* h = 3.8: 40 + 0.8 * 10 */
    CHECK(NEAR(bench_percentile(five, 5, 0.99), 49.6)); /* h = 3.96: 40 + 0.96 * 10 */
    CHECK(NEAR(bench_percentile(five, 5, 0), 15));
    CHECK(NEAR(bench_percentile(five, 5, 1), 50));
    CHECK(NEAR(bench_percentile(four, 4, 0.5), 2.5));   /* h = 1.5 */
    CHECK(NEAR(bench_percentile(four, 4, 0.95), 3.85)); /* h = 2.85: 3 + 0.85 */
    CHECK(NEAR(bench_percentile(four, 4, 0.99), 3.97)); /* h = 2.97 */
    CHECK(NEAR(bench_percentile(four, 4, 0.25), 1.75)); /* h = 0.75 */
    CHECK(NEAR(bench_percentile(one, 1, 0.99), 7));
    CHECK(isnan(bench_percentile(NULL, 0, 0.5)));
}

static void t_stats_hand(void)
{
    /* Unsorted input, not changed by the call. 1..20 shuffled: avg 10.5,
     * median h = 9.5 -> 10.5, p95 h = 18.05 -> 19.05, p99 h = 18.81 -> 19.81. */
    double v[20] = {20, 3, 17, 1, 9, 12, 5, 14, 7, 19, 2, 16, 11, 4, 8, 13, 6, 15, 10, 18};
    double copy[20];
    struct bench_stats st;

    memcpy(copy, v, sizeof v);
    CHECK(bench_stats_of(v, 20, &st) == 0);
    CHECK(memcmp(copy, v, sizeof v) == 0);
    CHECK(st.count == 20);
    CHECK(NEAR(st.avg, 10.5));
    CHECK(NEAR(st.min, 1) && NEAR(st.max, 20));
    CHECK(NEAR(st.median, 10.5));
    CHECK(NEAR(st.p95, 19.05));
    CHECK(NEAR(st.p99, 19.81));
    CHECK(bench_stats_of(v, 0, &st) == 0 && st.count == 0 && isnan(st.avg) && isnan(st.p95));
}

static void t_outcomes(void)
{
    CHECK(bench_outcome_of(TS_SUCCEEDED, 1) == BENCH_SUCCEEDED);
    CHECK(bench_outcome_of(TS_FAILED, 1) == BENCH_FAILED);
    CHECK(bench_outcome_of(TS_FAILED, 0) == BENCH_PROVIDER_ERROR);
    CHECK(bench_outcome_of(TS_TIMEOUT, 1) == BENCH_TIMEOUT);
    CHECK(bench_outcome_of(TS_CANCELLED, 0) == BENCH_CANCELLED);
    CHECK(bench_outcome_of(TS_INTERRUPTED, 1) == BENCH_CANCELLED);
    CHECK(strcmp(bench_outcome_name(BENCH_PROVIDER_ERROR), "providerError") == 0);
    CHECK(bench_op_from_name("stream") == BENCH_OP_STREAM);
    CHECK(bench_op_from_name("nope") == -1);
}

/* Ten samples: a x 6 (one failed, one provider error), b x 4 (one timeout). */
static json_t *ten(void)
{
    static struct bench_sample s[10];
    struct bench_scenario sc = {"mix", 5, 2};
    double lat[10] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
    int out[10] = {BENCH_SUCCEEDED, BENCH_FAILED,    BENCH_SUCCEEDED, BENCH_PROVIDER_ERROR,
                   BENCH_SUCCEEDED, BENCH_SUCCEEDED, BENCH_SUCCEEDED, BENCH_TIMEOUT,
                   BENCH_SUCCEEDED, BENCH_SUCCEEDED};

    for (int i = 0; i < 10; i++) {
        memset(&s[i], 0, sizeof s[i]);
        s[i].traj_id = i + 1;
        s[i].strategy = i % 5 < 3 ? "a" : "b"; /* a: 0,1,2,5,6,7  b: 3,4,8,9 */
        s[i].latency_ms = lat[i];
        s[i].outcome = out[i];
        s[i].op_ms[BENCH_OP_CREATE] = 1;
        s[i].op_seen[BENCH_OP_CREATE] = 1;
        if (out[i] != BENCH_PROVIDER_ERROR) {
            s[i].op_ms[BENCH_OP_STREAM] = 3;
            s[i].op_seen[BENCH_OP_STREAM] = 1;
        }
    }
    return bench_aggregate(&sc, s, 10, 2000);
}

static void t_aggregate(void)
{
    json_t *a = ten(), *h;
    long sum = 0;
    size_t i;
    json_t *x;

    CHECK(a != NULL);
    CHECK(g(a, "deployments") == 10);
    CHECK(NEAR(g(a, "throughput"), 5));    /* 10 in 2 s */
    CHECK(NEAR(g(a, "successRate"), 0.7)); /* 7 of 10 */
    CHECK(NEAR(g(a, "errorRate"), 0.3));   /* the other 3, never counted as successes */
    CHECK(g(a, "counts.failed") == 1 && g(a, "counts.providerError") == 1);
    CHECK(g(a, "counts.timeout") == 1 && g(a, "counts.cancelled") == 0);
    CHECK(NEAR(g(a, "errorRates.failed"), 0.1) && NEAR(g(a, "errorRates.timeout"), 0.1));
    CHECK(NEAR(g(a, "errorRates.providerError"), 0.1));
    CHECK(NEAR(g(a, "latency.avg"), 55) && NEAR(g(a, "latency.median"), 55));
    CHECK(NEAR(g(a, "latency.p95"), 95.5)); /* h = 8.55: 90 + 0.55 * 10 */
    CHECK(NEAR(g(a, "latency.p99"), 99.1)); /* h = 8.91 */
    /* create: 10 x 1 ms, stream: 9 x 3 ms; shares of 37 ms. */
    CHECK(g(a, "operations.create.count") == 10 && NEAR(g(a, "operations.create.avgMs"), 1));
    CHECK(g(a, "operations.stream.count") == 9 && NEAR(g(a, "operations.stream.totalMs"), 27));
    CHECK(NEAR(g(a, "operations.create.share"), 10.0 / 37));
    CHECK(json_object_get(json_object_get(a, "operations"), "upload") == NULL);
    /* Per strategy: a = samples 0,1,2,5,6,7 (lat 10,20,30,60,70,80). */
    CHECK(g(a, "byStrategy.a.deployments") == 6 && g(a, "byStrategy.b.deployments") == 4);
    /* a's outcomes: 0 ok, 1 failed, 2 ok, 5 ok, 6 ok, 7 timeout; b's: 3 provider, 4, 8, 9 ok. */
    CHECK(NEAR(g(a, "byStrategy.a.successRate"), 4.0 / 6));
    CHECK(g(a, "byStrategy.a.counts.failed") == 1 && g(a, "byStrategy.a.counts.timeout") == 1);
    CHECK(NEAR(g(a, "byStrategy.a.latency.median"), 45)); /* (30 + 60) / 2 */
    CHECK(NEAR(g(a, "byStrategy.b.throughput"), 2));      /* 4 in 2 s */
    CHECK(NEAR(g(a, "byStrategy.b.successRate"), 0.75));
    CHECK(g(a, "byStrategy.b.counts.providerError") == 1);
    /* Histogram: 20 bins of (100 - 10) / 20 = 4.5 ms from 10; counts sum to n. */
    h = json_object_get(a, "histogram");
    CHECK(NEAR(g(h, "lo"), 10) && NEAR(g(h, "width"), 4.5));
    json_array_foreach(json_object_get(h, "counts"), i, x) sum += (long)json_integer_value(x);
    CHECK(sum == 10);
    /* 10 -> bin 0, 20 -> 2 (2.2), 90 -> 17 (17.8), 100 -> 20, clamped into the last. */
    CHECK(json_integer_value(json_array_get(json_object_get(h, "counts"), 0)) == 1);
    CHECK(json_integer_value(json_array_get(json_object_get(h, "counts"), 2)) == 1);
    CHECK(json_integer_value(json_array_get(json_object_get(h, "counts"), 17)) == 1);
    CHECK(json_integer_value(json_array_get(json_object_get(h, "counts"), 19)) == 1);
    json_decref(a);
}

static void t_thresholds(void)
{
    json_t *a = ten(), *c;
    struct bench_thresholds t;
    int missed = 0;

    bench_thresholds_default(&t);
    CHECK(t.max_latency_ms == 5000 && t.min_throughput == 10);
    CHECK(t.max_error_rate == 0.05 && t.min_success_rate == 0.95);
    c = bench_check(a, &t, &missed);
    /* p95 95.5 <= 5000 passes; throughput 5 < 10, error 0.3 > 0.05, success 0.7 < 0.95 miss. */
    CHECK(missed == 3);
    CHECK(json_is_true(json_object_get(json_array_get(c, 0), "passed")));
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(c, 1), "threshold")),
                 "minThroughput") == 0);
    CHECK(json_is_false(json_object_get(json_array_get(c, 1), "passed")));
    CHECK(json_is_false(json_object_get(json_array_get(c, 2), "passed")));
    CHECK(json_is_false(json_object_get(json_array_get(c, 3), "passed")));
    json_decref(c);
    /* Limits equal to the values pass (<= and >=). */
    t = (struct bench_thresholds){95.5, 5, 0.3, 0.7};
    missed = 0;
    c = bench_check(a, &t, &missed);
    CHECK(missed == 0);
    json_decref(c);
    /* One ms tighter misses exactly the latency threshold. */
    t.max_latency_ms = 95;
    missed = 0;
    c = bench_check(a, &t, &missed);
    CHECK(missed == 1 && json_is_false(json_object_get(json_array_get(c, 0), "passed")));
    json_decref(c);
    /* No number (no deployments) misses. */
    missed = 0;
    c = bench_check(json_object_get(a, "histogram"), &t, &missed);
    CHECK(missed == 4);
    json_decref(c);
    json_decref(a);
}

static void t_compare(void)
{
    json_t *prev = json_pack("{s:f, s:f, s:{s:f, s:f, s:f}}", "throughput", 10.0, "successRate",
                             1.0, "latency", "avg", 100.0, "median", 100.0, "p95", 200.0);
    json_t *cur = json_pack("{s:f, s:f, s:{s:f, s:f, s:f}}", "throughput", 8.5, "successRate", 0.97,
                            "latency", "avg", 119.0, "median", 121.0, "p95", 150.0);
    json_t *c = bench_compare(prev, cur, 0.2, 0.02), *m;
    size_t i;
    int seen = 0;

    /* avg +19 % (no), median +21 % (yes), p95 -25 % (better), throughput -15 % (no),
     * successRate -3 points (yes). */
    CHECK(g(c, "regressions") == 2);
    json_array_foreach(json_object_get(c, "metrics"), i, m)
    {
        const char *k = json_string_value(json_object_get(m, "metric"));
        int reg = json_is_true(json_object_get(m, "regression"));
        seen++;
        if (strcmp(k, "latency.avg") == 0)
            CHECK(!reg && NEAR(g(m, "change"), 0.19));
        else if (strcmp(k, "latency.median") == 0)
            CHECK(reg);
        else if (strcmp(k, "latency.p95") == 0)
            CHECK(!reg && NEAR(g(m, "change"), -0.25));
        else if (strcmp(k, "throughput") == 0)
            CHECK(!reg && NEAR(g(m, "change"), -0.15));
        else if (strcmp(k, "successRate") == 0)
            CHECK(reg && NEAR(g(m, "change"), -0.03));
    }
    CHECK(seen == 5);
    json_decref(c);
    json_decref(prev);
    json_decref(cur);
}

static int has_rec(json_t *recs, const char *area, const char *needle)
{
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r)
    {
        const char *ar = json_string_value(json_object_get(r, "area"));
        const char *msg = json_string_value(json_object_get(r, "message"));
        if (strcmp(ar, area) == 0 && strstr(msg, needle) != NULL)
            return 1;
    }
    return 0;
}

static void t_recommend(void)
{
    json_t *a = ten(), *arr = json_array(), *pats, *r;
    struct bench_thresholds t;

    bench_thresholds_default(&t);
    json_object_set_new(a, "maxAgents", json_integer(5));
    json_array_append_new(arr, a);
    pats = json_pack("[{s:s, s:f, s:i, s:f}, {s:s, s:f, s:i, s:f}, {s:s, s:f, s:i, s:f}]", "name",
                     "good", "successRate", 0.95, "observationCount", 40, "confidence", 0.85,
                     "name", "bad", "successRate", 0.2, "observationCount", 10, "confidence", 0.05,
                     "name", "few", "successRate", 1.0, "observationCount", 2, "confidence", 0.3);
    r = bench_recommend(arr, &t, pats);
    /* Each cites its number. */
    CHECK(has_rec(r, "reliability", "success rate 70.0%"));
    CHECK(has_rec(r, "reliability", "1 deployment(s) never ran"));
    CHECK(has_rec(r, "reliability", "1 deployment(s) timed out"));
    CHECK(has_rec(r, "throughput", "throughput 5.00/s is below 10.00/s"));
    CHECK(has_rec(r, "learning", "pattern good succeeded in 95% of 40 runs"));
    CHECK(has_rec(r, "learning", "pattern bad succeeded in only 20% of 10 runs"));
    CHECK(!has_rec(r, "learning", "pattern few")); /* too little evidence */
    CHECK(!has_rec(r, "latency", "exceeds"));      /* p95 95.5 ms is fine */
    /* stream is not create: create's share is 27 %, so no "dominates". */
    CHECK(!has_rec(r, "latency", "dominates"));
    CHECK(has_rec(r, "reliability", "`swarmdeck doctor`")); /* local: isolation layers */
    CHECK(!has_rec(r, "reliability", "failover"));
    json_decref(r);
    /* Asked for E2B, 3 moved to the failover provider: both are said. */
    json_object_set_new(a, "provider", json_string("e2b"));
    json_object_set_new(a, "failovers", json_integer(3));
    r = bench_recommend(arr, &t, NULL);
    CHECK(has_rec(r, "reliability", "3 of 10 deployment(s) ran on the failover provider"));
    CHECK(has_rec(r, "reliability", "instance of e2b had an open circuit breaker"));
    CHECK(has_rec(r, "reliability",
                  "never ran because the sandbox could not be created or "
                  "started: check the provider with `swarmdeck status`"));
    json_decref(r);
    json_decref(pats);
    json_decref(arr);
}

/* A report with one scenario whose names need escaping. */
static json_t *report(void)
{
    json_t *a = ten(), *r;
    struct bench_thresholds t;
    int missed = 0;

    bench_thresholds_default(&t);
    json_object_set_new(a, "name", json_string("a,\"b\"<script>"));
    json_object_set_new(a, "thresholds", bench_check(a, &t, &missed));
    json_object_set_new(a, "passed", json_false());
    json_object_set_new(a, "comparison", json_null());
    r = json_pack("{s:i, s:s, s:s, s:[o], s:b, s:[s], s:[], s:{s:b}}", "runId", 7, "timestamp",
                  "2026-01-01T00:00:00Z", "provider", "local", "scenarios", a, "passed", 0,
                  "missed", "x: minThroughput", "recommendations", "learning", "enabled", 0);
    return r;
}

static char *render(int (*fn)(FILE *, const json_t *), const json_t *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(fn(f, r) == 0);
    fclose(f);
    return buf;
}

static void t_writers(void)
{
    json_t *r = report();
    char *csv = render(report_csv, r), *html = render(report_html, r), *txt = render(report_txt, r);
    char *co = render(report_coordinator, r);

    {
        static const char head[] = "Scenario,Agents,Iterations,AvgDuration,P95Latency,"
                                   "P99Latency,AvgSuccessRate,AvgThroughput,";
        CHECK(strncmp(csv, head, sizeof head - 1) == 0);
    }
    /* RFC 4180 quoting of the name; the first data row is the scenario. */
    CHECK(strstr(csv, "\n\"a,\"\"b\"\"<script>\",5,2,55,95.5,99.1,0.7,5,all,10,7,1,1,1,0,") !=
          NULL);
    CHECK(strstr(html, "<script>") == NULL);
    CHECK(strstr(html, "a,&quot;b&quot;&lt;script&gt;") != NULL);
    /* Charts: percentiles, throughput, operations, one histogram. */
    {
        int n = 0;
        for (char *p = html; (p = strstr(p, "<svg ")) != NULL; p++)
            n++;
        CHECK(n == 4);
    }
    CHECK(strstr(html, "width=\"720\"") != NULL);
    CHECK(strstr(txt, "MISS minThroughput") != NULL);
    CHECK(strstr(txt, "result: FAIL") != NULL);
    CHECK(strstr(co, "learning is off") != NULL);
    free(csv);
    free(html);
    free(txt);
    free(co);
    json_decref(r);
}

static void t_files(void)
{
    char dir[] = "/tmp/bench-test-XXXXXX", path[256], ts[32];
    json_t *r = report();
    struct sd_err err = {0};
    static const char *const names[] = {"benchmark-%s.json", "benchmark-%s.txt", "benchmark-%s.csv",
                                        "benchmark-%s.html", "coordinator-%s.txt"};
    struct stat st;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/out/deeper", dir);
    report_stamp(path, 1767225600000, ts, sizeof ts); /* 2026-01-01 00:00:00 UTC */
    CHECK(strcmp(ts, "20260101T000000Z") == 0);
    CHECK(report_write_all(r, path, ts, &err) == 0);
    for (size_t i = 0; i < 5; i++) {
        char name[64], full[400];
        snprintf(name, sizeof name, names[i], ts);
        snprintf(full, sizeof full, "%s/%s", path, name);
        CHECK(stat(full, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size > 0);
    }
    /* A second run in the same second gets its own stamp. */
    report_stamp(path, 1767225600000, ts, sizeof ts);
    CHECK(strcmp(ts, "20260101T000000Z-2") == 0);
    /* A directory that cannot be made: error names it, nothing written. */
    snprintf(path, sizeof path, "%s/out/deeper/benchmark-20260101T000000Z.json/x", dir);
    CHECK(report_write_all(r, path, "t", &err) == -1);
    CHECK(err.code == SD_EENV && strstr(err.msg, "cannot create") != NULL);
    {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0);
    }
    json_decref(r);
}

/* --- scenarios and plans (scenario.c) ------------------------------------ */

static void t_plan_builtins(void)
{
    struct bench_plan p;
    struct sd_err err = {0};

    bench_plan_init(&p);
    CHECK(p.nsc == BENCH_BUILTINS && !p.from_file && NEAR(p.tolerance, 0.2));
    CHECK(NEAR(p.th.max_latency_ms, 5000) && NEAR(p.th.min_success_rate, 0.95));
    CHECK(strcmp(p.sc[0].name, "light-load") == 0 && p.sc[0].agents == 1 &&
          p.sc[0].iterations == 10);
    CHECK(strcmp(p.sc[4].name, "burst-load") == 0 && p.sc[4].agents == 50);
    CHECK(bench_plan_max_agents(&p) == 50);
    CHECK(bench_plan_select(&p, NULL, &err) == 0 && p.nsc == BENCH_BUILTINS);
    CHECK(bench_plan_select(&p, "stress", &err) == 0 && p.nsc == 1);
    CHECK(strcmp(p.sc[0].name, "stress") == 0 && p.sc[0].iterations == 50);
    CHECK(bench_plan_max_agents(&p) == 20);
    bench_plan_clear(&p);

    bench_plan_init(&p);
    CHECK(bench_plan_select(&p, "nope", &err) == -1 && p.nsc == 0 && err.code == SD_EUSAGE);
    CHECK(strcmp(err.msg, "unknown scenario \"nope\" (built-in: light-load, medium-load, "
                          "heavy-load, stress, burst-load)") == 0);
    bench_plan_clear(&p);
    bench_plan_clear(NULL);
}

/* Write text to a file in a new temporary directory; returns its path
 * (static) and the directory in tmp. */
static const char *scratch(char *tmp, const char *text)
{
    static char file[128];
    FILE *f;

    strcpy(tmp, "/tmp/bench-test-XXXXXX");
    CHECK(mkdtemp(tmp) != NULL);
    snprintf(file, sizeof file, "%s/s.json", tmp);
    f = fopen(file, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
    return file;
}

/* Load text as a scenario file into a fresh plan: 0, or -1 with err. */
static int load(struct bench_plan *p, const char *text, struct sd_err *err)
{
    char tmp[64];
    const char *file = scratch(tmp, text);
    int rc;

    bench_plan_init(p);
    rc = bench_plan_load(p, file, err);
    CHECK(sd_rm_rf(tmp) == 0);
    /* Messages start with the file's name: keep what follows it. */
    if (rc != 0 && strncmp(err->msg, file, strlen(file)) == 0)
        memmove(err->msg, err->msg + strlen(file), strlen(err->msg + strlen(file)) + 1);
    return rc;
}

static void t_plan_file(void)
{
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"{\"scenarios\": [", ":1:15: ']' expected near end of file"},
        {"{\"other\": 1}", ": unknown key \"other\" (scenarios, thresholds)"},
        {"{\"thresholds\": [], \"scenarios\": []}", ": \"thresholds\" must be an object"},
        {"{\"thresholds\": {\"maxErrorRate\": 2}}",
         ": threshold maxErrorRate must be a number >= 0 and <= 1"},
        {"{\"scenarios\": []}", ": expected a non-empty array of scenarios"},
        {"[1]", ": scenario 0 must be an object"},
        {"[{\"name\": \"x\", \"agents\": 1, \"iterations\": 1, \"agnets\": 3}]",
         ": scenario 0: unknown key \"agnets\""},
        {"[{\"name\": \"a b\", \"agents\": 1, \"iterations\": 1}]",
         ": scenario 0 needs a \"name\" of 1-48 letters, digits, '-', '_' or '.'"},
        {"[{\"name\": \"stress\", \"agents\": 1, \"iterations\": 1}]",
         ": scenario \"stress\" is a built-in scenario; pick another name"},
        {"[{\"name\": \"x\", \"agents\": 1001, \"iterations\": 1}]",
         ": scenario x needs \"agents\" (1-1000) and \"iterations\" (1-100000)"},
        {"[{\"name\": \"x\", \"agents\": 1000, \"iterations\": 1001}]",
         ": scenario x: at most 1000000 deployments (agents x iterations)"},
        {"[{\"name\": \"x\", \"agents\": 1, \"iterations\": 1, \"strategies\": [1]}]",
         ": scenario x: strategies must be strings"},
        {"[{\"name\": \"x\", \"agents\": 1, \"iterations\": 1, \"agentParams\": [{}, {}]}]",
         ": scenario x: \"agentParams\" must be an array of at most \"agents\" objects"},
        {"[{\"name\": \"x\", \"agents\": 1, \"iterations\": 1, \"symbol\": \"SPY\","
         " \"symbols\": [\"SPY\"]}]",
         ": scenario x: give \"symbol\" or a non-empty \"symbols\" array"},
        {"[{\"name\": \"x\", \"agents\": 1, \"iterations\": 1, \"timeout\": 0}]",
         ": scenario x: \"timeout\" must be 0.001-86400 seconds"},
        {"[{\"name\": \"x\", \"agents\": 1, \"iterations\": 1},"
         " {\"name\": \"x\", \"agents\": 1, \"iterations\": 1}]",
         ": scenario \"x\" appears twice"},
    };
    struct bench_plan p;
    struct sd_err err = {0};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = load(&p, bad[i].text, &err);
        CHECK(rc == -1 && err.code == SD_EUSAGE);
        if (strcmp(err.msg, bad[i].msg) != 0) {
            fprintf(stderr, "case %zu: got \"%s\"\n", i, err.msg);
            CHECK(!"message");
        }
        /* A refused file leaves only what it added before: the built-ins at least. */
        CHECK(p.nsc >= BENCH_BUILTINS);
        bench_plan_clear(&p);
    }

    CHECK(
        load(&p,
             "{\"thresholds\": {\"minThroughput\": 0, \"maxErrorRate\": 0.25},"
             " \"scenarios\": [{\"name\": \"flaky\", \"agents\": 5, \"iterations\": 2,"
             " \"strategies\": [\"m\"], \"params\": {\"ms\": 20}, \"agentParams\": [{\"fail\": 1}],"
             " \"symbol\": \"SPY\", \"timeout\": 1.5},"
             " {\"name\": \"b\", \"agents\": 2, \"iterations\": 3}]}",
             &err) == 0);
    CHECK(p.from_file && p.nsc == BENCH_BUILTINS + 2);
    CHECK(NEAR(p.th.min_throughput, 0) && NEAR(p.th.max_error_rate, 0.25));
    CHECK(NEAR(p.th.max_latency_ms, 5000)); /* not in the file: the default */
    {
        const struct bench_scen *s = &p.sc[BENCH_BUILTINS];
        CHECK(strcmp(s->name, "flaky") == 0 && s->agents == 5 && s->iterations == 2);
        CHECK(s->timeout_ms == 1500);
        CHECK(json_array_size(s->symbols) == 1 &&
              strcmp(json_string_value(json_array_get(s->symbols, 0)), "SPY") == 0);
        CHECK(p.sc[BENCH_BUILTINS + 1].strategies == NULL); /* set by bench_plan_strategies */
    }
    /* With a file and no -s, the file's scenarios run, not the built-ins. */
    CHECK(bench_plan_select(&p, NULL, &err) == 0 && p.nsc == 2);
    CHECK(strcmp(p.sc[0].name, "flaky") == 0 && strcmp(p.sc[1].name, "b") == 0);
    CHECK(bench_plan_select(&p, "nope", &err) == -1);
    CHECK(strstr(err.msg, "burst-load; or one of the file's)") != NULL);
    bench_plan_clear(&p);

    /* -s may still pick a built-in when a file was given. */
    CHECK(load(&p, "[{\"name\": \"x\", \"agents\": 1, \"iterations\": 1}]", &err) == 0);
    CHECK(bench_plan_select(&p, "light-load", &err) == 0 && p.nsc == 1);
    bench_plan_clear(&p);

    /* At most BENCH_MAX_SCENARIOS in all, the built-ins included. */
    {
        char text[8192] = "[";
        for (int i = 0; i < BENCH_MAX_SCENARIOS; i++)
            snprintf(text + strlen(text), sizeof text - strlen(text),
                     "%s{\"name\": \"s%d\", \"agents\": 1, \"iterations\": 1}", i ? "," : "", i);
        strcat(text, "]");
        CHECK(load(&p, text, &err) == -1 && p.nsc == BENCH_MAX_SCENARIOS);
        CHECK(strcmp(err.msg, ": at most 64 scenarios") == 0);
        bench_plan_clear(&p);
    }
}

static void t_plan_requests(void)
{
    struct bench_plan p;
    struct sd_err err = {0};
    json_t *names, *params, *spec;
    struct deploy_req r;
    struct bench_scen *s;

    CHECK(load(&p,
               "[{\"name\": \"own\", \"agents\": 3, \"iterations\": 2, \"strategies\": [\"x\","
               " \"y\"], \"params\": {\"ms\": 20, \"fail\": 0}, \"agentParams\": [{\"fail\": 1}],"
               " \"symbols\": [\"SPY\", \"QQQ\", \"IWM\"]},"
               " {\"name\": \"plain\", \"agents\": 1, \"iterations\": 1, \"symbol\": \"SPY\"}]",
               &err) == 0);
    CHECK(bench_plan_select(&p, NULL, &err) == 0 && p.nsc == 2);

    /* Empty names are skipped; a list without a name is refused. */
    CHECK(bench_plan_strategies(&p, NULL, ",,", &err) == NULL && err.code == SD_EUSAGE);
    CHECK(strcmp(err.msg, "--strategies needs a comma-separated list of names") == 0);
    CHECK(p.sc[1].strategies == NULL);
    names = bench_plan_strategies(&p, NULL, ",a,,b,", &err);
    CHECK(json_array_size(names) == 2);
    CHECK(strcmp(json_string_value(json_array_get(names, 1)), "b") == 0);
    CHECK(json_array_size(p.sc[0].strategies) == 2 &&
          strcmp(json_string_value(json_array_get(p.sc[0].strategies, 0)), "x") == 0);
    CHECK(json_equal(p.sc[1].strategies, names));

    /* Agent 0 gets agentParams[0] over params; agent 2 has none. */
    s = &p.sc[0];
    params = bench_scen_params(s, 0);
    CHECK(json_integer_value(json_object_get(params, "fail")) == 1 &&
          json_integer_value(json_object_get(params, "ms")) == 20);
    json_decref(params);
    params = bench_scen_params(s, 2);
    CHECK(json_integer_value(json_object_get(params, "fail")) == 0);
    CHECK(json_integer_value(json_object_get(s->params, "fail")) == 0); /* not changed */

    /* Deployment 4: strategy 4 mod 2 = x, symbol 4 mod 3 = QQQ. */
    p.provider = "e2b";
    r = bench_scen_request(&p, s, NULL, 4, params, 7);
    CHECK(strcmp(r.strategy, "x") == 0 && strcmp(r.symbol, "QQQ") == 0);
    CHECK(r.params == params && r.run_id == 7 && strcmp(r.provider, "e2b") == 0);
    CHECK(strcmp(r.description, "benchmark") == 0 && r.timeout_ms == 0);
    r = bench_scen_request(&p, s, NULL, 5, params, 7);
    CHECK(strcmp(r.strategy, "y") == 0 && strcmp(r.symbol, "IWM") == 0);
    json_decref(params);

    spec = bench_plan_spec(&p, 12);
    CHECK(json_integer_value(json_object_get(spec, "maxAgents")) == 12);
    CHECK(strcmp(json_string_value(json_object_get(spec, "provider")), "e2b") == 0);
    {
        json_t *a = json_array_get(json_object_get(spec, "scenarios"), 0);
        json_t *b = json_array_get(json_object_get(spec, "scenarios"), 1);
        CHECK(json_object_size(a) == 7 && json_object_get(a, "agentParams") != NULL);
        CHECK(json_object_size(b) == 5 && json_object_get(b, "params") == NULL);
        CHECK(json_equal(json_object_get(b, "strategies"), names));
    }
    json_decref(spec);
    p.provider = NULL;
    spec = bench_plan_spec(&p, 1);
    CHECK(strcmp(json_string_value(json_object_get(spec, "provider")), "local") == 0);
    json_decref(spec);
    json_decref(names);
    bench_plan_clear(&p);
}

static void t_same_scenario(void)
{
    json_t *cur = json_pack("{s:s, s:i, s:i, s:[s], s:s}", "name", "a", "agents", 2, "iterations",
                            3, "strategies", "m", "provider", "local");
    json_t *old = json_deep_copy(cur);

    CHECK(bench_same_scenario(old, cur));
    /* A summary stored before summaries named a provider was local. */
    json_object_del(old, "provider");
    CHECK(bench_same_scenario(old, cur));
    json_object_set_new(cur, "provider", json_string("e2b"));
    CHECK(!bench_same_scenario(old, cur));
    json_object_set_new(old, "provider", json_string("e2b"));
    CHECK(bench_same_scenario(old, cur));
    json_object_set_new(old, "agents", json_integer(3));
    CHECK(!bench_same_scenario(old, cur));
    json_object_set_new(old, "agents", json_integer(2));
    json_object_set_new(old, "strategies", json_pack("[s, s]", "m", "n"));
    CHECK(!bench_same_scenario(old, cur));
    json_decref(old);
    json_decref(cur);
}

/* --- the benchmark's queries (query_bench.c) ---------------------------- */

struct op_seen {
    int rows;
    double ms;
    int ok;
};

static void op_row(void *arg, int64_t traj_id, const char *name, double ms, int ok)
{
    struct op_seen *o = arg;
    o->rows++;
    o->ms += traj_id * 1000 + ms;
    o->ok += strcmp(name, "stream") == 0 && ok;
}

struct runs_seen {
    int64_t ids[8];
    int n, stop_after;
};

static int run_row(void *arg, int64_t run_id, const json_t *summary)
{
    struct runs_seen *r = arg;
    CHECK(summary == NULL || json_is_object(summary));
    r->ids[r->n++] = run_id;
    return r->n == r->stop_after;
}

static void t_queries(void)
{
    char dir[] = "/tmp/bench-test-XXXXXX", file[64];
    struct store *st = NULL;
    struct sd_err err = {0};
    struct op_seen o = {0};
    struct runs_seen rs = {{0}, 0, 0};
    sqlite3 *db = NULL;
    int64_t moved = -1;
    json_t *by;

    /* A store with the real schema, then rows written straight into it. */
    CHECK(mkdtemp(dir) != NULL);
    snprintf(file, sizeof file, "%s/t.db", dir);
    CHECK(store_open(file, STORE_CREATE, &st, &err) == 0);
    store_close(st);
    CHECK(sqlite3_open(file, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(
              db,
              "INSERT INTO runs(id, kind, started_at, summary) VALUES"
              " (1, 'benchmark', 0, '{}'), (2, 'swarm', 0, '{}'), (3, 'benchmark', 0, NULL),"
              " (4, 'benchmark', 0, 'not json'), (5, 'benchmark', 0, '{\"scenarios\": []}');"
              "INSERT INTO trajectories(id, uuid, run_id, strategy, provider, status, created_at)"
              " VALUES (10, 'u10', 5, 'm', 'local', 'succeeded', 0),"
              " (11, 'u11', 5, 'm', 'local', 'failed', 0),"
              " (12, 'u12', 5, 'm', 'e2b', 'succeeded', 0),"
              " (13, 'u13', 4, 'm', 'local', 'succeeded', 0);"
              "INSERT INTO operations(traj_id, seq, name, started_at, duration_ms, ok) VALUES"
              " (10, 0, 'create', 0, 1.5, 1), (10, 1, 'stream', 0, 2, 1),"
              " (11, 0, 'stream', 0, 4, 0), (12, 0, 'failover', 0, 0, 1),"
              " (13, 0, 'stream', 0, 8, 1);",
              NULL, NULL, NULL) == SQLITE_OK);

    /* Operations of 10..12: four rows, 13 is outside the range. */
    CHECK(store_bench_operations(db, 10, 12, op_row, &o, &err) == 0);
    CHECK(o.rows == 4 && NEAR(o.ms, 10001.5 + 10002 + 11004 + 12000) && o.ok == 1);
    o = (struct op_seen){0};
    CHECK(store_bench_operations(db, 1, 0, op_row, &o, &err) == 0 && o.rows == 0);

    /* Placement of run 5's 10..12: local 2, e2b 1, one failover. */
    by = store_bench_placement(db, 5, 10, 13, &moved, &err);
    CHECK(json_object_size(by) == 2 && moved == 1);
    CHECK(json_integer_value(json_object_get(by, "local")) == 2);
    CHECK(json_integer_value(json_object_get(by, "e2b")) == 1);
    json_decref(by);

    /* Earlier benchmark runs with a summary, newest first; unparsable
     * summaries come as NULL; the callback can stop the walk. */
    CHECK(store_bench_earlier_runs(db, 5, run_row, &rs, &err) == 0);
    CHECK(rs.n == 2 && rs.ids[0] == 4 && rs.ids[1] == 1);
    rs = (struct runs_seen){{0}, 0, 1};
    CHECK(store_bench_earlier_runs(db, 6, run_row, &rs, &err) == 0 && rs.n == 1 && rs.ids[0] == 5);

    /* Failure: every query says which and why, through store_dberr. */
    CHECK(sqlite3_exec(db, "DROP TABLE operations", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(store_bench_operations(db, 10, 12, op_row, &o, &err) == -1 && err.code == SD_EENV);
    CHECK(strcmp(err.msg, "cannot read operation times: no such table: operations") == 0);
    CHECK(store_bench_placement(db, 5, 10, 12, &moved, &err) == NULL && moved == 0);
    CHECK(strncmp(err.msg, "cannot read where deployments ran: ", 35) == 0);
    CHECK(sqlite3_exec(db, "DROP TABLE runs", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(store_bench_earlier_runs(db, 5, run_row, &rs, &err) == -1);
    CHECK(strcmp(err.msg, "cannot read earlier runs: no such table: runs") == 0);
    sqlite3_close(db);
    CHECK(sd_rm_rf(dir) == 0);
}

static const struct check_case cases[] = {
    {"percentile_hand", t_percentile_hand},
    {"stats_hand", t_stats_hand},
    {"outcomes", t_outcomes},
    {"aggregate", t_aggregate},
    {"thresholds", t_thresholds},
    {"compare", t_compare},
    {"recommend", t_recommend},
    {"writers", t_writers},
    {"files", t_files},
    {"plan_builtins", t_plan_builtins},
    {"plan_file", t_plan_file},
    {"plan_requests", t_plan_requests},
    {"same_scenario", t_same_scenario},
    {"queries", t_queries},
};

int main(int argc, char **argv)
{
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
