/*
 * query_bars.c: imported market bars (table bars), written by `data import`
 * through the catalog and read back by it (query.h has the contracts).
 *
 * A bar's open, high, low and volume may be NULL (a close-only file); the
 * reader hands those out as NAN, which a checked series never holds.
 */
#define _GNU_SOURCE
#include "query.h"

#include <math.h>

struct bars_job {
    const struct store_bars *b;
};

static int bind_opt(sqlite3_stmt *st, int i, const double *col, size_t k)
{
    return col ? sqlite3_bind_double(st, i, col[k]) : SQLITE_OK;
}

static int bars_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    const struct store_bars *b = ((struct bars_job *)arg)->b;
    sqlite3_stmt *del, *ins;
    int rc = -1;

    if (store_savepoint(db, "bars", err) != 0)
        return -1;
    if ((del = store_stmt(s, "DELETE FROM bars WHERE symbol = ?1", err)) == NULL)
        goto out;
    sqlite3_bind_text(del, 1, b->symbol, -1, SQLITE_STATIC);
    if (sqlite3_step(del) != SQLITE_DONE) {
        store_dberr(err, db, "store");
        goto out;
    }
    for (size_t i = 0; i < b->n; i++) {
        ins = store_stmt(s,
                         "INSERT INTO bars(symbol, date, open, high, low, close, volume) "
                         "VALUES(?1,?2,?3,?4,?5,?6,?7)",
                         err);
        if (ins == NULL)
            goto out;
        sqlite3_bind_text(ins, 1, b->symbol, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, b->date[i], -1, SQLITE_STATIC);
        bind_opt(ins, 3, b->open, i);
        bind_opt(ins, 4, b->high, i);
        bind_opt(ins, 5, b->low, i);
        sqlite3_bind_double(ins, 6, b->close[i]);
        bind_opt(ins, 7, b->volume, i);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            store_dberr(err, db, "store");
            goto out;
        }
    }
    rc = 0;
out:
    return store_savepoint_end(db, "bars", rc);
}

int store_bars_replace(struct store *s, const struct store_bars *b, struct sd_err *err)
{
    struct bars_job j = {b};

    if (store_call(s, bars_fn, &j, err) != 0)
        return -1;
    return store_flush(s, err);
}

json_t *store_bars_list(sqlite3 *db, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *arr;
    int step;

    if (sqlite3_prepare_v2(db,
                           "SELECT symbol, count(*), min(date), max(date), "
                           "count(open) > 0, count(volume) > 0 FROM bars GROUP BY symbol",
                           -1, &st, NULL) != SQLITE_OK) {
        store_dberr(err, db, "store");
        return NULL;
    }
    arr = json_array();
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:b, s:I, s:s, s:s, s:b, s:b}", "symbol",
                           (const char *)sqlite3_column_text(st, 0), "source", "imported",
                           "synthetic", 0, "bars", (json_int_t)sqlite3_column_int64(st, 1), "first",
                           (const char *)sqlite3_column_text(st, 2), "last",
                           (const char *)sqlite3_column_text(st, 3), "ohlc",
                           sqlite3_column_int(st, 4), "volume", sqlite3_column_int(st, 5)));
    if (step != SQLITE_DONE) {
        store_dberr(err, db, "store");
        json_decref(arr);
        arr = NULL;
    }
    sqlite3_finalize(st);
    return arr;
}

int store_bars_read(sqlite3 *db, const char *symbol,
                    int (*fn)(const char *date, const double v[5], void *arg), void *arg,
                    struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    if (sqlite3_prepare_v2(db,
                           "SELECT date, open, high, low, close, volume FROM bars "
                           "WHERE symbol = ?1 ORDER BY date",
                           -1, &st, NULL) != SQLITE_OK)
        return store_dberr(err, db, "store");
    sqlite3_bind_text(st, 1, symbol, -1, SQLITE_STATIC);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        double v[5];
        for (int col = 1; col <= 5; col++)
            v[col - 1] =
                sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
        rc = fn((const char *)sqlite3_column_text(st, 0), v, arg);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = store_dberr(err, db, "store");
    sqlite3_finalize(st);
    return rc;
}

int store_bars_present(sqlite3 *db, const char *symbol, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM bars WHERE symbol = ?1 LIMIT 1", -1, &st, NULL) !=
        SQLITE_OK)
        return store_dberr(err, db, "store");
    sqlite3_bind_text(st, 1, symbol, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step == SQLITE_ROW)
        return 1;
    return step == SQLITE_DONE ? 0 : store_dberr(err, db, "store");
}
