/*
 * learn_trust_test.c: what a reviewer of issue 15 found untested or wrong in
 * the learner (engine/learn/, docs/learning.md): the optimiser's boundary
 * trap, the out-of-sample numbers of auto-optimise, the per-fold walk
 * forward, the success baselines (majorityAccuracy, baselineBrier), the
 * recommendation's restsOn and the reward interval, each against a hand
 * computation on a small fixed set of runs, and the minimum trades as a
 * parameter.
 *
 * Usage: learn_trust_test CASE (see the table at the end); no argument runs
 * all.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn.h"
#include "traj.h"

#include "check.h"
#define NEAR(a, b) CHECK(fabs((a) - (b)) < 1e-9)

static double num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* --- the boundary trap ------------------------------------------------------ */

/* tests/fixtures/learning/fx.c in process: x in [0, 1] (default 0.1, linear),
 * success with probability 0.1 + 0.85 exp(-((x - 0.85) / 0.05)^2) drawn by a
 * splitmix64 hash of the pinned seed, Sharpe 3 (1 - 2|x - 0.85|) - 1. */
static struct param_schema fx_params[] = {
    {"x", PT_NUMBER, 0.1, 0, 1, ""},
    {"seed", PT_INTEGER, 0, 0, 1000000000, ""},
};
static struct strategy_def fx_def = {.name = "fx-learn", .params = fx_params, .nparams = 2};

static uint64_t fx_splitmix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int fx_run(double x, uint64_t seed, double *reward)
{
    double p = 0.1 + 0.85 * exp(-pow((x - 0.85) / 0.05, 2));
    double u = (double)(fx_splitmix(seed) >> 11) / 9007199254740992.0;
    double sharpe = 3 * (1 - 2 * fabs(x - 0.85)) - 1;
    if (u >= p) {
        *reward = 0;
        return 0;
    }
    *reward = 0.5 + 0.5 * tanh(sharpe / 2);
    return 1;
}

/* learning_e2e's setting in process: n deployments one after another, each
 * with --seed base + i (mixed as the coordinator mixes it with nothing
 * unlearned) and the fixture's seed 1000 + i pinned. Fills xs[] and rs[];
 * returns how many of the last half sat on a bound of x. */
static int fx_stream(uint64_t base, int n, double *xs, double *rs)
{
    struct learn *l = learn_open_defs(NULL, &fx_def, 1, NULL);
    struct sd_err err = {0};
    int at_bound = 0;
    for (int i = 0; i < n; i++) {
        json_t *pin = json_pack("{s:i}", "seed", 1000 + i), *p, *res;
        double r;
        int ok;
        p = learn_optimize_on(l, &fx_def, pin, "SPY", learn_seed_mix(base + (uint64_t)i, 0, 0),
                              NULL, &err);
        if (p == NULL) {
            fprintf(stderr, "learn_optimize_on: %s\n", err.msg);
            exit(1);
        }
        xs[i] = num(p, "x");
        ok = fx_run(xs[i], (uint64_t)(1000 + i), &r);
        rs[i] = r;
        res = json_pack("{s:f}", "sharpe", 3 * (1 - 2 * fabs(xs[i] - 0.85)) - 1);
        learn_observe(l, &(struct learn_obs){.id = i + 1,
                                             .strategy = "fx-learn",
                                             .symbol = "SPY",
                                             .params = p,
                                             .state = ok ? TS_SUCCEEDED : TS_FAILED,
                                             .reward = r,
                                             .created_at = 1700000000000LL + i * 1000LL,
                                             .result = ok ? res : NULL});
        if (i >= n / 2 && (xs[i] <= 0 || xs[i] >= 1))
            at_bound++;
        json_decref(res);
        json_decref(pin);
        json_decref(p);
    }
    learn_free(l);
    return at_bound;
}

static double mean_of(const double *v, int from, int to)
{
    double s = 0;
    for (int i = from; i < to; i++)
        s += v[i];
    return s / (to - from);
}

