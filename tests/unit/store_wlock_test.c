/*
 * store_wlock_test.c: a store whose writer streams output without pause must
 * leave SQLite's write lock to other processes writing the same file (a
 * `cleanup`, a second deploy, `rekey`, a `sync` import), so that their
 * writes get the lock within one busy timeout instead of failing with
 * "database is locked".
 *
 * Process A (a forked child) opens the store, makes a trajectory and appends
 * output chunks to it continuously, paced like a chatty strategy, until the
 * parent tells it to stop. Process B (the parent) meanwhile writes the same
 * file N times in two ways: a plain SQLite connection whose one BEGIN
 * IMMEDIATE must get the lock within its busy timeout (SQLite's own deadline:
 * SQLITE_BUSY is a failure), and a struct store of its own whose store_call
 * (a trajectory insert) and store_flush must succeed. Failures are counted;
 * nothing here measures time. A's committed output must grow while B writes,
 * so the contention really happened.
 *
 * Usage: test-store-wlock [CASE]
 */
#define _GNU_SOURCE
#define TMPSTORE_PREFIX "swarmdeck-wlock"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "store.h"
#include "tmpstore.h"
#include "traj.h"
#include "util.h"

#define B_WRITES     30    /* B's writes of each kind */
#define B_BUSY_MS    1000  /* the plain connection's busy timeout: its deadline */
#define B_GIVE_UP    3     /* failures after which B stops (the test has failed) */
#define B_MAX_WRITES 20000 /* B's writes of each kind at most */
#define A_MOVES      3     /* A's commits that B must see between its writes */
#define A_READY_S    60    /* deadline for A to start streaming */
#define A_LIMIT_S    600   /* A stops by itself after this, should B die */

/* Process A: stream output into a fresh trajectory of the store at p until
 * a byte (or EOF) arrives on stop_fd; one byte on ready_fd once the first
 * chunks are committed. Exits 0, or 1 when a write failed. */
static void streamer(const char *p, int ready_fd, int stop_fd)
{
    struct store *s = NULL;
    struct sd_err err = {0};
    struct traj_new t = {.strategy = "probe", .symbol = "X", .params = "{}", .provider = "local"};
    char uuid[37], line[96];
    uint64_t limit = sd_mono_ns() + (uint64_t)A_LIMIT_S * 1000000000u;
    int64_t id;
    int rc = 0;

    if (store_open(p, 0, &s, &err) != 0) {
        fprintf(stderr, "A: store_open: %s\n", err.msg);
        _exit(1);
    }
    traj_uuid(uuid);
    t.uuid = uuid;
    if ((id = traj_insert(s, &t, &err)) <= 0) {
        fprintf(stderr, "A: traj_insert: %s\n", err.msg);
        _exit(1);
    }
    for (unsigned long n = 0;; n++) {
        int len = snprintf(line, sizeof line, "tick %lu price 101.25 position 3 pnl -0.5\n", n);
        if (store_output_append(s, id, 1 + (n % 7 == 0), line, (size_t)len) != 0) {
            fprintf(stderr, "A: store_output_append failed\n");
            rc = 1;
            break;
        }
        if (n == 200) {
            if (store_flush(s, &err) != 0) {
                fprintf(stderr, "A: store_flush: %s\n", err.msg);
                rc = 1;
                break;
            }
            if (write(ready_fd, "r", 1) != 1)
                break;
        }
        if (n % 64 == 0) {
            struct pollfd pf = {.fd = stop_fd, .events = POLLIN};
            if (poll(&pf, 1, 0) != 0 || sd_mono_ns() > limit)
                break;
        }
        /* Pacing, not timing: a chatty strategy prints a line every so
         * often; the writer must not need the lock all the time. */
        struct timespec ts = {0, 100 * 1000};
        nanosleep(&ts, NULL);
    }
    if (store_flush(s, &err) != 0) {
        fprintf(stderr, "A: store_flush: %s\n", err.msg);
        rc = 1;
    }
    store_close(s);
    _exit(rc);
}

/* A's committed output bytes (the counters are written with each commit);
 * -1 when the read failed. */
