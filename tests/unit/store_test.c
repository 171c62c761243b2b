/*
 * store_test.c: unit tests of the trajectory store (engine/store/store.c).
 *
 * Each test is a function named in the table at the end; `test-store NAME`
 * runs one (CTest registers each separately, see store.cmake) and no argument
 * runs them all. Every test works in its own fresh temporary directory and
 * checks concrete values: row counts, bytes, file modes, error codes.
 *
 * The crash and two-process tests fork before opening anything, so the child
 * never inherits a SQLite connection or a thread. The malloc fault test
 * replaces SQLite's allocator (sqlite3_config before first use), in the style
 * of SQLite's do_faultsim_test: fail the Nth allocation, for N = 1, 2, ...
 * until the workload runs without hitting the fault, and after each run check
 * that the store is consistent, the failure was reported, and it still works.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "store_zstd.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)
#define CHECK_OK(call, err)                                                                        \
    do {                                                                                           \
        if ((call) != 0) {                                                                         \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, (err)->msg);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static char tmpdir[256];

static char *tpath(const char *name)
{
    static char buf[8][512];
    static int i;
    char *p = buf[i++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static struct store *open_ok(const char *path, int flags)
{
    struct store *s = NULL;
    struct sd_err err = {0};
    if (store_open(path, flags, &s, &err) != 0) {
        fprintf(stderr, "store_open %s: %s\n", path, err.msg);
        abort();
    }
    return s;
}

/* Run one integer-valued query on a fresh connection. */
static long long q_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long v = -1;

    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
        abort();
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void q_text(const char *path, const char *sql, char *out, size_t len)
{
    sqlite3 *db;
    sqlite3_stmt *st;

    out[0] = '\0';
    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        snprintf(out, len, "%s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;

    CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int file_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return st.st_mode & 07777;
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* --- jobs used by the tests ----------------------------------------------- */

struct ins {
    int64_t a, b;
    int64_t id; /* out: the new row id */
};

static const char sql_run[] = "INSERT INTO runs(kind, started_at) VALUES ('swarm', ?)";

static int ins_run_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct ins *in = arg;
    sqlite3_stmt *st = store_stmt(s, sql_run, err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, in->a);
    if (sqlite3_step(st) != SQLITE_DONE)
        return sd_err_set(err, SD_EENV, "insert run: %s", sqlite3_errmsg(db));
    in->id = sqlite3_last_insert_rowid(db);
    return 0;
}

static void submit_run(struct store *s, int64_t started_at)
{
    struct ins *in = malloc(sizeof *in);
    in->a = started_at;
    CHECK(store_submit(s, ins_run_job, in, free) == 0);
}

static const char sql_traj[] =
    "INSERT INTO trajectories(uuid, strategy, symbol, provider, status, created_at, description,"
    " reward) VALUES (?, ?, ?, 'local', ?, ?, ?, ?)";

struct traj {
    const char *uuid, *strategy, *symbol, *status, *description;
    double reward;
    int64_t id;
};

static int ins_traj_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct traj *t = arg;
    sqlite3_stmt *st = store_stmt(s, sql_traj, err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, t->uuid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, t->strategy, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, t->symbol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, t->status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, 1700000000000);
    sqlite3_bind_text(st, 6, t->description, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 7, t->reward);
    if (sqlite3_step(st) != SQLITE_DONE)
        return sd_err_set(err, SD_EENV, "insert trajectory: %s", sqlite3_errmsg(db));
    t->id = sqlite3_last_insert_rowid(db);
    return 0;
}

static int64_t new_traj(struct store *s, const char *uuid)
{
    struct traj t = {uuid, "momentum", "ACME", "running", "test run", 0.5, 0};
    struct sd_err err = {0};
    CHECK_OK(store_call(s, ins_traj_job, &t, &err), &err);
    return t.id;
}

/* --- tests ----------------------------------------------------------------- */

/* 1. Create in missing directories (0700), file 0600, id kept on reopen. */
static void t_open_create_reopen(void)
{
    char id[40], meta[64];
    struct store *s;
    const char *path = tpath("a/b/store.db");

    s = open_ok(path, STORE_CREATE);
    CHECK(strcmp(store_path(s), path) == 0);
    CHECK(strlen(store_id(s)) == 32);
    CHECK(strspn(store_id(s), "0123456789abcdef") == 32);
    snprintf(id, sizeof id, "%s", store_id(s));
    store_close(s);
    CHECK(file_mode(tpath("a")) == 0700);
    CHECK(file_mode(tpath("a/b")) == 0700);
    CHECK(file_mode(path) == 0600);

    s = open_ok(path, 0);
    CHECK(strcmp(store_id(s), id) == 0);
    store_close(s);
    q_text(path, "SELECT value FROM meta WHERE key='schema_version'", meta, sizeof meta);
    CHECK(atoi(meta) == STORE_SCHEMA_VERSION);
    q_text(path, "SELECT value FROM meta WHERE key='store_id'", meta, sizeof meta);
    CHECK(strcmp(meta, id) == 0);
    CHECK(q_int(path, "SELECT value > 1600000000000 FROM meta WHERE key='created_at'") == 1);
    q_text(path, "PRAGMA journal_mode", meta, sizeof meta);
    CHECK(strcmp(meta, "wal") == 0);
    /* Every table of schema v1 exists. */
    CHECK(q_int(path, "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name IN"
                      " ('meta','strategies','runs','trajectories','operations','output',"
                      "'leases','bars','traj_fts','traj_stats')") == 10);
}

