/*
 * store_jobs.c: the public calls that are one small writer job each:
 * store_rekey, store_chain_verified, and the sandbox leases (store.h has the
 * contracts).
 *
 * DESIGN
 * Each call wraps its job in store_call or store_submit (store_queue.c); the
 * jobs run on the writer thread inside the current batch, with cached
 * statements (store_sql.c). The calls that must be durable before they
 * return (rekey, the verification record, a new lease, written before its
 * sandbox starts) flush after the job. store_lease_list reads committed rows
 * on a reader connection of its own (store_reader, store.c).
 *
 * THREADS
 * The public calls: any thread. The *_job functions: the writer thread.
 */
#define _GNU_SOURCE
#include "store_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_crypt.h"

int store_owner_alive(int pid, uint64_t start)
{
    return pid > 0 && kill(pid, 0) == 0 && proc_start_time(pid) == start;
}

/* The pid of another live swarmdeck process with deployments (or a run)
 * under way on this store, 0 if none, -1 on a read error (err set). Run
 * inside the write transaction, so none can start before it ends. */
static int other_live_owner(struct store *s, sqlite3 *db, struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    int pid = 0, step;

    if (sqlite3_prepare_v2(db,
                           "SELECT owner_pid, owner_start FROM main.trajectories"
                           " WHERE status IN ('queued', 'running') AND owner_pid IS NOT NULL"
                           " UNION SELECT owner_pid, owner_start FROM main.runs"
                           " WHERE status = 'running' AND owner_pid IS NOT NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return store_sql_err(err, db, s->path, "rekey");
    while (pid == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int p = sqlite3_column_int(st, 0);
        if (p != (int)getpid() && store_owner_alive(p, (uint64_t)sqlite3_column_int64(st, 1)))
            pid = p;
    }
    if (pid == 0 && step != SQLITE_DONE)
        pid = store_sql_err(err, db, s->path, "rekey");
    sqlite3_finalize(st);
    return pid;
}

/* Another process's writer would find the key changed under it and stop
 * writing its deployments' records (store_writer.c): 0 when no other live
 * process owns a queued or running deployment or run, else -1 with err
 * naming its pid (or the SQL error). */
static int refuse_other_owner(struct store *s, sqlite3 *db, struct sd_err *err)
{
    int other = other_live_owner(s, db, err);

    if (other <= 0)
        return other;
    return sd_err_set(err, SD_EENV,
                      "%s: deployments of another swarmdeck process (pid %d) are running on "
                      "this store; rekey when they have finished",
                      s->path, other);
}

/* The same before the rekey queues for the write lock, which a busy
 * process's writer may hold batch after batch: the refusal must name that
 * process, not time out on its lock (a WAL reader does not wait for a
 * writer). A private read-only connection (the
 * columns read are plain), so the store's reader pool and counts are left
 * as they are. 0 to go on, -1 with err set. */
static int refuse_other_owner_early(struct store *s, struct sd_err *err)
{
    sqlite3 *db = NULL;
    int rc = 0;

    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        rc = refuse_other_owner(s, db, err);
    }
    sqlite3_close_v2(db);
    return rc != 0 ? -1 : 0; /* a store this cannot open: the job decides */
}

/* --- rekey and verification records ------------------------------------ */

struct rekey_job {
    const char *secret; /* NULL: decrypt */
};

static int rekey_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct rekey_job *j = arg;
    struct skey *nk = NULL;
    int was_plain = s->key == NULL, other;

    /* Checked again under the write lock: none may have started since. */
    if ((other = refuse_other_owner(s, db, err)) != 0)
        return other;
    if (store_exec(db, "SAVEPOINT rekey") != SQLITE_OK)
        return store_sql_err(err, db, s->path, "rekey");
    if (j->secret != NULL ? skey_write_meta(db, j->secret, s->id, &nk, err) != 0
                          : skey_drop_meta(db) != 0 && store_sql_err(err, db, s->path, "rekey"))
        goto fail;
    if (skey_rekey(db, s->key, nk, err) != 0)
        goto fail;
    /* The writer's views decrypt (or not) from now on. */
    if (store_exec(db, "DROP VIEW IF EXISTS temp.sd_plain_trajectories;"
                       "DROP VIEW IF EXISTS temp.sd_plain_output;"
                       "DROP VIEW IF EXISTS temp.sd_plain_runs;"
                       "DROP VIEW IF EXISTS temp.sd_plain_operations") != SQLITE_OK ||
        skey_views(db, nk != NULL, 0, err) != 0)
        goto fail;
    if (store_exec(db, "RELEASE rekey") != SQLITE_OK) {
        store_sql_err(err, db, s->path, "rekey");
        goto fail;
    }
    skey_free(s->key);
    s->key = nk;
    store_reader_pool_drain(s); /* pooled readers hold a copy of the old key */
    if (nk != NULL)
        store_exec(db, "PRAGMA secure_delete=ON");
    if (was_plain || nk == NULL)
        s->vacuum_at_close = 1;
    return 0;
fail:
    store_exec(db, "ROLLBACK TO rekey");
    store_exec(db, "RELEASE rekey");
    skey_free(nk);
    return -1;
}

