/*
 * fleet_store.c: the fleet's outbox, sync cursors, origins and name
 * (fleet_store.h has the contracts and the outbox's design).
 */
#define _GNU_SOURCE
#include "fleet_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "query.h"
#include "record.h"
#include "store_crypt.h"

#define TERMINAL "('succeeded','failed','timeout','cancelled','interrupted')"

int fleet_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n >= FLEET_NAME_MAX || name[0] == '.' || name[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int store_fleet_name(sqlite3 *db, const char *store_id, char *buf, size_t n)
{
    char name[256], host[128];

    if (store_meta_get(db, "fleet_name", name, sizeof name) == 1 && fleet_name_ok(name)) {
        snprintf(buf, n, "%s", name);
        return 0;
    }
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "host");
    host[sizeof host - 1] = '\0';
    host[40] = '\0';
    for (char *p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-'))
            *p = '_';
    if (host[0] == '.' || host[0] == '-' || host[0] == '\0')
        host[0] = 'h';
    snprintf(buf, n, "%s-%.8s", host, store_id ? store_id : "00000000");
    return 0;
}

struct name_job {
    const char *name;
};

static int name_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct name_job *j = arg;
    (void)s;
    if (store_meta_set(db, "fleet_name", j->name) != 0)
        return store_dberr(err, db, "fleet name");
    return 0;
}

int store_fleet_name_set(struct store *s, const char *name, struct sd_err *err)
{
    struct name_job j = {name};

    if (!fleet_name_ok(name))
        return sd_err_set(err, SD_EUSAGE,
                          "fleet name \"%s\": use 1-63 characters of A-Z a-z 0-9 . _ -", name);
    if (store_call(s, name_fn, &j, err) != 0)
        return -1;
    return store_flush(s, err);
}

struct fill_job {
    int64_t queued;
};

static int fill_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct fill_job *j = arg;
    char mark[32];
    int64_t from = 0, head = 0;
    sqlite3_stmt *st;

    if (store_meta_get(db, "fleet_outbox_mark", mark, sizeof mark) == 1)
        from = strtoll(mark, NULL, 10);
    st = store_stmt(s, "SELECT coalesce(max(chain_seq), 0) FROM main.trajectories", err);
    if (st == NULL)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW)
        return store_dberr(err, db, "fleet outbox");
    head = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (head <= from)
        return 0;
    st = store_stmt(s,
                    "INSERT OR IGNORE INTO fleet_outbox(traj_id, queued_at)"
                    " SELECT id, ?3 FROM main.trajectories WHERE chain_seq > ?1"
                    " AND chain_seq <= ?2 AND origin IS NULL",
                    err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, head);
    sqlite3_bind_int64(st, 3, sd_now_ms());
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_dberr(err, db, "fleet outbox");
    j->queued = sqlite3_changes(db);
    snprintf(mark, sizeof mark, "%lld", (long long)head);
    if (store_meta_set(db, "fleet_outbox_mark", mark) != 0)
        return store_dberr(err, db, "fleet outbox");
    return 0;
}

int store_fleet_outbox_fill(struct store *s, int64_t *queued, struct sd_err *err)
{
    struct fill_job j = {0};

    if (store_call(s, fill_fn, &j, err) != 0 || store_flush(s, err) != 0)
        return -1;
    if (queued != NULL)
        *queued = j.queued;
    return 0;
}

