/*
 * query_origins.c: one strategy's finished trajectories counted by origin
 * (query_origins.h). The statement names the strategy with `=`, so SQLite
 * searches the covering index traj_strategy_origin (strategy, origin,
 * status) for that strategy in origin order, so it neither sorts nor reads the
 * table; store_fleet_origins' `(?1 IS NULL OR strategy = ?1)` cannot use an
 * index on strategy and scanned every row of every strategy (70 ms of a
 * 160 ms cold `suggest --json` at 100 k trajectories).
 *
 * Every strategy (strategy NULL, `patterns --json` without -s): grouped by
 * (strategy, origin), the order of that index, so SQLite walks the covering
 * index once with no sort and no table page (`+status`: the status index,
 * which would read the table and sort, is not a candidate); the few groups are summed by
 * origin here and ordered as store_fleet_origins orders them.
 */
#include "query_origins.h"

#include <stdlib.h>
#include <string.h>

#include "query.h"

#define TERMINAL "('succeeded','failed','timeout','cancelled','interrupted')"

const char store_strategy_origins_sql[] =
    "SELECT origin, count(*) AS n FROM trajectories WHERE strategy = ?1 AND status IN " TERMINAL
    " GROUP BY origin ORDER BY origin IS NOT NULL, n DESC, origin";

const char store_all_origins_sql[] =
    "SELECT origin, count(*) AS n FROM trajectories WHERE +status IN " TERMINAL
    " GROUP BY strategy, origin";

/* store_fleet_origins' order: local (null) first, then count down, then
 * name (SQLite's BINARY collation: bytewise). */
static int origin_cmp(const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    json_t *oa = json_object_get(a, "origin"), *ob = json_object_get(b, "origin");
    json_int_t na = json_integer_value(json_object_get(a, "trajectories")),
               nb = json_integer_value(json_object_get(b, "trajectories"));
    if (json_is_null(oa) != json_is_null(ob))
        return json_is_null(oa) ? -1 : 1;
    if (na != nb)
        return na > nb ? -1 : 1;
    if (json_is_null(oa))
        return 0;
    return strcmp(json_string_value(oa), json_string_value(ob));
}

/* Sum a's {origin, trajectories} entries with the same origin (in place:
 * a new array replaces *a) and sort them. 0, or -1 out of memory. */
static int merge_origins(json_t **a)
{
    json_t *out = json_array(), *e, **v;
    size_t i, n;
    if (out == NULL)
        return -1;
    json_array_foreach(*a, i, e)
    {
        json_t *o = json_object_get(e, "origin"), *hit = NULL, *f;
        size_t k;
        json_array_foreach(out, k, f)
        {
            json_t *fo = json_object_get(f, "origin");
            if (json_is_null(o) ? json_is_null(fo) : json_equal(o, fo)) {
                hit = f;
                break;
            }
        }
        if (hit != NULL)
            json_object_set_new(
                hit, "trajectories",
                json_integer(json_integer_value(json_object_get(hit, "trajectories")) +
                             json_integer_value(json_object_get(e, "trajectories"))));
        else
            json_array_append(out, e);
    }
    n = json_array_size(out);
    if ((v = malloc((n ? n : 1) * sizeof *v)) == NULL) {
        json_decref(out);
        return -1;
    }
    for (i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(out, i));
    qsort(v, n, sizeof *v, origin_cmp);
    json_array_clear(out);
    for (i = 0; i < n; i++)
        json_array_append_new(out, v[i]);
    free(v);
    json_decref(*a);
    *a = out;
    return 0;
}

json_t *store_strategy_origins(struct store *s, const char *strategy, struct sd_err *err)
{
    const char *sql = strategy ? store_strategy_origins_sql : store_all_origins_sql;
    sqlite3 *db = store_reader(s, err);
    sqlite3_stmt *st = NULL;
    json_t *a = NULL;
    int step;

    if (db == NULL)
        return NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        store_dberr(err, db, "origins");
        goto out;
    }
    if (strategy != NULL)
        sqlite3_bind_text(st, 1, strategy, -1, SQLITE_STATIC);
    a = json_array();
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(a,
                              json_pack("{s:o, s:I}", "origin",
                                        sqlite3_column_type(st, 0) == SQLITE_NULL
                                            ? json_null()
                                            : json_string((const char *)sqlite3_column_text(st, 0)),
                                        "trajectories", (json_int_t)sqlite3_column_int64(st, 1)));
    if (step != SQLITE_DONE) {
        store_dberr(err, db, "origins");
        json_decref(a);
        a = NULL;
    } else if (strategy == NULL && merge_origins(&a) != 0) {
        sd_err_set(err, SD_ENOMEM, "origins: out of memory");
        json_decref(a);
        a = NULL;
    }
out:
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return a;
}
