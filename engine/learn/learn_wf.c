/*
 * learn_wf.c: a re-optimising walk-forward (learn_walk_forward, learn.h;
 * docs/learning.md "Walk-forward"; issue 15).
 *
 * The runner's `--folds K` scores one parameter set on K held-out blocks;
 * what a quant wants to know of an optimiser is different: if it had been
 * run up to a date, would what it chose have held after it? So, per fold k:
 *   1. a fresh learner (nothing of later data can leak in) makes `runs`
 *      auto-optimised choices (learn_optimize_on), each evaluated on fold
 *      k's TRAINING window by the caller and observed (reward from the
 *      in-sample Sharpe, trades and bars from the result);
 *   2. the chosen set is the model's recommendation (learn_model_recommend:
 *      the best whole set with enough trades, in sample, since nothing held
 *      out exists yet), with its deflated Sharpe and whether it passed the
 *      95 % gate; with none (every run too few trades, or all failed), the
 *      defaults;
 *   3. the chosen set and the defaults are evaluated on fold k's TEST
 *      window: their out-of-sample Sharpe and reward.
 * The caller's evaluator decides what the windows are (rolling: train on
 * everything before the block, test on the block; or a fixed-length
 * train window that rolls with it) and how a run is made (the runner, a
 * sandbox, a fake in a test). Aggregated over folds: the means of the
 * in-sample and out-of-sample Sharpe of the chosen sets and of the
 * defaults' out-of-sample Sharpe, the mean gap between in and out of sample
 * (the optimiser's overfitting), and how many folds the chosen set beat the
 * defaults out of sample.
 *
 * THREADS: any thread; it owns its learners. The evaluator is called from
 * the calling thread, one run at a time.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn_int.h"
#include "traj.h"

static double jnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static double reward_of(double sharpe)
{
    return 0.5 + 0.5 * tanh(sharpe / 2);
}

/* Mean of the finite values of v[0..n); NAN when none. */
static double mean_finite(const double *v, size_t n)
{
    double s = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            s += v[i];
            k++;
        }
    return k ? s / (double)k : NAN;
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* One fold: optimise on its training window, evaluate the choice and the
 * defaults on its test window. Fills is/oos/doos; a new reference, or NULL
 * with err set. */
static json_t *one_fold(const struct learn_wf *w, size_t k, double *is, double *oos, double *doos,
                        struct sd_err *err)
{
    struct learn *l = learn_open_defs(NULL, w->def, 1, err);
    json_t *fold = NULL, *chosen = NULL, *rec = NULL, *dflt = NULL, *r_test = NULL, *r_dflt = NULL;
    struct lstrat *s;
    int32_t sym;
    size_t ok = 0;

    *is = *oos = *doos = NAN;
    if (l == NULL)
        return NULL;
    if (w->min_trades >= 0)
        learn_set_min_trades(l, w->min_trades);
    for (size_t i = 0; i < w->runs; i++) {
        json_t *p =
            learn_optimize_on(l, w->def, w->pinned, w->symbol,
                              w->seed ^ (k * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)i, NULL, err);
        json_t *res = NULL;
        double sh;
        int rc;
        if (p == NULL)
            goto out;
        rc = w->eval(w->arg, k, 0, p, &res);
        sh = jnum(res, "sharpe");
        ok += rc == 0;
        learn_observe(l, &(struct learn_obs){.id = (int64_t)i + 1,
                                             .strategy = w->def->name,
                                             .symbol = w->symbol,
                                             .params = p,
                                             .state = rc == 0 ? TS_SUCCEEDED : TS_FAILED,
                                             .reward = rc == 0 && isfinite(sh) ? reward_of(sh) : 0,
                                             .created_at = 1700000000000LL + (int64_t)i,
                                             .result = rc == 0 ? res : NULL});
        json_decref(res);
        json_decref(p);
    }
    if ((dflt = learn_resolve(w->def, w->pinned, err)) == NULL)
        goto out;
    pthread_mutex_lock(&l->lock);
    s = learn_strat_for(l, w->def);
    sym = s && s->n ? s->sym[s->n - 1] : -1;
    rec = s && s->n ? learn_model_recommend(l, s, sym) : NULL;
    pthread_mutex_unlock(&l->lock);
    chosen = json_is_object(json_object_get(rec, "params"))
                 ? json_incref(json_object_get(rec, "params"))
                 : json_incref(dflt);
    if (w->eval(w->arg, k, 1, chosen, &r_test) != 0) {
        json_decref(r_test);
        r_test = NULL;
    }
    if (w->eval(w->arg, k, 1, dflt, &r_dflt) != 0) {
        json_decref(r_dflt);
        r_dflt = NULL;
    }
    {
        json_t *sh = json_object_get(rec, "sharpe");
        int from_model = json_is_object(json_object_get(rec, "params"));
        *is = from_model ? jnum(sh, "value") : NAN;
        *oos = jnum(r_test, "sharpe");
        *doos = jnum(r_dflt, "sharpe");
        fold = json_pack(
            "{s:I, s:I, s:I, s:O, s:s, s:o, s:o, s:o, s:{s:o, s:o, s:o}, s:{s:o, s:o}}", "fold",
            (json_int_t)k, "runs", (json_int_t)w->runs, "succeeded", (json_int_t)ok, "params",
            chosen, "chosenBy", from_model ? "model" : "defaults (no set qualified)", "significant",
            json_boolean(from_model && json_is_true(json_object_get(rec, "significant"))),
            "deflatedSharpe",
            json_is_number(json_object_get(sh, "deflated"))
                ? json_incref(json_object_get(sh, "deflated"))
                : json_null(),
            "inSample", num_or_null(*is), "outOfSample", "sharpe", num_or_null(*oos), "reward",
            num_or_null(isfinite(*oos) ? reward_of(*oos) : NAN), "trades",
            num_or_null(jnum(r_test, "trades")), "defaults", "params", json_incref(dflt),
            "outOfSampleSharpe", num_or_null(*doos));
        if (fold == NULL)
            sd_err_set(err, SD_ENOMEM, "walk-forward: out of memory");
    }
out:
    json_decref(r_test);
    json_decref(r_dflt);
    json_decref(chosen);
    json_decref(rec);
    json_decref(dflt);
    learn_free(l);
    return fold;
}

