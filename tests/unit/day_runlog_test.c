/*
 * day_runlog_test.c: engine/store/runlog.c on a real temporary store, headless.
 *
 * Two trajectories get output chunks whose stored times the test then sets (UPDATE output SET
 * t), so the written order is known exactly: lines come out sorted by time across both, a
 * line cut across chunks comes out once, whole, with the time of the chunk that ended it, a
 * second round hands out only what was added since, a stream left out is skipped, and flush
 * hands out an unterminated tail. A follower's round holds back its latest millisecond while
 * it is recent (hold).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#define TMPSTORE_PREFIX "swarmdeck-runlog-test"
#include "check.h"
#include "query.h"
#include "runlog.h"
#include "tmpstore.h"
#include "traj.h"

static char got[4096];

static int line(void *arg, int64_t id, int stream, int64_t t_ms, const char *l, size_t len)
{
    size_t n = strlen(got);
    (void)arg;
    snprintf(got + n, sizeof got - n, "%lld/%d/%lld:%.*s|", (long long)id, stream, (long long)t_ms,
             (int)len, l);
    return 0;
}

static int64_t traj(struct store *s, const char *uuid)
{
    struct sd_err err = {0};
    struct traj_new t = {
        .uuid = uuid, .strategy = "momentum", .symbol = "SPY", .params = "{}", .provider = "local"};
    int64_t id = traj_insert(s, &t, &err);
    CHECK(id > 0);
    return id;
}

/* Set the time of chunk seq of id (a writer's clock would make ties). */
static void at(int64_t id, int seq, int64_t t)
{
    sqlite3 *db;
    char sql[160];
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    snprintf(sql, sizeof sql, "UPDATE output SET t = %lld WHERE traj_id = %lld AND seq = %d",
             (long long)t, (long long)id, seq);
    CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
}

static void test_merge(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    int64_t a = traj(s, "00000000-0000-4000-8000-00000000000a"),
            b = traj(s, "00000000-0000-4000-8000-00000000000b");
    struct runlog *rl = runlog_new(3);
    sqlite3 *db;

    store_output_append(s, a, 1, "a1\na2-", 6); /* a's seq 0: t 10 */
    store_output_append(s, b, 1, "b1\n", 3);    /* b's seq 0: t 15 */
    store_output_append(s, a, 1, "end\n", 4);   /* a's seq 1: t 20, ends "a2-end" */
    store_output_append(s, b, 2, "e1\n", 3);    /* b's seq 1: t 5, stderr */
    store_flush(s, NULL);
    at(a, 0, 10);
    at(b, 0, 15);
    at(a, 1, 20);
    at(b, 1, 5);
    CHECK((db = store_reader(s, &err)) != NULL);
    CHECK(runlog_add(rl, a) == 0 && runlog_add(rl, b) == 1 && runlog_add(rl, a) == 0);
    got[0] = '\0';
    CHECK(runlog_round(rl, db, 0, line, NULL, &err) == 0);
    char want[256];
    snprintf(want, sizeof want, "%lld/2/5:e1\n|%lld/1/10:a1\n|%lld/1/15:b1\n|%lld/1/20:a2-end\n|",
             (long long)b, (long long)a, (long long)b, (long long)a);
    CHECK(strcmp(got, want) == 0);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "got  %s\nwant %s\n", got, want);

    /* Only what is new; a tail without a newline waits for flush. */
    store_output_append(s, b, 1, "b2\nb3", 5);
    store_flush(s, NULL);
    at(b, 2, 30);
    got[0] = '\0';
    CHECK(runlog_round(rl, db, 0, line, NULL, &err) == 0);
    snprintf(want, sizeof want, "%lld/1/30:b2\n|", (long long)b);
    CHECK(strcmp(got, want) == 0);
    got[0] = '\0';
    CHECK(runlog_round(rl, db, 0, line, NULL, &err) == 0 && got[0] == '\0');
    CHECK(runlog_flush(rl, line, NULL) == 0);
    snprintf(want, sizeof want, "%lld/1/-1:b3|", (long long)b);
    CHECK(strcmp(got, want) == 0);
    runlog_free(rl);

    /* stdout only: the stderr line is skipped. */
    rl = runlog_new(1);
    runlog_add(rl, b);
    got[0] = '\0';
    CHECK(runlog_round(rl, db, 0, line, NULL, &err) == 0);
    CHECK(strstr(got, "e1") == NULL && strstr(got, "b1") != NULL);
    runlog_free(rl);
    runlog_free(NULL);
    sqlite3_close_v2(db);
    store_gone(s);
}

/* A follower's round (last 0) holds back its latest millisecond while it is recent: b's
 * chunk of millisecond T comes out only with a's chunk of the same T stored after it, and a's
 * first (the order one round over everything gives). T is an hour ahead, so it stays recent
 * however slow the machine; last 1 hands everything out. */
static void test_hold(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    int64_t a = traj(s, "00000000-0000-4000-8000-00000000001a"),
            b = traj(s, "00000000-0000-4000-8000-00000000001b");
    int64_t t = sd_now_ms() + 3600 * 1000;
    struct runlog *rl = runlog_new(3);
    char want[256];
    sqlite3 *db;

    store_output_append(s, b, 1, "b1\n", 3);
    store_output_append(s, a, 1, "a1\n", 3);
    store_flush(s, NULL);
    at(b, 0, t);
    at(a, 0, t - 5);
    CHECK((db = store_reader(s, &err)) != NULL);
    CHECK(runlog_add(rl, a) == 0 && runlog_add(rl, b) == 1);
    got[0] = '\0';
    CHECK(runlog_round(rl, db, 0, line, NULL, &err) == 0);
    snprintf(want, sizeof want, "%lld/1/%lld:a1\n|", (long long)a, (long long)(t - 5));
    CHECK(strcmp(got, want) == 0);

    /* a's chunk of the same millisecond, stored after b's: both held, then a's first. */
    store_output_append(s, a, 1, "a2\n", 3);
    store_flush(s, NULL);
    at(a, 1, t);
    got[0] = '\0';
    CHECK(runlog_round(rl, db, 0, line, NULL, &err) == 0 && got[0] == '\0');
    CHECK(runlog_round(rl, db, 1, line, NULL, &err) == 0);
    snprintf(want, sizeof want, "%lld/1/%lld:a2\n|%lld/1/%lld:b1\n|", (long long)a, (long long)t,
             (long long)b, (long long)t);
    CHECK(strcmp(got, want) == 0);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "got  %s\nwant %s\n", got, want);
    got[0] = '\0';
    CHECK(runlog_round(rl, db, 1, line, NULL, &err) == 0 && got[0] == '\0');
    runlog_free(rl);
    sqlite3_close_v2(db);
    store_gone(s);
}

/* store_run_trajs: a run's trajectories with their states; an unknown run is 1. */
static void test_run_trajs(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    int64_t *ids = NULL;
    int *states = NULL;
    size_t n = 9;
    sqlite3 *db;

    CHECK((db = store_reader(s, &err)) != NULL);
    CHECK(store_run_trajs(db, 42, &ids, &states, &n, &err) == 1 && n == 0 && ids == NULL);
    sqlite3_close_v2(db);
    store_gone(s);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"merge", test_merge},
        {"run_trajs", test_run_trajs},
        {"hold", test_hold},
    };
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
