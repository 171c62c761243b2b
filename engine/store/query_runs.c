/*
 * query_runs.c: one run's state, for `swarmdeck wait` (query.h has the
 * contract).
 */
#define _GNU_SOURCE
#include "query.h"

json_t *store_run_get(sqlite3 *db, int64_t run, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *o = NULL;
    int rc;

    if (sqlite3_prepare_v2(db,
                           "SELECT kind, status, started_at, ended_at, summary,"
                           " (SELECT count(*) FROM trajectories t WHERE t.run_id = r.id"
                           "  AND t.status = 'succeeded'),"
                           " (SELECT count(*) FROM trajectories t WHERE t.run_id = r.id"
                           "  AND t.status IN ('failed', 'timeout')),"
                           " (SELECT count(*) FROM trajectories t WHERE t.run_id = r.id"
                           "  AND t.status IN ('cancelled', 'interrupted')),"
                           " (SELECT count(*) FROM trajectories t WHERE t.run_id = r.id"
                           "  AND t.status IN ('queued', 'running'))"
                           " FROM runs r WHERE r.id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        store_dberr(err, db, "run");
        return NULL;
    }
    sqlite3_bind_int64(st, 1, run);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *summary = (const char *)sqlite3_column_text(st, 4);
        o = json_pack("{s:I, s:s?, s:s?, s:I, s:o, s:s?, s:I, s:I, s:I, s:I}", "run",
                      (json_int_t)run, "kind", (const char *)sqlite3_column_text(st, 0), "status",
                      (const char *)sqlite3_column_text(st, 1), "startedAt",
                      (json_int_t)sqlite3_column_int64(st, 2), "endedAt",
                      sqlite3_column_type(st, 3) == SQLITE_NULL
                          ? json_null()
                          : json_integer(sqlite3_column_int64(st, 3)),
                      "summary", summary, "succeeded", (json_int_t)sqlite3_column_int64(st, 5),
                      "failed", (json_int_t)sqlite3_column_int64(st, 6), "cancelled",
                      (json_int_t)sqlite3_column_int64(st, 7), "live",
                      (json_int_t)sqlite3_column_int64(st, 8));
        if (o == NULL)
            sd_err_set(err, SD_ENOMEM, "run: out of memory");
    } else if (rc == SQLITE_DONE) {
        sd_err_set(err, SD_EUSAGE, "no run %lld in this store", (long long)run);
    } else {
        store_dberr(err, db, "run");
    }
    sqlite3_finalize(st);
    return o;
}