/* LEARN_TRAP_SWEEP=K: K seed bases, one line each (for looking, not a check). */
static void trap_sweep(int k)
{
    double xs[200], rs[200];
    int trapped = 0, improved = 0;
    for (int b = 0; b < k; b++) {
        uint64_t base = 7 + 1000 * (uint64_t)b;
        int at = fx_stream(base, 200, xs, rs);
        double first = mean_of(rs, 0, 50), last = mean_of(rs, 150, 200);
        trapped += at > 50;
        improved += last > first + 0.1;
        fprintf(stderr, "base %5llu: last half at a bound %3d, first 50 %.3f last 50 %.3f\n",
                (unsigned long long)base, at, first, last);
    }
    fprintf(stderr, "%d of %d trapped, %d improved by > 0.1\n", trapped, k, improved);
}

/* The boundary trap: in learning_e2e's setting with seed base 1007 the
 * search sat on a bound of x for good (through the CLI: x = 1.0 from the
 * 31st deployment to the 200th). In process, before the fix, bases 2007,
 * 5007 and 9007 had 94-96 of their last 100 runs on a bound and base 1007
 * stayed at x = 0.45 (a lucky success there) with no gain. The marginal
 * likelihood was nearly flat in the length scale and its argmax took the
 * longest, a trend over the box (learn_gp.c, THE LENGTH SCALE). Now each
 * leaves the bounds and its last 50 runs earn more than its first 50. */
static void t_optimize_boundary_trap(void)
{
    static const uint64_t bases[] = {1007, 2007, 5007, 9007};
    double xs[200], rs[200];
    int at;
    if (getenv("LEARN_TRAP_SWEEP")) {
        trap_sweep(atoi(getenv("LEARN_TRAP_SWEEP")));
        return;
    }
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        at = fx_stream(bases[b], 200, xs, rs);
        fprintf(stderr,
                "seed base %llu: %d of the last 100 on a bound, first 50 %.3f, last 50 %.3f\n",
                (unsigned long long)bases[b], at, mean_of(rs, 0, 50), mean_of(rs, 150, 200));
        CHECK(at < 10);
        CHECK(mean_of(rs, 150, 200) > mean_of(rs, 0, 50) + 0.1);
    }
}

/* --- the baselines, restsOn and the reward interval by hand ---------------- */

static struct param_schema mom_params[] = {
    {"capital", PT_NUMBER, 100000, 1, 1e12, ""}, {"lookback", PT_INTEGER, 20, 2, 500, ""},
    {"threshold", PT_NUMBER, 0.02, 0, 1, ""},    {"positionSize", PT_INTEGER, 10, 1, 1000000, ""},
    {"allowShort", PT_BOOLEAN, 0, 0, 1, ""},
};
static struct strategy_def mom_def = {.name = "momentum", .params = mom_params, .nparams = 5};

static void observe(struct learn *l, int64_t id, int lookback, int ok, double reward,
                    json_t *prediction, json_t *result)
{
    json_t *p = json_pack("{s:i}", "lookback", lookback);
    learn_observe(l, &(struct learn_obs){.id = id,
                                         .strategy = "momentum",
                                         .symbol = "SPY",
                                         .params = p,
                                         .state = ok ? TS_SUCCEEDED : TS_FAILED,
                                         .reward = reward,
                                         .created_at = 1700000000000LL + id * 1000,
                                         .prediction = prediction,
                                         .result = result});
    json_decref(p);
}

/* success.majorityAccuracy and baselineBrier: the running majority is the
 * strategy's success rate before each run (0.5 before any). Five runs:
 *   run  ok  p     base p_b   (p>=.5)==ok  (p_b>=.5)==ok  (p-ok)^2  (p_b-ok)^2
 *   1    1   0.8   0.5        yes          yes            0.04      0.25
 *   2    0   0.6   1          no           no             0.36      1
 *   3    1   0.55  0.5        yes          yes            0.2025    0.25
 *   4    1   0.7   2/3        yes          yes            0.09      1/9
 *   5    0   0.4   0.75       yes          no             0.16      0.5625
 * accuracy 4/5, majorityAccuracy 3/5, brierScore 0.8525/5, baselineBrier
 * (2.1736111)/5. */