/* 2. Reopening runs no migration twice: the schema is unchanged. */
static void t_migrations_idempotent(void)
{
    const char *path = tpath("store.db");
    long long n1, n2;
    char sum1[64], sum2[64];

    store_close(open_ok(path, STORE_CREATE));
    n1 = q_int(path, "SELECT count(*) FROM sqlite_schema");
    q_text(path, "SELECT sum(length(sql)) FROM sqlite_schema", sum1, sizeof sum1);
    for (int i = 0; i < 3; i++)
        store_close(open_ok(path, STORE_CREATE));
    n2 = q_int(path, "SELECT count(*) FROM sqlite_schema");
    q_text(path, "SELECT sum(length(sql)) FROM sqlite_schema", sum2, sizeof sum2);
    CHECK(n1 == n2 && n1 > 15);
    CHECK(strcmp(sum1, sum2) == 0);
    CHECK(q_int(path, "SELECT count(*) FROM meta") == 3);
}

/* 3. With umask 0 the database, -wal and -shm are still 0600. */
static void t_perms_umask0(void)
{
    const char *path = tpath("store.db");
    struct store *s;
    struct sd_err err = {0};
    mode_t old = umask(0);

    s = open_ok(path, STORE_CREATE);
    submit_run(s, 1);
    CHECK_OK(store_flush(s, &err), &err);
    CHECK(exists(tpath("store.db-wal")) && exists(tpath("store.db-shm")));
    CHECK(file_mode(path) == 0600);
    CHECK(file_mode(tpath("store.db-wal")) == 0600);
    CHECK(file_mode(tpath("store.db-shm")) == 0600);
    store_close(s);
    umask(old);
}

/* 4. A store written by a newer swarmdeck is refused and left unchanged. */
static void t_newer_schema(void)
{
    const char *path = tpath("store.db");
    struct store *s = NULL;
    struct sd_err err = {0};
    sqlite3 *db;
    unsigned char *before, *after;
    size_t n1, n2;

    store_close(open_ok(path, STORE_CREATE));
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
                       "UPDATE meta SET value='99' WHERE key='schema_version';"
                       "PRAGMA journal_mode=DELETE",
                       NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    before = read_file(path, &n1);
    CHECK(store_open(path, STORE_CREATE, &s, &err) == -1);
    CHECK(s == NULL);
    CHECK(err.code == SD_EENV);
    CHECK(strstr(err.msg, "newer") != NULL && strstr(err.msg, path) != NULL);
    err = (struct sd_err){0};
    CHECK(store_open(path, STORE_READONLY, &s, &err) == -1 && err.code == SD_EENV);
    after = read_file(path, &n2);
    CHECK(n1 == n2 && memcmp(before, after, n1) == 0);
    CHECK(!exists(tpath("store.db-wal")));
    free(before);
    free(after);
}

/* 5. A file that is not SQLite, or a damaged SQLite file, is refused with
 * SD_EENV naming the path, and its bytes are unchanged. */
static void t_garbage_refused(void)
{
    const char *path = tpath("junk.db");
    struct store *s = NULL;
    struct sd_err err = {0};
    unsigned char junk[8192], *after;
    size_t n;
    FILE *f;

    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 7 + 3);
    f = fopen(path, "wb");
    fwrite(junk, 1, sizeof junk, f);
    fclose(f);
    CHECK(store_open(path, STORE_CREATE, &s, &err) == -1);
    CHECK(s == NULL && err.code == SD_EENV);
    CHECK(strstr(err.msg, path) != NULL && strstr(err.msg, "move it aside") != NULL);
    after = read_file(path, &n);
    CHECK(n == sizeof junk && memcmp(after, junk, n) == 0);
    CHECK(!exists(tpath("junk.db-wal")) && !exists(tpath("junk.db-shm")));
    free(after);

    /* Right magic, garbage after it: SQLite's own check must catch it. */
    memcpy(junk, "SQLite format 3", 16);
    f = fopen(path, "wb");
    fwrite(junk, 1, sizeof junk, f);
    fclose(f);
    err = (struct sd_err){0};
    CHECK(store_open(path, STORE_CREATE, &s, &err) == -1);
    CHECK(err.code == SD_EENV && strstr(err.msg, path) != NULL);
    after = read_file(path, &n);
    CHECK(n == sizeof junk && memcmp(after, junk, n) == 0);
    free(after);
}

/* 6. Without STORE_CREATE a missing file is refused and not created. */
static void t_missing_refused(void)
{
    const char *path = tpath("nope/store.db");
    struct store *s = NULL;
    struct sd_err err = {0};

    CHECK(store_open(path, 0, &s, &err) == -1 && err.code == SD_EENV);
    CHECK(strstr(err.msg, path) != NULL);
    CHECK(!exists(path) && !exists(tpath("nope")));
    err = (struct sd_err){0};
    CHECK(store_open(path, STORE_READONLY | STORE_CREATE, &s, &err) == -1);
    CHECK(!exists(path));
}

static int freed;
static void count_free(void *p)
{
    freed++;
    free(p);
}

/* 7. Read-only: no writes, reads work. */
static void t_readonly(void)
{
    const char *path = tpath("store.db");
    struct store *s, *r;
    struct sd_err err = {0};
    struct store_stats st;
    struct ins in = {5, 0, 0};
    char id[40];
    sqlite3 *db;

    s = open_ok(path, STORE_CREATE);
    snprintf(id, sizeof id, "%s", store_id(s));
    submit_run(s, 42);
    store_close(s);

    r = open_ok(path, STORE_READONLY);
    CHECK(strcmp(store_id(r), id) == 0);
    freed = 0;
    CHECK(store_submit(r, ins_run_job, malloc(sizeof(struct ins)), count_free) == -1);
    CHECK(freed == 1);
    CHECK(store_call(r, ins_run_job, &in, &err) == -1 && err.code == SD_EUSAGE);
    CHECK(store_output_append(r, 1, 1, "x", 1) == -1);
    CHECK(store_output_end(r, 1) == -1);
    CHECK(store_lease_remove(r, "x") == -1);
    CHECK(store_flush(r, &err) == 0);
    store_get_stats(r, &st);
    CHECK(st.jobs == 0 && st.commits == 0);
    db = store_reader(r, &err);
    CHECK(db != NULL);
    CHECK(sqlite3_exec(db, "INSERT INTO runs(kind, started_at) VALUES ('x', 1)", NULL, NULL,
                       NULL) == SQLITE_READONLY);
    sqlite3_close_v2(db);
    store_close(r);
    CHECK(q_int(path, "SELECT count(*) FROM runs") == 1);
    CHECK(q_int(path, "SELECT started_at FROM runs") == 42);
}

