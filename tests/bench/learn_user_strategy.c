/*
 * learn_user_strategy.c: the learning benchmark's objective as a user
 * strategy, deployed into sandboxes as an operator deploys one
 * (tests/bench/learn_user_bench.py; docs/benchmarks/learn.md).
 *
 * Parameters (from --params, a flat JSON object): a in [0, 1], b an integer
 * in [2, 200], c in [0, 1] (the three tuned ones of learn_opt_bench.c, with
 * the same function f: a known optimum 0.85, a and c interacting) and seed
 * (pinned by the driver: the noise). The run observes f plus normal noise of
 * sd 0.05 drawn from a splitmix64 hash of the seed and the parameter
 * values (so the agents of one batch, which share the pinned seed, draw
 * apart), clipped to [0.001, 0.999], and reports it as the Sharpe ratio
 * whose reward (0.5 + 0.5 tanh(sharpe / 2)) it is: the learner sees f plus
 * noise as the reward, exactly as the in-process benchmark observes it. The
 * result also echoes a, b, c and f.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* "key": NUMBER in a flat JSON object (the engine writes it compactly). */
static double param(const char *json, const char *key, double def)
{
    char pat[64];
    const char *p;

    snprintf(pat, sizeof pat, "\"%s\":", key);
    p = strstr(json, pat);
    return p ? strtod(p + strlen(pat), NULL) : def;
}

static double f(double a, double b, double c)
{
    double ua = a - 0.7, ub = log2(b / 20) / 4 - 0.33, uc = log2(fmax(c, 1e-9) / 0.01) / 4 - 0.5;
    double v = 0.85 - 0.8 * (ua * ua + ub * ub + uc * uc + 1.2 * ua * uc);
    return fmin(fmax(v, 0), 1);
}

int main(int argc, char **argv)
{
    const char *params = "{}";
    double a, b, c, fx, u1, u2, r, sharpe;
    uint64_t h;

    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--params") == 0)
            params = argv[i + 1];
    a = param(params, "a", 0.5);
    b = param(params, "b", 20);
    c = param(params, "c", 0.01);
    h = splitmix64((uint64_t)param(params, "seed", 0));
    h = splitmix64(h ^ (uint64_t)llround(a * 1e9));
    h = splitmix64(h ^ (uint64_t)llround(b));
    h = splitmix64(h ^ (uint64_t)llround(c * 1e12));
    u1 = ((double)(h >> 11) + 0.5) / 9007199254740992.0;
    u2 = ((double)(splitmix64(h) >> 11) + 0.5) / 9007199254740992.0;
    fx = f(a, b, c);
    r = fx + 0.05 * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
    r = fmin(fmax(r, 0.001), 0.999);
    sharpe = 2 * atanh(2 * r - 1);
    printf("@@result {\"sharpe\":%.9f,\"total_return\":%.6f,\"a\":%.9f,\"b\":%.0f,\"c\":%.9g,"
           "\"f\":%.9f}\n",
           sharpe, r - 0.5, a, b, c, fx);
    return 0;
}
