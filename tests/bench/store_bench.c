/*
 * store_bench.c: throughput and latency of the trajectory store, against raw
 * SQLite measured in the same run, and the stats query over 1 M trajectories.
 *
 *   bench-store [ROWS [STATS_ROWS]]     defaults 200000 and 1000000
 *
 * 1. Trajectory-like rows (strategy, symbol, params JSON, description, ...)
 *    submitted one job per row through the writer thread, then one flush;
 *    against raw SQLite: one prepared statement, 1000 rows per transaction,
 *    same schema (indexes, FTS and stats triggers included), same pragmas.
 * 2. Output chunks (100 B, 100 trajectories) through store_output_append,
 *    against raw inserts into `output`.
 * 3. Commit latency p50/p99 of the writer's batches (commit hook to WAL hook,
 *    checkpoints included) and of the raw COMMITs.
 * 4. Stats (count, success rate, mean reward by strategy) over STATS_ROWS
 *    trajectories in a temporary store, four ways, with EXPLAIN QUERY PLAN,
 *    checking that all four agree.
 *
 * Everything happens in a fresh directory under $TMPDIR (or /tmp), removed at
 * the end.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

#define DIE(...)                                                                                   \
    do {                                                                                           \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        exit(1);                                                                                   \
    } while (0)

static char dir[256];

static double now_s(void)
{
    return (double)sd_mono_ns() / 1e9;
}

static const char *const strategies[] = {"momentum", "meanrev",  "breakout", "pairs",
                                         "neural",   "carry",    "value",    "trend",
                                         "scalper",  "seasonal", "vol",      "arb"};
#define NSTRAT (sizeof strategies / sizeof strategies[0])
static const char *const statuses[] = {"succeeded", "succeeded", "failed",  "succeeded",
                                       "timeout",   "succeeded", "running", "cancelled"};

/* --- latency samples --------------------------------------------------- */

static double *lat;
static size_t nlat, caplat;
static uint64_t commit_t0;

static void lat_add(double v)
{
    if (nlat == caplat) {
        caplat = caplat ? caplat * 2 : 1024;
        lat = realloc(lat, caplat * sizeof *lat);
    }
    lat[nlat++] = v;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void lat_report(const char *what)
{
    if (nlat == 0)
        return;
    qsort(lat, nlat, sizeof *lat, cmp_d);
    printf("  %-34s commits %6zu  p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms\n", what, nlat,
           lat[nlat / 2], lat[(size_t)((double)nlat * 0.99)], lat[nlat - 1]);
    nlat = 0;
}

static int on_commit(void *arg)
{
    commit_t0 = sd_mono_ns();
    return 0;
}

/* Replaces SQLite's default WAL hook, so it also checkpoints at 1000 pages
 * as the default does; the sample includes that checkpoint. */
static int on_wal(void *arg, sqlite3 *db, const char *name, int pages)
{
    if (pages >= 1000)
        sqlite3_wal_checkpoint(db, name);
    lat_add((double)(sd_mono_ns() - commit_t0) / 1e6);
    return SQLITE_OK;
}

static int hook_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    sqlite3_commit_hook(db, on_commit, NULL);
    sqlite3_wal_hook(db, on_wal, NULL);
    return 0;
}

/* --- workloads ---------------------------------------------------------- */

static const char sql_traj[] =
    "INSERT INTO trajectories(uuid, strategy, symbol, params, provider, status, created_at,"
    " duration_ms, reward, description) VALUES (?, ?, ?, ?, 'local', ?, ?, ?, ?, ?)";

static void bind_traj(sqlite3_stmt *st, int64_t i)
{
    char uuid[40], params[96], desc[128];

    snprintf(uuid, sizeof uuid, "%016llx-%08llx", (unsigned long long)i * 2654435761u,
             (unsigned long long)i);
    snprintf(params, sizeof params, "{\"lookback\":%lld,\"threshold\":%.3f,\"size\":1}",
             (long long)(5 + i % 60), (double)(i % 97) / 100.0);
    snprintf(desc, sizeof desc, "run %lld of %s on symbol S%lld with lookback %lld", (long long)i,
             strategies[i % NSTRAT], (long long)(i % 500), (long long)(5 + i % 60));
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, strategies[i % NSTRAT], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, "ACME", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, params, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, statuses[i % 8], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, 1700000000000 + i);
    sqlite3_bind_double(st, 7, 12.5 + (double)(i % 100));
    sqlite3_bind_double(st, 8, (double)(i % 201 - 100) / 100.0);
    sqlite3_bind_text(st, 9, desc, -1, SQLITE_TRANSIENT);
}

