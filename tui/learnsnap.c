/*
 * learnsnap.c: the learning snapshot worker (learnsnap.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "learnsnap.h"

struct learnsnap {
    struct learnsnap_conf conf;
    char *runner_path;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int pipe[2];
    /* Under lock: */
    int pending, stop;
    json_t *latest; /* not yet taken */
    uint64_t seq;
};

/* --- one snapshot ------------------------------------------------------------ */

static int cmp_strat(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_int_t nx =
        json_integer_value(json_object_get(json_object_get(x, "stats"), "totalTrajectories"));
    json_int_t ny =
        json_integer_value(json_object_get(json_object_get(y, "stats"), "totalTrajectories"));
    if (nx != ny)
        return nx > ny ? -1 : 1;
    return strcmp(json_string_value(json_object_get(x, "name")),
                  json_string_value(json_object_get(y, "name")));
}

/* Per-strategy stats (with their own series), most runs first. */
static json_t *strategies(struct learn *l, json_t *by)
{
    const char *name;
    json_t *v, *arr = json_array(), **tmp;
    size_t n = json_object_size(by), k = 0;

    if (arr == NULL || n == 0 || (tmp = calloc(n, sizeof *tmp)) == NULL)
        return arr;
    json_object_foreach(by, name, v)
    {
        struct sd_err err = {0};
        json_t *st = learn_stats(l, name, &err);
        if (st != NULL)
            tmp[k++] = json_pack("{s:s, s:o}", "name", name, "stats", st);
    }
    qsort(tmp, k, sizeof *tmp, cmp_strat);
    for (size_t i = 0; i < k; i++)
        json_array_append_new(arr, tmp[i]);
    free(tmp);
    return arr;
}

static json_t *num_from(json_t *result, const char *key)
{
    json_t *v = json_object_get(result, key);
    return json_is_number(v) ? json_real(json_number_value(v)) : json_null();
}

/* The evidence rows of one pattern, read by primary key. Values that do not
 * parse (for example encrypted at rest) are left out, never guessed. */
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

