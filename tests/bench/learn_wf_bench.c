/*
 * learn_wf_bench.c: does auto-optimise's recommendation hold out of sample?
 * A re-optimising walk-forward on a real series through learn_walk_forward
 * (engine/learn/learn_wf.c; docs/benchmarks/learn.md), the runner as the
 * evaluator.
 *
 * For each fold k, the test block is the two years starting at TEST[k]; the
 * training window is every bar from the series' start to the day before.
 * 1. RUNS auto-optimised momentum deployments on the training window only
 *    (the runner on a CSV cut at the block's start, so nothing after it is
 *    seen): learn_optimize_on chooses, the runner backtests, learn_observe
 *    files the result (reward from the in-sample Sharpe, trades, bars).
 * 2. The model's best whole parameter set (never one with fewer than 10
 *    trades) is taken, whether or not its deflated Sharpe passes the gate
 *    (the table says which).
 * 3. The chosen parameters and the defaults are run on the series cut at
 *    the block's end with --train-until the day before the block: the
 *    out-of-sample Sharpe is the block's.
 *
 * Usage: bench-learn-wf RUNNER DATA.csv [RUNS]   (RUNS default 60)
 * Prints a Markdown table, one row per fold and a mean, and the aggregate.
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

/* The evaluator: fold k's training window is the series cut at TEST[k]
 * (nothing after it exists for the run); its test window is the two-year
 * block, scored by the runner with --train-until the day before it on the
 * series cut at the block's end: the block's outOfSample metrics. */
struct wf_arg {
    const char *runner;
    char train[NFOLD][300], test[NFOLD][300], until[NFOLD][32];
};

static int eval(void *arg, size_t fold, int test, json_t *params, json_t **result)
{
    struct wf_arg *a = arg;
    json_t *r = test ? run(a->runner, a->test[fold], params, a->until[fold])
                     : run(a->runner, a->train[fold], params, NULL);
    *result = NULL;
    if (r == NULL)
        return -1;
    if (test) {
        *result = json_incref(json_object_get(r, "outOfSample"));
        json_decref(r);
    } else {
        *result = r;
    }
    return *result ? 0 : -1;
}

int main(int argc, char **argv)
{
    static struct wf_arg a;
    int runs = argc > 3 ? atoi(argv[3]) : 60;
    char dir[] = "/tmp/learn-wf-XXXXXX";
    struct sd_err err = {0};
    json_t *r, *f;
    size_t k;

    if (argc < 3 || runs < 1) {
        fprintf(stderr, "usage: bench-learn-wf RUNNER DATA.csv [RUNS]\n");
        return 2;
    }
    a.runner = argv[1];
    if (mkdtemp(dir) == NULL)
        return 1;
    for (k = 0; k < NFOLD; k++) {
        int y = atoi(TEST[k]);
        char end[32];
        snprintf(end, sizeof end, "%04d-01-01", y + 2);
        snprintf(a.until[k], sizeof a.until[k], "%04d-12-31", y - 1);
        snprintf(a.train[k], sizeof a.train[k], "%s/train%zu.csv", dir, k);
        snprintf(a.test[k], sizeof a.test[k], "%s/test%zu.csv", dir, k);
        if (cut(argv[2], a.train[k], TEST[k]) != 0 || cut(argv[2], a.test[k], end) != 0)
            return 1;
    }
    r = learn_walk_forward(&(struct learn_wf){.def = &def,
                                              .symbol = "SPX",
                                              .folds = NFOLD,
                                              .runs = (size_t)runs,
                                              .seed = 1000,
                                              .min_trades = -1,
                                              .eval = eval,
                                              .arg = &a},
                           &err);
    if (r == NULL) {
        fprintf(stderr, "walk-forward: %s\n", err.msg);
        return 1;
    }
    printf("| test block | chosen (lookback, threshold) | deflated Sharpe | IS Sharpe | OOS Sharpe "
           "| defaults OOS |\n|---|---|---|---|---|---|\n");
    json_array_foreach(json_object_get(r, "folds"), k, f)
    {
        json_t *p = json_object_get(f, "params");
        printf("| %s..%04d | %lld, %.4f%s | %.2f | %.2f | %.2f | %.2f |\n", TEST[k],
               atoi(TEST[k]) + 1, (long long)json_integer_value(json_object_get(p, "lookback")),
               num(p, "threshold"),
               json_is_true(json_object_get(f, "significant")) ? "" : " (not significant)",
               num(f, "deflatedSharpe"), num(f, "inSample"),
               num(json_object_get(f, "outOfSample"), "sharpe"),
               num(json_object_get(f, "defaults"), "outOfSampleSharpe"));
    }
    f = json_object_get(r, "aggregate");
    printf("| mean | | | %.2f | %.2f | %.2f |\n", num(f, "inSampleSharpe"),
           num(f, "outOfSampleSharpe"), num(f, "defaultsOutOfSampleSharpe"));
    printf("aggregate: %s\n", json_dumps(f, JSON_COMPACT | JSON_REAL_PRECISION(4)));
    json_decref(r);
    for (k = 0; k < NFOLD; k++) {
        unlink(a.train[k]);
        unlink(a.test[k]);
    }
    rmdir(dir);
    return 0;
}