static void t_stats_baselines(void)
{
    static const int ok[] = {1, 0, 1, 1, 0};
    static const double p[] = {0.8, 0.6, 0.55, 0.7, 0.4};
    struct learn *l = learn_open_defs(NULL, &mom_def, 1, NULL);
    struct sd_err err = {0};
    json_t *st, *su, *by;
    for (int i = 0; i < 5; i++) {
        json_t *pred = json_pack("{s:f}", "expectedSuccessRate", p[i]);
        observe(l, i + 1, 20, ok[i], ok[i] ? 0.6 : 0, pred, NULL);
        json_decref(pred);
    }
    st = learn_stats(l, NULL, &err);
    CHECK(st != NULL);
    su = json_object_get(st, "success");
    NEAR(num(su, "accuracy"), 0.8);
    NEAR(num(su, "majorityAccuracy"), 0.6);
    NEAR(num(su, "brierScore"), 0.8525 / 5);
    NEAR(num(su, "baselineBrier"), (0.25 + 1 + 0.25 + 1.0 / 9 + 0.5625) / 5);
    by = json_object_get(json_object_get(json_object_get(st, "byStrategy"), "momentum"), "success");
    NEAR(num(by, "majorityAccuracy"), 0.6);
    NEAR(num(by, "baselineBrier"), (0.25 + 1 + 0.25 + 1.0 / 9 + 0.5625) / 5);
    json_decref(st);
    learn_free(l);
}

/* restsOn: the 5 runs nearest the recommended one in u, newest first on
 * ties. lookback 10 .. 160 by factors of sqrt(2), three runs at 40 (the
 * best reward); u = log2(lookback / 20) / 4, so from 40: 56 is 0.121 away,
 * 28 0.129, 80 0.25: restsOn = the three 40s (newest first), 56, 28. */
static void t_suggest_rests_on(void)
{
    static const int lb[] = {10, 14, 20, 28, 40, 56, 80, 113, 160, 40, 40};
    struct learn *l = learn_open_defs(NULL, &mom_def, 1, NULL);
    struct sd_err err = {0};
    json_t *j, *rec, *ro;
    for (int i = 0; i < 11; i++) {
        double d = log2(lb[i] / 40.0) / 4;
        json_t *res = json_pack("{s:i, s:f, s:i}", "trades", 30, "sharpe", 1.0, "bars", 3000);
        observe(l, i + 1, lb[i], 1, 0.8 - 2 * d * d, NULL, res);
        json_decref(res);
    }
    j = learn_suggest(l, &mom_def, NULL, "SPY", &err);
    rec = json_object_get(j, "recommendation");
    CHECK(rec != NULL && num(json_object_get(rec, "params"), "lookback") == 40);
    ro = json_object_get(rec, "restsOn");
    CHECK(json_array_size(ro) == 5);
    CHECK(json_integer_value(json_array_get(ro, 0)) == 11);
    CHECK(json_integer_value(json_array_get(ro, 1)) == 10);
    CHECK(json_integer_value(json_array_get(ro, 2)) == 5);
    CHECK(json_integer_value(json_array_get(ro, 3)) == 6); /* 56 */
    CHECK(json_integer_value(json_array_get(ro, 4)) == 4); /* 28 */
    json_decref(j);
    learn_free(l);
}

/* The reward interval of a suggestion by hand: two runs (lookback 20,
 * reward 0.4; lookback 40, reward 0.6), so the model keeps its starting
 * hyperparameters (length scale 0.25, noise share 0.3: fewer than 5 runs,
 * no search) and assumes a reward sd of 0.1 (fewer than 3). Standardised
 * y = (-1, 1); K = [[1 + eta, k12], [k12, 1 + eta]], k12 = Matern 5/2 at
 * 0.25; sf2 = y' K^-1 y / 2; at the query (lookback 28) mean = k*' K^-1 y,
 * var = sf2 (1 - k*' K^-1 k* + eta); interval = 0.5 + 0.1 (mean +- 1.6449
 * sqrt(var)). */