static int traj_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    sqlite3_stmt *st = store_stmt(s, sql_traj, err);
    if (st == NULL)
        return -1;
    bind_traj(st, (int64_t)(intptr_t)arg);
    if (sqlite3_step(st) != SQLITE_DONE)
        return sd_err_set(err, SD_EENV, "%s", sqlite3_errmsg(db));
    return 0;
}

static struct store *fresh_store(const char *name)
{
    char path[512];
    struct store *s;
    struct sd_err err = {0};

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (store_open(path, STORE_CREATE, &s, &err) != 0)
        DIE("%s", err.msg);
    return s;
}

/* A raw connection to a freshly created store file: same schema, same
 * pragmas as the writer's (WAL, synchronous=NORMAL, foreign_keys). */
static sqlite3 *fresh_raw(const char *name)
{
    char path[512];
    sqlite3 *db;

    store_close(fresh_store(name));
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        DIE("open %s", path);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                 "PRAGMA busy_timeout=5000",
                 NULL, NULL, NULL);
    sqlite3_commit_hook(db, on_commit, NULL);
    sqlite3_wal_hook(db, on_wal, NULL);
    return db;
}

static double raw_insert(sqlite3 *db, const char *sql, int64_t n,
                         void (*bind)(sqlite3_stmt *, int64_t))
{
    sqlite3_stmt *st;
    double t0 = now_s();

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        DIE("%s", sqlite3_errmsg(db));
    for (int64_t i = 0; i < n; i++) {
        if (i % 1000 == 0)
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        bind(st, i);
        if (sqlite3_step(st) != SQLITE_DONE)
            DIE("%s", sqlite3_errmsg(db));
        sqlite3_reset(st);
        if (i % 1000 == 999 || i == n - 1)
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    sqlite3_finalize(st);
    return (double)n / (now_s() - t0);
}

static unsigned char chunk[100];

static void bind_chunk(sqlite3_stmt *st, int64_t i)
{
    sqlite3_bind_int64(st, 1, 1 + i % 100);
    sqlite3_bind_int64(st, 2, i / 100);
    sqlite3_bind_int(st, 3, 1 + (int)(i % 2));
    sqlite3_bind_blob(st, 4, chunk, sizeof chunk, SQLITE_STATIC);
}

static void bench_writes(int64_t n)
{
    struct sd_err err = {0};
    struct store *s;
    sqlite3 *db;
    double t0, store_rate, raw_rate;
    struct store_stats st;

    printf("## writes (%lld rows each)\n", (long long)n);
    s = fresh_store("w1.db");
    store_call(s, hook_job, NULL, &err);
    t0 = now_s();
    for (int64_t i = 0; i < n; i++)
        if (store_submit(s, traj_job, (void *)(intptr_t)i, NULL) != 0)
            DIE("submit");
    if (store_flush(s, &err) != 0)
        DIE("%s", err.msg);
    store_rate = (double)n / (now_s() - t0);
    store_get_stats(s, &st);
    store_close(s);
    lat_report("writer batches (trajectories)");
    if (st.job_errors != 0)
        DIE("job errors: %s", st.last_error);

    db = fresh_raw("r1.db");
    raw_rate = raw_insert(db, sql_traj, n, bind_traj);
    sqlite3_close(db);
    lat_report("raw COMMIT (trajectories)");
    printf("  trajectories: writer %.0f rows/s, raw %.0f rows/s, ratio %.2f (%llu commits)\n",
           store_rate, raw_rate, store_rate / raw_rate, (unsigned long long)st.commits);

    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (unsigned char)('a' + i % 26);
    s = fresh_store("w2.db");
    store_set_output_caps(s, (size_t)1 << 30, (size_t)1 << 30);
    store_call(s, hook_job, NULL, &err);
    t0 = now_s();
    for (int64_t i = 0; i < n; i++)
        if (store_output_append(s, 1 + i % 100, 1 + (int)(i % 2), chunk, sizeof chunk) != 0)
            DIE("append");
    if (store_flush(s, &err) != 0)
        DIE("%s", err.msg);
    store_rate = (double)n / (now_s() - t0);
    store_get_stats(s, &st);
    store_close(s);
    lat_report("writer batches (output)");

    db = fresh_raw("r2.db");
    raw_rate = raw_insert(db, "INSERT INTO output(traj_id, seq, stream, data) VALUES (?, ?, ?, ?)",
                          n, bind_chunk);
    sqlite3_close(db);
    lat_report("raw COMMIT (output)");
    printf("  output chunks (100 B): writer %.0f rows/s, raw %.0f rows/s, ratio %.2f (%llu "
           "commits)\n",
           store_rate, raw_rate, store_rate / raw_rate, (unsigned long long)st.commits);

    /* The same output through an encrypted store (AES-256-GCM per chunk,
     * docs/security.md): the cost of encryption at rest. */
    {
        char path[512];
        double enc_rate;
        snprintf(path, sizeof path, "%s/w3.db", dir);
        if (store_open_key(path, STORE_CREATE, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", &s,
                           &err) != 0)
            DIE("%s", err.msg);
        store_set_output_caps(s, (size_t)1 << 30, (size_t)1 << 30);
        store_call(s, hook_job, NULL, &err);
        t0 = now_s();
        for (int64_t i = 0; i < n; i++)
            if (store_output_append(s, 1 + i % 100, 1 + (int)(i % 2), chunk, sizeof chunk) != 0)
                DIE("append");
        if (store_flush(s, &err) != 0)
            DIE("%s", err.msg);
        enc_rate = (double)n / (now_s() - t0);
        store_close(s);
        lat_report("writer batches (encrypted output)");
        printf("  output chunks (100 B), encrypted store: writer %.0f rows/s, ratio %.2f to the "
               "plaintext writer, %.2f to raw\n",
               enc_rate, enc_rate / store_rate, enc_rate / raw_rate);
    }
}

/* --- stats ---------------------------------------------------------------- */

struct agg {
    char strategy[32];
    long long n;
    double rate, reward;
};

static int run_query(sqlite3 *db, const char *sql, struct agg *out, double *ms)
{
    sqlite3_stmt *st;
    int k = 0;
    double best = 1e9;

    /* Best of three: the first run also warms the page cache. */
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_s();
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            DIE("%s: %s", sql, sqlite3_errmsg(db));
        k = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            snprintf(out[k].strategy, sizeof out[k].strategy, "%s", sqlite3_column_text(st, 0));
            out[k].n = sqlite3_column_int64(st, 1);
            out[k].rate = sqlite3_column_double(st, 2);
            out[k].reward = sqlite3_column_double(st, 3);
            k++;
        }
        sqlite3_finalize(st);
        if ((now_s() - t0) * 1000 < best)
            best = (now_s() - t0) * 1000;
    }
    *ms = best;
    return k;
}

