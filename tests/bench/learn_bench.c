/*
 * learn_bench.c: the learning engine's latency (docs/benchmarks/learn.md).
 *
 * 1. learn_suggest at 1 k, 10 k and 100 k momentum trajectories with distinct
 *    random parameters (the worst case: no two runs share a point), p50 and
 *    p99 over 2000 queries at random points; target <= 1 ms at 100 k.
 * 2. learn_stats (overall, with byStrategy and series) over 1 M trajectories
 *    of three strategies; target <= 100 ms.
 * 3. learn_open rebuilding the index from a store of 100 k trajectories.
 * The index is filled with learn_observe (the same path as learn_open's rows)
 * except in 3. Usage: bench-learn [DIR for the temporary store] [N]: N (default 1000000)
 * scales every size: suggestions at N/1000, N/100, N/10, stats over N, learn_open over N/10
 * (`make bench` passes a tiny N in CI so the program keeps building and running).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "learn.h"
#include "traj.h"

static struct param_schema mom[] = {
    {"capital", PT_NUMBER, 100000, 1, 1e12, ""}, {"lookback", PT_INTEGER, 20, 2, 500, ""},
    {"threshold", PT_NUMBER, 0.02, 0, 1, ""},    {"positionSize", PT_INTEGER, 10, 1, 1000000, ""},
    {"allowShort", PT_BOOLEAN, 0, 0, 1, ""},
};
static struct strategy_def defs[] = {
    {.name = "momentum", .params = mom, .nparams = 5},
    {.name = "mean-reversion", .params = mom, .nparams = 5},
    {.name = "neural-forecast", .params = mom, .nparams = 5},
};

static uint64_t rs = 1;
static double rnd(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static json_t *rand_params(void)
{
    return json_pack("{s:f, s:i, s:f, s:i, s:b}", "capital", 100000.0, "lookback",
                     (int)(5 + rnd() * 75), "threshold", 0.005 + rnd() * 0.075, "positionSize",
                     (int)(1 + rnd() * 40), "allowShort", rnd() < 0.5);
}

static void fill(struct learn *l, size_t from, size_t to, int nstrat)
{
    static const char *syms[] = {"SPY", "QQQ", "IWM"};
    for (size_t i = from; i < to; i++) {
        json_t *p = rand_params();
        int ok = rnd() < 0.6;
        learn_observe(
            l, &(struct learn_obs){.id = (int64_t)i + 1,
                                   .strategy = defs[i % (size_t)nstrat].name,
                                   .symbol = syms[i % 3],
                                   .provider = "local",
                                   .params = p,
                                   .state = ok ? TS_SUCCEEDED : TS_FAILED,
                                   .reward = ok ? 0.5 + 0.4 * rnd() : 0,
                                   .created_at = 1700000000000LL + (int64_t)i * 1000,
                                   .duration_ms = 50,
                                   .op_sequence = "create,upload,start,stream,collect,destroy"});
        json_decref(p);
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* This thread's CPU time: what a query costs when another process does not
 * take the core away mid-query (the build machine is often shared). */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
    return (double)sd_mono_ns() / 1e6;
}

static int ins_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    size_t n = *(size_t *)arg;
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db,
                       "INSERT INTO trajectories(uuid, strategy, symbol, params, provider, "
                       "status, created_at, reward, op_sequence) VALUES(?1, 'momentum', 'SPY', "
                       "?2, 'local', ?3, ?4, ?5, 'create,upload,start,stream,collect,destroy')",
                       -1, &st, NULL);
    for (size_t i = 0; i < n; i++) {
        char uuid[40], *ps;
        json_t *p = rand_params();
        int ok = rnd() < 0.6;
        snprintf(uuid, sizeof uuid, "b%zu", i);
        ps = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
        sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, ps, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, ok ? "succeeded" : "failed", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, 1700000000000LL + (int64_t)i);
        sqlite3_bind_double(st, 5, ok ? 0.7 : 0);
        sqlite3_step(st);
        sqlite3_reset(st);
        free(ps);
        json_decref(p);
    }
    sqlite3_finalize(st);
    return 0;
}

