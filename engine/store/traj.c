/*
 * traj.c: runs, trajectories and operations in the store (traj.h).
 *
 * Each public function packs its arguments into a small heap job and hands
 * it to the store's writer thread. Owner columns (owner_pid, owner_start)
 * record which swarmdeck process runs a trajectory, so a later start can tell
 * a trajectory whose process died (interrupted) from one still running.
 */
#define _GNU_SOURCE
#include "traj.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <jansson.h>

#include "query.h"

static const char *const state_names[TS_COUNT] = {
    "queued", "running", "succeeded", "failed", "timeout", "cancelled", "interrupted",
};

const char *traj_state_name(int state)
{
    return state >= 0 && state < TS_COUNT ? state_names[state] : "unknown";
}

int traj_state_from_name(const char *name)
{
    for (int i = 0; i < TS_COUNT; i++)
        if (strcmp(state_names[i], name) == 0)
            return i;
    return -1;
}

int traj_state_terminal(int state)
{
    return state >= TS_SUCCEEDED;
}

void traj_uuid(char buf[37])
{
    unsigned char b[16];
    size_t got = 0;

    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static int step_done(sqlite3 *db, sqlite3_stmt *st, struct sd_err *err)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_dberr(err, db, "store");
    return 0;
}

/* --- insert ---------------------------------------------------------------- */

struct insert_job {
    const struct traj_new *t;
    int64_t id;
};

static int insert_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct insert_job *j = arg;
    const struct traj_new *t = j->t;
    sqlite3_stmt *st = store_stmt(
        s,
        "INSERT INTO trajectories(uuid, run_id, strategy, symbol, params, provider, status, "
        "created_at, description, prediction, auto_optimized, owner_pid, owner_start) "
        "VALUES(?1, ?2, ?3, ?4, sd_seal(?5, 'params', ?1), ?6, 'queued', ?7, "
        "sd_seal(?8, 'description', ?1), ?9, ?10, ?11, ?12)",
        err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, t->uuid, -1, SQLITE_STATIC);
    if (t->run_id > 0)
        sqlite3_bind_int64(st, 2, t->run_id);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, t->strategy, -1, SQLITE_STATIC);
    bind_text_or_null(st, 4, t->symbol);
    sqlite3_bind_text(st, 5, t->params ? t->params : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, t->provider, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, sd_now_ms());
    bind_text_or_null(st, 8, t->description);
    bind_text_or_null(st, 9, t->prediction);
    sqlite3_bind_int(st, 10, t->auto_optimized);
    sqlite3_bind_int(st, 11, (int)getpid());
    sqlite3_bind_int64(st, 12, (sqlite3_int64)proc_self_start_time());
    if (step_done(db, st, err) != 0)
        return -1;
    j->id = sqlite3_last_insert_rowid(db);
    return 0;
}

int64_t traj_insert(struct store *s, const struct traj_new *t, struct sd_err *err)
{
    struct insert_job j = {t, -1};
    if (store_call(s, insert_fn, &j, err) != 0)
        return -1;
    return j.id;
}

/* --- running ---------------------------------------------------------------- */

struct running_job {
    int64_t id, started_at;
    char *sandbox_id;
};

static int running_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct running_job *j = arg;
    sqlite3_stmt *st = store_stmt(s,
                                  "UPDATE trajectories SET status = 'running', sandbox_id = ?2, "
                                  "started_at = ?3 WHERE id = ?1",
                                  err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, j->id);
    bind_text_or_null(st, 2, j->sandbox_id);
    sqlite3_bind_int64(st, 3, j->started_at);
    return step_done(db, st, err);
}

static void running_free(void *arg)
{
    struct running_job *j = arg;
    free(j->sandbox_id);
    free(j);
}

void traj_running(struct store *s, int64_t id, const char *sandbox_id, int64_t started_at)
{
    struct running_job *j = xcalloc(1, sizeof *j);
    j->id = id;
    j->started_at = started_at;
    j->sandbox_id = dup_or_null(sandbox_id);
    store_submit(s, running_fn, j, running_free);
}

/* --- operations ------------------------------------------------------------- */

struct op_job {
    int64_t id, started_at;
    int seq, ok;
    double duration_ms;
    char *name, *detail;
};

