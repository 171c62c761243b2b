/*
 * console_learn_bench.c: what the Learning and Patterns panes cost.
 *
 * Builds a store of N finished trajectories (two strategies, parameters
 * spread over their search ranges, 80 % success), opens the learner, then
 * times (1) learnsnap_compute, the worker thread's job (stats, per-strategy
 * stats, patterns and their evidence rows from SQLite), and (2) what the UI
 * thread does with a snapshot: refill the patterns table and rebuild the
 * learning lines. Usage: bench-console-learn [N] [DIR] (default 100000, /tmp).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "learn.h"
#include "learnsnap.h"
#include "panes.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct param_schema mom[] = {
    {"lookback", PT_INTEGER, 20, 2, 500, ""},
    {"threshold", PT_NUMBER, 0.02, 0, 1, ""},
};
static struct param_schema mr[] = {
    {"period", PT_INTEGER, 20, 2, 500, ""},
    {"entryZ", PT_NUMBER, 2, 0, 10, ""},
};
static struct strategy_def defs[] = {
    {.name = "momentum", .params = mom, .nparams = 2},
    {.name = "mean-reversion", .params = mr, .nparams = 2},
};

static long nrows;

static int fill_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    sqlite3_stmt *st;
    uint64_t x = 42;
    (void)s, (void)arg;
    sqlite3_prepare_v2(db,
                       "INSERT INTO trajectories(id, uuid, strategy, symbol, params, provider, "
                       "status, created_at, reward, result, op_sequence, duration_ms) "
                       "VALUES(?1, ?2, ?3, 'SPY', ?4, 'local', ?5, ?6, ?7, ?8, "
                       "'create,start,stream,collect,destroy', 100)",
                       -1, &st, NULL);
    for (long i = 1; i <= nrows; i++) {
        char uuid[32], params[96];
        int ok, m = (int)(i % 2);
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        ok = (x >> 33) % 10 < 8;
        snprintf(uuid, sizeof uuid, "u%ld", i);
        if (m)
            snprintf(params, sizeof params, "{\"lookback\":%d,\"threshold\":%.4f}",
                     5 + (int)((x >> 20) % 75), 0.005 + (double)((x >> 40) % 75) / 1000);
        else
            snprintf(params, sizeof params, "{\"period\":%d,\"entryZ\":%.3f}",
                     5 + (int)((x >> 20) % 75), 0.5 + (double)((x >> 40) % 60) / 10);
        sqlite3_bind_int64(st, 1, i);
        sqlite3_bind_text(st, 2, uuid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, m ? "momentum" : "mean-reversion", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, params, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, ok ? "succeeded" : "failed", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, 1700000000000LL + i * 1000);
        sqlite3_bind_double(st, 7, ok ? 0.5 + (double)((x >> 50) % 100) / 400 : 0);
        sqlite3_bind_text(st, 8, ok ? "{\"total_return\":0.01,\"sharpe\":0.3}" : NULL, -1,
                          SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return sd_err_set(err, SD_EENV, "insert: %s", sqlite3_errmsg(db));
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return 0;
}

int main(int argc, char **argv)
{
    char dir[256], path[300], cmd[300];
    struct store *s = NULL;
    struct learn *l;
    struct sd_err err = {0};
    sqlite3 *db;
    json_t *snap = NULL;
    struct table t;
    struct textview tv;
    double t0, best = 1e9, fill = 1e9;

    nrows = argc > 1 ? atol(argv[1]) : 100000;
    snprintf(dir, sizeof dir, "%s/bench-console-learn-XXXXXX", argc > 2 ? argv[2] : "/tmp");
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    if (store_open(path, STORE_CREATE, &s, &err) != 0 || store_call(s, fill_job, NULL, &err) != 0 ||
        store_flush(s, &err) != 0 || (l = learn_open_defs(s, defs, 2, &err)) == NULL) {
        fprintf(stderr, "bench-console-learn: %s\n", err.msg);
        return 1;
    }
    db = store_reader(s, &err);
    for (int i = 0; i < 5; i++) {
        json_decref(snap);
        t0 = now_ms();
        snap = learnsnap_compute(l, db, 500);
        if (now_ms() - t0 < best)
            best = now_ms() - t0;
    }
    table_init(&t, pattern_cols, PC_COUNT);
    table_sort_by(&t, PC_CONF, 1);
    textview_init(&tv, 12);
    for (int i = 0; i < 20; i++) {
        t0 = now_ms();
        pane_patterns_fill(&t, snap);
        pane_learning_fill(&tv, snap, 120, &glyphs_utf8);
        if (now_ms() - t0 < fill)
            fill = now_ms() - t0;
    }
    printf("learning snapshot over %ld trajectories (%lld patterns with their evidence rows): "
           "worker %.1f ms (best of 5); UI thread per snapshot (patterns table + learning lines) "
           "%.3f ms (best of 20)\n",
           nrows, (long long)json_integer_value(json_object_get(snap, "patternsTotal")), best,
           fill);
    json_decref(snap);
    table_free(&t);
    textview_free(&tv);
    sqlite3_close_v2(db);
    learn_free(l);
    store_close(s);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