int store_rekey(struct store *s, const char *new_secret, struct sd_err *err)
{
    struct rekey_job j = {new_secret};

    if (s->flags & STORE_READONLY)
        return sd_err_set(err, SD_EUSAGE, "%s: the store is open read-only", s->path);
    if (new_secret == NULL && s->key == NULL)
        return sd_err_set(err, SD_EUSAGE, "%s: the store is not encrypted", s->path);
    if (refuse_other_owner_early(s, err) != 0)
        return -1;
    /* Everything queued before is committed first, so the rekey commits as
     * one batch of its own: all values under the new key, or none. */
    if (store_flush(s, err) != 0 || store_call(s, rekey_job, &j, err) != 0)
        return -1;
    return store_flush(s, err);
}

static int verified_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    if (store_meta_set(db, "chain_verified", arg) != 0)
        return store_sql_err(err, db, s->path, "cannot record the verification");
    return 0;
}

int store_chain_verified(struct store *s, const char *state, struct sd_err *err)
{
    if (s->flags & STORE_READONLY)
        return 0;
    if (store_call(s, verified_job, (void *)state, err) != 0)
        return -1;
    return store_flush(s, err);
}

/* --- leases ---------------------------------------------------------------- */

static const char sql_lease_add[] =
    "INSERT INTO leases(sandbox_id, traj_id, provider, pid, pid_start, owner_pid, owner_start,"
    " workdir, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_lease_remove[] = "DELETE FROM leases WHERE sandbox_id=?";

static int lease_add_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    const struct store_lease *l = arg;
    sqlite3_stmt *st = store_stmt(s, sql_lease_add, err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, l->sandbox_id, -1, SQLITE_STATIC);
    if (l->traj_id > 0)
        sqlite3_bind_int64(st, 2, l->traj_id);
    sqlite3_bind_text(st, 3, l->provider, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, l->pid);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)l->pid_start);
    sqlite3_bind_int(st, 6, l->owner_pid);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)l->owner_start);
    if (l->workdir[0] != '\0')
        sqlite3_bind_text(st, 8, l->workdir, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, l->created_at);
    if (sqlite3_step(st) != SQLITE_DONE) {
        store_sql_err(err, db, s->path, "cannot record the sandbox lease");
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    return 0;
}

int store_lease_add(struct store *s, const struct store_lease *l, struct sd_err *err)
{
    if (store_call(s, lease_add_job, (void *)l, err) != 0)
        return -1;
    return store_flush(s, err);
}

static int lease_remove_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    sqlite3_stmt *st = store_stmt(s, sql_lease_remove, err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        store_sql_err(err, db, s->path, "cannot remove the sandbox lease");
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    return 0;
}

int store_lease_remove(struct store *s, const char *sandbox_id)
{
    char *id;

    if (s->flags & STORE_READONLY || (id = strdup(sandbox_id)) == NULL)
        return -1;
    return store_submit(s, lease_remove_job, id, free);
}

static void copy_col(sqlite3_stmt *st, int col, char *dst, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, len, "%s", t != NULL ? (const char *)t : "");
}

int store_lease_list(struct store *s, struct store_lease **out, size_t *n, struct sd_err *err)
{
    sqlite3 *db = store_reader(s, err);
    sqlite3_stmt *st = NULL;
    struct store_lease *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc = -1, step;

    *out = NULL;
    *n = 0;
    if (db == NULL)
        return -1;
    if (sqlite3_prepare_v2(db,
                           "SELECT sandbox_id, coalesce(traj_id, 0), provider, pid, pid_start,"
                           " owner_pid, owner_start, coalesce(workdir, ''), created_at"
                           " FROM leases ORDER BY created_at, sandbox_id",
                           -1, &st, NULL) != SQLITE_OK) {
        store_sql_err(err, db, s->path, "cannot read leases");
        goto out;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_lease *l;
        if (cnt == cap) {
            struct store_lease *t = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
            if (t == NULL) {
                sd_err_set(err, SD_ENOMEM, "out of memory");
                goto out;
            }
            v = t;
        }
        l = &v[cnt++];
        memset(l, 0, sizeof *l);
        copy_col(st, 0, l->sandbox_id, sizeof l->sandbox_id);
        l->traj_id = sqlite3_column_int64(st, 1);
        copy_col(st, 2, l->provider, sizeof l->provider);
        l->pid = sqlite3_column_int(st, 3);
        l->pid_start = (uint64_t)sqlite3_column_int64(st, 4);
        l->owner_pid = sqlite3_column_int(st, 5);
        l->owner_start = (uint64_t)sqlite3_column_int64(st, 6);
        copy_col(st, 7, l->workdir, sizeof l->workdir);
        l->created_at = sqlite3_column_int64(st, 8);
    }
    if (step != SQLITE_DONE) {
        store_sql_err(err, db, s->path, "cannot read leases");
        goto out;
    }
    *out = v;
    *n = cnt;
    v = NULL;
    rc = 0;
out:
    free(v);
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return rc;
}
