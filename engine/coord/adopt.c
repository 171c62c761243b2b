/*
 * adopt.c: re-adopting the E2B deployments a process that died left running
 * (coord.h: coord_adopt).
 *
 * An E2B sandbox does not die with the swarmdeck process that made it. The
 * store keeps what is needed to find it again: the lease's workdir
 * "e2b:<instance>:<sandboxID>:<timeout ms>" (lease_info), and our sandbox id,
 * from which the program's process tag follows (swarmdeck-<id>). Neither the
 * API key nor the envd access token is stored: reattaching asks the API for
 * a fresh token (POST /v2/sandboxes/{id}/connect), as the SDK's connect does.
 *
 * traj_claim_e2b (run before recover_orphans) makes this process the owner
 * of such deployments; coord_adopt then rebuilds each one's deployment from
 * its row, feeds the output the store already holds through the protocol
 * parser and the log ring (so a @@result written before the crash counts and
 * the console shows the earlier lines; nothing is stored twice), and queues
 * it for a worker, which reattaches and resumes the stream (worker.c,
 * run_adopted). Output is appended after what the store has, continuing its
 * sequence.
 *
 * THREADS
 * The caller's thread, before or while workers run; the lock is taken to
 * publish each deployment.
 */
#define _GNU_SOURCE
#include "coord_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"

/* One stored chunk, fed back as if it had just arrived (not stored again). */
static int replay(int64_t seq, int stream, const void *data, size_t len, void *arg)
{
    struct dep *d = arg;

    (void)seq;
    logring_append(d->log, stream, data, len);
    d->out_bytes += len;
    if (stream == 1)
        coord_output_parse(d, data, len);
    else
        coord_output_stderr(d, data, len);
    return 0;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

/* The instance named by a lease's provider column that can reattach. */
static struct pinst *instance(struct coord *c, const char *name)
{
    for (int i = 0; i < c->nprov; i++)
        if (strcmp(c->prov[i].p->name, name) == 0 && c->prov[i].p->ops->reattach != NULL)
            return &c->prov[i];
    return NULL;
}

/* Build trajectory id's deployment from the store (db, a reader). Returns
 * it (not yet published), or NULL with err set. *pi gets its instance, or
 * NULL when none configured here can reattach it. */
static struct dep *load(struct coord *c, sqlite3 *db, int64_t id, struct pinst **pi,
                        struct sd_err *err)
{
    sqlite3_stmt *st = NULL;
    struct dep *d;
    const char *wd, *t;
    json_error_t je;

    if (sqlite3_prepare_v2(db,
                           "SELECT t.uuid, t.strategy, t.symbol, t.params, t.run_id, t.created_at, "
                           "t.started_at, l.provider, l.workdir, l.sandbox_id FROM trajectories t "
                           "JOIN leases l ON l.traj_id = t.id WHERE t.id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        store_dberr(err, db, "store");
        return NULL;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        sd_err_set(err, SD_EENV, "trajectory #%lld has no lease any more", (long long)id);
        return NULL;
    }
    d = xcalloc(1, sizeof *d);
    d->c = c;
    snprintf(d->uuid, sizeof d->uuid, "%s", col(st, 0));
    d->def = catalog_find(c->cat, col(st, 1), err); /* NULL: removed since; not needed */
    d->params = json_loads(col(st, 3), 0, &je);
    if (!json_is_object(d->params)) {
        json_decref(d->params);
        d->params = json_object();
    }
    d->params_s = json_dumps(d->params, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    d->run_id = sqlite3_column_int64(st, 4);
    d->v.id = id;
    d->v.state = TS_RUNNING;
    d->v.exit_code = -1;
    d->v.total_return = NAN;
    d->v.sharpe = NAN;
    d->v.created_at = sqlite3_column_int64(st, 5);
    d->v.started_at = sqlite3_column_int64(st, 6);
    snprintf(d->v.strategy, sizeof d->v.strategy, "%s", col(st, 1));
    snprintf(d->v.symbol, sizeof d->v.symbol, "%s", col(st, 2));
    snprintf(d->v.provider, sizeof d->v.provider, "%s", col(st, 7));
    snprintf(d->v.sandbox_id, sizeof d->v.sandbox_id, "%s", col(st, 9));
    snprintf(d->want, sizeof d->want, "%s", col(st, 7));
    wd = col(st, 8);
    snprintf(d->adopt, sizeof d->adopt, "%s", wd);
    /* "e2b:<instance>:<sandboxID>:<timeout ms>": the deployment's timeout. */
    t = strrchr(wd, ':');
    if (t != NULL && strchr(wd + 4, ':') != t && t[1] >= '0' && t[1] <= '9')
        d->timeout_ms = strtoll(t + 1, NULL, 10);
    *pi = instance(c, col(st, 7));
    sqlite3_finalize(st);
    d->log = logring_new(COORD_RING_RUN_LINES, COORD_RING_RUN_BYTES);
    if (d->log == NULL || d->params_s == NULL ||
        store_output_read(db, id, 0, replay, d, err) != 0) {
        if (d->log == NULL || d->params_s == NULL)
            sd_err_set(err, SD_ENOMEM, "out of memory");
        json_decref(d->params);
        free(d->params_s);
        logring_free(d->log);
        coord_output_reset(d);
        free(d);
        return NULL;
    }
    memset(err, 0, sizeof *err);
    d->v.output_bytes = d->out_bytes;
    return d;
}

/* Publish d (running) in the table and, with an instance, queue it for a
 * worker. */
static void publish(struct coord *c, struct dep *d, struct pinst *pi)
{
    coord_lock(c);
    coord_dep_add_locked(c, d);
    d->pi = pi;
    c->active++;
    if (pi != NULL) {
        if (c->qtail)
            c->qtail->qnext = d;
        else
            c->qhead = d;
        c->qtail = d;
    }
    coord_work_push_state(c, d);
    pthread_cond_broadcast(&c->cond);
    coord_unlock(c);
}

int coord_adopt(struct coord *c, const int64_t *ids, size_t n, struct sd_err *err)
{
    sqlite3 *db;
    int adopted = 0;

    if (n == 0)
        return 0;
    if ((db = store_reader(c->store, err)) == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct pinst *pi = NULL;
        struct sd_err e = {0};
        struct dep *d = load(c, db, ids[i], &pi, &e);
        char msg[300];

        if (d == NULL) {
            fprintf(stderr, "swarmdeck: deployment #%lld not re-adopted: %s\n", (long long)ids[i],
                    e.msg);
            continue;
        }
        publish(c, d, pi);
        if (pi == NULL) {
            snprintf(msg, sizeof msg,
                     "interrupted: the swarmdeck process that ran it stopped, and its provider "
                     "instance \"%.40s\" is not configured here to reattach to its sandbox",
                     d->v.provider);
            store_lease_remove(c->store, d->v.sandbox_id);
            coord_work_finish(c, d, TS_INTERRUPTED, -1, msg, NULL);
            if (d->run_id > 0)
                run_end_if_done(c->store, d->run_id);
            continue;
        }
        adopted++;
    }
    sqlite3_close(db);
    return adopted;
}