static int64_t a_output(const char *p)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;

    if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db,
                           "SELECT coalesce(sum(output_bytes), 0) FROM trajectories"
                           " WHERE strategy = 'probe'",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* One ordinary write on a plain connection with busy timeout B_BUSY_MS.
 * Returns 0, or -1 after printing SQLite's message. */
static int plain_write(const char *p, int i)
{
    sqlite3 *db = NULL;
    char sql[160];
    int rc;

    snprintf(sql, sizeof sql,
             "BEGIN IMMEDIATE; INSERT INTO runs(kind, started_at, spec) VALUES"
             " ('cleanup', %d, 'wlock'); COMMIT",
             i + 1);
    rc = sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, B_BUSY_MS);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK)
        fprintf(stderr, "B: plain write %d: %s\n", i, sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

/* One trajectory insert (store_call) and a flush through B's own store.
 * Returns 0, or -1 after printing the error. */
static int store_write(struct store *s, int i)
{
    struct sd_err err = {0};
    struct traj_new t = {.strategy = "wlock-b", .symbol = "Y", .params = "{}", .provider = "local"};
    char uuid[37];

    traj_uuid(uuid);
    t.uuid = uuid;
    if (traj_insert(s, &t, &err) <= 0 || store_flush(s, &err) != 0) {
        fprintf(stderr, "B: store write %d: %s\n", i, err.msg);
        return -1;
    }
    return 0;
}

static int64_t q_int(const char *p, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;

    if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* B writes while A streams: no write of B fails. */
static void t_streaming_neighbour(void)
{
    struct store *s = store_new(); /* creates and migrates the file */
    struct store *b = NULL;
    struct sd_err err = {0};
    int ready[2], stop[2], st, fails = 0, plain_ok = 0, store_ok = 0;
    int64_t before, after, last, now;
    int moves = 0;
    char c;
    pid_t pid;

    /* Fork with no thread running: close the creator's store first. */
    store_close(s);
    CHECK(pipe(ready) == 0 && pipe(stop) == 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(ready[0]);
        close(stop[1]);
        streamer(path, ready[1], stop[0]);
    }
    close(ready[1]);
    close(stop[0]);

    struct pollfd pf = {.fd = ready[0], .events = POLLIN};
    CHECK(poll(&pf, 1, A_READY_S * 1000) == 1 && read(ready[0], &c, 1) == 1);
    CHECK(store_open(path, 0, &b, &err) == 0);
    /* B writes B_WRITES times of each kind, and on until A has committed
     * output between B's writes A_MOVES times (B_MAX_WRITES at most), so
     * the two really contended. */
    before = last = a_output(path);
    for (int i = 0;
         b != NULL && fails < B_GIVE_UP && i < B_MAX_WRITES && (i < B_WRITES || moves < A_MOVES);
         i++) {
        if (plain_write(path, i) == 0)
            plain_ok++;
        else
            fails++;
        if (store_write(b, i) == 0)
            store_ok++;
        else
            fails++;
        now = a_output(path);
        moves += now > last;
        last = now;
    }
    after = a_output(path);
    if (b != NULL)
        store_close(b);

    CHECK(write(stop[1], "s", 1) == 1);
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(ready[0]);
    close(stop[1]);

    fprintf(stderr,
            "B: %d plain and %d store writes; A's output %lld -> %lld bytes, %d commits seen\n",
            plain_ok, store_ok, (long long)before, (long long)after, moves);
    CHECK(fails == 0);
    CHECK(plain_ok >= B_WRITES && store_ok == plain_ok);
    /* A committed output while B wrote: the two really contended. */
    CHECK(before > 0 && after > before && moves >= A_MOVES);
    CHECK(q_int(path, "SELECT count(*) FROM runs WHERE spec = 'wlock'") == plain_ok);
    CHECK(q_int(path, "SELECT count(*) FROM trajectories WHERE strategy = 'wlock-b'") == store_ok);
    (void)store_gone; /* the store was closed before the fork */
    if (sd_rm_rf(dir) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"streaming_neighbour", t_streaming_neighbour},
    };
    signal(SIGPIPE, SIG_IGN);
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