static void print_plan(sqlite3 *db, const char *sql)
{
    char buf[1024];
    sqlite3_stmt *st;

    snprintf(buf, sizeof buf, "EXPLAIN QUERY PLAN %s", sql);
    if (sqlite3_prepare_v2(db, buf, -1, &st, NULL) != SQLITE_OK)
        DIE("%s", sqlite3_errmsg(db));
    while (sqlite3_step(st) == SQLITE_ROW)
        printf("      plan: %s\n", sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
}

#define TERMINAL "('succeeded','failed','timeout','cancelled','interrupted')"
#define AGG_COLS                                                                                   \
    "strategy, count(*), sum(status = 'succeeded') * 1.0 / sum(status IN " TERMINAL "),"           \
    " avg(reward)"

static void bench_stats(int64_t n)
{
    static const struct {
        const char *what, *sql;
    } q[] = {
        {"GROUP BY, schema indexes only",
         "SELECT " AGG_COLS " FROM trajectories GROUP BY strategy ORDER BY strategy"},
        {"GROUP BY, NOT INDEXED",
         "SELECT " AGG_COLS " FROM trajectories NOT INDEXED GROUP BY strategy ORDER BY strategy"},
        {"GROUP BY, covering index",
         "SELECT " AGG_COLS " FROM trajectories INDEXED BY bench_cover GROUP BY strategy ORDER BY "
         "strategy"},
        {"traj_stats (trigger-maintained)",
         "SELECT strategy, n, ok * 1.0 / done, reward_sum / reward_n FROM traj_stats"
         " ORDER BY strategy"},
    };
    struct agg res[4][64];
    int k[4];
    double ms;
    struct store *s;
    sqlite3 *db;
    char path[512], sql[1024];
    double t0;

    printf("## stats over %lld trajectories (%zu strategies)\n", (long long)n, NSTRAT);
    store_close(fresh_store("stats.db"));
    snprintf(path, sizeof path, "%s/stats.db", dir);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        DIE("open");
    /* Generate fast: one transaction, no FTS (the stats never read it);
     * indexes and the traj_stats triggers stay. */
    t0 = now_s();
    snprintf(sql, sizeof sql,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;"
             "DROP TRIGGER traj_fts_ai; BEGIN;"
             "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < %lld)"
             " INSERT INTO trajectories(uuid, strategy, symbol, params, provider, status,"
             " created_at, reward, description)"
             " SELECT 'u' || i, CASE i %% 12 WHEN 0 THEN 'momentum' WHEN 1 THEN 'meanrev'"
             " WHEN 2 THEN 'breakout' WHEN 3 THEN 'pairs' WHEN 4 THEN 'neural' WHEN 5 THEN"
             " 'carry' WHEN 6 THEN 'value' WHEN 7 THEN 'trend' WHEN 8 THEN 'scalper' WHEN 9"
             " THEN 'seasonal' WHEN 10 THEN 'vol' ELSE 'arb' END, 'S' || (i %% 500),"
             " '{\"lookback\":' || (i %% 60) || '}', 'local',"
             " CASE (i * 7 + i / 12) %% 8 WHEN 2 THEN 'failed' WHEN 4 THEN 'timeout' WHEN 6 THEN"
             " 'running' WHEN 7 THEN 'cancelled' ELSE 'succeeded' END,"
             " 1700000000000 + i, CASE WHEN i %% 10 = 9 THEN NULL ELSE ((i * 37) %% 201 - 100)"
             " / 100.0 END, 'generated trajectory number ' || i FROM c;"
             "COMMIT;"
             "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;",
             (long long)n - 1);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        DIE("generate: %s", sqlite3_errmsg(db));
    printf("  generated in %.1f s; bench_cover(strategy, status, reward) is created (bench "
           "only) before the third query\n",
           now_s() - t0);
    for (int i = 0; i < 4; i++) {
        if (i == 2 && sqlite3_exec(db,
                                   "CREATE INDEX bench_cover ON trajectories(strategy, status,"
                                   " reward); ANALYZE",
                                   NULL, NULL, NULL) != SQLITE_OK)
            DIE("index: %s", sqlite3_errmsg(db));
        k[i] = run_query(db, q[i].sql, res[i], &ms);
        printf("  %-34s %9.2f ms  (%d groups)\n", q[i].what, ms, k[i]);
        print_plan(db, q[i].sql);
    }
    /* All four must agree. */
    for (int i = 1; i < 4; i++) {
        if (k[i] != k[0] || k[0] != (int)NSTRAT)
            DIE("group counts differ");
        for (int g = 0; g < k[0]; g++)
            if (strcmp(res[i][g].strategy, res[0][g].strategy) != 0 || res[i][g].n != res[0][g].n ||
                fabs(res[i][g].rate - res[0][g].rate) > 1e-9 ||
                fabs(res[i][g].reward - res[0][g].reward) > 1e-9)
                DIE("results differ: %s", q[i].what);
    }
    printf("  all four agree (e.g. %s: n %lld, success %.4f, reward %.4f)\n", res[3][0].strategy,
           res[3][0].n, res[3][0].rate, res[3][0].reward);
    sqlite3_close(db);
    (void)s;
}

int main(int argc, char **argv)
{
    int64_t n = argc > 1 ? atoll(argv[1]) : 200000;
    int64_t ns = argc > 2 ? atoll(argv[2]) : 1000000;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char cmd[600];

    snprintf(dir, sizeof dir, "%s/store-bench-XXXXXX", base);
    if (mkdtemp(dir) == NULL)
        DIE("mkdtemp");
    printf("# bench-store: sqlite %s\n", sqlite3_libversion());
    bench_writes(n);
    bench_stats(ns);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