int store_fleet_outbox_next(sqlite3 *db, int64_t *ids, size_t max, size_t *n, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    *n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT traj_id FROM main.fleet_outbox WHERE too_big = 0"
                           " ORDER BY traj_id LIMIT ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return store_dberr(err, db, "fleet outbox");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < max)
        ids[(*n)++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        return store_dberr(err, db, "fleet outbox");
    return 0;
}

int64_t store_fleet_outbox_size(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;

    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM main.fleet_outbox", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

struct done_job {
    const int64_t *ids;
    size_t n;
    int too_big;
};

static int done_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct done_job *j = arg;

    for (size_t i = 0; i < j->n; i++) {
        sqlite3_stmt *st =
            j->too_big
                ? store_stmt(s, "UPDATE fleet_outbox SET too_big = 1 WHERE traj_id = ?1", err)
                : store_stmt(s, "DELETE FROM fleet_outbox WHERE traj_id = ?1", err);
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, j->ids[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            return store_dberr(err, db, "fleet outbox");
    }
    return 0;
}

int store_fleet_outbox_done(struct store *s, const int64_t *ids, size_t n, int too_big,
                            struct sd_err *err)
{
    struct done_job j = {ids, n, too_big};

    if (n == 0)
        return 0;
    if (store_call(s, done_fn, &j, err) != 0)
        return -1;
    return store_flush(s, err);
}

/* The origin of trajectory id (NULL: local) into buf. Returns 0 or -1. */
static int origin_of(sqlite3 *db, int64_t id, char *buf, size_t n, int *local, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    if (sqlite3_prepare_v2(db, "SELECT origin FROM trajectories WHERE id = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return store_dberr(err, db, "fleet");
    sqlite3_bind_int64(st, 1, id);
    step = sqlite3_step(st);
    *local = step != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL;
    if (!*local)
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (step != SQLITE_ROW)
        return step == SQLITE_DONE
                   ? sd_err_set(err, SD_EUSAGE, "no trajectory #%lld", (long long)id)
                   : store_dberr(err, db, "fleet");
    return 0;
}

json_t *store_fleet_envelope(sqlite3 *db, int64_t id, const char *self, struct sd_err *err)
{
    char origin[FLEET_NAME_MAX + 1];
    int local;
    json_t *rec;

    if (origin_of(db, id, origin, sizeof origin, &local, err) != 0)
        return NULL;
    if ((rec = record_trajectory(db, "", id, 1, err)) == NULL)
        return NULL;
    return json_pack("{s:s, s:o}", "origin", local ? self : origin, "record", rec);
}

json_t *store_fleet_after(sqlite3 *db, int64_t after, size_t max, const char *self,
                          const char *skip_origin, int64_t *last, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *a = json_array();
    int step;

    *last = after;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, chain_seq, origin FROM trajectories WHERE chain_seq > ?1"
                           " AND status IN " TERMINAL " ORDER BY chain_seq LIMIT ?2",
                           -1, &st, NULL) != SQLITE_OK) {
        store_dberr(err, db, "fleet");
        json_decref(a);
        return NULL;
    }
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *origin = (const char *)sqlite3_column_text(st, 2);
        json_t *env;
        *last = sqlite3_column_int64(st, 1);
        if (skip_origin != NULL && origin != NULL && strcmp(origin, skip_origin) == 0)
            continue;
        if ((env = store_fleet_envelope(db, sqlite3_column_int64(st, 0), self, err)) == NULL)
            goto fail;
        json_array_append_new(a, env);
    }
    if (step != SQLITE_DONE) {
        store_dberr(err, db, "fleet");
        goto fail;
    }
    sqlite3_finalize(st);
    return a;
fail:
    sqlite3_finalize(st);
    json_decref(a);
    return NULL;
}

int64_t store_fleet_head(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;

    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(chain_seq), 0) FROM trajectories", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int store_fleet_cursor_get(sqlite3 *db, const char *peer, int64_t *pulled, int64_t *pushed,
                           struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    int step;

    *pulled = *pushed = 0;
    if (sqlite3_prepare_v2(db, "SELECT pulled, pushed FROM main.fleet_cursor WHERE peer = ?1", -1,
                           &st, NULL) != SQLITE_OK)
        return store_dberr(err, db, "sync cursor");
    sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
    if ((step = sqlite3_step(st)) == SQLITE_ROW) {
        *pulled = sqlite3_column_int64(st, 0);
        *pushed = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return store_dberr(err, db, "sync cursor");
    return 0;
}

struct cursor_job {
    const char *peer;
    int64_t pulled, pushed;
};

static int cursor_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct cursor_job *j = arg;
    sqlite3_stmt *st = store_stmt(s,
                                  "INSERT OR REPLACE INTO fleet_cursor(peer, pulled, pushed,"
                                  " updated_at) VALUES(?1, ?2, ?3, ?4)",
                                  err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, j->peer, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, j->pulled);
    sqlite3_bind_int64(st, 3, j->pushed);
    sqlite3_bind_int64(st, 4, sd_now_ms());
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_dberr(err, db, "sync cursor");
    return 0;
}

int store_fleet_cursor_set(struct store *s, const char *peer, int64_t pulled, int64_t pushed,
                           struct sd_err *err)
{
    struct cursor_job j = {peer, pulled, pushed};

    if (store_call(s, cursor_fn, &j, err) != 0)
        return -1;
    return store_flush(s, err);
}

json_t *store_fleet_origins(sqlite3 *db, const char *strategy, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    json_t *a = json_array();
    int step;

    if (sqlite3_prepare_v2(
            db,
            "SELECT origin, count(*) AS n FROM trajectories WHERE status IN " TERMINAL
            " AND (?1 IS NULL OR strategy = ?1) GROUP BY origin"
            " ORDER BY origin IS NOT NULL, n DESC, origin",
            -1, &st, NULL) != SQLITE_OK) {
        store_dberr(err, db, "origins");
        json_decref(a);
        return NULL;
    }
    if (strategy != NULL)
        sqlite3_bind_text(st, 1, strategy, -1, SQLITE_STATIC);
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(a,
                              json_pack("{s:o, s:I}", "origin",
                                        sqlite3_column_type(st, 0) == SQLITE_NULL
                                            ? json_null()
                                            : json_string((const char *)sqlite3_column_text(st, 0)),
                                        "trajectories", (json_int_t)sqlite3_column_int64(st, 1)));
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        store_dberr(err, db, "origins");
        json_decref(a);
        return NULL;
    }
    return a;
}

json_t *store_fleet_page(sqlite3 *db, const char *store_id, int64_t after, size_t max,
                         const char *skip_origin, char *name, size_t n, int64_t *head,
                         int64_t *last, struct sd_err *err)
{
    json_t *a;

    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL); /* one snapshot: head and page agree */
    store_fleet_name(db, store_id, name, n);
    *head = store_fleet_head(db);
    a = store_fleet_after(db, after, max, name, skip_origin, last, err);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return a;
}
