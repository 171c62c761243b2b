/*
 * app_jobs.c: the console's slow commands on a worker thread (app_int.h,
 * engine/base/worker.h), so the UI thread never blocks on them.
 *
 * WHY
 * Cleaning up (recover_orphans: reads and writes the store, kills helpers,
 * removes work dirs and cgroups), cancelling (a queued deployment's final
 * state is written to the store) and deploying (coord_check and
 * coord_submit: the catalog, the store, the queue) can each take as long
 * as the store or the kernel make them. The UI must keep answering keys
 * and redrawing meanwhile.
 *
 * HOW
 * A job is a closure (struct cjob) that copies what it needs from the
 * console when it is queued, runs on the worker without touching struct
 * app, and keeps its outcome; the worker's pipe wakes the UI, which takes
 * the finished job and applies the outcome there (cjob.done: say it, hide
 * rows, refresh the table, close the dialog). Jobs run one at a time in the
 * order they were asked for. While any is under way the status line says
 * what ("cleaning up..."), until the outcome replaces it.
 *
 * THREADS: everything here is for the UI thread except the jobs' run
 * functions, which run on the worker and see only their own job.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_int.h"
#include "query_console2.h"
#include "recover.h"
#include "cmprun.h"
#include "runlog.h"
#include "traj.h"
#include "util.h"
#include "worker.h"

struct app_jobs {
    struct worker *w;
    int outstanding; /* queued and not yet taken (UI thread) */
};

/* A console job: the worker's job, what the UI does with its outcome, and
 * what the status line says meanwhile. */
struct cjob {
    struct worker_job job;
    void (*done)(struct app *a, struct cjob *j); /* UI thread, after run */
    char busy[96];
};

struct app_jobs *app_jobs_start(struct sd_err *err)
{
    struct app_jobs *j = calloc(1, sizeof *j);

    if (j == NULL) {
        sd_err_set(err, SD_ENOMEM, "console jobs: out of memory");
        return NULL;
    }
    if (worker_start(&j->w, "console jobs", NULL, NULL, err) != 0) {
        free(j);
        return NULL;
    }
    return j;
}

void app_jobs_stop(struct app_jobs *j)
{
    if (j == NULL)
        return;
    worker_stop(j->w);
    free(j);
}

int app_jobs_fd(const struct app_jobs *j)
{
    return j ? worker_fd(j->w) : -1;
}

void app_jobs_take(struct app *a)
{
    struct worker_job *wj;

    if (a->jobs == NULL)
        return;
    while ((wj = worker_take(a->jobs->w)) != NULL) {
        struct cjob *c = (struct cjob *)wj;
        if (--a->jobs->outstanding == 0)
            a->busy[0] = '\0';
        a->dirty |= D_FOOTER;
        c->done(a, c);
        c->job.free(&c->job);
    }
}

/* Queue c (its run, free and done set); the status line says its busy
 * text. Returns 0, or -1 (c freed, the reason said) when there is no
 * worker. */
static int submit(struct app *a, struct cjob *c)
{
    if (a->jobs == NULL || worker_submit(a->jobs->w, &c->job) != 0) {
        app_notify(a, 1, "%s refused: the console's job worker is not running", c->busy);
        c->job.free(&c->job);
        return -1;
    }
    a->jobs->outstanding++;
    if (c->busy[0]) { /* an empty busy text: a quiet job (a view following its source) */
        snprintf(a->busy, sizeof a->busy, "%s", c->busy);
        app_notify(a, 0, "%s", c->busy);
    }
    return 0;
}

/* --- cleanup and cleanup-all --------------------------------------------------- */

struct cleanup_job {
    struct cjob c;
    struct store *store;
    struct coord *coord;                  /* all: cancel everything first (NULL: none) */
    struct remote *remote;                /* or the daemon's */
    struct remote *rem[REMOTE_MAX_HOSTS]; /* every host's (app_hosts.c) */
    int no_local;                         /* the local daemon is not shown: reap nothing here */
    char *helper_path;
    int all, rc;
    struct recover_report r;
    struct sd_err err;
};

