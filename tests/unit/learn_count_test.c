/*
 * learn_count_test.c: the learning-row count the learner's saved index is
 * checked against (engine/store/query_learn.c store_learn_count, migration
 * 7's triggers; issue 15): always the number of succeeded, failed and
 * timed-out trajectories, through inserts, status changes both ways and
 * deletes, and right after the migration on a store that had rows before.
 *
 * Cases: triggers, migrate.
 */
#define _GNU_SOURCE
#define TMPSTORE_PREFIX "swarmdeck-learn-count"
#include <sqlite3.h>
#include <string.h>

#include "check.h"
#include "query.h"
#include "tmpstore.h"

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, msg);
        CHECK(0);
    }
    sqlite3_free(msg);
}

static int64_t direct(sqlite3 *db, int64_t after, int64_t *newer)
{
    sqlite3_stmt *st;
    int64_t n = -1;
    CHECK(sqlite3_prepare_v2(db,
                             "SELECT count(*), coalesce(sum(id > ?1), 0) FROM trajectories WHERE "
                             "status IN ('succeeded','failed','timeout')",
                             -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_int64(st, 1, after);
    if (sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
        *newer = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return n;
}

/* store_learn_count equals the direct count (total, and newer than 50). */
static void same(struct store *s, sqlite3 *db)
{
    struct sd_err err = {0};
    int64_t total = -1, newer = -1, want_newer = -2, want = direct(db, 50, &want_newer);
    CHECK(store_learn_count(s, 50, &total, &newer, &err) == 0);
    if (total != want || newer != want_newer)
        fprintf(stderr, "count %lld/%lld, want %lld/%lld\n", (long long)total, (long long)newer,
                (long long)want, (long long)want_newer);
    CHECK(total == want && newer == want_newer);
}

static void fill(sqlite3 *db, int from, int to)
{
    static const char *status[] = {"succeeded", "failed",      "timeout", "cancelled",
                                   "running",   "interrupted", "queued"};
    for (int i = from; i < to; i++) {
        char *q = sqlite3_mprintf("INSERT INTO trajectories(id, uuid, strategy, provider, status,"
                                  " created_at) VALUES (%d, 'u%d', 'momentum', 'local', '%q', %d)",
                                  i, i, status[i % 7], 1700000000 + i);
        exec(db, q);
        sqlite3_free(q);
    }
}

static void t_triggers(void)
{
    struct store *s = store_new();
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    same(s, db);
    fill(db, 1, 101);
    same(s, db);
    exec(db, "UPDATE trajectories SET status = 'succeeded' WHERE status IN ('running', 'queued')");
    same(s, db);
    exec(db, "UPDATE trajectories SET status = 'cancelled' WHERE id % 5 = 0");
    same(s, db);
    exec(db, "UPDATE trajectories SET status = 'failed' WHERE status = 'timeout'"); /* both learn */
    same(s, db);
    exec(db, "DELETE FROM trajectories WHERE id % 3 = 0");
    same(s, db);
    exec(db, "DELETE FROM trajectories");
    same(s, db);
    sqlite3_close(db);
    store_gone(s);
}

/* A store of the version before: rows already there are counted by the
 * migration itself. */
static void t_migrate(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    sqlite3 *db;
    char *q;
    store_close(s);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    exec(db, "DROP TRIGGER traj_learn_count_ins; DROP TRIGGER traj_learn_count_del;"
             " DROP TRIGGER traj_learn_count_upd; DROP TABLE learn_count;");
    fill(db, 1, 60);
    q = sqlite3_mprintf("UPDATE meta SET value = '%d' WHERE key = 'schema_version'",
                        STORE_SCHEMA_VERSION - 1);
    exec(db, q);
    sqlite3_free(q);
    sqlite3_close(db);
    CHECK(store_open(path, 0, &s, &err) == 0);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    same(s, db);
    fill(db, 60, 80);
    same(s, db);
    sqlite3_close(db);
    store_gone(s);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {{"triggers", t_triggers}, {"migrate", t_migrate}};
    return check_main(cases, sizeof cases / sizeof *cases, argc, argv);
}
