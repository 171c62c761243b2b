/*
 * query_bench.c: the benchmark's queries (query.h, "the benchmark"): the
 * operation times of a scenario's deployments, where they ran, and the
 * summaries of earlier benchmark runs that engine/bench compares with.
 *
 * The statements read `operations`, `trajectories` and `runs` unqualified,
 * so on an encrypted store they go through the reader's decrypting TEMP
 * views (store_crypt.h). What the rows mean (outcomes, which earlier run is
 * the same scenario) is engine/bench's business, not this file's: it hands
 * rows to a callback or returns plain counts.
 *
 * Any thread, on its own reader connection.
 */
#include "query.h"

int store_bench_operations(sqlite3 *db, int64_t first_id, int64_t last_id, store_bench_op_fn *fn,
                           void *arg, struct sd_err *err)
{
    static const char what[] = "cannot read operation times";
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db,
                           "SELECT traj_id, name, duration_ms, ok FROM operations"
                           " WHERE traj_id BETWEEN ?1 AND ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return store_dberr(err, db, what);
    sqlite3_bind_int64(st, 1, first_id);
    sqlite3_bind_int64(st, 2, last_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        fn(arg, sqlite3_column_int64(st, 0), name ? name : "", sqlite3_column_double(st, 2),
           sqlite3_column_int(st, 3));
    }
    if (rc != SQLITE_DONE)
        store_dberr(err, db, what);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

json_t *store_bench_placement(sqlite3 *db, int64_t run, int64_t first_id, int64_t last_id,
                              int64_t *failovers, struct sd_err *err)
{
    static const char what[] = "cannot read where deployments ran";
    sqlite3_stmt *st = NULL;
    json_t *by;
    int rc;

    *failovers = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT t.provider, count(*), sum(EXISTS(SELECT 1 FROM operations o"
                           " WHERE o.traj_id = t.id AND o.name = 'failover'))"
                           " FROM trajectories t WHERE t.run_id = ?1 AND t.id BETWEEN ?2 AND ?3"
                           " GROUP BY t.provider ORDER BY t.provider",
                           -1, &st, NULL) != SQLITE_OK) {
        store_dberr(err, db, what);
        return NULL;
    }
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_int64(st, 2, first_id);
    sqlite3_bind_int64(st, 3, last_id);
    by = json_object();
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        json_object_set_new(by, name ? name : "", json_integer(sqlite3_column_int64(st, 1)));
        *failovers += sqlite3_column_int64(st, 2);
    }
    if (rc != SQLITE_DONE) {
        store_dberr(err, db, what);
        json_decref(by);
        by = NULL;
        *failovers = 0;
    }
    sqlite3_finalize(st);
    return by;
}

int store_bench_earlier_runs(sqlite3 *db, int64_t before, store_bench_run_fn *fn, void *arg,
                             struct sd_err *err)
{
    static const char what[] = "cannot read earlier runs";
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db,
                           "SELECT id, summary FROM runs WHERE kind = 'benchmark' AND id < ?1"
                           " AND summary IS NOT NULL ORDER BY id DESC",
                           -1, &st, NULL) != SQLITE_OK)
        return store_dberr(err, db, what);
    sqlite3_bind_int64(st, 1, before);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *txt = (const char *)sqlite3_column_text(st, 1);
        json_t *sum = txt ? json_loads(txt, 0, NULL) : NULL;
        int stop = fn(arg, sqlite3_column_int64(st, 0), sum);
        json_decref(sum);
        if (stop) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE)
        store_dberr(err, db, what);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}
