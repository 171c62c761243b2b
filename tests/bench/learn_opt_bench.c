/*
 * learn_opt_bench.c: how fast auto-optimise finds a known optimum
 * (docs/benchmarks.md, driven by tests/bench/learn_opt_bench.py).
 *
 * The objective is a strategy "bench-opt" with three tuned parameters and an
 * account parameter the optimiser must leave alone:
 *   a  number  [0, 1],   default 0.5   (linear:  ua = a)
 *   b  integer [2, 200], default 20    (log:     ub = log2(b / 20) / 4)
 *   c  number  [0, 1],   default 0.01  (log:     uc = log2(c / 0.01) / 4)
 *   capital (untuned)
 * f = 0.85 - 0.8 [ (ua - 0.7)^2 + (ub - 0.33)^2 + (uc - 0.5)^2
 *                  + 1.2 (ua - 0.7)(uc - 0.5) ]          (a and c interact)
 * clipped to [0, 1]: the optimum 0.85 at a = 0.7, b = 20 * 16^0.33 (50),
 * c = 0.04. Each run observes f plus normal noise (sd 0.05, seeded) as its
 * reward; regret counts the noise-free f: sum over the runs of (0.85 - f).
 *
 * The optimiser is the engine's: learn_optimize picks, learn_observe files
 * the outcome, exactly the calls the coordinator makes around a
 * deployment. --batch K chooses K sets before any of them is observed (as
 * `deploy -a K --auto-optimize` does), then observes all K.
 * --random uses uniform draws over the same search box instead (the
 * baseline; the Python driver has its own random and Optuna arms).
 *
 * Usage: bench-learn-opt [--seeds N] [--runs N] [--batch K] [--random]
 * Prints one JSON line: {"method", "batch", "runs", "regret": [per seed],
 * "final": [per seed: f of the last recommendation], "ms_per_choice"}.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "learn.h"
#include "traj.h"

static struct param_schema schema[] = {
    {"capital", PT_NUMBER, 100000, 1, 1e12, ""},
    {"a", PT_NUMBER, 0.5, 0, 1, ""},
    {"b", PT_INTEGER, 20, 2, 200, ""},
    {"c", PT_NUMBER, 0.01, 0, 1, ""},
};
static struct strategy_def def = {.name = "bench-opt", .params = schema, .nparams = 4};

#define FSTAR 0.85

double bench_f(double a, double b, double c)
{
    double ua = a - 0.7, ub = log2(b / 20) / 4 - 0.33, uc = log2(fmax(c, 1e-9) / 0.01) / 4 - 0.5;
    double f = FSTAR - 0.8 * (ua * ua + ub * ub + uc * uc + 1.2 * ua * uc);
    return fmin(fmax(f, 0), 1);
}

static uint64_t rs;
static double unif(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return ((double)((z ^ (z >> 31)) >> 11) + 0.5) * 0x1.0p-53;
}

static double gauss(void)
{
    return sqrt(-2 * log(unif())) * cos(2 * M_PI * unif());
}

/* The optimiser's search box, drawn uniformly in u. */
static json_t *random_point(void)
{
    double a = unif(), ub = -0.830482 + unif() * 2 * 0.830482, uc = -1 + unif() * 2;
    return json_pack("{s:f, s:i, s:f}", "a", a, "b",
                     (int)fmin(fmax(round(20 * exp2(4 * ub)), 2), 200), "c", 0.01 * exp2(4 * uc));
}

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

int main(int argc, char **argv)
{
    int seeds = 10, runs = 200, batch = 1, random = 0;
    double total_ms = 0;
    long choices = 0;
    json_t *regret = json_array(), *final = json_array(), *out;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
            seeds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--random") == 0)
            random = 1;
        else {
            fprintf(stderr,
                    "usage: bench-learn-opt [--seeds N] [--runs N] [--batch K] [--random]\n");
            return 2;
        }
    }
    if (seeds < 1 || runs < 1 || batch < 1) {
        fprintf(stderr, "bench-learn-opt: counts must be positive\n");
        return 2;
    }
    for (int seed = 0; seed < seeds; seed++) {
        struct sd_err err = {0};
        struct learn *l = learn_open_defs(NULL, &def, 1, &err);
        double reg = 0, last = 0;
        json_t *pts[256];
        int64_t id = 0;
        if (l == NULL) {
            fprintf(stderr, "learn_open: %s\n", err.msg);
            return 1;
        }
        rs = 1000003ULL * (uint64_t)(seed + 1);
        for (int done = 0; done < runs;) {
            int k = batch < runs - done ? batch : runs - done;
            if (k > 256)
                k = 256;
            for (int j = 0; j < k; j++) {
                struct timespec t0, t1;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                pts[j] = random ? random_point()
                                : learn_optimize_on(l, &def, NULL, "SYN",
                                                    (uint64_t)seed * 7919 + 17, NULL, &err);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                total_ms +=
                    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
                choices++;
                if (pts[j] == NULL) {
                    fprintf(stderr, "learn_optimize: %s\n", err.msg);
                    return 1;
                }
            }
            for (int j = 0; j < k; j++) {
                double f = bench_f(num(pts[j], "a"), num(pts[j], "b"), num(pts[j], "c"));
                double r = fmin(fmax(f + 0.05 * gauss(), 0), 1);
                reg += FSTAR - f;
                last = f;
                learn_observe(l, &(struct learn_obs){.id = ++id,
                                                     .strategy = "bench-opt",
                                                     .symbol = "SYN",
                                                     .params = pts[j],
                                                     .state = TS_SUCCEEDED,
                                                     .reward = r,
                                                     .created_at = 1700000000000LL + id});
                json_decref(pts[j]);
            }
            done += k;
        }
        json_array_append_new(regret, json_real(reg));
        json_array_append_new(final, json_real(last));
        learn_free(l);
    }
    out = json_pack("{s:s, s:i, s:i, s:o, s:o, s:f}", "method", random ? "random" : "swarmdeck",
                    "batch", batch, "runs", runs, "regret", regret, "final", final, "ms_per_choice",
                    total_ms / (double)(choices ? choices : 1));
    {
        char *s = json_dumps(out, JSON_COMPACT);
        puts(s);
        free(s);
    }
    json_decref(out);
    return 0;
}
