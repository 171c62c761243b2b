/*
 * query_console.c: the console's reads (query.h, "console reads"): the
 * Sandboxes table's past trajectories, a past run's output, the chain's
 * head for a read-only console's overlay, and the evidence rows of the
 * Patterns pane. They run on the console's worker threads (tui/fetch.c,
 * tui/learnsnap.c), each on that thread's reader connection, never on the
 * UI thread: a busy store can hold them for the connection's busy timeout.
 */
#include "query.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_text(char *dst, size_t n, sqlite3_stmt *st, int col, const char *def)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    snprintf(dst, n, "%s", s ? s : def);
}

static double real_or_nan(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

int store_console_history(sqlite3 *db, int limit, struct console_traj **rows, size_t *n,
                          struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    struct console_traj *r = NULL;
    size_t cap = 0, k = 0;
    int rc;

    *rows = NULL;
    *n = 0;
    rc = sqlite3_prepare_v2(db,
                            "SELECT id, created_at, started_at, ended_at, strategy, symbol, "
                            "provider, status, json_extract(result, '$.total_return'), "
                            "json_extract(result, '$.sharpe'), json_extract(result, "
                            "'$.synthetic'), origin FROM trajectories ORDER BY id DESC LIMIT ?",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        goto out;
    sqlite3_bind_int(st, 1, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct console_traj *h;
        if (k == cap) {
            struct console_traj *t;
            cap = cap ? cap * 2 : 256;
            if ((t = realloc(r, cap * sizeof *r)) == NULL) {
                rc = SQLITE_NOMEM;
                goto out;
            }
            r = t;
        }
        h = &r[k++];
        memset(h, 0, sizeof *h);
        h->id = sqlite3_column_int64(st, 0);
        h->created_at = sqlite3_column_int64(st, 1);
        h->started_at = sqlite3_column_int64(st, 2);
        h->ended_at = sqlite3_column_int64(st, 3);
        copy_text(h->strategy, sizeof h->strategy, st, 4, "");
        copy_text(h->symbol, sizeof h->symbol, st, 5, "-");
        copy_text(h->provider, sizeof h->provider, st, 6, "");
        copy_text(h->state, sizeof h->state, st, 7, "");
        h->ret = real_or_nan(st, 8);
        h->sharpe = real_or_nan(st, 9);
        h->synthetic = sqlite3_column_int(st, 10);
        copy_text(h->origin, sizeof h->origin, st, 11, "");
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
out:
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_NOMEM)
            sd_err_set(err, SD_ENOMEM, "history: out of memory");
        else
            store_dberr(err, db, "history");
        sqlite3_finalize(st);
        free(r);
        return -1;
    }
    sqlite3_finalize(st);
    *rows = r;
    *n = k;
    return 0;
}

void store_console_chunks_free(struct console_chunk *c, size_t n)
{
    for (size_t i = 0; c != NULL && i < n; i++)
        free(c[i].data);
    free(c);
}

int store_console_output(sqlite3 *db, int64_t id, size_t max_bytes, int (*stop)(void *ctx),
                         void *ctx, struct console_chunk **chunks, size_t *n, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    struct console_chunk *ch = NULL;
    size_t k = 0, cap = 0, bytes = 0;
    int rc, abandoned = 0;

    *chunks = NULL;
    *n = 0;
    rc = sqlite3_prepare_v2(
        db, "SELECT stream, sd_unz(data, z), t FROM output WHERE traj_id = ? ORDER BY seq DESC", -1,
        &st, NULL);
    if (rc != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(st, 1, id);
    while (bytes < max_bytes && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int len = sqlite3_column_bytes(st, 1);
        const void *p = sqlite3_column_blob(st, 1);
        if ((k & 255) == 255 && stop != NULL && stop(ctx)) {
            abandoned = 1;
            break;
        }
        if (len <= 0 || p == NULL)
            continue;
        if (k == cap) {
            struct console_chunk *t;
            cap = cap ? cap * 2 : 64;
            if ((t = realloc(ch, cap * sizeof *ch)) == NULL) {
                rc = SQLITE_NOMEM;
                goto out;
            }
            ch = t;
        }
        if ((ch[k].data = malloc((size_t)len)) == NULL) {
            rc = SQLITE_NOMEM;
            goto out;
        }
        ch[k].stream = sqlite3_column_int(st, 0);
        ch[k].t_ms = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
        ch[k].len = (size_t)len;
        memcpy(ch[k].data, p, (size_t)len);
        bytes += (size_t)len;
        k++;
    }
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        rc = SQLITE_OK;
out:
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_NOMEM)
            sd_err_set(err, SD_ENOMEM, "output: out of memory");
        else
            store_dberr(err, db, "output");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK || abandoned) {
        store_console_chunks_free(ch, k);
        return abandoned && rc == SQLITE_OK ? 1 : -1;
    }
    *chunks = ch;
    *n = k;
    return 0;
}