json_t *learnsnap_compute(struct learn *l, sqlite3 *db, int max_patterns)
{
    struct sd_err err = {0};
    json_t *snap = json_object(), *stats, *pats, *keep;
    sqlite3_stmt *st = NULL;
    uint64_t t0 = sd_mono_ns();
    size_t i, total;

    if (snap == NULL)
        return NULL;
    if (l == NULL) {
        json_object_set_new(snap, "error", json_string("learning is off in this console"));
        return snap;
    }
    if ((stats = learn_stats(l, NULL, &err)) == NULL) {
        json_object_set_new(snap, "error", json_string(err.msg));
        return snap;
    }
    json_object_set_new(snap, "strategies", strategies(l, json_object_get(stats, "byStrategy")));
    json_object_set_new(snap, "stats", stats);
    if ((pats = learn_patterns(l, NULL, NULL, &err)) == NULL) {
        json_object_set_new(snap, "patternsError", json_string(err.msg));
        pats = json_array();
    }
    total = json_array_size(pats);
    keep = json_array();
    if (db != NULL &&
        sqlite3_prepare_v2(db,
                           "SELECT id, symbol, status, provider, reward, result, params "
                           "FROM trajectories WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        st = NULL;
    for (i = 0; i < total && i < (size_t)max_patterns; i++) {
        json_t *p = json_array_get(pats, i);
        if (st != NULL)
            json_object_set_new(p, "runs", evidence_rows(st, json_object_get(p, "evidence")));
        json_array_append(keep, p);
    }
    sqlite3_finalize(st);
    json_decref(pats);
    json_object_set_new(snap, "patterns", keep);
    json_object_set_new(snap, "patternsTotal", json_integer((json_int_t)total));
    json_object_set_new(snap, "computeMs", json_real((double)(sd_mono_ns() - t0) / 1e6));
    return snap;
}

/* --- the thread -------------------------------------------------------------- */

static void deadline_after(struct timespec *ts, uint64_t ns)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ns / 1000000000u);
    ts->tv_nsec += (long)(ns % 1000000000u);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *worker(void *arg)
{
    struct learnsnap *ls = arg;
    struct catalog *cat = NULL;
    struct learn *own = NULL, *l = ls->conf.learn;
    struct sd_err err = {0};
    sqlite3 *db = store_reader(ls->conf.store, &err);
    char why[600] = "";
    uint64_t next_ok = 0;

    if (l == NULL && ls->runner_path != NULL) {
        /* A read-only console: its own index, built here, off the UI thread. */
        if (catalog_load(&cat, ls->runner_path, ls->conf.store, &err) != 0 ||
            (own = learn_open(ls->conf.store, cat, &err)) == NULL)
            snprintf(why, sizeof why, "learning unavailable: %.500s", err.msg);
        l = own;
    }
    pthread_mutex_lock(&ls->lock);
    for (;;) {
        uint64_t now = sd_mono_ns(), t0;
        json_t *snap;

        if (ls->stop)
            break;
        if (!ls->pending) {
            pthread_cond_wait(&ls->cond, &ls->lock);
            continue;
        }
        if (now < next_ok) {
            struct timespec ts;
            deadline_after(&ts, next_ok - now);
            pthread_cond_timedwait(&ls->cond, &ls->lock, &ts);
            continue;
        }
        ls->pending = 0;
        pthread_mutex_unlock(&ls->lock);

        t0 = sd_mono_ns();
        if (l != NULL && db != NULL)
            store_flush(ls->conf.store, NULL); /* evidence rows of what just finished */
        snap = learnsnap_compute(l, db, ls->conf.max_patterns);
        if (snap != NULL && why[0])
            json_object_set_new(snap, "error", json_string(why));
        {
            uint64_t spent = sd_mono_ns() - t0, gap = (uint64_t)ls->conf.min_gap_ms * 1000000u;
            next_ok = sd_mono_ns() + (spent * 5 > gap ? spent * 5 : gap);
        }

        pthread_mutex_lock(&ls->lock);
        if (snap != NULL) {
            json_object_set_new(snap, "seq", json_integer((json_int_t)++ls->seq));
            json_decref(ls->latest);
            ls->latest = snap;
            if (write(ls->pipe[1], "s", 1) < 0) {
                /* full: the UI has a wake-up pending already */
            }
        }
    }
    pthread_mutex_unlock(&ls->lock);
    learn_free(own);
    catalog_free(cat);
    if (db != NULL)
        sqlite3_close_v2(db);
    return NULL;
}

struct learnsnap *learnsnap_start(const struct learnsnap_conf *conf, struct sd_err *err)
{
    struct learnsnap *ls = calloc(1, sizeof *ls);
    pthread_condattr_t ca;

    if (ls == NULL) {
        sd_err_set(err, SD_ENOMEM, "learning view: out of memory");
        return NULL;
    }
    ls->conf = *conf;
    if (ls->conf.max_patterns <= 0)
        ls->conf.max_patterns = 500;
    if (ls->conf.min_gap_ms <= 0)
        ls->conf.min_gap_ms = 1000;
    ls->runner_path = conf->runner_path ? strdup(conf->runner_path) : NULL;
    ls->pending = 1;
    if (pipe2(ls->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        sd_err_set(err, SD_EENV, "learning view: pipe: %s", strerror(errno));
        free(ls->runner_path);
        free(ls);
        return NULL;
    }
    pthread_mutex_init(&ls->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ls->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&ls->thread, NULL, worker, ls) != 0) {
        sd_err_set(err, SD_EENV, "learning view: cannot start a thread");
        close(ls->pipe[0]);
        close(ls->pipe[1]);
        pthread_cond_destroy(&ls->cond);
        pthread_mutex_destroy(&ls->lock);
        free(ls->runner_path);
        free(ls);
        return NULL;
    }
    return ls;
}

void learnsnap_stop(struct learnsnap *ls)
{
    if (ls == NULL)
        return;
    pthread_mutex_lock(&ls->lock);
    ls->stop = 1;
    pthread_cond_signal(&ls->cond);
    pthread_mutex_unlock(&ls->lock);
    pthread_join(ls->thread, NULL);
    json_decref(ls->latest);
    close(ls->pipe[0]);
    close(ls->pipe[1]);
    pthread_cond_destroy(&ls->cond);
    pthread_mutex_destroy(&ls->lock);
    free(ls->runner_path);
    free(ls);
}

int learnsnap_fd(const struct learnsnap *ls)
{
    return ls ? ls->pipe[0] : -1;
}

void learnsnap_request(struct learnsnap *ls)
{
    if (ls == NULL)
        return;
    pthread_mutex_lock(&ls->lock);
    ls->pending = 1;
    pthread_cond_signal(&ls->cond);
    pthread_mutex_unlock(&ls->lock);
}

json_t *learnsnap_take(struct learnsnap *ls)
{
    char b[64];
    json_t *s;
    if (ls == NULL)
        return NULL;
    while (read(ls->pipe[0], b, sizeof b) > 0)
        ;
    pthread_mutex_lock(&ls->lock);
    s = ls->latest;
    ls->latest = NULL;
    pthread_mutex_unlock(&ls->lock);
    return s;
}