static double m52(double r, double ell)
{
    double s = sqrt(5) * fabs(r) / ell;
    return (1 + s + s * s / 3) * exp(-s);
}

static void t_suggest_interval(void)
{
    struct learn *l = learn_open_defs(NULL, &mom_def, 1, NULL);
    struct sd_err err = {0};
    json_t *q, *j, *iv;
    double ell = 0.25, eta = 0.3, u1 = 0, u2 = 0.25, uq = log2(28 / 20.0) / 4;
    double a = 1 + eta, b = m52(u2 - u1, ell), det = a * a - b * b;
    double y1 = -1, y2 = 1, iy1 = (a * y1 - b * y2) / det, iy2 = (a * y2 - b * y1) / det;
    double k1 = m52(uq - u1, ell), k2 = m52(uq - u2, ell);
    double ik1 = (a * k1 - b * k2) / det, ik2 = (a * k2 - b * k1) / det;
    double sf2 = (y1 * iy1 + y2 * iy2) / 2, mean = k1 * iy1 + k2 * iy2;
    double var = sf2 * (1 - (k1 * ik1 + k2 * ik2) + eta), z = 1.6448536269514722;
    observe(l, 1, 20, 1, 0.4, NULL, NULL);
    observe(l, 2, 40, 1, 0.6, NULL, NULL);
    q = json_pack("{s:i}", "lookback", 28);
    j = learn_suggest(l, &mom_def, q, "SPY", &err);
    iv = json_object_get(j, "rewardInterval");
    CHECK(json_array_size(iv) == 2);
    CHECK(fabs(num(j, "expectedReward") - (0.5 + 0.1 * mean)) < 1e-9);
    CHECK(fabs(json_number_value(json_array_get(iv, 0)) - (0.5 + 0.1 * (mean - z * sqrt(var)))) <
          1e-9);
    CHECK(fabs(json_number_value(json_array_get(iv, 1)) - (0.5 + 0.1 * (mean + z * sqrt(var)))) <
          1e-9);
    json_decref(q);
    json_decref(j);
    learn_free(l);
}

/* --- out of sample ----------------------------------------------------------- */

static double oos_reward(double sharpe)
{
    return 0.5 + 0.5 * tanh(sharpe / 2);
}

/* A run whose in-sample Sharpe is `is` and held-out one `oos`. */
static void observe_oos(struct learn *l, int64_t id, int lookback, double is, double oos)
{
    json_t *res = json_pack("{s:i, s:f, s:i, s:{s:f}}", "trades", 30, "sharpe", is, "bars", 3000,
                            "outOfSample", "sharpe", oos);
    observe(l, id, lookback, 1, oos_reward(is), NULL, res);
    json_decref(res);
}

/* Auto-optimise chooses on in-sample reward and reports what the
 * out-of-sample model expects of the chosen set beside it. Every run here
 * looks good in sample (Sharpe 2: reward 0.88) and poor held out (-0.4:
 * 0.40): the two numbers must say so. Below 5 runs with a held-out window
 * the out-of-sample number is null, with the count. */
