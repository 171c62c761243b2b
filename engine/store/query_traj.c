/*
 * query_traj.c: the reads of trajectories and their output that `history`,
 * `show`, `logs` and `status` print (query.h has the contracts).
 *
 * Each function prepares its statements on the reader it is given and
 * finalizes them before it returns, so a caller that polls (logs --follow)
 * holds no statement, and so no read snapshot, between polls.
 */
#define _GNU_SOURCE
#include "query.h"

#include <string.h>

#include "record.h"

json_t *store_traj_json(sqlite3 *db, int64_t id, struct sd_err *err)
{
    return record_trajectory(db, "", id, 0, err);
}

static const char *text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

int store_traj_history(sqlite3 *db, const struct store_history_filter *f,
                       int (*fn)(const struct store_history_row *row, void *arg), void *arg,
                       struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    if (sqlite3_prepare_v2(db,
                           "SELECT id, created_at, strategy, symbol, status, "
                           "json_extract(result, '$.total_return'), "
                           "json_extract(result, '$.sharpe'), duration_ms, error, provider, "
                           "json_extract(result, '$.synthetic'), run_id, description "
                           "FROM trajectories WHERE (?1 IS NULL OR strategy = ?1) AND "
                           "(?2 IS NULL OR status = ?2) AND (?4 = 0 OR run_id = ?4) "
                           "ORDER BY id DESC LIMIT ?3",
                           -1, &st, NULL) != SQLITE_OK)
        return store_dberr(err, db, "history");
    if (f->strategy)
        sqlite3_bind_text(st, 1, f->strategy, -1, SQLITE_STATIC);
    if (f->status)
        sqlite3_bind_text(st, 2, f->status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, f->limit);
    sqlite3_bind_int64(st, 4, f->run);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_history_row r = {
            .id = sqlite3_column_int64(st, 0),
            .created_at = sqlite3_column_int64(st, 1),
            .strategy = text(st, 2),
            .symbol = text(st, 3),
            .status = text(st, 4),
            .has_return = sqlite3_column_type(st, 5) != SQLITE_NULL,
            .total_return = sqlite3_column_double(st, 5),
            .has_sharpe = sqlite3_column_type(st, 6) != SQLITE_NULL,
            .sharpe = sqlite3_column_double(st, 6),
            .has_duration = sqlite3_column_type(st, 7) != SQLITE_NULL,
            .duration_ms = sqlite3_column_double(st, 7),
            .error = text(st, 8),
            .provider = text(st, 9),
            .synthetic = sqlite3_column_int(st, 10),
            .run_id = sqlite3_column_int64(st, 11),
            .description = text(st, 12),
        };
        rc = fn(&r, arg);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = store_dberr(err, db, "history");
    sqlite3_finalize(st);
    return rc;
}

int store_traj_progress(sqlite3 *db, int64_t id, int *state, int64_t *dropped, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(db, "SELECT status, output_dropped FROM trajectories WHERE id = ?1", -1,
                           &st, NULL) != SQLITE_OK)
        return store_dberr(err, db, "store");
    sqlite3_bind_int64(st, 1, id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *state = traj_state_from_name(text(st, 0));
        *dropped = sqlite3_column_int64(st, 1);
    } else if (step != SQLITE_DONE) {
        store_dberr(err, db, "store");
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
}

int store_output_read_timed(sqlite3 *db, int64_t id, int64_t from,
                            int (*fn)(const struct output_chunk *c, void *arg), void *arg,
                            struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    if (sqlite3_prepare_v2(db,
                           "SELECT seq, stream, sd_unz(data, z), t FROM output WHERE traj_id = ?1 "
                           "AND seq >= ?2 ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return store_dberr(err, db, "store");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, from);
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct output_chunk c = {
            .seq = sqlite3_column_int64(st, 0),
            .stream = sqlite3_column_int(st, 1),
            .t_ms = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 3),
            .data = sqlite3_column_blob(st, 2),
            .len = (size_t)sqlite3_column_bytes(st, 2),
        };
        rc = fn(&c, arg);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = store_dberr(err, db, "store");
    sqlite3_finalize(st);
    return rc;
}

struct untimed {
    int (*fn)(int64_t seq, int stream, const void *data, size_t len, void *arg);
    void *arg;
};

static int untimed_chunk(const struct output_chunk *c, void *arg)
{
    struct untimed *u = arg;
    return u->fn(c->seq, c->stream, c->data, c->len, u->arg);
}

int store_output_read(sqlite3 *db, int64_t id, int64_t from,
                      int (*fn)(int64_t seq, int stream, const void *data, size_t len, void *arg),
                      void *arg, struct sd_err *err)
{
    struct untimed u = {fn, arg};
    return store_output_read_timed(db, id, from, untimed_chunk, &u, err);
}

int store_traj_counts(sqlite3 *db, struct store_counts *c, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    memset(c, 0, sizeof *c);
    if (sqlite3_prepare_v2(db, "SELECT status, count(*) FROM trajectories GROUP BY status", -1, &st,
                           NULL) != SQLITE_OK)
        return store_dberr(err, db, "store");
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int s = traj_state_from_name(text(st, 0));
        if (s >= 0)
            c->by_state[s] = sqlite3_column_int64(st, 1);
        c->total += sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return store_dberr(err, db, "store");
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT count(*) FROM leases), (SELECT count(*) FROM runs), "
                           "(SELECT avg(reward) FROM trajectories WHERE status NOT IN "
                           "('queued','running'))",
                           -1, &st, NULL) != SQLITE_OK)
        return store_dberr(err, db, "store");
    if ((step = sqlite3_step(st)) == SQLITE_ROW) {
        c->leases = sqlite3_column_int64(st, 0);
        c->runs = sqlite3_column_int64(st, 1);
        c->avg_reward = sqlite3_column_double(st, 2);
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? 0 : store_dberr(err, db, "store");
}

static const char *text0(sqlite3_stmt *st, int i)
{
    const char *s = text(st, i);
    return s ? s : "";
}

int store_adopt_row(sqlite3 *db, int64_t id,
                    int (*fn)(const struct store_adopt_row *row, void *arg), void *arg,
                    struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 1, step;

    if (sqlite3_prepare_v2(db,
                           "SELECT t.uuid, t.strategy, t.symbol, t.params, t.run_id, t.created_at, "
                           "t.started_at, l.provider, l.workdir, l.sandbox_id FROM trajectories t "
                           "JOIN leases l ON l.traj_id = t.id WHERE t.id = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return store_dberr(err, db, "store");
    sqlite3_bind_int64(st, 1, id);
    if ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_adopt_row r = {
            .uuid = text0(st, 0),
            .strategy = text0(st, 1),
            .symbol = text0(st, 2),
            .params = text0(st, 3),
            .run_id = sqlite3_column_int64(st, 4),
            .created_at = sqlite3_column_int64(st, 5),
            .started_at = sqlite3_column_int64(st, 6),
            .provider = text0(st, 7),
            .workdir = text0(st, 8),
            .sandbox_id = text0(st, 9),
        };
        rc = fn(&r, arg);
    } else if (step != SQLITE_DONE) {
        rc = store_dberr(err, db, "store");
    }
    sqlite3_finalize(st);
    return rc;
}