static int op_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct op_job *j = arg;
    sqlite3_stmt *st = store_stmt(s,
                                  "INSERT OR REPLACE INTO operations(traj_id, seq, name, "
                                  "started_at, duration_ms, ok, detail) VALUES(?1,?2,?3,?4,?5,?6,"
                                  "sd_seal(?7, 'detail', ?1, ?2))",
                                  err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_int(st, 2, j->seq);
    sqlite3_bind_text(st, 3, j->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, j->started_at);
    sqlite3_bind_double(st, 5, j->duration_ms);
    sqlite3_bind_int(st, 6, j->ok);
    bind_text_or_null(st, 7, j->detail);
    return step_done(db, st, err);
}

static void op_free(void *arg)
{
    struct op_job *j = arg;
    free(j->name);
    free(j->detail);
    free(j);
}

void traj_op(struct store *s, int64_t id, int seq, const char *name, int64_t started_at,
             double duration_ms, int ok, const char *detail)
{
    struct op_job *j = xcalloc(1, sizeof *j);
    j->id = id;
    j->seq = seq;
    j->name = xstrdup(name);
    j->started_at = started_at;
    j->duration_ms = duration_ms;
    j->ok = ok;
    j->detail = dup_or_null(detail);
    store_submit(s, op_fn, j, op_free);
}

/* --- finish ----------------------------------------------------------------- */

struct finish_job {
    int64_t id;
    struct traj_final f;
};

static int finish_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct finish_job *j = arg;
    const struct traj_final *f = &j->f;
    sqlite3_stmt *st = store_stmt(
        s,
        "UPDATE trajectories SET status = ?2, exit_code = ?3, error = sd_seal(?4, 'error', uuid), "
        "ended_at = ?5, duration_ms = ?6, result = sd_seal(?7, 'result', uuid), reward = ?8, "
        "isolation = ?9, op_sequence = ?10 WHERE id = ?1",
        err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_text(st, 2, traj_state_name(f->state), -1, SQLITE_STATIC);
    if (f->exit_code >= 0)
        sqlite3_bind_int(st, 3, f->exit_code);
    else
        sqlite3_bind_null(st, 3);
    bind_text_or_null(st, 4, f->error);
    sqlite3_bind_int64(st, 5, f->ended_at);
    sqlite3_bind_double(st, 6, f->duration_ms);
    bind_text_or_null(st, 7, f->result);
    sqlite3_bind_double(st, 8, f->reward);
    bind_text_or_null(st, 9, f->isolation);
    bind_text_or_null(st, 10, f->op_sequence);
    if (step_done(db, st, err) != 0)
        return -1;
    /* Final: it joins the fingerprint chain when this batch commits. */
    return traj_state_terminal(f->state) ? store_chain_note(s, j->id) : 0;
}

static void finish_free(void *arg)
{
    struct finish_job *j = arg;
    free((char *)j->f.error);
    free((char *)j->f.result);
    free((char *)j->f.isolation);
    free((char *)j->f.op_sequence);
    free(j);
}

void traj_finish(struct store *s, int64_t id, const struct traj_final *f)
{
    struct finish_job *j = xcalloc(1, sizeof *j);
    j->id = id;
    j->f = *f;
    j->f.error = dup_or_null(f->error);
    j->f.result = dup_or_null(f->result);
    j->f.isolation = dup_or_null(f->isolation);
    j->f.op_sequence = dup_or_null(f->op_sequence);
    store_submit(s, finish_fn, j, finish_free);
}

/* --- committed state -------------------------------------------------------- */

/* The flush makes everything queued before it committed; the state is then
 * read on a pooled reader (store_reader_borrow), which sees exactly what is
 * committed, and costs the writer nothing: no job, no batch of its own. */