static void t_optimize_reports_oos(void)
{
    struct learn *l = learn_open_defs(NULL, &mom_def, 1, NULL);
    struct sd_err err = {0};
    json_t *p, *why = NULL, *o, *iv;
    for (int i = 0; i < 3; i++)
        observe_oos(l, i + 1, 10 + 7 * i, 2.0 + 0.01 * i, -0.4 - 0.01 * i);
    p = learn_optimize_on(l, &mom_def, NULL, "SPY", 1, &why, &err);
    CHECK(p != NULL && why != NULL);
    o = json_object_get(why, "outOfSample");
    CHECK(json_integer_value(json_object_get(o, "runs")) == 3);
    CHECK(json_is_null(json_object_get(o, "reward")));
    json_decref(p);
    json_decref(why);
    for (int i = 3; i < 30; i++)
        observe_oos(l, i + 1, 10 + 7 * i, 2.0 + 0.01 * (i % 5), -0.4 - 0.01 * (i % 7));
    p = learn_optimize_on(l, &mom_def, NULL, "SPY", 2, &why, &err);
    CHECK(p != NULL && why != NULL);
    CHECK(strcmp(json_string_value(json_object_get(why, "chosenOn")), "in-sample") == 0);
    CHECK(fabs(num(json_object_get(why, "predicted"), "reward") - oos_reward(2.02)) < 0.05);
    o = json_object_get(why, "outOfSample");
    iv = json_object_get(o, "interval");
    CHECK(json_integer_value(json_object_get(o, "runs")) == 30);
    CHECK(fabs(num(o, "reward") - oos_reward(-0.43)) < 0.05);
    CHECK(json_number_value(json_array_get(iv, 0)) < num(o, "reward") &&
          num(o, "reward") < json_number_value(json_array_get(iv, 1)));
    json_decref(p);
    json_decref(why);
    learn_free(l);
}

/* outOfSample.sharpe through the recommendation and the patterns: lookback
 * 80 shines in sample (Sharpe 2) and fails held out (-0.5); lookback 20 is
 * modest in sample (0.5) and holds (0.8). The recommendation is lookback
 * 20's set on the out-of-sample basis; the top pattern is lookback 20's,
 * ranked by its out-of-sample lower bound, with its mean out-of-sample
 * reward computed by hand. */
static void t_oos_ranks(void)
{
    struct learn *l = learn_open_defs(NULL, &mom_def, 1, NULL);
    struct sd_err err = {0};
    json_t *j, *rec, *pats, *top;
    double want = 0;
    for (int i = 0; i < 40; i++) {
        int good = i % 2;
        double d = 0.01 * (i % 5);
        observe_oos(l, i + 1, good ? 20 : 80, good ? 0.5 + d : 2.0 + d, good ? 0.8 - d : -0.5 - d);
        if (good)
            want += oos_reward(0.8 - d) / 20;
    }
    j = learn_suggest(l, &mom_def, NULL, "SPY", &err);
    rec = json_object_get(j, "recommendation");
    CHECK(rec != NULL);
    CHECK(strcmp(json_string_value(json_object_get(rec, "basis")), "out-of-sample") == 0);
    CHECK(num(json_object_get(rec, "params"), "lookback") == 20);
    CHECK(fabs(num(json_object_get(rec, "sharpe"), "value") - 0.8) < 0.05); /* the held-out one */
    json_decref(j);
    pats = learn_patterns(l, "momentum", NULL, &err);
    top = json_array_get(pats, 0);
    CHECK(json_array_size(pats) == 2);
    CHECK(strcmp(json_string_value(json_object_get(top, "basis")), "out-of-sample") == 0);
    CHECK(fabs(num(top, "meanOutOfSampleReward") - want) < 1e-9);
    CHECK(fabs(num(top, "meanReward") - oos_reward(0.52)) < 0.01); /* in sample: lower */
    CHECK(num(top, "rewardLowerBound") > num(json_array_get(pats, 1), "rewardLowerBound"));
    json_decref(pats);
    learn_free(l);
}

/* --- walk-forward ------------------------------------------------------------ */

/* A fake evaluator: fold 0's training Sharpe peaks at lookback 20, fold 1's
 * at lookback 80 (2 - 8 (u - u*)^2, u = log2(lookback / 20) / 4); the test
 * windows: fold 0 holds (the same curve less 0.5), fold 1 does not (0.1
 * everywhere). It logs every call, so the test sees what was run where and
 * in which order. */
struct wf_log {
    int calls[2][2]; /* [fold][test] */
    int test_before_train_done;
    int runs;
};

static double wf_sharpe(size_t fold, int test, json_t *params)
{
    double u = log2(num(params, "lookback") / 20) / 4, peak = fold == 0 ? 0 : 0.5;
    double f = 2 - 8 * (u - peak) * (u - peak);
    if (!test)
        return f;
    return fold == 0 ? f - 0.5 : 0.1;
}

