/*
 * learn_lazy_test.c: the learner on the deployment path (issue 17): the
 * reward model is not refitted at every observation (engine/learn/learn_opt.c
 * model_fit, docs/learning.md "The reward model").
 *
 * Cases (one ctest each, learn_lazy.cmake):
 *   epoch   past 256 runs, 640 deployments of suggest-then-observe (what
 *           coord_submit and the worker do) refit the model once per 64 new
 *           runs, not 640 times; between refits the model (the expectedReward
 *           stored as each deployment's prediction) is the same, and it does
 *           move as the new runs enter it.
 *   small   up to 256 runs every observation is in the next suggestion's
 *           model (sequential auto-optimise depends on it): one fit per
 *           deployment, and the observed run is among the model's rows.
 *   version learn_version rises with every learned row and only then.
 *   oos     auto-optimise with out-of-sample runs keeps both of its models: each is
 *           refitted once per 64 new runs, not both at every choice.
 * In process, no store: learn_open_defs(NULL, ...).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn.h"
#include "traj.h"

#include "check.h"

static struct param_schema mom[] = {
    {"capital", PT_NUMBER, 100000, 1, 1e12, ""}, {"lookback", PT_INTEGER, 20, 2, 500, ""},
    {"threshold", PT_NUMBER, 0.02, 0, 1, ""},    {"positionSize", PT_INTEGER, 10, 1, 1000000, ""},
    {"allowShort", PT_BOOLEAN, 0, 0, 1, ""},
};
static struct strategy_def def = {.name = "momentum", .params = mom, .nparams = 5};

static uint64_t rs = 11;
static double rnd(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

/* A finished run at random parameters near the default, with a result; with oos, a held-out
 * window's Sharpe besides the in-sample one. */
static void observe_run(struct learn *l, int64_t id, json_t *prediction, int oos)
{
    json_t *p = json_pack("{s:i, s:f}", "lookback", (int)(10 + rnd() * 30), "threshold",
                          0.01 + rnd() * 0.03);
    double sharpe = 2 * rnd() - 0.5;
    json_t *res = json_pack("{s:i, s:i, s:f}", "trades", 20, "bars", 2500, "sharpe", sharpe);
    if (oos)
        json_object_set_new(res, "outOfSample", json_pack("{s:f}", "sharpe", sharpe - rnd()));
    learn_observe(l, &(struct learn_obs){.id = id,
                                         .strategy = "momentum",
                                         .symbol = "SPY",
                                         .params = p,
                                         .state = TS_SUCCEEDED,
                                         .reward = 0.5 + 0.5 * tanh(sharpe / 2),
                                         .created_at = 1700000000000LL + id * 1000,
                                         .duration_ms = 50,
                                         .prediction = prediction,
                                         .result = res});
    json_decref(res);
    json_decref(p);
}

static void observe(struct learn *l, int64_t id, json_t *prediction)
{
    observe_run(l, id, prediction, 0);
}

static void observe_oos(struct learn *l, int64_t id)
{
    observe_run(l, id, NULL, 1);
}

static double expected_reward(json_t *pred)
{
    return json_number_value(json_object_get(pred, "expectedReward"));
}

static void t_epoch(void)
{
    struct sd_err err = {0};
    struct learn *l = learn_open_defs(NULL, &def, 1, &err);
    json_t *q = json_pack("{s:i, s:f}", "lookback", 20, "threshold", 0.02), *pred;
    uint64_t f0;
    double last;
    int changes = 0;
    int64_t id = 0;

    CHECK(l != NULL);
    for (int i = 0; i < 300; i++)
        observe(l, ++id, NULL);
    pred = learn_suggest(l, &def, q, "SPY", &err);
    CHECK(pred != NULL);
    last = expected_reward(pred);
    json_decref(pred);
    f0 = learn_model_fits(l);
    CHECK(f0 >= 1);
    for (int d = 0; d < 640; d++) {
        double er;
        pred = learn_suggest(l, &def, q, "SPY", &err); /* before launch: the prediction */
        CHECK(pred != NULL);
        er = expected_reward(pred);
        changes += er != last;
        last = er;
        observe(l, ++id, pred); /* the run ends */
        json_decref(pred);
    }
    /* 300 runs: the model rests on 256; it moves at 320, 384, ..., 896:
     * 10 refits for 640 deployments (one per deployment before). */
    fprintf(stderr, "fits %llu, expectedReward changed %d times\n",
            (unsigned long long)(learn_model_fits(l) - f0), changes);
    CHECK(learn_model_fits(l) - f0 == 10);
    CHECK(changes >= 5 && changes <= 10);
    json_decref(q);
    learn_free(l);
}

