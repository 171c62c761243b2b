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

/* The instance named by a lease's provider column that can reattach. */
static struct pinst *instance(struct coord *c, const char *name)
{
    for (int i = 0; i < c->nprov; i++)
        if (strcmp(c->prov[i].p->name, name) == 0 && c->prov[i].p->ops->reattach != NULL)
            return &c->prov[i];
    return NULL;
}

/* store_adopt_row's callback: a new deployment from the row into *arg. */
struct loaded {
    struct coord *c;
    int64_t id;
    struct dep *d;
    struct pinst *pi;
};

static int from_row(const struct store_adopt_row *r, void *arg)
{
    struct loaded *l = arg;
    struct dep *d = xcalloc(1, sizeof *d);
    struct sd_err ignored = {0};
    const char *t;
    json_error_t je;

    d->c = l->c;
    snprintf(d->uuid, sizeof d->uuid, "%s", r->uuid);
    d->def = catalog_find(l->c->cat, r->strategy, &ignored); /* NULL: removed since */
    d->params = json_loads(r->params, 0, &je);
    if (!json_is_object(d->params)) {
        json_decref(d->params);
        d->params = json_object();
    }
    d->params_s = json_dumps(d->params, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    d->run_id = r->run_id;
    d->v.id = l->id;
    d->v.state = TS_RUNNING;
    d->v.exit_code = -1;
    d->v.total_return = NAN;
    d->v.sharpe = NAN;
    d->v.created_at = r->created_at;
    d->v.started_at = r->started_at;
    snprintf(d->v.strategy, sizeof d->v.strategy, "%s", r->strategy);
    snprintf(d->v.symbol, sizeof d->v.symbol, "%s", r->symbol);
    snprintf(d->v.provider, sizeof d->v.provider, "%s", r->provider);
    snprintf(d->v.sandbox_id, sizeof d->v.sandbox_id, "%s", r->sandbox_id);
    snprintf(d->want, sizeof d->want, "%s", r->provider);
    snprintf(d->adopt, sizeof d->adopt, "%s", r->workdir);
    /* "e2b:<instance>:<sandboxID>:<timeout ms>": the deployment's timeout. */
    t = strrchr(r->workdir, ':');
    if (t != NULL && strlen(r->workdir) > 4 && strchr(r->workdir + 4, ':') != t && t[1] >= '0' &&
        t[1] <= '9')
        d->timeout_ms = strtoll(t + 1, NULL, 10);
    l->pi = instance(l->c, r->provider);
    l->d = d;
    return 0;
}

/* Build trajectory id's deployment from the store (db, a reader). Returns
 * it (not yet published), or NULL with err set. *pi gets its instance, or
 * NULL when none configured here can reattach it. */
static struct dep *load(struct coord *c, sqlite3 *db, int64_t id, struct pinst **pi,
                        struct sd_err *err)
{
    struct loaded l = {.c = c, .id = id};
    struct dep *d;
    int rc = store_adopt_row(db, id, from_row, &l, err);

    if (rc != 0) {
        if (rc == 1)
            sd_err_set(err, SD_EENV, "trajectory #%lld has no lease any more", (long long)id);
        return NULL;
    }
    d = l.d;
    *pi = l.pi;
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