static void cleanup_run(struct worker_job *wj)
{
    struct cleanup_job *j = (struct cleanup_job *)wj;
    if (j->all && j->coord != NULL)
        coord_cancel_all(j->coord);
    for (int h = 0; j->all && j->remote != NULL && h < REMOTE_MAX_HOSTS; h++) {
        json_t *body, *out = NULL;
        if (j->rem[h] == NULL)
            continue;
        body = json_pack("{s:b}", "all", 1);
        j->rc = remote_call(j->rem[h], "POST", "/cancel", body, &out, &j->err);
        json_decref(body);
        json_decref(out);
        if (j->rc != 0)
            return; /* refused (read-only) or no daemon: reap nothing it runs */
    }
    if (j->no_local)
        return; /* this machine's sandboxes are its daemon's, not shown here */
    j->rc = recover_orphans(j->store, j->helper_path, j->all, &j->r, &j->err);
}

static void cleanup_free(struct worker_job *wj)
{
    struct cleanup_job *j = (struct cleanup_job *)wj;
    free(j->helper_path);
    free(j);
}

static void cleanup_done(struct app *a, struct cjob *c)
{
    struct cleanup_job *j = (struct cleanup_job *)c;
    const struct recover_report *r = &j->r;
    size_t hid = 0;

    if (j->rc != 0) {
        app_notify(a, 1, "cleanup: %s", j->err.msg);
        if (!j->all)
            return;
    } else if (j->all) {
        app_notify(a, 0,
                   "cleanup: %d lease(s) reaped, %d helper(s) killed, %d trajectory(ies) "
                   "interrupted, %d cgroup(s) removed",
                   r->leases_reaped, r->helpers_killed, r->trajectories_interrupted,
                   r->cgroups_removed);
    } else {
        hid = app_hide_finished(a);
    }
    a->hist_stale = 1;
    app_refresh(a);
    if (j->rc == 0 && !j->all)
        app_notify(a, 0, "cleanup: %zu finished row(s) hidden, %d orphan sandbox(es) reaped", hid,
                   r->leases_reaped);
}

int app_job_cleanup(struct app *a, int all)
{
    struct cleanup_job *j = xcalloc(1, sizeof *j);

    j->c.job.run = cleanup_run;
    j->c.job.free = cleanup_free;
    j->c.done = cleanup_done;
    snprintf(j->c.busy, sizeof j->c.busy, "%s",
             all ? "cleaning up everything..." : "cleaning up...");
    j->store = a->store;
    j->coord = a->coord;
    j->remote = a->remote;
    memcpy(j->rem, a->rem, sizeof j->rem);
    j->no_local = a->multi && a->rem[0] == NULL;
    j->helper_path = a->conf.helper_path ? xstrdup(a->conf.helper_path) : NULL;
    j->all = all;
    return submit(a, &j->c);
}

/* --- kill ------------------------------------------------------------------------ */

struct kill_job {
    struct cjob c;
    struct coord *coord;
    struct remote *remote; /* or the daemons' (rem[host], app_hosts.c), which may refuse */
    struct remote *rem[REMOTE_MAX_HOSTS];
    size_t n;
    int killed;
    char error[256]; /* "" unless the daemon refused */
    int64_t ids[];   /* n */
};

static void kill_run(struct worker_job *wj)
{
    struct kill_job *j = (struct kill_job *)wj;
    if (j->remote != NULL) {
        /* each host's daemon is asked for its own deployments, by its numbers */
        for (int h = 0; h < REMOTE_MAX_HOSTS; h++) {
            json_t *ids = json_array(), *body, *out = NULL;
            struct sd_err err = {0};
            for (size_t i = 0; i < j->n; i++)
                if (REMOTE_HOST(j->ids[i]) == h)
                    json_array_append_new(ids, json_integer(REMOTE_LOCAL(j->ids[i])));
            if (json_array_size(ids) == 0 || j->rem[h] == NULL) {
                json_decref(ids);
                continue;
            }
            body = json_pack("{s:o}", "ids", ids);
            if (remote_call(j->rem[h], "POST", "/cancel", body, &out, &err) == 0)
                j->killed += (int)json_integer_value(json_object_get(out, "cancelled"));
            else if (j->error[0] == '\0')
                snprintf(j->error, sizeof j->error, "kill: %.240s", err.msg);
            json_decref(body);
            json_decref(out);
        }
        return;
    }
    for (size_t i = 0; i < j->n; i++)
        j->killed += coord_cancel(j->coord, j->ids[i]) == 0;
}