int traj_committed_state(struct store *s, int64_t id, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    uint64_t gen;
    sqlite3 *db;
    int step, state = -1;

    if (store_flush(s, err) != 0 || (db = store_reader_borrow(s, &gen, err)) == NULL)
        return -1;
    if (sqlite3_prepare_v2(db, "SELECT status FROM main.trajectories WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK) {
        store_dberr(err, db, "store");
        store_reader_return(s, db, gen);
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        state = traj_state_from_name((const char *)sqlite3_column_text(st, 0));
    else if (step == SQLITE_DONE)
        state = -2;
    else
        store_dberr(err, db, "store");
    sqlite3_finalize(st);
    store_reader_return(s, db, gen);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return -1;
    if (state == -2)
        return sd_err_set(err, SD_EENV, "%s: trajectory #%lld is not in the store", store_path(s),
                          (long long)id);
    if (state < 0)
        return sd_err_set(err, SD_EENV, "%s: trajectory #%lld has an unknown state", store_path(s),
                          (long long)id);
    return state;
}

/* --- runs ------------------------------------------------------------------- */

struct run_job {
    const char *kind, *spec;
    int64_t id;
    char *status, *summary;
};

static int run_begin_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct run_job *j = arg;
    sqlite3_stmt *st = store_stmt(
        s,
        "INSERT INTO runs(id, kind, started_at, spec, status, owner_pid, owner_start) "
        "VALUES((SELECT coalesce(max(id), 0) + 1 FROM main.runs), ?1, ?2, sd_seal(?3, 'spec', "
        "(SELECT coalesce(max(id), 0) + 1 FROM main.runs)), 'running', ?4, ?5)",
        err);
    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, j->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, sd_now_ms());
    bind_text_or_null(st, 3, j->spec);
    sqlite3_bind_int(st, 4, (int)getpid());
    sqlite3_bind_int64(st, 5, (sqlite3_int64)proc_self_start_time());
    if (step_done(db, st, err) != 0)
        return -1;
    j->id = sqlite3_last_insert_rowid(db);
    return 0;
}

int64_t run_begin(struct store *s, const char *kind, const char *spec, struct sd_err *err)
{
    struct run_job j = {kind, spec, -1, NULL, NULL};
    if (store_call(s, run_begin_fn, &j, err) != 0)
        return -1;
    return j.id;
}

static int run_end_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct run_job *j = arg;
    sqlite3_stmt *st = store_stmt(
        s,
        "UPDATE runs SET ended_at = ?2, status = ?3, summary = sd_seal(?4, 'summary', id) "
        "WHERE id = ?1",
        err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_int64(st, 2, sd_now_ms());
    bind_text_or_null(st, 3, j->status);
    bind_text_or_null(st, 4, j->summary);
    return step_done(db, st, err);
}

static void run_free(void *arg)
{
    struct run_job *j = arg;
    free(j->status);
    free(j->summary);
    free(j);
}

void run_end(struct store *s, int64_t id, const char *status, const char *summary)
{
    struct run_job *j = xcalloc(1, sizeof *j);
    j->id = id;
    j->status = dup_or_null(status);
    j->summary = dup_or_null(summary);
    store_submit(s, run_end_fn, j, run_free);
}

/* --- orphans ---------------------------------------------------------------- */

static int owner_alive(int pid, uint64_t start)
{
    return store_owner_alive(pid, start);
}

struct orphan_job {
    int all, count, runs;
};

/* Close the runs still 'running' whose process is gone (with all: every
 * one) as 'interrupted'. A run from before schema v3 has no owner: it is
 * closed once none of its trajectories is queued or running any more (the
 * caller has just marked the orphaned ones). Returns 0 or -1 with err. */
static int orphan_runs(struct store *s, sqlite3 *db, struct orphan_job *j, struct sd_err *err)
{
    sqlite3_stmt *sel = store_stmt(s,
                                   "SELECT id, owner_pid, owner_start FROM runs r "
                                   "WHERE status = 'running' AND (owner_pid IS NOT NULL OR NOT "
                                   "EXISTS (SELECT 1 FROM trajectories t WHERE t.run_id = r.id "
                                   "AND t.status IN ('queued', 'running')))",
                                   err);
    sqlite3_stmt *upd;
    int64_t *ids = NULL;
    size_t n = 0;

    if (sel == NULL)
        return -1;
    while (sqlite3_step(sel) == SQLITE_ROW) {
        if (!j->all && sqlite3_column_type(sel, 1) != SQLITE_NULL &&
            owner_alive(sqlite3_column_int(sel, 1), (uint64_t)sqlite3_column_int64(sel, 2)))
            continue;
        ids = xrealloc(ids, (n + 1) * sizeof *ids);
        ids[n++] = sqlite3_column_int64(sel, 0);
    }
    sqlite3_reset(sel);
    upd = store_stmt(s,
                     "UPDATE runs SET status = 'interrupted', ended_at = ?2, summary = "
                     "coalesce(summary, sd_seal('interrupted: the swarmdeck process that ran it "
                     "stopped before it finished', 'summary', id)) WHERE id = ?1 AND "
                     "status = 'running'",
                     err);
    for (size_t i = 0; upd != NULL && i < n; i++) {
        sqlite3_bind_int64(upd, 1, ids[i]);
        sqlite3_bind_int64(upd, 2, sd_now_ms());
        if (sqlite3_step(upd) != SQLITE_DONE) {
            store_dberr(err, db, "store");
            sqlite3_reset(upd);
            free(ids);
            return -1;
        }
        j->runs += sqlite3_changes(db) > 0;
        sqlite3_reset(upd);
    }
    free(ids);
    return upd == NULL ? -1 : 0;
}

