/*
 * query_meta.c: the meta table's named values that readers outside the
 * store ask for (query.h has the contracts): the provider instances'
 * health the coordinator records and `status` and the console show.
 */
#include "query.h"

#include <stdlib.h>

#include "store_crypt.h"

json_t *store_provider_health(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    json_t *a = NULL;
    json_error_t je;

    if (db == NULL)
        return NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM main.meta WHERE key = 'provider_health'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        a = json_loads((const char *)sqlite3_column_text(st, 0), 0, &je);
    sqlite3_finalize(st);
    if (a != NULL && !json_is_array(a)) {
        json_decref(a);
        a = NULL;
    }
    return a;
}

int store_provider_health_job(sqlite3 *db, json_t *health, struct sd_err *err)
{
    char *txt = json_dumps(health, JSON_COMPACT);
    int rc;

    if (txt == NULL)
        return sd_err_set(err, SD_ENOMEM, "provider health: out of memory");
    rc = store_meta_set(db, "provider_health", txt);
    free(txt);
    return rc == 0 ? 0 : store_dberr(err, db, "provider health");
}