static void kill_free(struct worker_job *wj)
{
    free(wj);
}

static void kill_done(struct app *a, struct cjob *c)
{
    struct kill_job *j = (struct kill_job *)c;
    if (j->error[0])
        app_notify(a, 1, "%s", j->error);
    else
        app_notify(a, 0, "killed %d deployment(s)", j->killed);
    app_refresh(a);
}

int app_job_kill(struct app *a, const int64_t *ids, size_t n)
{
    struct kill_job *j = xcalloc(1, sizeof *j + n * sizeof j->ids[0]);

    j->c.job.run = kill_run;
    j->c.job.free = kill_free;
    j->c.done = kill_done;
    snprintf(j->c.busy, sizeof j->c.busy, "killing %zu deployment(s)...", n);
    j->coord = a->coord;
    j->remote = a->remote;
    memcpy(j->rem, a->rem, sizeof j->rem);
    j->n = n;
    memcpy(j->ids, ids, n * sizeof ids[0]);
    return submit(a, &j->c);
}

/* --- deploy ---------------------------------------------------------------------- */

struct deploy_job {
    struct cjob c;
    struct coord *coord;
    struct remote *remote; /* or the daemon's: one run of all the agents */
    int host;              /* its index (app_hosts.c): the ids are REMOTE_ID(host, ...) */
    char *strategy, *symbols, *description, *provider;
    json_t *params; /* a deep copy: jansson's counts are not for two threads */
    long agents;
    int64_t timeout_ms;
    int pace;
    int64_t first, last, run;
    char error[256]; /* "" deployed */
};

/* The launch as one run on the daemon: it checks every deployment before
 * it queues any, records who asked, and announces the run's end to every
 * console. */
static void deploy_remote(struct deploy_job *j, char **symv, int nsym)
{
    json_t *list = json_array(), *body, *out = NULL, *ids;
    struct sd_err err = {0};

    for (long i = 0; i < j->agents; i++) {
        json_t *d = json_pack("{s:s, s:O, s:s, s:i}", "strategy", j->strategy, "params", j->params,
                              "symbol", symv[i % nsym], "pace", j->pace);
        if (j->description)
            json_object_set_new(d, "description", json_string(j->description));
        if (j->provider)
            json_object_set_new(d, "provider", json_string(j->provider));
        if (j->timeout_ms > 0)
            json_object_set_new(d, "timeoutMs", json_integer(j->timeout_ms));
        json_array_append_new(list, d);
    }
    body = json_pack("{s:s, s:o}", "kind", "deploy", "deployments", list);
    if (remote_call(j->remote, "POST", "/deployments", body, &out, &err) != 0) {
        snprintf(j->error, sizeof j->error, "%.250s", err.msg);
    } else {
        ids = json_object_get(out, "ids");
        j->first = REMOTE_ID(j->host, json_integer_value(json_array_get(ids, 0)));
        j->last =
            REMOTE_ID(j->host, json_integer_value(json_array_get(ids, json_array_size(ids) - 1)));
        j->run = json_integer_value(json_object_get(out, "run"));
        remote_sync(j->remote, &err); /* the new rows show before their events */
    }
    json_decref(body);
    json_decref(out);
}

