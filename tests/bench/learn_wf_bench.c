/*
 * learn_wf_bench.c: does auto-optimise's recommendation hold out of sample?
 * A walk-forward on a real series (docs/benchmarks.md).
 *
 * For each fold k, the test block is the two years starting at TEST[k]; the
 * training window is every bar from the series' start to the day before.
 * 1. RUNS auto-optimised momentum deployments on the training window only
 *    (the runner on a CSV cut at the block's start, so nothing after it is
 *    seen): learn_optimize_on chooses, the runner backtests, learn_observe
 *    files the result (reward from the in-sample Sharpe, trades, bars).
 * 2. The learner's recommendation (learn_suggest's whole parameter set,
 *    never one with fewer than 10 trades) is taken.
 * 3. The recommended parameters and the defaults are run on the series cut
 *    at the block's end with --train-until the day before the block: the
 *    out-of-sample Sharpe is the block's.
 * Also reported: the in-sample-best run's parameters (the naive pick the
 * issue warned about) on the same block.
 *
 * Usage: bench-learn-wf RUNNER DATA.csv [RUNS]   (RUNS default 60)
 * Prints a Markdown table, one row per fold and a mean.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learn.h"
#include "traj.h"

static struct param_schema mom[] = {
    {"capital", PT_NUMBER, 100000, 1, 1e12, ""}, {"commission", PT_NUMBER, 0, 0, 1000, ""},
    {"allowShort", PT_BOOLEAN, 0, 0, 1, ""},     {"lookback", PT_INTEGER, 20, 2, 500, ""},
    {"threshold", PT_NUMBER, 0.02, 0, 1, ""},    {"positionSize", PT_INTEGER, 10, 1, 1000000, ""},
};
static struct strategy_def def = {.name = "momentum", .params = mom, .nparams = 6};

static const char *const TEST[] = {"2010-01-01", "2012-01-01", "2014-01-01", "2016-01-01",
                                   "2018-01-01"};
#define NFOLD (sizeof TEST / sizeof TEST[0])

/* Copy the header and the rows of src dated before `end` into dst. */
static int cut(const char *src, const char *dst, const char *end)
{
    FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
    char line[512];
    int first = 1;
    if (in == NULL || out == NULL)
        return -1;
    while (fgets(line, sizeof line, in) != NULL) {
        if (first || strncmp(line, end, 10) < 0)
            fputs(line, out);
        first = 0;
    }
    fclose(in);
    fclose(out);
    return 0;
}

/* Run the runner; the @@result object (new reference) or NULL. */
static json_t *run(const char *runner, const char *data, json_t *params, const char *until)
{
    char *p = json_dumps(params, JSON_COMPACT), *cmd = NULL, line[1 << 16];
    json_t *res = NULL;
    FILE *f;
    if (asprintf(&cmd, "%s run --strategy momentum --data '%s' --params '%s'%s%s 2>/dev/null",
                 runner, data, p, until ? " --train-until " : "", until ? until : "") < 0)
        return NULL;
    free(p);
    if ((f = popen(cmd, "r")) != NULL) {
        while (fgets(line, sizeof line, f) != NULL)
            if (strncmp(line, "@@result ", 9) == 0)
                res = json_loads(line + 9, 0, NULL);
        pclose(f);
    }
    free(cmd);
    return res;
}

static double num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

int main(int argc, char **argv)
{
    const char *runner, *data;
    int runs = argc > 3 ? atoi(argv[3]) : 60;
    char dir[] = "/tmp/learn-wf-XXXXXX", train[300], test[300];
    double sum_rec = 0, sum_def = 0, sum_best = 0;

    if (argc < 3 || runs < 1) {
        fprintf(stderr, "usage: bench-learn-wf RUNNER DATA.csv [RUNS]\n");
        return 2;
    }
    runner = argv[1];
    data = argv[2];
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(train, sizeof train, "%s/train.csv", dir);
    snprintf(test, sizeof test, "%s/test.csv", dir);
    printf("| test block | recommended (IS Sharpe, trades, deflated) | OOS Sharpe: recommended | "
           "defaults | in-sample best |\n|---|---|---|---|---|\n");
    for (size_t k = 0; k < NFOLD; k++) {
        struct sd_err err = {0};
        struct learn *l = learn_open_defs(NULL, &def, 1, &err);
        char end[32], until[32];
        json_t *best = NULL, *rec, *sug, *dflt = json_object(), *r1, *r2, *r3;
        double best_is = -INFINITY;
        int y = atoi(TEST[k]);
        snprintf(end, sizeof end, "%04d-01-01", y + 2);
        snprintf(until, sizeof until, "%04d-12-31", y - 1);
        cut(data, train, TEST[k]);
        cut(data, test, end);
        for (int i = 0; i < runs; i++) {
            json_t *p = learn_optimize_on(l, &def, NULL, "SPX", 1000 * k + (uint64_t)i, NULL, &err);
            json_t *res = p ? run(runner, train, p, NULL) : NULL;
            double sh = num(res, "sharpe");
            learn_observe(
                l, &(struct learn_obs){.id = i + 1,
                                       .strategy = "momentum",
                                       .symbol = "SPX",
                                       .params = p,
                                       .state = res ? TS_SUCCEEDED : TS_FAILED,
                                       .reward = res && !isnan(sh) ? 0.5 + 0.5 * tanh(sh / 2) : 0,
                                       .created_at = 1700000000000LL + i,
                                       .result = res});
            if (res && !isnan(sh) && sh > best_is) {
                best_is = sh;
                json_decref(best);
                best = json_incref(p);
            }
            json_decref(res);
            json_decref(p);
        }
        sug = learn_suggest(l, &def, NULL, "SPX", &err);
        rec = json_object_get(json_object_get(sug, "recommendation"), "params");
        /* Not significant after deflation: the learner recommends no change. */
        if (!json_is_true(json_object_get(json_object_get(sug, "recommendation"), "significant")))
            rec = dflt;
        r1 = rec ? run(runner, test, rec, until) : NULL;
        r2 = run(runner, test, dflt, until);
        r3 = best ? run(runner, test, best, until) : NULL;
        {
            double o1 = num(json_object_get(r1, "outOfSample"), "sharpe");
            double o2 = num(json_object_get(r2, "outOfSample"), "sharpe");
            double o3 = num(json_object_get(r3, "outOfSample"), "sharpe");
            json_t *sh = json_object_get(json_object_get(sug, "recommendation"), "sharpe");
            printf("| %s..%04d | lookback %lld threshold %.4f (%.2f, %lld, %.2f) | %.2f | %.2f | "
                   "%.2f |\n",
                   TEST[k], y + 1,
                   (long long)json_integer_value(
                       json_object_get(r1, "params")
                           ? json_object_get(json_object_get(r1, "params"), "lookback")
                           : NULL),
                   num(json_object_get(r1, "params"), "threshold"), num(r1, "sharpe"),
                   (long long)json_integer_value(json_object_get(r1, "trades")),
                   num(sh, "deflated"), o1, o2, o3);
            sum_rec += o1;
            sum_def += o2;
            sum_best += o3;
        }
        json_decref(r1);
        json_decref(r2);
        json_decref(r3);
        json_decref(sug);
        json_decref(best);
        json_decref(dflt);
        learn_free(l);
    }
    printf("| mean | | %.2f | %.2f | %.2f |\n", sum_rec / NFOLD, sum_def / NFOLD, sum_best / NFOLD);
    unlink(train);
    unlink(test);
    rmdir(dir);
    return 0;
}