static int wf_eval(void *arg, size_t fold, int test, json_t *params, json_t **result)
{
    struct wf_log *g = arg;
    if (test == 1 && g->calls[fold][0] < g->runs)
        g->test_before_train_done = 1;
    g->calls[fold][test]++;
    *result = json_pack("{s:f, s:i, s:i}", "sharpe", wf_sharpe(fold, test, params), "trades", 50,
                        "bars", 500);
    return 0;
}

static void t_walk_forward(void)
{
    struct wf_log g = {.runs = 40};
    struct learn_wf w = {.def = &mom_def,
                         .symbol = "SPY",
                         .folds = 2,
                         .runs = 40,
                         .seed = 3,
                         .min_trades = -1,
                         .eval = wf_eval,
                         .arg = &g};
    struct sd_err err = {0};
    json_t *r = learn_walk_forward(&w, &err), *ag, *f[2],
           *def20 = json_pack("{s:i}", "lookback", 20);
    double oos[2], is[2], dflt[2], gap = 0;
    int beat = 0;
    CHECK(r != NULL);
    if (r == NULL) {
        json_decref(def20);
        return;
    }
    ag = json_object_get(r, "aggregate");
    CHECK(json_array_size(json_object_get(r, "folds")) == 2);
    CHECK(!g.test_before_train_done);
    for (int k = 0; k < 2; k++) {
        json_t *params;
        f[k] = json_array_get(json_object_get(r, "folds"), (size_t)k);
        params = json_object_get(f[k], "params");
        CHECK(g.calls[k][0] == 40 && g.calls[k][1] == 2); /* the choice and the defaults */
        CHECK(strcmp(json_string_value(json_object_get(f[k], "chosenBy")), "model") == 0);
        oos[k] = num(json_object_get(f[k], "outOfSample"), "sharpe");
        is[k] = num(f[k], "inSample");
        dflt[k] = num(json_object_get(f[k], "defaults"), "outOfSampleSharpe");
        /* each fold re-optimised on its own training window */
        CHECK(fabs(log2(num(params, "lookback") / (k == 0 ? 20.0 : 80.0))) < 0.6);
        NEAR(oos[k], wf_sharpe((size_t)k, 1, params));
        NEAR(is[k], wf_sharpe((size_t)k, 0, params));
        NEAR(dflt[k], wf_sharpe((size_t)k, 1, def20));
        gap += (is[k] - oos[k]) / 2;
        beat += oos[k] > dflt[k];
    }
    NEAR(num(ag, "outOfSampleSharpe"), (oos[0] + oos[1]) / 2);
    NEAR(num(ag, "inSampleSharpe"), (is[0] + is[1]) / 2);
    NEAR(num(ag, "defaultsOutOfSampleSharpe"), (dflt[0] + dflt[1]) / 2);
    NEAR(num(ag, "overfitGap"), gap);
    NEAR(num(ag, "outOfSampleReward"),
         (0.5 + 0.5 * tanh(oos[0] / 2) + 0.5 + 0.5 * tanh(oos[1] / 2)) / 2);
    CHECK(json_integer_value(json_object_get(ag, "beatDefaults")) == beat);
    CHECK(json_integer_value(json_object_get(ag, "compared")) == 2);
    /* fold 1's choice did not hold: its gap is large */
    CHECK(is[1] - oos[1] > 1.5);
    json_decref(r);
    json_decref(def20);
    w.folds = 0;
    err.code = 0;
    CHECK(learn_walk_forward(&w, &err) == NULL && err.code == SD_EUSAGE);
}

static const struct check_case cases[] = {
    {"optimize_boundary_trap", t_optimize_boundary_trap},
    {"stats_baselines", t_stats_baselines},
    {"suggest_rests_on", t_suggest_rests_on},
    {"suggest_interval", t_suggest_interval},
    {"optimize_reports_oos", t_optimize_reports_oos},
    {"oos_ranks", t_oos_ranks},
    {"walk_forward", t_walk_forward},
};

int main(int argc, char **argv)
{
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