static void deploy_run(struct worker_job *wj)
{
    struct deploy_job *j = (struct deploy_job *)wj;
    char syms[160], *symv[64], *save = NULL;
    struct sd_err err = {0};
    int nsym = 0;

    snprintf(syms, sizeof syms, "%s", j->symbols);
    for (char *s = strtok_r(syms, ", ", &save); s && nsym < 64; s = strtok_r(NULL, ", ", &save))
        symv[nsym++] = s;
    if (nsym == 0) {
        snprintf(j->error, sizeof j->error, "give at least one symbol");
        return;
    }
    if (j->remote != NULL) {
        deploy_remote(j, symv, nsym);
        return;
    }
    for (long i = 0; i < j->agents; i++) { /* check all before queueing any */
        struct deploy_req r = {
            .strategy = j->strategy, .params = j->params, .symbol = symv[i % nsym]};
        if (coord_check(j->coord, &r, &err) != 0) {
            snprintf(j->error, sizeof j->error, "%.250s", err.msg);
            return;
        }
    }
    {
        /* one run for the launch, as the CLI and the daemon record theirs */
        json_t *spec =
            json_pack("{s:s, s:O, s:s, s:I, s:s?, s:s?}", "strategy", j->strategy, "params",
                      j->params ? j->params : json_null(), "symbols", j->symbols, "agents",
                      (json_int_t)j->agents, "provider", j->provider, "by", "console");
        char *txt = spec ? json_dumps(spec, JSON_COMPACT) : NULL;
        j->run = run_begin(coord_store(j->coord), "deploy", txt ? txt : "{}", &err);
        free(txt);
        json_decref(spec);
        if (j->run <= 0) {
            snprintf(j->error, sizeof j->error, "%.250s", err.msg);
            j->run = 0;
            return;
        }
    }
    for (long i = 0; i < j->agents; i++) {
        struct deploy_req r = {
            .strategy = j->strategy,
            .params = j->params,
            .symbol = symv[i % nsym],
            .description = j->description,
            .timeout_ms = j->timeout_ms,
            .pace = j->pace,
            .provider = j->provider,
            .run_id = j->run,
        };
        int64_t id;
        if (coord_submit(j->coord, &r, &id, &err) != 0) {
            snprintf(j->error, sizeof j->error, "%.200s (%ld queued)", err.msg, i);
            if (i == 0) { /* nothing of it runs */
                run_end(coord_store(j->coord), j->run, "failed", err.msg);
                j->run = 0;
            }
            return;
        }
        if (!j->first)
            j->first = id;
        j->last = id;
    }
}

static void deploy_free(struct worker_job *wj)
{
    struct deploy_job *j = (struct deploy_job *)wj;
    free(j->strategy);
    free(j->symbols);
    free(j->description);
    free(j->provider);
    json_decref(j->params);
    free(j);
}

