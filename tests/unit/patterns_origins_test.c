/*
 * patterns_origins_test.c: the origins `patterns --json` prints without -s
 * (engine/store/query_origins.h store_strategy_origins with strategy NULL,
 * issue 15): the same answer as store_fleet_origins(db, NULL), which
 * `patterns --json` used before and which read every page of the table, and
 * answered from the covering index traj_strategy_origin with no sort.
 */
#define _GNU_SOURCE
#define TMPSTORE_PREFIX "swarmdeck-patt-origins"
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

/* Every strategy at once: the same array, element for element, as
 * store_fleet_origins; and on an empty store an empty one. */
static void t_all(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    sqlite3 *db;
    json_t *want, *got;
    CHECK((got = store_strategy_origins(s, NULL, &err)) != NULL && json_array_size(got) == 0);
    json_decref(got);
    fill();
    CHECK((db = store_reader(s, &err)) != NULL);
    want = store_fleet_origins(db, NULL, &err);
    got = store_strategy_origins(s, NULL, &err);
    CHECK(want != NULL && got != NULL);
    if (want && got && !json_equal(want, got)) {
        char *a = json_dumps(want, 0), *b = json_dumps(got, 0);
        fprintf(stderr, "want %s\ngot  %s\n", a, b);
        free(a);
        free(b);
        CHECK(0);
    }
    /* local first, then alpha (most), then the rest: four origins */
    CHECK(json_array_size(got) == 4 &&
          json_is_null(json_object_get(json_array_get(got, 0), "origin")));
    json_decref(want);
    json_decref(got);
    sqlite3_close_v2(db);
    store_gone(s);
}

/* The plan walks the covering index in its own order: no table scan, no
 * temporary b-tree for the grouping. */
static void t_plan(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    sqlite3 *db;
    sqlite3_stmt *st = NULL;
    char *q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", store_all_origins_sql);
    int covering = 0, bad = 0;
    fill();
    CHECK((db = store_reader(s, &err)) != NULL);
    CHECK(db != NULL && sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK);
    while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 3);
        fprintf(stderr, "plan: %s\n", d);
        covering |= strstr(d, "COVERING INDEX traj_strategy_origin") != NULL;
        bad |= strncmp(d, "SCAN trajectories", 17) == 0 && strstr(d, "INDEX") == NULL;
        bad |= strstr(d, "TEMP B-TREE") != NULL;
    }
    CHECK(covering && !bad);
    sqlite3_finalize(st);
    sqlite3_free(q);
    sqlite3_close_v2(db);
    store_gone(s);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {{"all", t_all}, {"plan", t_plan}};
    return check_main(cases, sizeof cases / sizeof *cases, argc, argv);
}
