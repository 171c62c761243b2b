/*
 * query.c: the store's shared helpers for queries and jobs: the one SQLite
 * error check and the SAVEPOINT pair (query.h has the contracts).
 *
 * It is the bottom of engine/store: every other file may call it, and it
 * calls nothing but SQLite.
 */
#include "query.h"

#include <stdio.h>

int store_dberr(struct sd_err *err, sqlite3 *db, const char *what)
{
    if (what == NULL)
        return sd_err_set(err, SD_EENV, "%s", sqlite3_errmsg(db));
    return sd_err_set(err, SD_EENV, "%s: %s", what, sqlite3_errmsg(db));
}

static int exec_sp(sqlite3 *db, const char *verb, const char *name)
{
    char sql[96];
    snprintf(sql, sizeof sql, "%s %s", verb, name);
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

int store_savepoint(sqlite3 *db, const char *name, struct sd_err *err)
{
    if (exec_sp(db, "SAVEPOINT", name) != SQLITE_OK)
        return store_dberr(err, db, "store");
    return 0;
}

int store_savepoint_end(sqlite3 *db, const char *name, int rc)
{
    if (rc != 0)
        exec_sp(db, "ROLLBACK TO", name);
    exec_sp(db, "RELEASE", name);
    return rc;
}
