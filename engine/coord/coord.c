/*
 * coord.c: the coordinator's public face (coord.h): options, new and free,
 * validation, submit, the views, waits and cancel.
 *
 * The rest lives beside it, around coord_int.h (which lists the files and
 * the locking rules): worker.c runs deployments, choose.c picks provider
 * instances, output.c reads what programs say.
 *
 * A deployment lives in c->deps from coord_submit until coord_free (views,
 * results and log rings stay readable after it ends); c->active counts those
 * queued or running, for coord_wait_idle.
 *
 * THREADS
 * coord_new/coord_free: the owner thread. Everything else: any thread; each
 * function takes c->lock for what it reads and never holds it across a
 * provider or store call.
 */
#define _GNU_SOURCE
#include "coord_int.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learn.h"
#include "query.h"

static struct dep *find_locked(struct coord *c, int64_t id);
static int validate(struct coord *c, const struct deploy_req *r, const struct strategy_def **def,
                    json_t **params, json_t **given, struct sd_err *err);

void coord_opts_default(struct coord_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_agents = 10;
    o->timeout_ms = 300000;
    o->memory_mb = 512;
    o->cpus = 1;
    o->pids = 256;
    o->disk_mb = 256;
    o->learning = 1;
    o->retries = 3;
    o->max_output = 256ll << 20;
    o->backoff_ms = 100;
}

int coord_sleep(struct coord *c, const struct timespec *deadline)
{
    int rc;

    ASSERT_LOCKED(c);
    c->locked = 0;
    if (deadline != NULL)
        rc = pthread_cond_timedwait(&c->cond, &c->lock, deadline);
    else
        rc = pthread_cond_wait(&c->cond, &c->lock);
    c->lock_owner = pthread_self();
    c->locked = 1;
    return rc;
}

/* The health a previous process left in the store (meta provider_health), for
 * coord_choose_init; NULL when there is none. */
static json_t *saved_health(struct store *s)
{
    sqlite3 *db = store_reader(s, NULL);
    json_t *a = store_provider_health(db);

    sqlite3_close_v2(db);
    return a;
}

struct coord *coord_new(struct store *s, const struct coord_opts *o, const char *runner_path,
                        const char *helper_path, struct sd_err *err)
{
    struct coord *c = xcalloc(1, sizeof *c);

    c->store = s;
    c->o = *o;
    if (c->o.max_agents < 1)
        c->o.max_agents = 1;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    if (catalog_load(&c->cat, runner_path, s, err) != 0)
        goto fail;
    c->prov[0].p = provider_local_new(helper_path, sd_runtime_dir(), err);
    if (c->prov[0].p == NULL)
        goto fail;
    snprintf(c->prov[0].kind, sizeof c->prov[0].kind, "local");
    if (c->o.warm_pool)
        provider_local_warm(c->prov[0].p);
    c->health0 = saved_health(s);
    coord_lock(c);
    coord_choose_init(c, &c->prov[0]);
    c->nprov = 1;
    coord_unlock(c);
    snprintf(c->want, sizeof c->want, "%s", c->o.provider ? c->o.provider : "local");
    snprintf(c->failover, sizeof c->failover, "%s", c->o.failover ? c->o.failover : "");
    c->o.provider = c->o.failover = NULL; /* the caller's strings need not outlive this call */
    if (c->o.learning || c->o.auto_optimize) {
        c->learn = learn_open(s, c->cat, err);
        if (c->learn == NULL)
            goto fail;
    }
    snprintf(c->tmpdir, sizeof c->tmpdir, "%s", sd_runtime_dir());
    c->evq = evq_new(4096);
    if (c->evq == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        goto fail;
    }
    c->workers = xcalloc((size_t)c->o.max_agents, sizeof *c->workers);
    for (int i = 0; i < c->o.max_agents; i++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 256 * 1024);
        if (pthread_create(&c->workers[i], &a, coord_work_thread, c) != 0) {
            pthread_attr_destroy(&a);
            sd_err_set(err, SD_EENV, "cannot start worker threads: %s", strerror(errno));
            break;
        }
        pthread_attr_destroy(&a);
        c->nworkers++;
    }
    if (c->nworkers == 0)
        goto fail;
    return c;
fail:
    coord_free(c);
    return NULL;
}

