/*
 * learn_deploy_bench.c: what the learner costs a deployment
 * (docs/benchmarks/learn.md "The learner on the deployment path"; issue 17).
 *
 * Each deployment the coordinator makes asks learn_suggest before launch
 * (coord_submit: the prediction stored with the trajectory) and, when the
 * run ends, the worker calls learn_observe with that prediction and the
 * result. This program does exactly those two calls, 1000 deployments in a
 * row of one momentum parameter set (engine_bench's identical no-op
 * deployments), on an index already holding N momentum trajectories with
 * distinct random parameters and results with trades, bars and a Sharpe
 * ratio (so the reward model and the recommendation are in play), for
 * N = 1 k, 10 k, 100 k. Reported per deployment: the mean on-CPU time of
 * suggest + observe (the amortised cost: a model refit shows in the mean,
 * not the median), p50 and p99, and the total for the 1000.
 *
 * Usage: bench-learn-deploy [SCALE]: SCALE (default 100000) is the largest
 * N; the others are SCALE/100 and SCALE/10 (at least 1000 each).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "learn.h"
#include "traj.h"

static struct param_schema mom[] = {
    {"capital", PT_NUMBER, 100000, 1, 1e12, ""}, {"lookback", PT_INTEGER, 20, 2, 500, ""},
    {"threshold", PT_NUMBER, 0.02, 0, 1, ""},    {"positionSize", PT_INTEGER, 10, 1, 1000000, ""},
    {"allowShort", PT_BOOLEAN, 0, 0, 1, ""},
};
static struct strategy_def def = {.name = "momentum", .params = mom, .nparams = 5};

static uint64_t rs = 7;
static double rnd(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One finished run of params (random when NULL), id, with prediction. */
static void observe(struct learn *l, int64_t id, json_t *params, json_t *prediction)
{
    json_t *p = params
                    ? json_incref(params)
                    : json_pack("{s:f, s:i, s:f, s:i, s:b}", "capital", 100000.0, "lookback",
                                (int)(5 + rnd() * 75), "threshold", 0.005 + rnd() * 0.075,
                                "positionSize", (int)(1 + rnd() * 40), "allowShort", rnd() < 0.5);
    int ok = rnd() < 0.9;
    double sharpe = 2 * rnd() - 0.5;
    json_t *res = json_pack("{s:i, s:i, s:f}", "trades", (int)(5 + rnd() * 40), "bars", 2500,
                            "sharpe", sharpe);
    learn_observe(l,
                  &(struct learn_obs){.id = id,
                                      .strategy = "momentum",
                                      .symbol = "SPY",
                                      .provider = "local",
                                      .params = p,
                                      .state = ok ? TS_SUCCEEDED : TS_FAILED,
                                      .reward = ok ? 0.5 + 0.5 * tanh(sharpe / 2) : 0,
                                      .created_at = 1700000000000LL + id * 1000,
                                      .duration_ms = 50,
                                      .op_sequence = "create,upload,start,stream,collect,destroy",
                                      .prediction = prediction,
                                      .result = res});
    json_decref(res);
    json_decref(p);
}

int main(int argc, char **argv)
{
    size_t big = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 100000;
    size_t sizes[3] = {big / 100, big / 10, big};
    enum { NDEP = 1000 };
    static double lat[NDEP];
    struct sd_err err = {0};
    json_t *q = json_pack("{s:i, s:f}", "lookback", 20, "threshold", 0.02);

    printf("the learner per deployment (learn_suggest before launch + learn_observe at the "
           "end; %d identical momentum deployments)\n",
           NDEP);
    for (size_t k = 0; k < 3; k++) {
        size_t n = sizes[k] < 1000 ? 1000 : sizes[k];
        struct learn *l = learn_open_defs(NULL, &def, 1, &err);
        double sum = 0;
        int64_t id = 0;
        if (l == NULL) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        for (size_t i = 0; i < n; i++)
            observe(l, ++id, NULL, NULL);
        json_decref(learn_suggest(l, &def, q, "SPY", &err)); /* the first fit: not a deployment's */
        for (int d = 0; d < NDEP; d++) {
            double c0 = cpu_ms();
            json_t *pred = learn_suggest(l, &def, q, "SPY", &err);
            if (pred == NULL) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            observe(l, ++id, q, pred);
            lat[d] = cpu_ms() - c0;
            sum += lat[d];
            json_decref(pred);
        }
        qsort(lat, NDEP, sizeof lat[0], cmp_d);
        printf("  %7zu trajectories: mean %.3f ms  p50 %.3f ms  p99 %.3f ms  max %.3f ms  "
               "(%d deployments: %.0f ms on-CPU)\n",
               n, sum / NDEP, lat[NDEP / 2], lat[NDEP * 99 / 100], lat[NDEP - 1], NDEP, sum);
        learn_free(l);
    }
    json_decref(q);
    return 0;
}