static int orphan_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct orphan_job *j = arg;
    sqlite3_stmt *sel = store_stmt(s,
                                   "SELECT id, owner_pid, owner_start FROM trajectories "
                                   "WHERE status IN ('queued', 'running')",
                                   err);
    sqlite3_stmt *upd;
    int64_t *ids = NULL;
    size_t n = 0;

    if (sel == NULL)
        return -1;
    while (sqlite3_step(sel) == SQLITE_ROW) {
        int pid = sqlite3_column_int(sel, 1);
        uint64_t start = (uint64_t)sqlite3_column_int64(sel, 2);
        if (!j->all && owner_alive(pid, start))
            continue;
        ids = xrealloc(ids, (n + 1) * sizeof *ids);
        ids[n++] = sqlite3_column_int64(sel, 0);
    }
    sqlite3_reset(sel);
    upd = store_stmt(s,
                     "UPDATE trajectories SET status = 'interrupted', ended_at = ?2, "
                     "error = coalesce(error, sd_seal('interrupted: the swarmdeck process that "
                     "ran it stopped before it finished', 'error', uuid)) WHERE id = ?1 AND "
                     "status IN ('queued','running')",
                     err);
    for (size_t i = 0; upd != NULL && i < n; i++) {
        sqlite3_bind_int64(upd, 1, ids[i]);
        sqlite3_bind_int64(upd, 2, sd_now_ms());
        if (sqlite3_step(upd) == SQLITE_DONE && sqlite3_changes(db) > 0) {
            j->count++;
            store_chain_note(s, ids[i]);
        }
        sqlite3_reset(upd);
    }
    free(ids);
    if (upd == NULL)
        return -1;
    return orphan_runs(s, db, j, err);
}

int traj_mark_orphans_interrupted(struct store *s, int all, struct sd_err *err)
{
    struct orphan_job j = {all, 0, 0};
    if (store_call(s, orphan_fn, &j, err) != 0 || store_flush(s, err) != 0)
        return -1;
    return j.count;
}

/* --- taking over E2B deployments --------------------------------------------- */

struct claim_job {
    int64_t *ids;
    size_t n;
};

/* Move one row of table (leases by sandbox_id, trajectories or runs by id)
 * to this process as its owner. */
static int claim_row(struct store *s, sqlite3 *db, const char *sql, const char *key, int64_t id,
                     struct sd_err *err)
{
    sqlite3_stmt *st = store_stmt(s, sql, err);

    if (st == NULL)
        return -1;
    if (key != NULL)
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, (int)getpid());
    sqlite3_bind_int64(st, 3, (sqlite3_int64)proc_self_start_time());
    if (step_done(db, st, err) != 0)
        return -1;
    return sqlite3_changes(db);
}

static int claim_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct claim_job *j = arg;
    sqlite3_stmt *sel = store_stmt(
        s,
        "SELECT l.sandbox_id, l.traj_id, l.owner_pid, l.owner_start, t.run_id FROM leases l "
        "JOIN trajectories t ON t.id = l.traj_id WHERE l.workdir LIKE 'e2b:%' AND "
        "t.status = 'running' ORDER BY l.traj_id",
        err);
    struct cand {
        char sid[80];
        int64_t traj, run;
    } *cand = NULL;
    size_t n = 0;
    int rc = 0;

    if (sel == NULL)
        return -1;
    while (sqlite3_step(sel) == SQLITE_ROW) {
        const char *sid = (const char *)sqlite3_column_text(sel, 0);
        if (sid == NULL || strlen(sid) >= sizeof cand->sid ||
            store_owner_alive(sqlite3_column_int(sel, 2), (uint64_t)sqlite3_column_int64(sel, 3)))
            continue;
        cand = xrealloc(cand, (n + 1) * sizeof *cand);
        snprintf(cand[n].sid, sizeof cand[n].sid, "%s", sid);
        cand[n].traj = sqlite3_column_int64(sel, 1);
        cand[n].run = sqlite3_column_int64(sel, 4);
        n++;
    }
    sqlite3_reset(sel);
    /* Inside the writer's transaction: a second process claiming at the same
     * time waits for it, then finds the owner alive and leaves the row. */
    for (size_t i = 0; i < n && rc == 0; i++) {
        int k = claim_row(
            s, db, "UPDATE leases SET owner_pid = ?2, owner_start = ?3 WHERE sandbox_id = ?1",
            cand[i].sid, 0, err);
        if (k < 0 ||
            (k > 0 &&
             claim_row(s, db,
                       "UPDATE trajectories SET owner_pid = ?2, owner_start = ?3 WHERE id = ?1",
                       NULL, cand[i].traj, err) < 0) ||
            (k > 0 && cand[i].run > 0 &&
             claim_row(s, db,
                       "UPDATE runs SET owner_pid = ?2, owner_start = ?3 WHERE id = ?1 AND "
                       "status = 'running'",
                       NULL, cand[i].run, err) < 0)) {
            rc = -1;
            break;
        }
        if (k > 0) {
            j->ids = xrealloc(j->ids, (j->n + 1) * sizeof *j->ids);
            j->ids[j->n++] = cand[i].traj;
        }
    }
    free(cand);
    return rc;
}

