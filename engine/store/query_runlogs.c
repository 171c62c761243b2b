/*
 * query_runlogs.c: the trajectories of one run and their states, for `swarmdeck logs --run`
 * and the console's merged output of a run (query.h has the contract).
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "query.h"
#include "traj.h"

int store_run_trajs(sqlite3 *db, int64_t run, int64_t **ids, int **states, size_t *n,
                    struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc, found = 0;

    *ids = NULL;
    *states = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM runs WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
        return store_dberr(err, db, "run");
    sqlite3_bind_int64(st, 1, run);
    rc = sqlite3_step(st);
    found = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_dberr(err, db, "run");
    if (!found)
        return 1;
    if (sqlite3_prepare_v2(db, "SELECT id, status FROM trajectories WHERE run_id = ?1 ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return store_dberr(err, db, "run's trajectories");
    sqlite3_bind_int64(st, 1, run);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            int64_t *ni = realloc(*ids, nc * sizeof **ids);
            int *ns = ni ? realloc(*states, nc * sizeof **states) : NULL;
            if (ni)
                *ids = ni;
            if (ns)
                *states = ns;
            if (ni == NULL || ns == NULL) {
                sqlite3_finalize(st);
                free(*ids);
                free(*states);
                *ids = NULL;
                *states = NULL;
                *n = 0;
                return sd_err_set(err, SD_ENOMEM, "out of memory");
            }
            cap = nc;
        }
        (*ids)[*n] = sqlite3_column_int64(st, 0);
        (*states)[*n] = traj_state_from_name((const char *)sqlite3_column_text(st, 1));
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*ids);
        free(*states);
        *ids = NULL;
        *states = NULL;
        *n = 0;
        return store_dberr(err, db, "run's trajectories");
    }
    return 0;
}
