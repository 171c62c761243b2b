/*
 * query_learn.c: what the learner reads from the store (query.h has the
 * contracts): the final trajectories it builds its index from, and the
 * full-text search behind a task description.
 */
#define _GNU_SOURCE
#include "query.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static double col_num(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

int store_learn_rows(struct store *s, int (*fn)(const struct store_learn_row *row, void *arg),
                     void *arg, struct sd_err *err)
{
    return store_learn_rows_after(s, INT64_MIN, fn, arg, err);
}

int store_learn_count(struct store *s, int64_t after, int64_t *total, int64_t *newer,
                      struct sd_err *err)
{
    sqlite3 *db = store_reader(s, err);
    sqlite3_stmt *st = NULL;
    int rc = -1;

    if (db == NULL)
        return -1;
    /* The total from the row the triggers of migration 7 keep (O(1)); the
     * newer ones by a search of the id range above `after` (the rows
     * since the caller's last look: few). */
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT n FROM learn_count WHERE k = 0),"
                           " (SELECT count(*) FROM trajectories WHERE id > ?1"
                           " AND status IN ('succeeded', 'failed', 'timeout'))",
                           -1, &st, NULL) != SQLITE_OK) {
        store_dberr(err, db, "learning: cannot count trajectories");
        goto out;
    }
    sqlite3_bind_int64(st, 1, after);
    if (sqlite3_step(st) != SQLITE_ROW) {
        store_dberr(err, db, "learning: cannot count trajectories");
        goto out;
    }
    *total = sqlite3_column_int64(st, 0);
    *newer = sqlite3_column_int64(st, 1);
    rc = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return rc;
}

int store_learn_rows_after(struct store *s, int64_t after,
                           int (*fn)(const struct store_learn_row *row, void *arg), void *arg,
                           struct sd_err *err)
{
    static const char sql[] =
        "SELECT id, strategy, symbol, provider, params, status, coalesce(reward, 0),"
        " CASE WHEN json_valid(prediction) THEN json_extract(prediction, '$.expectedSuccessRate')"
        " END, created_at, coalesce(duration_ms, 0), op_sequence,"
        " CASE WHEN json_valid(prediction) THEN json_extract(prediction, '$.expectedReward') END,"
        " CASE WHEN json_valid(prediction) THEN json_extract(prediction, '$.rewardInterval[0]')"
        " END,"
        " CASE WHEN json_valid(prediction) THEN json_extract(prediction, '$.rewardInterval[1]')"
        " END, json_extract(r, '$.trades'), json_extract(r, '$.bars'),"
        " json_extract(r, '$.sharpe'), json_extract(r, '$.outOfSample.sharpe'),"
        " coalesce(json_extract(r, '$.synthetic'), 0)"
        " FROM (SELECT *, CASE WHEN json_valid(result) THEN result END AS r FROM trajectories)"
        " WHERE status IN ('succeeded', 'failed', 'timeout') AND id > ?1 ORDER BY id";
    sqlite3 *db = store_reader(s, err);
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    if (db == NULL)
        return -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        rc = store_dberr(err, db, "learning: cannot read trajectories");
        goto out;
    }
    sqlite3_bind_int64(st, 1, after);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_learn_row r = {
            .id = sqlite3_column_int64(st, 0),
            .strategy = (const char *)sqlite3_column_text(st, 1),
            .symbol = (const char *)sqlite3_column_text(st, 2),
            .provider = (const char *)sqlite3_column_text(st, 3),
            .params = (const char *)sqlite3_column_text(st, 4),
            .status = (const char *)sqlite3_column_text(st, 5),
            .reward = sqlite3_column_double(st, 6),
            .predicted =
                sqlite3_column_type(st, 7) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 7),
            .created_at = sqlite3_column_int64(st, 8),
            .duration_ms = sqlite3_column_double(st, 9),
            .op_sequence = (const char *)sqlite3_column_text(st, 10),
            .pred_reward = col_num(st, 11),
            .pred_lo = col_num(st, 12),
            .pred_hi = col_num(st, 13),
            .trades = col_num(st, 14),
            .bars = col_num(st, 15),
            .sharpe = col_num(st, 16),
            .oos_sharpe = col_num(st, 17),
            .synthetic = sqlite3_column_int(st, 18) != 0,
        };
        rc = fn(&r, arg);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = store_dberr(err, db, "learning: cannot read trajectories");
out:
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return rc;
}

struct hit {
    int64_t id;
    double score;
};

static int cmp_hit(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

int store_task_search(struct store *s, const char *match, int64_t **ids, double **scores, size_t *n,
                      struct sd_err *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct hit *h = NULL;
    size_t cap = 0;
    int step, ret = -1;

    *ids = NULL;
    if (scores != NULL)
        *scores = NULL;
    *n = 0;
    if ((db = store_reader(s, err)) == NULL || store_reader_fts(s, db, err) != 0)
        goto out;
    if (sqlite3_prepare_v2(db, "SELECT rowid, bm25(traj_fts) FROM traj_fts WHERE traj_fts MATCH ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        store_dberr(err, db, "task search");
        goto out;
    }
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            struct hit *m = realloc(h, (cap = cap ? cap * 2 : 256) * sizeof *m);
            if (m == NULL) {
                sd_err_set(err, SD_ENOMEM, "learning: out of memory");
                goto out;
            }
            h = m;
        }
        h[*n].id = sqlite3_column_int64(st, 0);
        h[(*n)++].score = -sqlite3_column_double(st, 1); /* bm25() is lower for better */
    }
    if (step != SQLITE_DONE) {
        store_dberr(err, db, "task search");
        goto out;
    }
    if (*n > 0) /* qsort's base must not be NULL, even for no elements */
        qsort(h, *n, sizeof *h, cmp_hit);
    *ids = malloc((*n ? *n : 1) * sizeof **ids);
    if (scores != NULL)
        *scores = malloc((*n ? *n : 1) * sizeof **scores);
    if (*ids == NULL || (scores != NULL && *scores == NULL)) {
        sd_err_set(err, SD_ENOMEM, "learning: out of memory");
        goto out;
    }
    for (size_t i = 0; i < *n; i++) {
        (*ids)[i] = h[i].id;
        if (scores != NULL)
            (*scores)[i] = h[i].score;
    }
    ret = 0;
out:
    free(h);
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    if (ret != 0) {
        free(*ids);
        *ids = NULL;
        if (scores != NULL) {
            free(*scores);
            *scores = NULL;
        }
        *n = 0;
    }
    return ret;
}

int store_task_ids(struct store *s, const char *match, int64_t **ids, size_t *n, struct sd_err *err)
{
    return store_task_search(s, match, ids, NULL, n, err);
}