int store_console_chain_head(sqlite3 *db, char *buf, size_t n, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc;

    buf[0] = '\0';
    rc = sqlite3_prepare_v2(db,
                            "SELECT chain_seq || ':' || fingerprint FROM main.trajectories"
                            " WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1",
                            -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *head = (const char *)sqlite3_column_text(st, 0);
        snprintf(buf, n, "%s", head ? head : "");
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        store_dberr(err, db, "chain head");
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : -1;
}

static json_t *num_from(json_t *result, const char *key)
{
    json_t *v = json_object_get(result, key);
    return json_is_number(v) ? json_real(json_number_value(v)) : json_null();
}

/* One pattern's evidence rows through the prepared statement st. */
static json_t *evidence_rows(sqlite3_stmt *st, json_t *ids)
{
    json_t *rows = json_array(), *idv;
    size_t i;

    json_array_foreach(ids, i, idv)
    {
        json_t *row, *result = NULL, *params = NULL;
        const char *s;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)json_integer_value(idv));
        if (sqlite3_step(st) != SQLITE_ROW)
            continue;
        row = json_pack("{s:I}", "id", (json_int_t)sqlite3_column_int64(st, 0));
        if ((s = (const char *)sqlite3_column_text(st, 1)) != NULL)
            json_object_set_new(row, "symbol", json_string(s));
        if ((s = (const char *)sqlite3_column_text(st, 2)) != NULL)
            json_object_set_new(row, "status", json_string(s));
        if ((s = (const char *)sqlite3_column_text(st, 3)) != NULL)
            json_object_set_new(row, "provider", json_string(s));
        json_object_set_new(row, "reward",
                            sqlite3_column_type(st, 4) == SQLITE_NULL
                                ? json_null()
                                : json_real(sqlite3_column_double(st, 4)));
        if ((s = (const char *)sqlite3_column_text(st, 5)) != NULL)
            result = json_loads(s, 0, NULL);
        json_object_set_new(row, "totalReturn", num_from(result, "total_return"));
        json_object_set_new(row, "sharpe", num_from(result, "sharpe"));
        if ((s = (const char *)sqlite3_column_text(st, 6)) != NULL &&
            (params = json_loads(s, 0, NULL)) != NULL && json_is_object(params))
            json_object_set(row, "params", params);
        json_decref(params);
        json_decref(result);
        json_array_append_new(rows, row);
    }
    sqlite3_reset(st);
    return rows;
}

int store_console_evidence(sqlite3 *db, json_t *patterns, size_t max, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db,
                           "SELECT id, symbol, status, provider, reward, result, params "
                           "FROM trajectories WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return store_dberr(err, db, "evidence");
    for (size_t i = 0; i < json_array_size(patterns) && i < max; i++) {
        json_t *p = json_array_get(patterns, i);
        json_object_set_new(p, "runs", evidence_rows(st, json_object_get(p, "evidence")));
    }
    sqlite3_finalize(st);
    return 0;
}
