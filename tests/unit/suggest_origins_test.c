/*
 * suggest_origins_test.c: the origins a cold `suggest --json` prints
 * (engine/store/query_origins.h, issue 15): the same answer as
 * store_fleet_origins on a store of several strategies, origins and states,
 * and answered from the covering index of migration 6, never a scan of
 * the table (which cost 70 ms of a 160 ms cold suggest at 100 k rows).
 */
#define _GNU_SOURCE
#define TMPSTORE_PREFIX "swarmdeck-sugg-origins"
#include <sqlite3.h>
#include <string.h>

#include "check.h"
#include "fleet_store.h"
#include "query_origins.h"
#include "tmpstore.h"

/* Insert rows with sqlite on the file: strategy i % 3, a status from the
 * finished and unfinished ones, an origin from NULL and three hosts with
 * different counts. */
static void fill(void)
{
    static const char *strat[] = {"momentum", "mean-reversion", "breakout"};
    static const char *status[] = {"succeeded",   "failed",  "timeout", "cancelled",
                                   "interrupted", "running", "queued"};
    static const char *origin[] = {NULL, "alpha", "beta", NULL, "gamma", NULL, "alpha"};
    sqlite3 *db;
    sqlite3_stmt *st;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    CHECK(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(
        sqlite3_prepare_v2(db,
                           "INSERT INTO trajectories(uuid, strategy, provider, status, created_at,"
                           " origin) VALUES (?1, ?2, 'local', ?3, ?4, ?5)",
                           -1, &st, NULL) == SQLITE_OK);
    for (int i = 0; i < 2000; i++) {
        char uuid[32];
        snprintf(uuid, sizeof uuid, "u-%d", i);
        sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, strat[i % 3], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, status[(i / 3) % 7], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, 1700000000000 + i);
        if (origin[(i / 5) % 7])
            sqlite3_bind_text(st, 5, origin[(i / 5) % 7], -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 5);
        CHECK(sqlite3_step(st) == SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
}

/* The same answer as store_fleet_origins, strategy by strategy (and for one
 * the store never ran: an empty array). */
static void t_same(void)
{
    static const char *names[] = {"momentum", "mean-reversion", "breakout", "none-such"};
    struct store *s = store_new();
    struct sd_err err = {0};
    sqlite3 *db;
    fill();
    CHECK((db = store_reader(s, &err)) != NULL);
    for (size_t k = 0; db != NULL && k < sizeof names / sizeof *names; k++) {
        json_t *want = store_fleet_origins(db, names[k], &err);
        json_t *got = store_strategy_origins(s, names[k], &err);
        CHECK(want != NULL && got != NULL && json_equal(want, got));
        if (k < 3) /* local and three hosts */
            CHECK(json_array_size(got) == 4 &&
                  json_is_null(json_object_get(json_array_get(got, 0), "origin")));
        else
            CHECK(json_array_size(got) == 0);
        json_decref(want);
        json_decref(got);
    }
    sqlite3_close_v2(db);
    store_gone(s);
}

/* Answered from the index alone: the plan searches the covering index and
 * never scans the table. */
static void t_plan(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    char *q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", store_strategy_origins_sql);
    int covering = 0, scan = 0;
    fill();
    CHECK((db = store_reader(s, &err)) != NULL);
    CHECK(db != NULL && sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_text(st, 1, "momentum", -1, SQLITE_STATIC);
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 3);
        fprintf(stderr, "plan: %s\n", d);
        covering |= strstr(d, "COVERING INDEX traj_strategy_origin") != NULL;
        scan |= strncmp(d, "SCAN trajectories", 17) == 0;
    }
    CHECK(covering && !scan);
    sqlite3_finalize(st);
    sqlite3_free(q);
    sqlite3_close_v2(db);
    store_gone(s);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {{"same", t_same}, {"plan", t_plan}};
    return check_main(cases, sizeof cases / sizeof *cases, argc, argv);
}
