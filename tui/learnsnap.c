/*
 * learnsnap.c: the learning snapshot worker (learnsnap.h): a worker
 * (worker.h) with one request flag, rate-limited through pick's due time.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "learnsnap.h"
#include "query.h"
#include "worker.h"

struct learnsnap {
    struct learnsnap_conf conf;
    char *runner_path;
    struct worker *w; /* the thread, its lock and its pipe (worker.h) */
    /* Under w's lock: */
    int pending;
    json_t *latest; /* not yet taken */
    uint64_t seq;
    uint64_t next_ok; /* mono ns: no snapshot before */
    /* The thread's own: */
    sqlite3 *db;
    struct learn *l, *own; /* the index used; own: built here (read-only console) */
    struct catalog *cat;
    char why[600]; /* why there is no learning, or "" */
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

json_t *learnsnap_compute(struct learn *l, sqlite3 *db, int max_patterns)
{
    struct sd_err err = {0};
    json_t *snap = json_object(), *stats, *pats, *keep;
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
    for (i = 0; i < total && i < (size_t)max_patterns; i++)
        json_array_append(keep, json_array_get(pats, i));
    json_decref(pats);
    /* Without evidence rows when they cannot be read: the patterns stand. */
    if (db != NULL)
        store_console_evidence(db, keep, (size_t)max_patterns, NULL);
    json_object_set_new(snap, "patterns", keep);
    json_object_set_new(snap, "patternsTotal", json_integer((json_int_t)total));
    json_object_set_new(snap, "computeMs", json_real((double)(sd_mono_ns() - t0) / 1e6));
    return snap;
}

/* --- the thread (worker.h's ops) ------------------------------------------- */

/* On the thread, first: its reader, and a read-only console's own index. */
static void ls_enter(void *arg)
{
    struct learnsnap *ls = arg;
    struct sd_err err = {0};

    ls->db = store_reader(ls->conf.store, &err);
    ls->l = ls->conf.learn;
    if (ls->l == NULL && ls->runner_path != NULL) {
        /* A read-only console: its own index, built here, off the UI thread. */
        if (catalog_load(&ls->cat, ls->runner_path, ls->conf.store, &err) != 0 ||
            (ls->own = learn_open(ls->conf.store, ls->cat, &err)) == NULL)
            snprintf(ls->why, sizeof ls->why, "learning unavailable: %.500s", err.msg);
        ls->l = ls->own;
    }
}

/* Lock held: a snapshot is asked for and the rate limit allows it. */
static int ls_pick(void *arg, uint64_t *due)
{
    struct learnsnap *ls = arg;

    worker_assert_locked(ls->w);
    if (!ls->pending)
        return 0;
    if (sd_mono_ns() < ls->next_ok) {
        *due = ls->next_ok;
        return 0;
    }
    ls->pending = 0;
    return 1;
}

/* Without the lock: compute one, then swap it in as the newest. */
static void ls_run(void *arg)
{
    struct learnsnap *ls = arg;
    uint64_t t0 = sd_mono_ns(), spent, gap = (uint64_t)ls->conf.min_gap_ms * 1000000u;
    json_t *snap;

    if (ls->l != NULL && ls->db != NULL)
        store_flush(ls->conf.store, NULL); /* evidence rows of what just finished */
    snap = learnsnap_compute(ls->l, ls->db, ls->conf.max_patterns);
    if (snap != NULL && ls->why[0])
        json_object_set_new(snap, "error", json_string(ls->why));
    spent = sd_mono_ns() - t0;

    worker_lock(ls->w);
    ls->next_ok = sd_mono_ns() + (spent * 5 > gap ? spent * 5 : gap);
    if (snap != NULL) {
        json_object_set_new(snap, "seq", json_integer((json_int_t)++ls->seq));
        json_decref(ls->latest);
        ls->latest = snap;
        worker_notify(ls->w);
    }
    worker_unlock(ls->w);
}

static void ls_leave(void *arg)
{
    struct learnsnap *ls = arg;
    learn_free(ls->own);
    catalog_free(ls->cat);
    if (ls->db != NULL)
        sqlite3_close_v2(ls->db);
}

static const struct worker_ops ls_ops = {ls_enter, ls_pick, ls_run, ls_leave};

struct learnsnap *learnsnap_start(const struct learnsnap_conf *conf, struct sd_err *err)
{
    struct learnsnap *ls = calloc(1, sizeof *ls);

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
    if (worker_start(&ls->w, "learning view", &ls_ops, ls, err) != 0) {
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
    worker_stop(ls->w);
    json_decref(ls->latest);
    free(ls->runner_path);
    free(ls);
}

int learnsnap_fd(const struct learnsnap *ls)
{
    return ls ? worker_fd(ls->w) : -1;
}

void learnsnap_request(struct learnsnap *ls)
{
    if (ls == NULL)
        return;
    worker_lock(ls->w);
    ls->pending = 1;
    worker_signal(ls->w);
    worker_unlock(ls->w);
}

json_t *learnsnap_take(struct learnsnap *ls)
{
    json_t *s;
    if (ls == NULL)
        return NULL;
    worker_drain(ls->w);
    worker_lock(ls->w);
    s = ls->latest;
    ls->latest = NULL;
    worker_unlock(ls->w);
    return s;
}