static void t_small(void)
{
    struct sd_err err = {0};
    struct learn *l = learn_open_defs(NULL, &def, 1, &err);
    json_t *q = json_pack("{s:i, s:f}", "lookback", 20, "threshold", 0.02), *pred;
    int64_t id = 0;

    CHECK(l != NULL);
    for (int i = 0; i < 20; i++)
        observe(l, ++id, NULL);
    for (int d = 0; d < 100; d++) {
        uint64_t f = learn_model_fits(l);
        char want[64];
        pred = learn_suggest(l, &def, q, "SPY", &err);
        CHECK(pred != NULL);
        /* the model counts every run so far: its reasoning line says so */
        snprintf(want, sizeof want, "reward model (%d runs", 20 + d);
        {
            size_t k;
            json_t *line;
            int seen = 0;
            json_array_foreach(json_object_get(pred, "reasoning"), k, line) seen |=
                strncmp(json_string_value(line), want, strlen(want)) == 0;
            CHECK(seen);
        }
        CHECK(learn_model_fits(l) == f + 1);
        observe(l, ++id, pred);
        json_decref(pred);
    }
    json_decref(q);
    learn_free(l);
}

/* Auto-optimise with out-of-sample runs consults two models per choice, the in-sample one it
 * chooses on and the out-of-sample one it reports beside: each is kept (the lstrat's spare),
 * so past 256 runs each is refitted once per 64 new runs, not both at every choice. */
static void t_oos(void)
{
    struct sd_err err = {0};
    struct learn *l = learn_open_defs(NULL, &def, 1, &err);
    uint64_t f0;
    int64_t id = 0;
    int reported = 0;

    CHECK(l != NULL);
    for (int i = 0; i < 300; i++)
        observe_oos(l, ++id);
    json_decref(learn_optimize_on(l, &def, NULL, "SPY", 1, NULL, &err));
    f0 = learn_model_fits(l);
    for (int d = 0; d < 150; d++) {
        json_t *why = NULL,
               *p = learn_optimize_on(l, &def, NULL, "SPY", (uint64_t)d + 2, &why, &err);
        CHECK(p != NULL && why != NULL);
        reported += json_is_number(json_object_get(json_object_get(why, "outOfSample"), "reward"));
        json_decref(p);
        json_decref(why);
        observe_oos(l, ++id);
    }
    /* 300 runs: both models rest on 256 and move at 320, 384 and 448: three refits each for
     * 150 choices (300 before: both at every one). */
    fprintf(stderr, "fits %llu for 150 choices\n", (unsigned long long)(learn_model_fits(l) - f0));
    CHECK(learn_model_fits(l) - f0 == 6);
    CHECK(reported == 150);
    learn_free(l);
}

static void t_version(void)
{
    struct sd_err err = {0};
    struct learn *l = learn_open_defs(NULL, &def, 1, &err);
    uint64_t v;
    CHECK(l != NULL);
    v = learn_version(l);
    observe(l, 1, NULL);
    CHECK(learn_version(l) == v + 1);
    observe(l, 1, NULL); /* already indexed: nothing learned */
    CHECK(learn_version(l) == v + 1);
    json_decref(learn_suggest(l, &def, NULL, "SPY", &err)); /* a question teaches nothing */
    CHECK(learn_version(l) == v + 1);
    learn_observe(l, &(struct learn_obs){.id = 2, .strategy = "momentum", .state = TS_CANCELLED});
    CHECK(learn_version(l) == v + 1); /* cancelled: not an outcome */
    CHECK(learn_version(NULL) == 0);
    learn_free(l);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"epoch", t_epoch}, {"small", t_small}, {"version", t_version}, {"oos", t_oos}};
    return check_main(cases, sizeof cases / sizeof *cases, argc, argv);
}
