/*
 * record.c: one trajectory as JSON (record.h).
 *
 * The bottom of the store's readers: it knows the columns of trajectories,
 * operations and output and nothing else of the store, so the chain (which
 * hashes this form), export (which writes it) and the named queries (which
 * show it) can all stand on it without standing on each other.
 */
#define _GNU_SOURCE
#include "record.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "query.h"

static json_t *col_json_text(sqlite3_stmt *st, int i)
{
    json_error_t je;
    json_t *j;
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    j = json_loads((const char *)sqlite3_column_text(st, i), JSON_DECODE_ANY, &je);
    return j ? j : json_string((const char *)sqlite3_column_text(st, i));
}

static json_t *col_str(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL
               ? json_null()
               : json_string((const char *)sqlite3_column_text(st, i));
}

static json_t *col_int(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null()
                                                     : json_integer(sqlite3_column_int64(st, i));
}

static json_t *col_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null()
                                                     : json_real(sqlite3_column_double(st, i));
}

static json_t *b64(const void *data, int len)
{
    char *out = malloc((size_t)(4 * ((len + 2) / 3) + 1));
    json_t *j;
    if (out == NULL)
        return json_null();
    EVP_EncodeBlock((unsigned char *)out, data, len);
    j = json_string(out);
    free(out);
    return j;
}

/* The step of st failed unless it is SQLITE_DONE: say why in err. */
static int step_failed(sqlite3 *db, int step, struct sd_err *err)
{
    return step != SQLITE_DONE && store_dberr(err, db, NULL) != 0;
}

json_t *record_trajectory(sqlite3 *db, const char *prefix, int64_t id, int with_output,
                          struct sd_err *err)
{
    return record_trajectory_on(NULL, db, prefix, id, with_output, err);
}

json_t *record_trajectory_on(struct store *s, sqlite3 *db, const char *prefix, int64_t id,
                             int with_output, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *t = NULL, *ops, *out;
    char sql[640];
    int step;

    snprintf(sql, sizeof sql,
             "SELECT id, uuid, run_id, strategy, symbol, params, provider, "
             "sandbox_id, status, exit_code, error, created_at, started_at, "
             "ended_at, duration_ms, result, reward, prediction, description, "
             "op_sequence, isolation, auto_optimized, output_bytes, output_dropped, "
             "fingerprint, prev_fingerprint FROM \"%strajectories\" WHERE id = ?1",
             prefix);
    if ((st = store_stmt_get(s, db, sql)) == NULL) {
        store_dberr(err, db, NULL);
        return NULL;
    }
    sqlite3_bind_int64(st, 1, id);
    if ((step = sqlite3_step(st)) != SQLITE_ROW) {
        if (step == SQLITE_DONE)
            sd_err_set(err, SD_EUSAGE, "no trajectory #%lld", (long long)id);
        else
            store_dberr(err, db, NULL);
        goto out;
    }
    t = json_object();
    json_object_set_new(t, "id", col_int(st, 0));
    json_object_set_new(t, "uuid", col_str(st, 1));
    json_object_set_new(t, "runId", col_int(st, 2));
    json_object_set_new(t, "strategyName", col_str(st, 3));
    json_object_set_new(t, "symbol", col_str(st, 4));
    json_object_set_new(t, "params", col_json_text(st, 5));
    json_object_set_new(t, "provider", col_str(st, 6));
    json_object_set_new(t, "sandboxId", col_str(st, 7));
    json_object_set_new(t, "status", col_str(st, 8));
    json_object_set_new(t, "exitCode", col_int(st, 9));
    json_object_set_new(t, "error", col_str(st, 10));
    json_object_set_new(t, "createdAt", col_int(st, 11));
    json_object_set_new(t, "startedAt", col_int(st, 12));
    json_object_set_new(t, "endedAt", col_int(st, 13));
    json_object_set_new(t, "duration", col_real(st, 14));
    json_object_set_new(t, "result", col_json_text(st, 15));
    json_object_set_new(t, "reward", col_real(st, 16));
    json_object_set_new(t, "prediction", col_json_text(st, 17));
    json_object_set_new(t, "description", col_str(st, 18));
    json_object_set_new(t, "operationSequence", col_str(st, 19));
    json_object_set_new(t, "isolation", col_json_text(st, 20));
    json_object_set_new(t, "autoOptimized", json_boolean(sqlite3_column_int(st, 21)));
    json_object_set_new(t, "outputBytes", col_int(st, 22));
    json_object_set_new(t, "outputDropped", col_int(st, 23));
    json_object_set_new(t, "fingerprint", col_str(st, 24));
    json_object_set_new(t, "prevFingerprint", col_str(st, 25));
    store_stmt_put(s, st);
    st = NULL;

    ops = json_array();
    json_object_set_new(t, "operations", ops); /* t owns it from here */
    /* detail is sealed on an encrypted store: read it through the view. */
    snprintf(sql, sizeof sql,
             "SELECT seq, name, started_at, duration_ms, ok, detail FROM \"%soperations\" "
             "WHERE traj_id = ?1 ORDER BY seq",
             prefix);
    if ((st = store_stmt_get(s, db, sql)) == NULL) {
        store_dberr(err, db, NULL);
        goto fail;
    }
    sqlite3_bind_int64(st, 1, id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(ops, json_pack("{s:o, s:o, s:o, s:o, s:b, s:o}", "seq",
                                             col_int(st, 0), "name", col_str(st, 1), "startedAt",
                                             col_int(st, 2), "duration", col_real(st, 3), "ok",
                                             sqlite3_column_int(st, 4), "detail", col_str(st, 5)));
    if (step_failed(db, step, err))
        goto fail;
    store_stmt_put(s, st);
    st = NULL;
    if (!with_output)
        return t;
    out = json_array();
    json_object_set_new(t, "output", out);
    snprintf(
        sql, sizeof sql,
        "SELECT seq, stream, sd_unz(data, z) FROM \"%soutput\" WHERE traj_id = ?1 ORDER BY seq",
        prefix);
    if ((st = store_stmt_get(s, db, sql)) != NULL) {
        sqlite3_bind_int64(st, 1, id);
        while ((step = sqlite3_step(st)) == SQLITE_ROW)
            json_array_append_new(
                out, json_pack("{s:o, s:s, s:o}", "seq", col_int(st, 0), "stream",
                               sqlite3_column_int(st, 1) == 2 ? "stderr" : "stdout", "data",
                               b64(sqlite3_column_blob(st, 2), sqlite3_column_bytes(st, 2))));
        if (step_failed(db, step, err))
            goto fail;
    }
    goto out;
fail:
    json_decref(t);
    t = NULL;
out:
    store_stmt_put(s, st);
    return t;
}