json_t *learn_walk_forward(const struct learn_wf *w, struct sd_err *err)
{
    double *is, *oos, *doos, gap = 0, orw = 0;
    size_t ngap = 0, beat = 0, both = 0, orw_n = 0;
    json_t *folds, *out = NULL;

    if (w == NULL || w->def == NULL || w->eval == NULL || w->folds < 1 || w->runs < 1)
        return sd_err_set(err, SD_EUSAGE,
                          "walk-forward: a strategy, an evaluator, folds >= 1 "
                          "and runs >= 1 are needed"),
               NULL;
    if (w->pinned != NULL && !json_is_object(w->pinned))
        return sd_err_set(err, SD_EUSAGE, "walk-forward: parameters must be a JSON object"), NULL;
    is = calloc(w->folds, sizeof *is);
    oos = calloc(w->folds, sizeof *oos);
    doos = calloc(w->folds, sizeof *doos);
    folds = json_array();
    if (is == NULL || oos == NULL || doos == NULL || folds == NULL) {
        sd_err_set(err, SD_ENOMEM, "walk-forward: out of memory");
        goto out;
    }
    for (size_t k = 0; k < w->folds; k++) {
        json_t *f = one_fold(w, k, &is[k], &oos[k], &doos[k], err);
        if (f == NULL)
            goto out;
        json_array_append_new(folds, f);
        if (isfinite(is[k]) && isfinite(oos[k])) {
            gap += is[k] - oos[k];
            ngap++;
        }
        if (isfinite(oos[k])) {
            orw += reward_of(oos[k]);
            orw_n++;
        }
        if (isfinite(oos[k]) && isfinite(doos[k])) {
            both++;
            beat += oos[k] > doos[k];
        }
    }
    out = json_pack("{s:o, s:{s:I, s:o, s:o, s:o, s:o, s:o, s:I, s:I}}", "folds", folds,
                    "aggregate", "folds", (json_int_t)w->folds, "inSampleSharpe",
                    num_or_null(mean_finite(is, w->folds)), "outOfSampleSharpe",
                    num_or_null(mean_finite(oos, w->folds)), "outOfSampleReward",
                    num_or_null(orw_n ? orw / (double)orw_n : NAN), "defaultsOutOfSampleSharpe",
                    num_or_null(mean_finite(doos, w->folds)), "overfitGap",
                    num_or_null(ngap ? gap / (double)ngap : NAN), "beatDefaults", (json_int_t)beat,
                    "compared", (json_int_t)both);
    folds = NULL;
    if (out == NULL)
        sd_err_set(err, SD_ENOMEM, "walk-forward: out of memory");
out:
    json_decref(folds);
    free(is);
    free(oos);
    free(doos);
    return out;
}