/* 8. Group commit: 20,000 jobs cost about 20 commits, not 20,000. */
static void t_batching(void)
{
    const char *path = tpath("store.db");
    struct store *s = open_ok(path, STORE_CREATE);
    struct store_stats a, b;
    struct sd_err err = {0};
    const int n = 20000;

    store_get_stats(s, &a);
    for (int i = 0; i < n; i++)
        submit_run(s, i);
    CHECK_OK(store_flush(s, &err), &err);
    store_get_stats(s, &b);
    CHECK(b.jobs - a.jobs == (uint64_t)n);
    /* 1000 per batch, plus batches cut short by the 25 ms timer. */
    CHECK(b.commits - a.commits >= (uint64_t)(n / STORE_BATCH_ROWS));
    CHECK(b.commits - a.commits <= (uint64_t)(n / 100));
    CHECK(b.job_errors == 0 && b.commit_errors == 0);
    CHECK(q_int(path, "SELECT count(*) FROM runs") == n);
    CHECK(q_int(path, "SELECT sum(started_at) FROM runs") == (long long)n * (n - 1) / 2);

    /* A lone job with a flush waiting costs exactly one commit. */
    store_get_stats(s, &a);
    submit_run(s, -1);
    CHECK_OK(store_flush(s, &err), &err);
    store_get_stats(s, &b);
    CHECK(b.commits - a.commits == 1);
    /* A flush with nothing pending costs none. */
    CHECK_OK(store_flush(s, &err), &err);
    store_get_stats(s, &a);
    CHECK(a.commits == b.commits);
    store_close(s);
}

/* 9. store_call returns the job's result and its row ids, in order. */
static void t_call_ids(void)
{
    struct store *s = open_ok(tpath("store.db"), STORE_CREATE);
    struct sd_err err = {0};
    struct traj dup = {"u1", "momentum", "ACME", "queued", "dup", 0, 0};

    for (int i = 1; i <= 100; i++) {
        struct ins in = {i, 0, 0};
        CHECK_OK(store_call(s, ins_run_job, &in, &err), &err);
        CHECK(in.id == i);
    }
    CHECK(new_traj(s, "u1") == 1);
    CHECK(new_traj(s, "u2") == 2);
    /* A failing job: its error comes back, the store goes on. */
    CHECK(store_call(s, ins_traj_job, &dup, &err) == -1);
    CHECK(err.code == SD_EENV && strstr(err.msg, "UNIQUE") != NULL);
    CHECK(new_traj(s, "u3") == 3);
    store_close(s);
    CHECK(q_int(tpath("store.db"), "SELECT count(*) FROM trajectories") == 3);
}

/* 10. After store_flush another connection sees every row (before close). */
static void t_flush_durability(void)
{
    const char *path = tpath("store.db");
    struct store *s = open_ok(path, STORE_CREATE);
    struct sd_err err = {0};

    for (int round = 1; round <= 5; round++) {
        for (int i = 0; i < 77; i++)
            submit_run(s, i);
        CHECK_OK(store_flush(s, &err), &err);
        CHECK(q_int(path, "SELECT count(*) FROM runs") == 77 * round);
    }
    store_close(s);
}

/* 11. 8 threads x 10,000 jobs: every row present exactly once. */
struct thr {
    struct store *s;
    int k;
};

static void *submitter(void *arg)
{
    struct thr *t = arg;
    for (int i = 0; i < 10000; i++)
        submit_run(t->s, (int64_t)t->k * 1000000 + i);
    if (t->k % 2 == 0) {
        struct sd_err err = {0};
        CHECK_OK(store_flush(t->s, &err), &err);
    }
    return NULL;
}

static void t_threads(void)
{
    const char *path = tpath("store.db");
    struct store *s = open_ok(path, STORE_CREATE);
    struct thr t[8];
    pthread_t th[8];
    struct sd_err err = {0};
    char sql[128];

    for (int k = 0; k < 8; k++) {
        t[k] = (struct thr){s, k};
        CHECK(pthread_create(&th[k], NULL, submitter, &t[k]) == 0);
    }
    for (int k = 0; k < 8; k++)
        pthread_join(th[k], NULL);
    CHECK_OK(store_flush(s, &err), &err);
    CHECK(q_int(path, "SELECT count(*) FROM runs") == 80000);
    CHECK(q_int(path, "SELECT count(DISTINCT started_at) FROM runs") == 80000);
    for (int k = 0; k < 8; k++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM runs WHERE started_at BETWEEN %d AND %d",
                 k * 1000000, k * 1000000 + 9999);
        CHECK(q_int(path, sql) == 10000);
    }
    store_close(s);
}

/* 12. store_close commits everything still queued. */
static void t_close_drains(void)
{
    const char *path = tpath("store.db");
    struct store *s = open_ok(path, STORE_CREATE);

    for (int i = 0; i < 5000; i++)
        submit_run(s, i);
    store_close(s);
    CHECK(q_int(path, "SELECT count(*) FROM runs") == 5000);
    CHECK(q_int(path, "PRAGMA integrity_check") == 0); /* "ok" reads as 0 */
}

/* --- output ------------------------------------------------------------ */

static uint64_t rng = 88172645463325252u;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

struct buf {
    unsigned char *p;
    size_t n, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* Read the rows of one trajectory, ordered by seq. Each row is appended to
 * all[] and to per[stream]; lens[] gets each row's length (if not NULL). */
static void read_output(const char *path, int64_t traj, struct buf *all, struct buf per[3],
                        size_t *lens, size_t *nrows)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t prev = -1;

