/*
 * query_console2.c: the console's reads for the Details pane, the table's
 * failover mark and `S` (query_console2.h). Read-only; each on the calling
 * worker thread's reader connection.
 */
#define _GNU_SOURCE
#include "query_console2.h"

#include <stdlib.h>
#include <string.h>

#include "query.h"

static json_t *col_text(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? json_string(s) : json_null();
}

static json_t *col_int(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL
               ? json_null()
               : json_integer(sqlite3_column_int64(st, col));
}

/* The equity values of the "@@progress {...}" lines in the output of id,
 * thinned to at most max values: a new array. Returns 0, or an SQLite
 * code. */
static int read_equity(sqlite3 *db, int64_t id, int max, json_t **out)
{
    sqlite3_stmt *st = NULL;
    double *v = NULL;
    size_t n = 0, cap = 0, carry_len = 0;
    char carry[256];
    int rc;

    *out = json_array();
    rc = sqlite3_prepare_v2(
        db, "SELECT sd_unz(data, z) FROM output WHERE traj_id = ? AND stream = 1 ORDER BY seq", -1,
        &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *p = sqlite3_column_blob(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        for (size_t i = 0; p && i < len; i++) {
            if (p[i] != '\n') {
                if (carry_len < sizeof carry - 1)
                    carry[carry_len++] = p[i];
                continue;
            }
            carry[carry_len] = '\0';
            carry_len = 0;
            if (strncmp(carry, "@@progress ", 11) == 0) {
                const char *e = strstr(carry, "\"equity\":");
                if (e == NULL)
                    continue;
                if (n == cap) {
                    double *t;
                    cap = cap ? cap * 2 : 256;
                    if ((t = realloc(v, cap * sizeof *v)) == NULL) {
                        rc = SQLITE_NOMEM;
                        goto out;
                    }
                    v = t;
                }
                v[n++] = strtod(e + 9, NULL);
            }
        }
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    /* thin evenly to max values, the last one kept */
    for (int k = 0; rc == SQLITE_OK && n > 0 && k < max && (size_t)k < n; k++) {
        size_t i = n <= (size_t)max ? (size_t)k : (size_t)k * (n - 1) / (size_t)(max - 1);
        json_array_append_new(*out, json_real(v[i]));
    }
out:
    free(v);
    sqlite3_finalize(st);
    return rc;
}

int store_console_detail(sqlite3 *db, int64_t id, int max_points, json_t **out, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *o = NULL, *params, *eq = NULL;
    const char *ps;
    int rc;

    *out = NULL;
    rc = sqlite3_prepare_v2(db,
                            "SELECT id, run_id, strategy, symbol, provider, status, exit_code, "
                            "error, description, params, created_at, started_at, ended_at, "
                            "(SELECT detail FROM operations WHERE traj_id = t.id AND name = "
                            "'failover' ORDER BY seq LIMIT 1), result FROM trajectories t "
                            "WHERE id = ?",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
        sqlite3_finalize(st);
        return 1;
    }
    if (rc != SQLITE_ROW)
        goto fail;
    ps = (const char *)sqlite3_column_text(st, 9);
    params = ps ? json_loads(ps, 0, NULL) : NULL;
    o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                  (json_int_t)sqlite3_column_int64(st, 0), "runId", col_int(st, 1), "strategy",
                  col_text(st, 2), "symbol", col_text(st, 3), "provider", col_text(st, 4), "status",
                  col_text(st, 5), "exitCode", col_int(st, 6), "error", col_text(st, 7),
                  "description", col_text(st, 8), "params",
                  json_is_object(params) ? params : (json_decref(params), json_object()),
                  "createdAt", col_int(st, 10), "startedAt", col_int(st, 11), "endedAt",
                  col_int(st, 12), "failover", col_text(st, 13));
    if (o != NULL) {
        const char *rs = (const char *)sqlite3_column_text(st, 14);
        json_t *res = rs ? json_loads(rs, 0, NULL) : NULL;
        json_object_set_new(o, "result", json_is_object(res) ? res : json_null());
        if (!json_is_object(res))
            json_decref(res);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (o == NULL) {
        sd_err_set(err, SD_ENOMEM, "details: out of memory");
        return -1;
    }
    if ((rc = read_equity(db, id, max_points > 1 ? max_points : 2, &eq)) != SQLITE_OK) {
        json_decref(eq);
        json_decref(o);
        o = NULL;
        goto fail;
    }
    json_object_set_new(o, "equity", eq);
    *out = o;
    return 0;
fail:
    if (rc == SQLITE_NOMEM)
        sd_err_set(err, SD_ENOMEM, "details: out of memory");
    else
        store_dberr(err, db, "details");
    sqlite3_finalize(st);
    return -1;
}

json_t *store_console_failovers(sqlite3 *db, int limit, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *o = json_object();
    int rc = sqlite3_prepare_v2(db,
                                "SELECT o.traj_id, o.detail FROM operations o WHERE o.name = "
                                "'failover' AND o.traj_id IN (SELECT id FROM trajectories "
                                "ORDER BY id DESC LIMIT ?)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, limit);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            char key[32];
            const char *d = (const char *)sqlite3_column_text(st, 1);
            snprintf(key, sizeof key, "%lld", (long long)sqlite3_column_int64(st, 0));
            json_object_set_new(o, key, json_string(d ? d : ""));
        }
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        store_dberr(err, db, "failovers");
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *store_console_runs(sqlite3 *db, int limit, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *o = json_object();
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, run_id FROM (SELECT id, run_id FROM trajectories "
                                "ORDER BY id DESC LIMIT ?) WHERE run_id IS NOT NULL",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, limit);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            char key[32];
            snprintf(key, sizeof key, "%lld", (long long)sqlite3_column_int64(st, 0));
            json_object_set_new(o, key, json_integer(sqlite3_column_int64(st, 1)));
        }
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        store_dberr(err, db, "runs");
        json_decref(o);
        return NULL;
    }
    return o;
}

long store_console_save_output(sqlite3 *db, int64_t id, FILE *f, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    long lines = 0;
    int rc, bol[3] = {1, 1, 1}, last_nl = 1;

    rc = sqlite3_prepare_v2(
        db, "SELECT stream, sd_unz(data, z) FROM output WHERE traj_id = ? ORDER BY seq", -1, &st,
        NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int s = sqlite3_column_int(st, 0) == 2 ? 2 : 1;
            const char *p = sqlite3_column_blob(st, 1);
            size_t len = (size_t)sqlite3_column_bytes(st, 1);
            for (size_t i = 0; p && i < len; i++) {
                if (bol[s] && s == 2)
                    fputs("[stderr] ", f);
                fputc(p[i], f);
                bol[s] = p[i] == '\n';
                last_nl = bol[s];
                lines += p[i] == '\n';
            }
        }
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK) {
        store_dberr(err, db, "output");
        return -1;
    }
    if (!last_nl) {
        fputc('\n', f);
        lines++;
    }
    if (ferror(f)) {
        sd_err_set(err, SD_EENV, "output: cannot write the file");
        return -1;
    }
    return lines;
}