static void deploy_done(struct app *a, struct cjob *c)
{
    struct deploy_job *j = (struct deploy_job *)c;
    app_deploy_done(a, j->error, j->first, j->last, j->strategy);
    if (j->first > 0 && j->run > 0)
        app_run_track(a, j->run, j->first, j->last, j->coord != NULL);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

int app_job_deploy(struct app *a, const struct app_deploy_req *r)
{
    struct deploy_job *j = xcalloc(1, sizeof *j);

    j->c.job.run = deploy_run;
    j->c.job.free = deploy_free;
    j->c.done = deploy_done;
    snprintf(j->c.busy, sizeof j->c.busy, "deploying %ld %.40s...", r->agents, r->strategy);
    j->coord = a->coord;
    j->remote = a->remote;
    if (a->remote != NULL && r->host >= 0 && r->host < a->nrem && a->rem[r->host] != NULL) {
        j->remote = a->rem[r->host];
        j->host = r->host;
    }
    j->strategy = xstrdup(r->strategy);
    j->symbols = xstrdup(r->symbols);
    j->description = dup_or_null(r->description);
    j->provider = dup_or_null(r->provider);
    j->params = json_deep_copy(r->params);
    j->agents = r->agents;
    j->timeout_ms = r->timeout_ms;
    j->pace = r->pace;
    return submit(a, &j->c);
}

/* --- save a deployment's whole output from the store ---------------------------- */

struct save_job {
    struct cjob c;
    struct store *store;
    int64_t id;
    char *path;
    long lines;
    char error[300];
};

static void save_run(struct worker_job *wj)
{
    struct save_job *j = (struct save_job *)wj;
    struct sd_err err = {0};
    sqlite3 *db;
    FILE *f;
    int fd;

    store_flush(j->store, NULL); /* the run's last chunks are committed */
    if ((db = store_reader(j->store, &err)) == NULL) {
        snprintf(j->error, sizeof j->error, "%.250s", err.msg);
        return;
    }
    if ((fd = open(j->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
        (f = fdopen(fd, "w")) == NULL) {
        snprintf(j->error, sizeof j->error, "%.200s: %s", j->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        sqlite3_close_v2(db);
        return;
    }
    j->lines = store_console_save_output(db, j->id, f, &err);
    if (fclose(f) != 0 && j->lines >= 0) {
        snprintf(j->error, sizeof j->error, "%.200s: %s", j->path, strerror(errno));
        j->lines = -1;
    } else if (j->lines < 0) {
        snprintf(j->error, sizeof j->error, "%.250s", err.msg);
    }
    sqlite3_close_v2(db);
}

static void save_free(struct worker_job *wj)
{
    struct save_job *j = (struct save_job *)wj;
    free(j->path);
    free(j);
}

static void save_done(struct app *a, struct cjob *c)
{
    struct save_job *j = (struct save_job *)c;
    if (j->lines < 0)
        app_notify(a, 1, "save: %s", j->error);
    else
        app_notify(a, 0, "saved %ld lines of #%lld (its whole stored output) to %s", j->lines,
                   (long long)j->id, j->path);
}

int app_job_save(struct app *a, int64_t id, const char *path)
{
    struct save_job *j = xcalloc(1, sizeof *j);

    j->c.job.run = save_run;
    j->c.job.free = save_free;
    j->c.done = save_done;
    snprintf(j->c.busy, sizeof j->c.busy, "saving #%lld's output...", (long long)id);
    j->store = a->store;
    j->id = id;
    j->path = xstrdup(path);
    return submit(a, &j->c);
}

/* --- compare: two deployments' details, or two runs' summaries --------------------- */

/* The compare overlay's job, for `=` on two deployments (compare_run) and for two runs
 * (cmprun_run, below): two ids in, two JSON halves out (or an error), shown side by side by
 * pair_done. Only the run function differs. */
struct pair_job {
    struct cjob c;
    struct store *store;
    int64_t ids[2]; /* two deployments, or two runs */
    int asked;      /* runs: :compare-run, the runs even when each is one deployment */
    json_t *d[2];   /* the overlay's halves (the overlay takes them) */
    char error[300];
};

static void pair_free(struct worker_job *wj)
{
    struct pair_job *j = (struct pair_job *)wj;
    json_decref(j->d[0]);
    json_decref(j->d[1]);
    free(j);
}

static void pair_done(struct app *a, struct cjob *c)
{
    struct pair_job *j = (struct pair_job *)c;
    if (j->error[0]) {
        app_notify(a, 1, "compare: %s", j->error);
        return;
    }
    app_compare_show(a, j->d[0], j->d[1]);
    j->d[0] = j->d[1] = NULL; /* the overlay holds them */
}

/* Queue a pair job running run over x and y; busy is the status line's text. Returns as
 * submit. */
static int pair_submit(struct app *a, void (*run)(struct worker_job *), int64_t x, int64_t y,
                       int asked, const char *busy)
{
    struct pair_job *j = xcalloc(1, sizeof *j);

    j->c.job.run = run;
    j->c.job.free = pair_free;
    j->c.done = pair_done;
    snprintf(j->c.busy, sizeof j->c.busy, "%s", busy);
    j->store = a->store;
    j->ids[0] = x;
    j->ids[1] = y;
    j->asked = asked;
    return submit(a, &j->c);
}

/* Both deployments' details from the store. */
static void compare_run(struct worker_job *wj)
{
    struct pair_job *j = (struct pair_job *)wj;
    struct sd_err err = {0};
    sqlite3 *db;

    store_flush(j->store, NULL);
    if ((db = store_reader(j->store, &err)) == NULL) {
        snprintf(j->error, sizeof j->error, "%.250s", err.msg);
        return;
    }
    for (int k = 0; k < 2; k++) {
        int rc = store_console_detail(db, j->ids[k], 60, &j->d[k], &err);
        if (rc != 0) {
            snprintf(j->error, sizeof j->error, "#%lld: %.250s", (long long)j->ids[k],
                     rc > 0 ? "not in the store (yet)" : err.msg);
            break;
        }
    }
    sqlite3_close_v2(db);
}

int app_job_compare(struct app *a, int64_t x, int64_t y)
{
    char busy[96];
    snprintf(busy, sizeof busy, "reading #%lld and #%lld...", (long long)x, (long long)y);
    return pair_submit(a, compare_run, x, y, 0, busy);
}

/* --- pause and resume ------------------------------------------------------------ */

struct pause_job {
    struct cjob c;
    struct coord *coord;
    struct remote *remote; /* or the daemons' (rem[host], app_hosts.c), which may refuse */
    struct remote *rem[REMOTE_MAX_HOSTS];
    int on;
    size_t n;
    int done;
    char error[256]; /* the first refusal, "" when none */
    int64_t ids[];   /* n */
};

static void pause_run(struct worker_job *wj)
{
    struct pause_job *j = (struct pause_job *)wj;

    for (size_t i = 0; i < j->n; i++) {
        struct sd_err err = {0};
        int rc;
        if (j->remote != NULL) {
            char path[80];
            json_t *out = NULL;
            int h = REMOTE_HOST(j->ids[i]);
            struct remote *r = h >= 0 && h < REMOTE_MAX_HOSTS ? j->rem[h] : NULL;
            /* the daemon speaks its own number; the row's id names the host too */
            snprintf(path, sizeof path, "/deployments/%lld/%s", (long long)REMOTE_LOCAL(j->ids[i]),
                     j->on ? "pause" : "resume");
            if (r == NULL) {
                snprintf(err.msg, sizeof err.msg, "#%lld: its host is not connected",
                         (long long)REMOTE_LOCAL(j->ids[i]));
                rc = -1;
            } else {
                rc = remote_call(r, "POST", path, NULL, &out, &err);
            }
            json_decref(out);
        } else {
            rc = coord_pause(j->coord, j->ids[i], j->on, &err);
        }
        if (rc == 0)
            j->done++;
        else if (!j->error[0])
            snprintf(j->error, sizeof j->error, "%s: %.230s", j->on ? "pause" : "resume", err.msg);
    }
}

static void pause_done(struct app *a, struct cjob *c)
{
    struct pause_job *j = (struct pause_job *)c;
    if (j->error[0])
        app_notify(a, 1, "%s", j->error);
    else
        app_notify(a, 0, "%s %d deployment(s)", j->on ? "paused" : "resumed", j->done);
    app_refresh(a);
}

int app_job_pause(struct app *a, const int64_t *ids, size_t n, int on)
{
    struct pause_job *j = xcalloc(1, sizeof *j + n * sizeof j->ids[0]);

    j->c.job.run = pause_run;
    j->c.job.free = kill_free;
    j->c.done = pause_done;
    snprintf(j->c.busy, sizeof j->c.busy, "%s %zu deployment(s)...", on ? "pausing" : "resuming",
             n);
    j->coord = a->coord;
    j->remote = a->remote;
    memcpy(j->rem, a->rem, sizeof j->rem);
    j->on = on;
    j->n = n;
    memcpy(j->ids, ids, n * sizeof ids[0]);
    return submit(a, &j->c);
}

/* --- compare two runs: each one's deployments summed up (cmprun.h) ---------------- */

#define CMPRUN_MAX 2000 /* deployments read per run; a bigger run is summed over its first */

/* Each run's deployments from the store, summed up (cmprun_summary). */
static void cmprun_run(struct worker_job *wj)
{
    struct pair_job *j = (struct pair_job *)wj;
    struct sd_err err = {0};
    sqlite3 *db;

    store_flush(j->store, NULL);
    if ((db = store_reader(j->store, &err)) == NULL) {
        snprintf(j->error, sizeof j->error, "%.250s", err.msg);
        return;
    }
    for (int k = 0; k < 2 && !j->error[0]; k++) {
        int64_t *ids = NULL;
        int *states = NULL;
        size_t n = 0;
        json_t *ds = json_array();
        int rc = store_run_trajs(db, j->ids[k], &ids, &states, &n, &err);
        if (rc != 0)
            snprintf(j->error, sizeof j->error, "run #%lld: %.250s", (long long)j->ids[k],
                     rc > 0 ? "not in the store" : err.msg);
        for (size_t i = 0; rc == 0 && i < n && i < CMPRUN_MAX; i++) {
            json_t *d = NULL;
            int r = store_console_detail(db, ids[i], 60, &d, &err);
            if (r < 0) {
                snprintf(j->error, sizeof j->error, "#%lld: %.250s", (long long)ids[i], err.msg);
                break;
            }
            if (r == 0)
                json_array_append_new(ds, d);
        }
        if (!j->error[0]) {
            j->d[k] = ds; /* the details, until both are read */
            ds = NULL;
        }
        json_decref(ds);
        free(ids);
        free(states);
    }
    sqlite3_close_v2(db);
    if (j->error[0])
        return;
    if (!j->asked && json_array_size(j->d[0]) == 1 && json_array_size(j->d[1]) == 1) {
        /* a deployment each: the deployments compared tell more (parameters, trades) */
        for (int k = 0; k < 2; k++) {
            json_t *d = json_incref(json_array_get(j->d[k], 0));
            json_decref(j->d[k]);
            j->d[k] = d;
        }
        return;
    }
    for (int k = 0; k < 2; k++) {
        json_t *sum = cmprun_summary(j->ids[k], j->d[k]);
        json_decref(j->d[k]);
        if ((j->d[k] = sum) == NULL)
            snprintf(j->error, sizeof j->error, "out of memory");
    }
}

int app_job_cmprun(struct app *a, int64_t r0, int64_t r1, int asked)
{
    char busy[96];
    snprintf(busy, sizeof busy, "reading runs #%lld and #%lld...", (long long)r0, (long long)r1);
    return pair_submit(a, cmprun_run, r0, r1, asked, busy);
}

/* --- a run's merged output (runlog.h) ----------------------------------------------- */

#define RUNLOG_MAX_LINES 5000 /* the newest kept; the overlay says when older ones were cut */

struct runlog_job {
    struct cjob c;
    struct store *store;
    struct runlog *rl; /* where the last read stopped (taken from the app), or NULL: fresh */
    int fresh;
    unsigned gen;
    int64_t run;
    size_t n;
    json_t *lines; /* the new ones, [[id, stream, text], ...] */
    int truncated;
    char error[300];
    int64_t ids[]; /* n (run 0) */
};

/* A line into the job's array, control characters shown as '?' (a strategy's escape
 * sequences are never obeyed), the newline dropped; the oldest dropped past the cap. */
static int runlog_line(void *arg, int64_t id, int stream, int64_t t_ms, const char *line,
                       size_t len)
{
    struct runlog_job *j = arg;
    char *t = xmalloc(len + 1);

    (void)t_ms;
    if (len > 0 && line[len - 1] == '\n')
        len--;
    for (size_t i = 0; i < len; i++)
        t[i] = (unsigned char)line[i] < 0x20 && line[i] != '\t' ? '?' : line[i];
    t[len] = '\0';
    if (json_array_size(j->lines) >= RUNLOG_MAX_LINES) {
        json_array_remove(j->lines, 0);
        j->truncated = 1;
    }
    json_t *text = json_stringn(t, len);
    if (text == NULL) { /* not UTF-8: its bytes above ASCII shown as '?' too */
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)t[i] >= 0x80)
                t[i] = '?';
        text = json_stringn(t, len);
    }
    json_array_append_new(j->lines, json_pack("[I, i, o]", (json_int_t)id, stream, text));
    free(t);
    return 0;
}

/* Reads the lines written since j->rl stopped (from the first, fresh). A run's deployments
 * are looked up again each time (runlog_add ignores those it has), and the unterminated
 * tails are handed out only once every one of them has ended (a following read would show a
 * line cut in two); tagged rows' tails on a fresh read, as the snapshot always did. */
static void runlog_run(struct worker_job *wj)
{
    struct runlog_job *j = (struct runlog_job *)wj;
    struct sd_err err = {0};
    int64_t *ids = NULL;
    int *states = NULL, ended = j->run > 0 ? 1 : j->fresh;
    size_t n = 0;
    sqlite3 *db;

    store_flush(j->store, NULL);
    j->lines = json_array();
    if (j->rl == NULL)
        j->rl = runlog_new(3);
    if (j->rl == NULL || (db = store_reader(j->store, &err)) == NULL) {
        snprintf(j->error, sizeof j->error, "%.250s", j->rl ? err.msg : "out of memory");
        return;
    }
    if (j->run > 0) {
        int k = store_run_trajs(db, j->run, &ids, &states, &n, &err);
        if (k != 0)
            snprintf(j->error, sizeof j->error, "run #%lld: %.250s", (long long)j->run,
                     k > 0 ? "not in the store (yet)" : err.msg);
        for (size_t i = 0; k == 0 && i < n; i++)
            if (!traj_state_terminal(states[i]))
                ended = 0;
    } else {
        ids = xcalloc(j->n + 1, sizeof *ids);
        memcpy(ids, j->ids, j->n * sizeof *ids);
        n = j->n;
    }
    for (size_t i = 0; !j->error[0] && i < n; i++)
        if (runlog_add(j->rl, ids[i]) < 0)
            snprintf(j->error, sizeof j->error, "out of memory");
    /* last = 1: the view reads only on events, so nothing is held back for a later round (a
     * tie in one millisecond between two deployments may show in either order until `r`). */
    if (!j->error[0] && runlog_round(j->rl, db, 1, runlog_line, j, &err) != 0)
        snprintf(j->error, sizeof j->error, "%.250s", err.msg);
    if (!j->error[0] && ended)
        runlog_flush(j->rl, runlog_line, j);
    free(ids);
    free(states);
    sqlite3_close_v2(db);
}

static void runlog_free_job(struct worker_job *wj)
{
    struct runlog_job *j = (struct runlog_job *)wj;
    json_decref(j->lines);
    runlog_free(j->rl);
    free(j);
}

static void runlog_done(struct app *a, struct cjob *c)
{
    struct runlog_job *j = (struct runlog_job *)c;
    if (j->gen == a->rl_gen)
        a->rl_busy = 0;
    if (j->error[0]) {
        if (j->gen == a->rl_gen && j->fresh) {
            app_notify(a, 1, "run output: %s", j->error);
        } else if (j->gen == a->rl_gen && a->rl_log == NULL) {
            a->rl_log = j->rl; /* a following read failed: the next event reads it again */
            j->rl = NULL;
        }
        return;
    }
    app_runlog_show(a, j->lines, j->truncated, j->rl, j->gen, j->fresh);
    j->lines = NULL; /* the overlay took them, and where the read stopped */
    j->rl = NULL;
}

int app_job_runlog(struct app *a, int64_t run, const int64_t *ids, size_t n)
{
    struct runlog_job *j = xcalloc(1, sizeof *j + n * sizeof j->ids[0]);

    j->c.job.run = runlog_run;
    j->c.job.free = runlog_free_job;
    j->c.done = runlog_done;
    j->rl = a->rl_log; /* the job has it until its result is shown */
    a->rl_log = NULL;
    j->fresh = j->rl == NULL;
    if (!j->fresh) /* following: quiet */
        j->c.busy[0] = '\0';
    else if (run > 0)
        snprintf(j->c.busy, sizeof j->c.busy, "reading run #%lld's output...", (long long)run);
    else
        snprintf(j->c.busy, sizeof j->c.busy, "reading %zu deployment(s)' output...", n);
    j->gen = a->rl_gen;
    j->store = a->store;
    j->run = run;
    j->n = n;
    if (n > 0)
        memcpy(j->ids, ids, n * sizeof ids[0]);
    a->rl_busy = 1;
    if (submit(a, &j->c) != 0) {
        a->rl_busy = 0; /* and where the read stopped is gone with the job: next, a fresh one */
        return -1;
    }
    return 0;
}