void coord_free(struct coord *c)
{
    if (c == NULL)
        return;
    coord_cancel_all(c);
    coord_lock(c);
    c->stopping = 1;
    pthread_cond_broadcast(&c->cond);
    coord_unlock(c);
    for (int i = 0; i < c->nworkers; i++)
        pthread_join(c->workers[i], NULL);
    free(c->workers);
    for (size_t i = 0; i < c->ndeps; i++) {
        struct dep *d = c->deps[i];
        json_decref(d->params);
        json_decref(d->result);
        json_decref(d->prediction);
        free(d->params_s);
        free(d->description);
        free(d->isolation);
        logring_free(d->log);
        free(d);
    }
    free(c->deps);
    /* The latest latencies and isolation level, for `status`; a coordinator
     * that ran nothing (bad input) leaves the store as it was. */
    if (c->nprov > 0 && c->ndeps > 0)
        coord_choose_persist(c);
    for (int i = 0; i < c->nprov; i++)
        c->prov[i].p->ops->free(c->prov[i].p);
    learn_free(c->learn);
    catalog_free(c->cat);
    evq_free(c->evq);
    json_decref(c->health0);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

struct learn *coord_learn(struct coord *c)
{
    return c->learn;
}

json_t *coord_suggest(struct coord *c, const struct deploy_req *r, struct sd_err *err)
{
    const struct strategy_def *def;
    json_t *params, *pred;

    if (c->learn == NULL) {
        sd_err_set(err, SD_EUSAGE, "learning is off");
        return NULL;
    }
    if (validate(c, r, &def, &params, NULL, err) != 0)
        return NULL;
    pred = learn_suggest(c->learn, def, params, r->symbol ? r->symbol : "SPY", err);
    json_decref(params);
    if (pred != NULL)
        coord_choose_advise(c, r, pred);
    return pred;
}

json_t *coord_prediction(struct coord *c, int64_t id)
{
    json_t *p = NULL;
    struct dep *d;
    coord_lock(c);
    d = find_locked(c, id);
    if (d && d->prediction)
        p = json_incref(d->prediction);
    coord_unlock(c);
    return p;
}

struct catalog *coord_catalog(struct coord *c)
{
    return c->cat;
}

struct store *coord_store(struct coord *c)
{
    return c->store;
}

struct evq *coord_events(struct coord *c)
{
    return c->evq;
}

const struct coord_opts *coord_options(struct coord *c)
{
    return &c->o;
}

const char *coord_default_provider(struct coord *c)
{
    return c->want;
}

/* Validate r; on success *def and *params (new reference) are set. */
/* The walk-forward window of r, for strategy def. */
static int window_check(const struct strategy_def *def, const struct deploy_req *r,
                        struct sd_err *err)
{
    const char *t = r->train_until;
    int y, m, d, n = 0;

    if (t == NULL && r->validate == 0 && r->folds == 0)
        return 0;
    if (!def->builtin && r->folds != 0)
        return sd_err_set(err, SD_EUSAGE,
                          "--folds is for the built-in strategies; \"%s\" is a user strategy, "
                          "which gets one training window (--from and --to)",
                          def->name);
    if (t != NULL && (sscanf(t, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || t[n] != '\0' ||
                      strlen(t) != 10 || m < 1 || m > 12 || d < 1 || d > 31))
        return sd_err_set(err, SD_EUSAGE, "--train-until \"%s\" is not a date YYYY-MM-DD", t);
    if (r->validate != 0 && !(r->validate > 0 && r->validate < 1))
        return sd_err_set(err, SD_EUSAGE, "--validate must be a fraction between 0 and 1");
    if (t != NULL && r->validate != 0)
        return sd_err_set(err, SD_EUSAGE, "give --train-until or --validate, not both");
    if (r->folds != 0 && (r->folds < 2 || r->folds > 50))
        return sd_err_set(err, SD_EUSAGE, "--folds must be from 2 to 50");
    if (r->folds != 0 && t == NULL && r->validate == 0)
        return sd_err_set(err, SD_EUSAGE, "--folds needs --train-until or --validate");
    return 0;
}

static int validate(struct coord *c, const struct deploy_req *r, const struct strategy_def **def,
                    json_t **params, json_t **given, struct sd_err *err)
{
    const char *symbol = r->symbol ? r->symbol : "SPY";
    json_t *clean;

    if (coord_choose_planned(c, r->provider ? r->provider : c->want) == NULL) {
        char names[256] = "";
        for (int i = 0; i < c->nprov; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     c->prov[i].p->name);
        return sd_err_set(err, SD_EUSAGE,
                          "provider \"%s\" is not configured (configured: %s; docs/e2b.md says "
                          "how to add E2B)",
                          r->provider ? r->provider : c->want, names);
    }
    if (c->failover[0] && coord_choose_planned(c, c->failover) == NULL)
        return sd_err_set(err, SD_EUSAGE, "failover provider \"%s\" is not configured",
                          c->failover);
    if (!catalog_symbol_ok(symbol))
        return sd_err_set(err, SD_EUSAGE, "invalid symbol \"%s\"", symbol);
    if (r->timeout_ms < 0)
        return sd_err_set(err, SD_EUSAGE, "timeout must be positive");
    *def = catalog_find(c->cat, r->strategy, err);
    if (*def == NULL)
        return -1;
    if (window_check(*def, r, err) != 0)
        return -1;
    if (r->params != NULL && !json_is_object(r->params))
        return sd_err_set(err, SD_EUSAGE, "parameters must be a JSON object");
    clean = r->params ? json_deep_copy(r->params) : json_object();
    json_object_del(clean, "symbol");
    json_object_del(clean, "symbols");
    *params = catalog_validate(*def, clean, err);
    if (given != NULL && *params != NULL)
        *given = clean;
    else
        json_decref(clean);
    return *params ? 0 : -1;
}

void coord_dep_add_locked(struct coord *c, struct dep *d)
{
    size_t i;

    if (c->ndeps == c->capdeps) {
        c->capdeps = c->capdeps ? c->capdeps * 2 : 64;
        c->deps = xrealloc(c->deps, c->capdeps * sizeof *c->deps);
    }
    /* Kept in id order (submitters race only between traj_insert and their
     * add, so this moves at most a few), for find_locked's search. */
    i = c->ndeps++;
    while (i > 0 && c->deps[i - 1]->v.id > d->v.id) {
        c->deps[i] = c->deps[i - 1];
        i--;
    }
    c->deps[i] = d;
}

int coord_check(struct coord *c, const struct deploy_req *r, struct sd_err *err)
{
    const struct strategy_def *def;
    json_t *params;

    if (validate(c, r, &def, &params, NULL, err) != 0)
        return -1;
    json_decref(params);
    return catalog_data_known(c->store, r->symbol ? r->symbol : "SPY", err);
}

int coord_submit(struct coord *c, const struct deploy_req *r, int64_t *id, struct sd_err *err)
{
    const char *symbol = r->symbol ? r->symbol : "SPY";
    const struct strategy_def *def;
    json_t *params = NULL, *given = NULL, *pred = NULL, *why = NULL;
    int64_t sugg_wall = sd_now_ms();
    uint64_t sugg_t0 = sd_mono_ns();
    double sugg_ms = 0;
    struct traj_new t;
    char *pred_s = NULL;
    struct dep *d;

    if (validate(c, r, &def, &params, &given, err) != 0)
        return -1;
    if (c->learn != NULL && c->o.auto_optimize) {
        /* Parameters given by the operator are pinned; the learner picks the
         * rest inside the schema's bounds and says why. */
        uint64_t n = atomic_fetch_add(&c->submitted, 1);
        /* A given --seed is mixed with the deployments the index has not
         * learned (the id this one will get, less its newest): the same
         * seed on a later deploy, after one that was cancelled or
         * interrupted and so taught it nothing, would choose the same
         * point again; n separates submitters racing for one id. */
        int64_t next = traj_next_id(c->store, err);
        int64_t newest = learn_newest_id(c->learn);
        uint64_t gap = next > newest + 1 ? (uint64_t)(next - 1 - newest) : 0;
        uint64_t seed = c->o.seed ? learn_seed_mix(c->o.seed, gap, n)
                                  : sd_mono_ns() ^ ((uint64_t)getpid() << 32);
        json_t *chosen =
            next < 0 ? NULL : learn_optimize_on(c->learn, def, given, symbol, seed, &why, err);
        if (chosen == NULL) {
            json_decref(params);
            json_decref(given);
            return -1;
        }
        json_decref(params);
        params = chosen;
    }
    json_decref(given);
    if (c->learn != NULL) {
        pred = learn_suggest(c->learn, def, params, symbol, err);
        if (pred == NULL) {
            json_decref(params);
            json_decref(why);
            return -1;
        }
        if (why != NULL)
            json_object_set_new(pred, "autoOptimize", why);
        sugg_ms = (double)(sd_mono_ns() - sugg_t0) / 1e6;
    }

    d = xcalloc(1, sizeof *d);
    d->c = c;
    d->def = def;
    d->params = params;
    d->prediction = pred;
    d->params_s = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    d->description = r->description ? xstrdup(r->description) : NULL;
    d->timeout_ms = r->timeout_ms > 0 ? r->timeout_ms : c->o.timeout_ms;
    d->pace = r->pace;
    snprintf(d->pace_s, sizeof d->pace_s, "%d", r->pace);
    if (r->train_until != NULL)
        snprintf(d->train_until, sizeof d->train_until, "%s", r->train_until);
    if (r->validate > 0)
        snprintf(d->validate_s, sizeof d->validate_s, "%.17g", r->validate);
    if (r->folds > 0)
        snprintf(d->folds_s, sizeof d->folds_s, "%d", r->folds);
    if ((d->log = logring_new(COORD_RING_RUN_LINES, COORD_RING_RUN_BYTES)) == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        goto fail;
    }
    if (catalog_data_resolve(c->store, symbol, c->tmpdir, &d->data, err) != 0)
        goto fail;
    /* A user strategy gets its training window as dates (--from, --to). */
    if (!def->builtin && (r->train_until != NULL || r->validate > 0) &&
        catalog_window(d->data.path, r->train_until, r->validate, d->win_from, d->win_to, err) != 0)
        goto fail;
    traj_uuid(d->uuid);
    memset(&t, 0, sizeof t);
    t.uuid = d->uuid;
    t.run_id = r->run_id;
    t.strategy = def->name;
    t.symbol = symbol;
    t.params = d->params_s;
    snprintf(d->want, sizeof d->want, "%s", r->provider ? r->provider : c->want);
    d->run_id = r->run_id;
    t.provider = coord_choose_planned(c, d->want)->p->name;
    t.description = d->description;
    t.auto_optimized = why != NULL;
    if (pred != NULL)
        t.prediction = pred_s = json_dumps(pred, JSON_COMPACT | JSON_REAL_PRECISION(17));
    d->v.id = traj_insert(c->store, &t, err);
    free(pred_s);
    if (d->v.id < 0)
        goto fail;
    if (pred != NULL)
        coord_work_op(d, "suggest", sugg_wall, sugg_ms, 1, NULL); /* timed before the row existed */
    if (r->by != NULL && r->by[0])
        coord_work_op(d, "submit", sd_now_ms(), 0, 1, r->by); /* who asked (the daemon's peer) */
    d->v.state = TS_QUEUED;
    d->v.exit_code = -1;
    d->v.total_return = NAN;
    d->v.sharpe = NAN;
    d->v.created_at = sd_now_ms();
    d->v.synthetic = d->data.synthetic;
    snprintf(d->v.strategy, sizeof d->v.strategy, "%s", def->name);
    snprintf(d->v.symbol, sizeof d->v.symbol, "%s", symbol);
    snprintf(d->v.provider, sizeof d->v.provider, "%s", t.provider);
    snprintf(d->v.sandbox_id, sizeof d->v.sandbox_id, "sd%lld-%.8s", (long long)d->v.id, d->uuid);

    coord_lock(c);
    coord_dep_add_locked(c, d);
    if (c->qtail)
        c->qtail->qnext = d;
    else
        c->qhead = d;
    c->qtail = d;
    c->active++;
    coord_work_push_state(c, d); /* before any worker can take d */
    pthread_cond_broadcast(&c->cond);
    coord_unlock(c);
    if (id)
        *id = d->v.id;
    return 0;
fail:
    if (d->data.from_store && d->data.path[0])
        unlink(d->data.path);
    json_decref(d->params);
    json_decref(d->prediction);
    free(d->params_s);
    free(d->description);
    logring_free(d->log);
    free(d);
    return -1;
}

/* Caller holds c->lock. A binary search: c->deps is in id order, and a
 * swarm's follower looks up every one of its deployments at each wake-up. */
static struct dep *find_locked(struct coord *c, int64_t id)
{
    size_t lo = 0, hi = c->ndeps;

    ASSERT_LOCKED(c);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->deps[mid]->v.id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->ndeps && c->deps[lo]->v.id == id ? c->deps[lo] : NULL;
}

struct dep *coord_dep_find_locked(struct coord *c, int64_t id)
{
    return find_locked(c, id);
}

int coord_view(struct coord *c, int64_t id, struct deploy_view *v)
{
    struct dep *d;
    coord_lock(c);
    d = find_locked(c, id);
    if (d)
        *v = d->v;
    coord_unlock(c);
    return d ? 0 : -1;
}

size_t coord_list(struct coord *c, struct deploy_view *out, size_t max)
{
    size_t n = 0;
    coord_lock(c);
    for (size_t i = 0; i < c->ndeps && n < max; i++)
        out[n++] = c->deps[i]->v;
    coord_unlock(c);
    return n;
}

struct deploy_view *coord_list_all(struct coord *c, size_t *n)
{
    struct deploy_view *v = NULL;

    coord_lock(c);
    *n = c->ndeps;
    if (*n > 0 && (v = malloc(*n * sizeof *v)) != NULL)
        for (size_t i = 0; i < *n; i++)
            v[i] = c->deps[i]->v;
    if (v == NULL)
        *n = 0;
    coord_unlock(c);
    return v;
}

json_t *coord_result(struct coord *c, int64_t id)
{
    json_t *r = NULL;
    struct dep *d;
    coord_lock(c);
    d = find_locked(c, id);
    if (d && d->result)
        r = json_incref(d->result);
    coord_unlock(c);
    return r;
}

struct logring *coord_log(struct coord *c, int64_t id)
{
    struct dep *d;
    coord_lock(c);
    d = find_locked(c, id);
    coord_unlock(c);
    return d ? d->log : NULL;
}

int coord_wait(struct coord *c, int64_t id, struct deploy_view *v)
{
    struct dep *d;
    coord_lock(c);
    d = find_locked(c, id);
    while (d && !traj_state_terminal(d->v.state))
        coord_sleep(c, NULL);
    if (d && v)
        *v = d->v;
    coord_unlock(c);
    return d ? 0 : -1;
}

void coord_wait_idle(struct coord *c)
{
    coord_lock(c);
    while (c->active > 0)
        coord_sleep(c, NULL);
    coord_unlock(c);
}

/* Caller holds c->lock. Returns 1 if d was queued and is now cancelled. */
static int unqueue_locked(struct coord *c, struct dep *d)
{
    struct dep **pp = &c->qhead, *prev = NULL;

    ASSERT_LOCKED(c);
    while (*pp && *pp != d) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (*pp == NULL)
        return 0;
    *pp = d->qnext;
    if (c->qtail == d)
        c->qtail = prev;
    d->qnext = NULL;
    return 1;
}

int coord_cancel(struct coord *c, int64_t id)
{
    return coord_cancel_by(c, id, NULL);
}

int coord_cancel_by(struct coord *c, int64_t id, const char *by)
{
    struct dep *d;
    int was_queued = 0;

    coord_lock(c);
    d = find_locked(c, id);
    if (d == NULL || traj_state_terminal(d->v.state)) {
        coord_unlock(c);
        return -1;
    }
    /* Written before the flag: whoever sees the flag finishes the
     * deployment and records who cancelled it (coord_work_finish). */
    if (by != NULL && !atomic_load(&d->cancel))
        snprintf(d->cancel_by, sizeof d->cancel_by, "%s", by);
    atomic_store(&d->cancel, 1);
    if (d->v.state == TS_QUEUED)
        was_queued = unqueue_locked(c, d);
    if (d->sbx != NULL)
        d->pi->p->ops->signal(d->sbx, SIGTERM); /* a paused sandbox's helper resumes it first */
    d->v.paused = 0;
    pthread_cond_broadcast(&c->cond);
    coord_unlock(c);
    if (was_queued)
        coord_work_finish(c, d, TS_CANCELLED, -1, "cancelled by the operator before it started",
                          NULL);
    return 0;
}

void coord_cancel_all(struct coord *c)
{
    int64_t *ids;
    size_t n = 0;

    coord_lock(c);
    ids = xcalloc(c->ndeps + 1, sizeof *ids);
    for (size_t i = 0; i < c->ndeps; i++)
        if (!traj_state_terminal(c->deps[i]->v.state))
            ids[n++] = c->deps[i]->v.id;
    coord_unlock(c);
    /* Queued ones first so no worker picks them up meanwhile. */
    for (size_t i = n; i-- > 0;)
        coord_cancel(c, ids[i]);
    free(ids);
}

void coord_counts(struct coord *c, int counts[TS_COUNT])
{
    memset(counts, 0, sizeof(int) * TS_COUNT);
    coord_lock(c);
    for (size_t i = 0; i < c->ndeps; i++)
        counts[c->deps[i]->v.state]++;
    coord_unlock(c);
}