int traj_claim_e2b(struct store *s, int64_t **ids, size_t *n, struct sd_err *err)
{
    struct claim_job j = {NULL, 0};

    *ids = NULL;
    *n = 0;
    if (store_call(s, claim_fn, &j, err) != 0 || store_flush(s, err) != 0) {
        free(j.ids);
        return -1;
    }
    *ids = j.ids;
    *n = j.n;
    return 0;
}

/* --- ending a run nobody tracks -------------------------------------------- */

struct run_done_job {
    int64_t run;
};

static int run_done_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct run_done_job *j = arg;
    sqlite3_stmt *st = store_stmt(
        s,
        "SELECT sum(status IN ('queued','running')), sum(status = 'succeeded'), "
        "sum(status IN ('cancelled','interrupted')), count(*) FROM trajectories WHERE run_id = ?1",
        err);
    int live, ok, cancelled, all;
    char summary[160], *txt;
    json_t *o;

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, j->run);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return store_dberr(err, db, "store");
    }
    live = sqlite3_column_int(st, 0);
    ok = sqlite3_column_int(st, 1);
    cancelled = sqlite3_column_int(st, 2);
    all = sqlite3_column_int(st, 3);
    sqlite3_reset(st);
    if (live > 0 || all == 0)
        return 0;
    if (cancelled > 0)
        snprintf(summary, sizeof summary, "run %lld: %d succeeded, %d failed, %d cancelled",
                 (long long)j->run, ok, all - ok - cancelled, cancelled);
    else
        snprintf(summary, sizeof summary, "run %lld: %d succeeded, %d failed", (long long)j->run,
                 ok, all - ok);
    /* The summary a daemon's run has (engine/serve/pump.c). */
    o = json_pack("{s:s, s:I, s:s, s:i, s:i, s:i, s:s}", "type", "run", "run", (json_int_t)j->run,
                  "status", ok == all ? "succeeded" : "failed", "succeeded", ok, "failed",
                  all - ok - cancelled, "cancelled", cancelled, "summary", summary);
    txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    st = store_stmt(s,
                    "UPDATE runs SET ended_at = ?2, status = ?3, summary = sd_seal(?4, 'summary', "
                    "id) WHERE id = ?1 AND status = 'running' AND owner_pid = ?5",
                    err);
    if (st == NULL) {
        free(txt);
        return -1;
    }
    sqlite3_bind_int64(st, 1, j->run);
    sqlite3_bind_int64(st, 2, sd_now_ms());
    sqlite3_bind_text(st, 3, ok == all ? "succeeded" : "failed", -1, SQLITE_STATIC);
    bind_text_or_null(st, 4, txt);
    sqlite3_bind_int(st, 5, (int)getpid());
    free(txt);
    return step_done(db, st, err);
}

void run_end_if_done(struct store *s, int64_t run)
{
    struct run_done_job *j = xcalloc(1, sizeof *j);
    j->run = run;
    store_submit(s, run_done_fn, j, free);
}

/* --- the next trajectory id -------------------------------------------------- */

struct next_job {
    int64_t id;
};

static int next_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct next_job *j = arg;
    sqlite3_stmt *st = store_stmt(s, "SELECT coalesce(max(id), 0) + 1 FROM main.trajectories", err);

    if (st == NULL)
        return -1;
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return store_dberr(err, db, "store");
    }
    j->id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

int64_t traj_next_id(struct store *s, struct sd_err *err)
{
    struct next_job j = {-1};
    if (store_call(s, next_fn, &j, err) != 0)
        return -1;
    return j.id;
}
