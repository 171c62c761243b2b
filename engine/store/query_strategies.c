/*
 * query_strategies.c: the user strategies' manifests (table strategies),
 * read by the catalog and export, written by the catalog (query.h has the
 * contracts). Built-in strategies are not stored: the runner lists them.
 */
#define _GNU_SOURCE
#include "query.h"

json_t *store_strategy_manifests(sqlite3 *db, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *arr;
    int step;

    if (sqlite3_prepare_v2(db, "SELECT manifest FROM strategies WHERE builtin = 0 ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK) {
        store_dberr(err, db, "store");
        return NULL;
    }
    arr = json_array();
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        json_error_t je;
        json_t *m = t ? json_loads(t, JSON_DECODE_ANY, &je) : json_null();
        json_array_append_new(arr, m ? m : json_string(t));
    }
    if (step != SQLITE_DONE) {
        store_dberr(err, db, "store");
        json_decref(arr);
        arr = NULL;
    }
    sqlite3_finalize(st);
    return arr;
}

struct put_job {
    const char *name, *manifest;
};

static int put_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct put_job *j = arg;
    sqlite3_stmt *st = store_stmt(s,
                                  "INSERT INTO strategies(name, manifest, builtin, added_at) "
                                  "VALUES(?1, ?2, 0, ?3) ON CONFLICT(name) DO UPDATE SET "
                                  "manifest = excluded.manifest, added_at = excluded.added_at, "
                                  "builtin = 0",
                                  err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, j->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->manifest, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, sd_now_ms());
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_dberr(err, db, "store");
    return 0;
}

int store_strategy_put(struct store *s, const char *name, const char *manifest, struct sd_err *err)
{
    struct put_job j = {name, manifest};

    if (store_call(s, put_fn, &j, err) != 0)
        return -1;
    return store_flush(s, err);
}