int main(int argc, char **argv)
{
    size_t big = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 1000000;
    if (big < 1000)
        big = 1000;
    const size_t sizes[] = {big / 1000, big / 100, big / 10};
    struct sd_err err = {0};
    struct learn *l = learn_open_defs(NULL, defs, 3, &err);
    size_t have = 0;
    double lat[2000], cpu[2000], t0, best = 1e9;
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    char path[512];
    struct store *s = NULL;

    printf("suggestion latency (momentum, distinct random parameters, 2000 queries)\n");
    for (size_t k = 0; k < 3; k++) {
        fill(l, have, sizes[k], 1);
        have = sizes[k];
        for (int q = 0; q < 2000; q++) {
            json_t *p = rand_params(), *j;
            double c0 = cpu_ms();
            t0 = now_ms();
            j = learn_suggest(l, &defs[0], p, "SPY", &err);
            lat[q] = now_ms() - t0;
            cpu[q] = cpu_ms() - c0;
            json_decref(j);
            json_decref(p);
        }
        qsort(lat, 2000, sizeof lat[0], cmp_d);
        qsort(cpu, 2000, sizeof cpu[0], cmp_d);
        printf("  %7zu trajectories: p50 %.3f ms  p99 %.3f ms  max %.3f ms"
               "  (on-CPU p50 %.3f ms  p99 %.3f ms)\n",
               have, lat[1000], lat[1979], lat[1999], cpu[1000], cpu[1979]);
    }
    learn_free(l);

    l = learn_open_defs(NULL, defs, 3, &err);
    fill(l, 0, big, 3);
    for (int r = 0; r < 10; r++) {
        json_t *j;
        t0 = now_ms();
        j = learn_stats(l, NULL, &err);
        best = fmin(best, now_ms() - t0);
        lat[r] = now_ms() - t0;
        json_decref(j);
    }
    qsort(lat, 10, sizeof lat[0], cmp_d);
    printf("learn_stats over %zu trajectories (3 strategies): best %.2f ms, median %.2f ms\n", big,
           best, lat[5]);
    t0 = now_ms();
    json_decref(learn_patterns(l, NULL, NULL, &err));
    printf("learn_patterns over %zu trajectories: %.1f ms\n", big, now_ms() - t0);
    learn_free(l);

    snprintf(path, sizeof path, "%s/learn-bench-%d.db", dir, (int)getpid());
    if (store_open(path, STORE_CREATE, &s, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    {
        size_t n = big / 10;
        store_call(s, ins_job, &n, &err);
        store_flush(s, &err);
        t0 = now_ms();
        l = learn_open_defs(s, defs, 3, &err);
        printf("learn_open from a store of %zu trajectories: %.1f ms (rebuilt, index saved)\n", n,
               now_ms() - t0);
        learn_free(l);
        /* A cold `suggest`: a new process opens the learner (from the saved
         * index) and asks once, the model fitted on that first question. */
        for (int r = 0; r < 5; r++) {
            json_t *q = json_pack("{s:i, s:f}", "lookback", 20 + r, "threshold", 0.02);
            double t1, t2, c0, c2;
            struct timespec cs;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cs);
            c0 = (double)cs.tv_sec * 1e3 + (double)cs.tv_nsec / 1e6;
            t0 = now_ms();
            l = learn_open_defs(s, defs, 3, &err);
            t1 = now_ms();
            json_decref(learn_suggest(l, &defs[0], q, "SPY", &err));
            t2 = now_ms();
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cs);
            c2 = (double)cs.tv_sec * 1e3 + (double)cs.tv_nsec / 1e6;
            printf("cold suggest at %zu: open %.1f ms + first suggestion %.1f ms = %.1f ms "
                   "(on-CPU %.1f ms)\n",
                   n, t1 - t0, t2 - t1, t2 - t0, c2 - c0);
            learn_free(l);
            json_decref(q);
        }
    }
    store_close(s);
    for (const char *suf = ""; suf; suf = strcmp(suf, "") == 0       ? "-wal"
                                          : strcmp(suf, "-wal") == 0 ? "-shm"
                                          : strcmp(suf, "-shm") == 0 ? "-learn"
                                                                     : NULL) {
        char f[600];
        snprintf(f, sizeof f, "%s%s", path, suf);
        unlink(f);
    }
    return 0;
}