    *nrows = 0;
    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK(store_z_register(db) == 0); /* rows may be compressed (store_zstd.h) */
    CHECK(sqlite3_prepare_v2(
              db, "SELECT seq, stream, sd_unz(data, z) FROM output WHERE traj_id=? ORDER BY seq",
              -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_int64(st, 1, traj);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        int stream = sqlite3_column_int(st, 1);
        const void *d = sqlite3_column_blob(st, 2);
        size_t n = (size_t)sqlite3_column_bytes(st, 2);
        CHECK(seq > prev && (stream == 1 || stream == 2) && n > 0);
        prev = seq;
        if (all != NULL)
            buf_add(all, d, n);
        if (per != NULL)
            buf_add(&per[stream], d, n);
        if (lens != NULL)
            lens[*nrows] = n;
        ++*nrows;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* 13. Under the caps, output is stored byte exact per stream. */
static void t_output_exact(void)
{
    const char *path = tpath("store.db");
    struct store *s = open_ok(path, STORE_CREATE);
    struct sd_err err = {0};
    enum { NT = 5 };
    struct buf in[NT][3] = {{{0}}}, out[NT][3] = {{{0}}};
    int64_t ids[NT];
    unsigned char chunk[9000];
    size_t nrows, total[NT] = {0};
    char uuid[16], sql[128];

    store_set_output_caps(s, 1 << 20, 1 << 20);
    for (int t = 0; t < NT; t++) {
        snprintf(uuid, sizeof uuid, "t%d", t);
        ids[t] = new_traj(s, uuid);
    }
    for (int i = 0; i < 3000; i++) {
        int t = (int)(rnd() % NT), stream = 1 + (int)(rnd() % 2);
        size_t n = 1 + rnd() % (rnd() % 8 == 0 ? sizeof chunk : 64);
        for (size_t k = 0; k < n; k++)
            chunk[k] = (unsigned char)rnd(); /* includes NUL and invalid UTF-8 */
        if (total[t] + n > (1 << 20))
            continue;
        buf_add(&in[t][stream], chunk, n);
        total[t] += n;
        CHECK(store_output_append(s, ids[t], stream, chunk, n) == 0);
    }
    CHECK(store_output_append(s, ids[0], 3, "x", 1) == -1);
    CHECK(store_output_append(s, ids[0], 1, "x", 0) == -1);
    for (int t = 0; t < NT; t++)
        CHECK(store_output_end(s, ids[t]) == 0);
    CHECK_OK(store_flush(s, &err), &err);
    for (int t = 0; t < NT; t++) {
        read_output(path, ids[t], NULL, out[t], NULL, &nrows);
        CHECK(nrows > 0);
        for (int k = 1; k <= 2; k++) {
            CHECK(out[t][k].n == in[t][k].n);
            CHECK(in[t][k].n == 0 || memcmp(out[t][k].p, in[t][k].p, in[t][k].n) == 0);
            free(in[t][k].p);
            free(out[t][k].p);
        }
        snprintf(sql, sizeof sql, "SELECT output_bytes FROM trajectories WHERE id=%lld",
                 (long long)ids[t]);
        CHECK(q_int(path, sql) == (long long)total[t]);
        snprintf(sql, sizeof sql, "SELECT output_dropped FROM trajectories WHERE id=%lld",
                 (long long)ids[t]);
        CHECK(q_int(path, sql) == 0);
    }
    store_close(s);
}

/* 14. Over the caps: head is exactly the first H bytes, tail is the shortest
 * suffix of whole chunks holding >= T bytes, dropped is the rest, exactly. */
static void check_caps(size_t H, size_t T, size_t maxchunk, int nchunks)
{
    const char *path = tpath("caps.db");
    struct store *s = open_ok(path, STORE_CREATE);
    struct sd_err err = {0};
    struct buf in = {0}, instream = {0}, out = {0};
    size_t *lens = calloc((size_t)nchunks * 2 + 2, sizeof *lens), nrows, headn = 0, tailn;
    size_t *inlen = calloc((size_t)nchunks, sizeof *inlen);
    unsigned char chunk[70000];
    char sql[160];
    int64_t id;
    size_t r;

    store_set_output_caps(s, H, T);
    snprintf(sql, sizeof sql, "caps-%zu-%zu-%zu", H, T, maxchunk);
    id = new_traj(s, sql);
    for (int i = 0; i < nchunks; i++) {
        size_t n = 1 + rnd() % maxchunk;
        unsigned char st = (unsigned char)(1 + rnd() % 2);
        for (size_t k = 0; k < n; k++)
            chunk[k] = (unsigned char)rnd();
        buf_add(&in, chunk, n);
        for (size_t k = 0; k < n; k++)
            buf_add(&instream, &st, 1);
        inlen[i] = n;
        CHECK(store_output_append(s, id, st, chunk, n) == 0);
    }
    CHECK_OK(store_flush(s, &err), &err);
    read_output(path, id, &out, NULL, lens, &nrows);

    /* Rows up to H bytes form the head (split exactly at H). */
    for (r = 0; r < nrows && headn < H && headn < in.n; r++)
        headn += lens[r];
    CHECK(headn == (in.n < H ? in.n : H));
    CHECK(memcmp(out.p, in.p, headn) == 0);
    tailn = out.n - headn;
    CHECK(memcmp(out.p + headn, in.p + in.n - tailn, tailn) == 0);
    if (in.n > H) {
        /* Shortest suffix of whole chunks with >= T bytes, or all if fewer. */
        size_t want = 0, i = (size_t)nchunks, after_head = in.n - H;
        while (i > 0 && want < T && want < after_head) {
            i--;
            want += inlen[i];
        }
        if (want > after_head)
            want = after_head; /* the chunk that straddled the head */
        CHECK(tailn == want);
        CHECK(tailn >= (T < after_head ? T : after_head));
    }
    /* Streams: every stored byte came from the stream recorded for it. */
    {
        sqlite3 *db;
        sqlite3_stmt *st;
        size_t pos = 0;
        CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
        CHECK(store_z_register(db) == 0);
        CHECK(
            sqlite3_prepare_v2(db,
                               "SELECT stream, length(sd_unz(data, z)) FROM output WHERE traj_id=? "
                               "ORDER BY seq",
                               -1, &st, NULL) == SQLITE_OK);
        sqlite3_bind_int64(st, 1, id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            size_t n = (size_t)sqlite3_column_int64(st, 1), base;
            base = pos < headn ? pos : in.n - (out.n - pos);
            for (size_t k = 0; k < n; k++)
                CHECK(instream.p[base + k] == sqlite3_column_int(st, 0));
            pos += n;
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    snprintf(sql, sizeof sql, "SELECT output_bytes FROM trajectories WHERE id=%lld", (long long)id);
    CHECK(q_int(path, sql) == (long long)in.n);
    snprintf(sql, sizeof sql, "SELECT output_dropped FROM trajectories WHERE id=%lld",
             (long long)id);
    CHECK(q_int(path, sql) == (long long)(in.n - out.n));
    store_close(s);
    unlink(path);
    unlink(tpath("caps.db-wal"));
    unlink(tpath("caps.db-shm"));
    free(in.p);
    free(instream.p);
    free(out.p);
    free(lens);
    free(inlen);
}

static void t_output_caps(void)
{
    check_caps(1000, 3000, 700, 400);  /* typical: many drops */
    check_caps(1000, 3000, 5000, 200); /* chunks larger than both caps */
    check_caps(4096, 4096, 4096, 3);   /* under the caps after all */
    check_caps(0, 100, 50, 300);       /* no head */
    check_caps(100, 0, 50, 300);       /* no tail */
    check_caps(1, 1, 1, 1000);         /* one-byte chunks */
    check_caps(65536, 65536, 65536, 40);
}

/* 15. Appends after store_output_end (or after a restart) continue the
 * sequence and the counters without clobbering stored rows. */
static void t_output_resume(void)
{
    const char *path = tpath("store.db");
    struct store *s = open_ok(path, STORE_CREATE);
    struct sd_err err = {0};
    struct buf out = {0};
    size_t nrows;
    int64_t id = new_traj(s, "r");

    CHECK(store_output_append(s, id, 1, "hello ", 6) == 0);
    CHECK(store_output_end(s, id) == 0);
    CHECK(store_output_append(s, id, 2, "world", 5) == 0);
    store_close(s);
    s = open_ok(path, 0);
    CHECK(store_output_append(s, id, 1, "!", 1) == 0);
    CHECK(store_output_end(s, id) == 0);
    CHECK_OK(store_flush(s, &err), &err);
    read_output(path, id, &out, NULL, NULL, &nrows);
    CHECK(nrows == 3 && out.n == 12 && memcmp(out.p, "hello world!", 12) == 0);
    CHECK(q_int(path, "SELECT output_bytes FROM trajectories WHERE uuid='r'") == 12);
    CHECK(q_int(path, "SELECT max(seq) FROM output") == 2);
    free(out.p);
    store_close(s);
}

/* 16. kill -9 mid-stream: everything flushed before is there, byte exact. */
static void chunk_for(int i, unsigned char *p, size_t *n)
{
    *n = 100 + (size_t)(i * 37) % 900;
    for (size_t k = 0; k < *n; k++)
        p[k] = (unsigned char)(i * 31 + k * 7);
}

static void t_crash_kill9(void)
{
    const char *path = tpath("store.db");
    int fds[2], flushed = -1, v;
    pid_t pid;

    CHECK(pipe(fds) == 0);
    pid = fork(); /* before anything is opened in this process */
    CHECK(pid >= 0);
    if (pid == 0) {
        struct store *s = open_ok(path, STORE_CREATE);
        struct sd_err err = {0};
        unsigned char p[1000];
        size_t n;
        int64_t id = new_traj(s, "crash");

        store_set_output_caps(s, (size_t)1 << 30, (size_t)1 << 30);
        close(fds[0]);
        CHECK(id == 1);
        for (int i = 0;; i++) {
            chunk_for(i, p, &n);
            store_output_append(s, id, 1 + i % 2, p, n);
            if (i % 100 == 99) {
                CHECK_OK(store_flush(s, &err), &err);
                CHECK(write(fds[1], &i, sizeof i) == sizeof i);
            }
        }
    }
    close(fds[1]);
    for (int k = 0; k < 30; k++) {
        CHECK(read(fds[0], &v, sizeof v) == sizeof v);
        flushed = v;
    }
    kill(pid, SIGKILL);
    waitpid(pid, &v, 0);
    CHECK(WIFSIGNALED(v) && WTERMSIG(v) == SIGKILL);
    close(fds[0]);

    {
        struct buf out = {0};
        size_t nrows, want = 0, n;
        unsigned char p[1000];
        char ok[32];
        q_text(path, "PRAGMA integrity_check", ok, sizeof ok);
        CHECK(strcmp(ok, "ok") == 0);
        read_output(path, 1, &out, NULL, NULL, &nrows);
        CHECK(nrows >= (size_t)flushed + 1);
        for (int i = 0; i < (int)nrows; i++) {
            chunk_for(i, p, &n);
            CHECK(want + n <= out.n && memcmp(out.p + want, p, n) == 0);
            want += n;
        }
        CHECK(want == out.n);
        free(out.p);
        /* The store opens again and works. */
        struct store *s = open_ok(path, 0);
        submit_run(s, 1);
        store_close(s);
        CHECK(q_int(path, "SELECT count(*) FROM runs") == 1);
    }
}

/* 17. Two processes write the same store at once; both succeed. */
static void t_two_processes(void)
{
    const char *path = tpath("store.db");
    pid_t pid[2];
    int st;

    for (int k = 0; k < 2; k++) {
        pid[k] = fork();
        CHECK(pid[k] >= 0);
        if (pid[k] == 0) {
            struct store *s = open_ok(path, STORE_CREATE);
            struct sd_err err = {0};
            for (int i = 0; i < 20000; i++) {
                submit_run(s, k * 100000 + i);
                if (i % 1000 == 999)
                    CHECK_OK(store_flush(s, &err), &err);
            }
            store_close(s);
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) {
        CHECK(waitpid(pid[k], &st, 0) == pid[k]);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    CHECK(q_int(path, "SELECT count(*) FROM runs") == 40000);
    CHECK(q_int(path, "SELECT count(*) FROM runs WHERE started_at < 100000") == 20000);
    CHECK(q_int(path, "SELECT count(*) FROM meta WHERE key='store_id'") == 1);
}

/* 18. FTS5 finds a trajectory by a word of its description, and follows
 * updates and deletes. */
static const char sql_set_desc[] = "UPDATE trajectories SET description=? WHERE id=?";
static const char sql_del_traj[] = "DELETE FROM trajectories WHERE id=?";
struct upd {
    const char *text;
    int64_t id;
};

static int upd_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct upd *u = arg;
    sqlite3_stmt *st = store_stmt(s, u->text != NULL ? sql_set_desc : sql_del_traj, err);
    if (st == NULL)
        return -1;
    if (u->text != NULL) {
        sqlite3_bind_text(st, 1, u->text, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, u->id);
    } else {
        sqlite3_bind_int64(st, 1, u->id);
    }
    return sqlite3_step(st) == SQLITE_DONE ? 0 : sd_err_set(err, SD_EENV, "%s", sqlite3_errmsg(db));
}

static void t_fts(void)
{
    const char *path = tpath("store.db");
    struct store *s = open_ok(path, STORE_CREATE);
    struct sd_err err = {0};
    struct traj a = {"a", "momentum", "ACME", "succeeded", "breakout above resistance", 1, 0};
    struct traj b = {"b", "meanrev", "INIT", "failed", "fade the gap at open", -1, 0};
    struct upd u;

    CHECK_OK(store_call(s, ins_traj_job, &a, &err), &err);
    CHECK_OK(store_call(s, ins_traj_job, &b, &err), &err);
    CHECK_OK(store_flush(s, &err), &err);
    CHECK(q_int(path, "SELECT rowid FROM traj_fts WHERE traj_fts MATCH 'breakout'") == a.id);
    CHECK(q_int(path, "SELECT rowid FROM traj_fts WHERE traj_fts MATCH 'gap'") == b.id);
    CHECK(q_int(path, "SELECT rowid FROM traj_fts WHERE traj_fts MATCH 'symbol:INIT'") == b.id);
    CHECK(q_int(path, "SELECT count(*) FROM traj_fts WHERE traj_fts MATCH 'nothing'") == 0);
    u = (struct upd){"pullback entry", a.id};
    CHECK_OK(store_call(s, upd_job, &u, &err), &err);
    u = (struct upd){NULL, b.id};
    CHECK_OK(store_call(s, upd_job, &u, &err), &err);
    CHECK_OK(store_flush(s, &err), &err);
    CHECK(q_int(path, "SELECT count(*) FROM traj_fts WHERE traj_fts MATCH 'breakout'") == 0);
    CHECK(q_int(path, "SELECT rowid FROM traj_fts WHERE traj_fts MATCH 'pullback'") == a.id);
    CHECK(q_int(path, "SELECT count(*) FROM traj_fts WHERE traj_fts MATCH 'gap'") == 0);
    /* The stats table followed too. */
    CHECK(q_int(path, "SELECT n FROM traj_stats WHERE strategy='momentum'") == 1);
    CHECK(q_int(path, "SELECT n FROM traj_stats WHERE strategy='meanrev'") == 0);
    CHECK(q_int(path, "SELECT ok FROM traj_stats WHERE strategy='momentum'") == 1);
    store_close(s);
    CHECK(q_int(path, "SELECT count(*) FROM traj_fts WHERE traj_fts MATCH 'pullback'") == 1);
}

/* 19. A job that fails half-way rolls back its own savepoint; the batch and
 * the store go on; the error reaches the caller or the stats. */
static const char sql_pair_run[] = "INSERT INTO runs(id, kind, started_at) VALUES (?, 'pair', 0)";
static const char sql_pair_traj[] =
    "INSERT INTO trajectories(uuid, run_id, strategy, provider, status, created_at)"
    " VALUES (?, ?, 'momentum', 'local', 'queued', 0)";

/* Insert run k and its trajectory "p<k>" together or not at all; uuid
 * "p<fail>" already exists, so that pair fails on its second row. */
static int pair_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    int64_t k = *(int64_t *)arg;
    char uuid[32];
    sqlite3_stmt *st;

    snprintf(uuid, sizeof uuid, "p%lld", (long long)(k < 0 ? -k : k));
    if (sqlite3_exec(db, "SAVEPOINT pair", NULL, NULL, NULL) != SQLITE_OK)
        return sd_err_set(err, SD_EENV, "%s", sqlite3_errmsg(db));
    if ((st = store_stmt(s, sql_pair_run, err)) == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, k < 0 ? 1000000 - k : k);
    if (sqlite3_step(st) != SQLITE_DONE) {
        sd_err_set(err, SD_EENV, "%s", sqlite3_errmsg(db));
        goto fail;
    }
    if ((st = store_stmt(s, sql_pair_traj, err)) == NULL)
        goto fail;
    sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, k < 0 ? 1000000 - k : k);
    if (sqlite3_step(st) != SQLITE_DONE) {
        sd_err_set(err, SD_EENV, "%s", sqlite3_errmsg(db));
        goto fail;
    }
    sqlite3_reset(st);
    if (sqlite3_exec(db, "RELEASE pair", NULL, NULL, NULL) != SQLITE_OK) {
        sd_err_set(err, SD_EENV, "%s", sqlite3_errmsg(db));
        goto fail;
    }
    return 0;
fail:
    if (!sqlite3_get_autocommit(db)) {
        sqlite3_exec(db, "ROLLBACK TO pair", NULL, NULL, NULL);
        sqlite3_exec(db, "RELEASE pair", NULL, NULL, NULL);
    }
    return -1;
}

static void submit_pair(struct store *s, int64_t k)
{
    int64_t *a = malloc(sizeof *a);
    *a = k;
    CHECK(store_submit(s, pair_job, a, free) == 0);
}

static void check_pairs(const char *path)
{
    char ok[32];
    q_text(path, "PRAGMA integrity_check", ok, sizeof ok);
    CHECK(strcmp(ok, "ok") == 0);
    CHECK(q_int(path, "PRAGMA foreign_key_check") == -1); /* no rows */
    /* Every pair run has exactly its trajectory, and vice versa. */
    CHECK(q_int(path, "SELECT count(*) FROM runs r WHERE kind='pair' AND NOT EXISTS"
                      " (SELECT 1 FROM trajectories t WHERE t.run_id=r.id)") == 0);
    CHECK(q_int(path, "SELECT count(*) FROM trajectories t WHERE uuid LIKE 'p%' AND NOT EXISTS"
                      " (SELECT 1 FROM runs r WHERE r.id=t.run_id)") == 0);
    CHECK(q_int(path, "SELECT count(*) FROM traj_stats") <= 1);
    CHECK(q_int(path, "SELECT coalesce(sum(n),0) FROM traj_stats") ==
          q_int(path, "SELECT count(*) FROM trajectories"));
}

static void t_job_fault(void)
{
    const char *path = tpath("store.db");
    struct store *s = open_ok(path, STORE_CREATE);
    struct sd_err err = {0};
    struct store_stats st;
    int64_t k = -5;

    for (int64_t i = 1; i <= 10; i++)
        submit_pair(s, i);
    CHECK_OK(store_flush(s, &err), &err);
    /* The 6th pair: run 1000005 inserts, then trajectory "p5" collides. */
    CHECK(store_call(s, pair_job, &k, &err) == -1);
    CHECK(strstr(err.msg, "UNIQUE") != NULL);
    submit_pair(s, -7); /* async failure: counted, and never silent */
    for (int64_t i = 11; i <= 20; i++)
        submit_pair(s, i);
    /* The batch itself commits, but the lost write is reported, once. */
    CHECK(store_flush(s, &err) == -1 && strstr(err.msg, "UNIQUE") != NULL);
    CHECK(store_write_failures(s, NULL) == 1);
    CHECK_OK(store_flush(s, &err), &err);
    store_get_stats(s, &st);
    CHECK(st.job_errors == 2 && st.commit_errors == 0);
    CHECK(strstr(st.last_error, "UNIQUE") != NULL);
    store_close(s);
    CHECK(q_int(path, "SELECT count(*) FROM runs") == 20);
    CHECK(q_int(path, "SELECT count(*) FROM runs WHERE id > 1000000") == 0);
    check_pairs(path);
}

/* 20. Fail SQLite's Nth allocation for N = 1, 2, ... during a workload of
 * calls, submits and a flush. Afterwards: the store is consistent, every
 * pair whose job reported success (or whose batch was not reported lost) is
 * there, a failure was reported whenever rows are missing, and the store
 * still works. */
static int fault_at = -1, fault_count, fault_hit;
static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static sqlite3_mem_methods real_mem;

static int fault_now(void)
{
    int fail = 0;
    pthread_mutex_lock(&fault_lock);
    if (fault_at >= 0 && ++fault_count == fault_at) {
        fail = 1;
        fault_hit = 1;
    }
    pthread_mutex_unlock(&fault_lock);
    return fail;
}

static void *fault_malloc(int n)
{
    return fault_now() ? NULL : real_mem.xMalloc(n);
}

static void *fault_realloc(void *p, int n)
{
    return fault_now() ? NULL : real_mem.xRealloc(p, n);
}

static void fault_arm(int at)
{
    pthread_mutex_lock(&fault_lock);
    fault_at = at;
    fault_count = 0;
    fault_hit = 0;
    pthread_mutex_unlock(&fault_lock);
}

static void t_malloc_fault(void)
{
    sqlite3_mem_methods m;
    int n;

    CHECK(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem) == SQLITE_OK);
    m = real_mem;
    m.xMalloc = fault_malloc;
    m.xRealloc = fault_realloc;
    CHECK(sqlite3_config(SQLITE_CONFIG_MALLOC, &m) == SQLITE_OK);
    /* Lookaside would hide most small allocations from the hook. */
    CHECK(sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0) == SQLITE_OK);

    for (n = 1; n < 5000; n++) {
        const char *path = tpath("fault.db");
        struct store *s = open_ok(path, STORE_CREATE);
        struct sd_err err = {0};
        struct store_stats st;
        int64_t base = (int64_t)n * 100, k;
        int reported = 0, call_ok, hit;
        long long have;
        char sql[160];

        fault_arm(n);
        k = base + 1;
        call_ok = store_call(s, pair_job, &k, &err) == 0;
        reported |= !call_ok;
        for (int i = 2; i <= 6; i++)
            submit_pair(s, base + i);
        store_output_append(s, 1, 1, "some output", 11);
        if (store_flush(s, &err) != 0) {
            CHECK(err.code == SD_EENV || err.code == SD_ENOMEM);
            reported = 1;
        }
        hit = fault_hit;
        fault_arm(-1);
        store_get_stats(s, &st);
        reported |= st.job_errors > 0 || st.commit_errors > 0;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM runs WHERE id BETWEEN %lld AND %lld",
                 (long long)base + 1, (long long)base + 6);
        have = q_int(path, sql);
        CHECK(have >= 0 && have <= 6);
        if (have < 6)
            CHECK(reported);
        check_pairs(path);
        /* Still works. */
        k = base + 50;
        CHECK_OK(store_call(s, pair_job, &k, &err), &err);
        CHECK_OK(store_flush(s, &err), &err);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM runs WHERE id=%lld", (long long)k);
        CHECK(q_int(path, sql) == 1);
        store_close(s);
        check_pairs(path);
        unlink(path);
        unlink(tpath("fault.db-wal"));
        unlink(tpath("fault.db-shm"));
        if (!hit)
            break;
        if (getenv("STORE_TEST_VERBOSE"))
            fprintf(stderr, "fault %d: reported=%d have=%lld\n", n, reported, have);
    }
    CHECK(n > 20); /* the workload did allocate, and every fault was survived */
    fprintf(stderr, "malloc_fault: %d fault points survived\n", n - 1);
}

/* 21. Leases: durable on return, listed back field for field, removable. */
static void t_leases(void)
{
    const char *path = tpath("store.db");
    struct store *s = open_ok(path, STORE_CREATE);
    struct sd_err err = {0};
    struct store_lease l = {0}, *v;
    size_t n;

    for (int i = 0; i < 3; i++) {
        snprintf(l.sandbox_id, sizeof l.sandbox_id, "sbx-%d", i);
        l.traj_id = i;
        snprintf(l.provider, sizeof l.provider, "%s", i == 2 ? "e2b" : "local");
        l.pid = 1000 + i;
        l.pid_start = 123456789012u + (uint64_t)i;
        l.owner_pid = getpid();
        l.owner_start = 42;
        snprintf(l.workdir, sizeof l.workdir, "/tmp/w%d", i);
        l.created_at = 1700000000000 + i;
        CHECK_OK(store_lease_add(s, &l, &err), &err);
        /* Durable now: another connection sees it. */
        CHECK(q_int(path, "SELECT count(*) FROM leases") == i + 1);
    }
    CHECK(store_lease_add(s, &l, &err) == -1 && strstr(err.msg, "UNIQUE") != NULL);
    CHECK_OK(store_lease_list(s, &v, &n, &err), &err);
    CHECK(n == 3);
    CHECK(strcmp(v[1].sandbox_id, "sbx-1") == 0 && v[1].traj_id == 1);
    CHECK(strcmp(v[2].provider, "e2b") == 0 && v[2].pid == 1002);
    CHECK(v[2].pid_start == 123456789014u && v[2].owner_pid == getpid());
    CHECK(v[0].owner_start == 42 && strcmp(v[0].workdir, "/tmp/w0") == 0);
    CHECK(v[0].traj_id == 0 && v[2].created_at == 1700000000002);
    free(v);
    CHECK(store_lease_remove(s, "sbx-1") == 0);
    CHECK_OK(store_flush(s, &err), &err);
    CHECK_OK(store_lease_list(s, &v, &n, &err), &err);
    CHECK(n == 2 && strcmp(v[0].sandbox_id, "sbx-0") == 0 && strcmp(v[1].sandbox_id, "sbx-2") == 0);
    free(v);
    store_close(s);
    /* Read-only stores list leases too. */
    s = open_ok(path, STORE_READONLY);
    CHECK_OK(store_lease_list(s, &v, &n, &err), &err);
    CHECK(n == 2);
    free(v);
    store_close(s);
}

/* 22. An up-to-date store opens while another connection holds the write
 * lock the whole time (as a streaming swarm's writer nearly does): opening
 * needs no write, so it does not wait for the lock and fail after one busy
 * timeout. The write lock is held until the open has returned. */
static void t_open_while_locked(void)
{
    const char *path = tpath("store.db");
    struct store *s = open_ok(path, STORE_CREATE);
    sqlite3 *holder;

    store_close(s);
    CHECK(sqlite3_open(path, &holder) == SQLITE_OK);
    CHECK(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
    s = open_ok(path, STORE_CREATE);
    CHECK(sqlite3_exec(holder, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(holder);
    store_close(s);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"open_create_reopen", t_open_create_reopen},
    {"migrations_idempotent", t_migrations_idempotent},
    {"perms_umask0", t_perms_umask0},
    {"newer_schema", t_newer_schema},
    {"garbage_refused", t_garbage_refused},
    {"missing_refused", t_missing_refused},
    {"readonly", t_readonly},
    {"batching", t_batching},
    {"call_ids", t_call_ids},
    {"flush_durability", t_flush_durability},
    {"threads", t_threads},
    {"close_drains", t_close_drains},
    {"output_exact", t_output_exact},
    {"output_caps", t_output_caps},
    {"output_resume", t_output_resume},
    {"crash_kill9", t_crash_kill9},
    {"two_processes", t_two_processes},
    {"fts", t_fts},
    {"job_fault", t_job_fault},
    {"malloc_fault", t_malloc_fault},
    {"leases", t_leases},
    {"open_while_locked", t_open_while_locked},
};

static void run(size_t i)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char cmd[600];

    snprintf(tmpdir, sizeof tmpdir, "%s/store-test-XXXXXX", base);
    CHECK(mkdtemp(tmpdir) != NULL);
    tests[i].fn();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CHECK(system(cmd) == 0);
    printf("ok %s\n", tests[i].name);
}

int main(int argc, char **argv)
{
    size_t n = sizeof tests / sizeof tests[0];

    if (argc > 1) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(argv[1], tests[i].name) == 0) {
                run(i);
                return 0;
            }
        fprintf(stderr, "unknown test %s\n", argv[1]);
        return 2;
    }
    for (size_t i = 0; i < n; i++) {
        /* Each test in its own process: forks and allocator hooks stay local. */
        pid_t pid = fork();
        int st;
        if (pid == 0) {
            run(i);
            _exit(0);
        }
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 1;
    }
    return 0;
}
