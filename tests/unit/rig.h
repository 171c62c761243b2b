/*
 * rig.h: a coordinator on a fake provider, for unit tests of what sits on
 * the engine (the pump, pause, the auto-optimiser's seed) without sandboxes.
 * Include once per test file, after check.h and tmpstore.h (it uses CHECK,
 * store_new and store_gone); the test's main is rig_main.
 *
 * The fake provider (rig_fake): each sandbox's start reports "started";
 * then, unless held, it prints one `@@result {"sharpe":1}` line and exits
 * with rig_set_exit's code (0 at first). While rig_hold(1) is in force a
 * start waits after "started" until its sandbox is signalled (a cancel: it
 * exits -1 by SIGTERM, printing nothing) or rig_hold(0) releases it (then
 * it ends as an unheld one). rig_wait_held waits, with a deadline, for a
 * number of starts to be waiting, so a case acts on a deployment that is
 * exactly running; nothing here depends on timing. A fake made with
 * can_pause counts pause and resume calls (rig_pauses, rig_resumes); one
 * without has no pause op, as the E2B provider.
 *
 * The pump rig (rig_start, rig_stop): a fresh store, an event log, a
 * coordinator on one fake named "fake", and the daemon's pump with an
 * --on-finish hook that records, under g->mu, what a reader of the store
 * sees of g->run when the hook is called (rig_run_row) and whether the
 * pump still holds it open.
 *
 * Threads: the fake's state is under one mutex; the rig's hook state under
 * g->mu. Everything the rig allocates is freed by rig_stop or coord_free.
 */
#ifndef SD_TEST_RIG_H
#define SD_TEST_RIG_H

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "evlog.h"
#include "pump.h"
#include "traj.h"

#define RIG_UNUSED  __attribute__((unused))
#define RIG_WAIT_MS 60000 /* how long a rig wait waits before it fails */

static const char *rig_runner, *rig_helper; /* argv[2], argv[3] (rig_main) */

/* --- the fake provider ------------------------------------------------------- */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int hold;      /* starts wait until signalled or released */
    int held;      /* starts waiting now */
    int exit_code; /* an unsignalled program's exit code */
    int pauses, resumes;
} rig_fk = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

struct sbx {
    int signalled; /* under rig_fk.mu */
};

static int rig_f_create(struct provider *p, const struct sbx_spec *spec, struct sbx **out,
                        struct sd_err *err)
{
    (void)p, (void)spec, (void)err;
    *out = xcalloc(1, sizeof **out);
    return 0;
}

static int rig_f_upload(struct sbx *b, const char *local, const char *name, int x,
                        struct sd_err *err)
{
    (void)b, (void)local, (void)name, (void)x, (void)err;
    return 0;
}

static int rig_f_start(struct sbx *b, char *const argv[], const struct sbx_callbacks *cb,
                       struct sbx_exit *ex, struct sd_err *err)
{
    static const char out[] = "@@result {\"sharpe\":1}\n";
    int signalled, code;

    (void)argv, (void)err;
    cb->started(cb->arg, "{}", "fake");
    pthread_mutex_lock(&rig_fk.mu);
    if (rig_fk.hold && !b->signalled) {
        rig_fk.held++;
        pthread_cond_broadcast(&rig_fk.cv);
        while (rig_fk.hold && !b->signalled)
            pthread_cond_wait(&rig_fk.cv, &rig_fk.mu);
        rig_fk.held--;
    }
    signalled = b->signalled;
    code = rig_fk.exit_code;
    pthread_mutex_unlock(&rig_fk.mu);
    memset(ex, 0, sizeof *ex);
    if (signalled) {
        ex->code = -1;
        ex->signal = SIGTERM;
        return 0;
    }
    cb->output(cb->arg, 1, out, strlen(out));
    ex->code = code;
    return 0;
}

static int rig_f_signal(struct sbx *b, int sig)
{
    (void)sig;
    pthread_mutex_lock(&rig_fk.mu);
    b->signalled = 1;
    pthread_cond_broadcast(&rig_fk.cv);
    pthread_mutex_unlock(&rig_fk.mu);
    return 0;
}

static int rig_f_pause(struct sbx *b, int on, struct sd_err *err)
{
    (void)b, (void)err;
    pthread_mutex_lock(&rig_fk.mu);
    if (on)
        rig_fk.pauses++;
    else
        rig_fk.resumes++;
    pthread_mutex_unlock(&rig_fk.mu);
    return 0;
}

static int rig_f_destroy(struct sbx *b)
{
    free(b);
    return 0;
}

static int rig_f_lease_info(struct sbx *b, int *pid, uint64_t *pid_start, char *workdir, size_t n)
{
    (void)b;
    *pid = 0;
    *pid_start = 0;
    if (n > 0)
        workdir[0] = '\0';
    return 0;
}

static void rig_f_free(struct provider *p)
{
    free(p);
}

static const struct provider_ops rig_ops = {
    .name = "fake",
    .create = rig_f_create,
    .upload = rig_f_upload,
    .start = rig_f_start,
    .signal = rig_f_signal,
    .destroy = rig_f_destroy,
    .lease_info = rig_f_lease_info,
    .free = rig_f_free,
};

/* rig_ops with a pause op (made by rig_fake on the main thread). */
static struct provider_ops rig_ops_pausing;

/* Adds a fake provider instance named name, of kind kind, to c; with
 * can_pause it has a pause op. The coordinator owns it. Exits on failure.
 * Main thread only (before the coordinator runs anything). */
static RIG_UNUSED void rig_fake(struct coord *c, const char *name, const char *kind, int can_pause)
{
    struct sd_err err = {0};
    struct provider *p = xcalloc(1, sizeof *p);

    if (can_pause && rig_ops_pausing.pause == NULL) {
        rig_ops_pausing = rig_ops;
        rig_ops_pausing.pause = rig_f_pause;
    }
    p->ops = can_pause ? &rig_ops_pausing : &rig_ops;
    snprintf(p->name, sizeof p->name, "%s", name);
    if (coord_add_provider(c, p, kind, "", &err) != 0) {
        fprintf(stderr, "rig: provider %s: %s\n", name, err.msg);
        exit(1);
    }
}

/* A coordinator on s with options o (runner and helper from rig_main).
 * Exits on failure. Caller frees with coord_free. */
static struct coord *rig_coord(struct store *s, const struct coord_opts *o)
{
    struct sd_err err = {0};
    struct coord *c = coord_new(s, o, rig_runner, rig_helper, &err);

    if (c == NULL) {
        fprintf(stderr, "rig: coord_new: %s\n", err.msg);
        exit(1);
    }
    return c;
}

/* The code an unsignalled fake program exits with from now on. */
static RIG_UNUSED void rig_set_exit(int code)
{
    pthread_mutex_lock(&rig_fk.mu);
    rig_fk.exit_code = code;
    pthread_mutex_unlock(&rig_fk.mu);
}

/* 1: fake starts wait (see the top); 0: release every waiting one. */
static RIG_UNUSED void rig_hold(int on)
{
    pthread_mutex_lock(&rig_fk.mu);
    rig_fk.hold = on;
    pthread_cond_broadcast(&rig_fk.cv);
    pthread_mutex_unlock(&rig_fk.mu);
}

/* Waits (RIG_WAIT_MS at most) until n fake starts are held; CHECKs that. */
static RIG_UNUSED void rig_wait_held(int n)
{
    struct timespec deadline = sd_timespec_after(0, RIG_WAIT_MS);

    pthread_mutex_lock(&rig_fk.mu);
    while (rig_fk.held < n && pthread_cond_timedwait(&rig_fk.cv, &rig_fk.mu, &deadline) == 0)
        ;
    CHECK(rig_fk.held >= n);
    pthread_mutex_unlock(&rig_fk.mu);
}

/* How many pause (on) or resume calls the pausing fakes had. */
static RIG_UNUSED int rig_pause_calls(int on)
{
    pthread_mutex_lock(&rig_fk.mu);
    int v = on ? rig_fk.pauses : rig_fk.resumes;
    pthread_mutex_unlock(&rig_fk.mu);
    return v;
}

/* --- the pump rig -------------------------------------------------------------- */

struct rig {
    struct store *s;
    struct coord *c;
    struct evlog *log;
    struct pump *p;
    /* What the --on-finish hook saw, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t run; /* the run the hook reads (set by the case) */
    int calls, open_in_hook;
    char status[32];   /* the run's status a reader of the store sees in the hook */
    char summary[200]; /* and its summary */
};

/* Run `run`'s status and summary as a reader of the store sees them
 * (committed rows only); "?" for what it cannot read. */
static RIG_UNUSED void rig_run_row(struct store *s, int64_t run, char *status, size_t n,
                                   char *summary, size_t m)
{
    struct sd_err err = {0};
    sqlite3 *db = store_reader(s, &err);
    sqlite3_stmt *st = NULL;

    snprintf(status, n, "?");
    snprintf(summary, m, "?");
    if (db != NULL && sqlite3_prepare_v2(db, "SELECT status, summary FROM runs WHERE id = ?1", -1,
                                         &st, NULL) == 0) {
        sqlite3_bind_int64(st, 1, run);
        if (sqlite3_step(st) == SQLITE_ROW) {
            snprintf(status, n, "%s", (const char *)sqlite3_column_text(st, 0));
            if (sqlite3_column_text(st, 1) != NULL)
                snprintf(summary, m, "%s", (const char *)sqlite3_column_text(st, 1));
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void rig_on_finish(const char *summary, void *arg)
{
    struct rig *g = arg;

    (void)summary;
    pthread_mutex_lock(&g->mu);
    g->open_in_hook = pump_run_open(g->p, g->run);
    rig_run_row(g->s, g->run, g->status, sizeof g->status, g->summary, sizeof g->summary);
    g->calls++;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* A fresh store, event log, coordinator (no learning, max_agents workers,
 * no retries) on one fake named "fake", and a pump with rig_on_finish.
 * Exits on failure. rig_stop frees it all. */
static RIG_UNUSED void rig_start(struct rig *g, int max_agents)
{
    struct sd_err err = {0};
    struct coord_opts o;

    memset(g, 0, sizeof *g);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->s = store_new();
    g->log = evlog_new(4096);
    coord_opts_default(&o);
    o.learning = 0;
    o.max_agents = max_agents;
    o.provider = "fake";
    o.retries = 0;
    g->c = rig_coord(g->s, &o);
    rig_fake(g->c, "fake", "fake", 0);
    pthread_mutex_lock(&g->mu); /* the hook reads g->p */
    g->p = pump_start(g->c, g->log, rig_on_finish, g, NULL, NULL, &err);
    pthread_mutex_unlock(&g->mu);
    if (g->p == NULL) {
        fprintf(stderr, "rig: pump: %s\n", err.msg);
        exit(1);
    }
}

static RIG_UNUSED void rig_stop(struct rig *g)
{
    pump_stop(g->p);
    coord_free(g->c);
    evlog_free(g->log);
    store_gone(g->s);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
}

/* Begins a run of n momentum/SPY deployments (their ids into ids[]) and
 * makes it the run the hook reads; the pump is not told (rig_tell). Returns
 * the run's id. */
static RIG_UNUSED int64_t rig_submit(struct rig *g, int n, int64_t *ids)
{
    struct sd_err err = {0};
    int64_t run = run_begin(g->s, "deploy", "{}", &err);

    CHECK(run > 0);
    pthread_mutex_lock(&g->mu);
    g->run = run;
    pthread_mutex_unlock(&g->mu);
    for (int i = 0; i < n; i++) {
        struct deploy_req r = {.strategy = "momentum", .symbol = "SPY", .run_id = run};
        CHECK(coord_submit(g->c, &r, &ids[i], &err) == 0);
    }
    return run;
}

/* Tells the pump that run holds the n deployments ids[] (pump_run_add). */
static RIG_UNUSED void rig_tell(struct rig *g, int64_t run, const int64_t *ids, int n)
{
    json_t *a = json_array();

    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(ids[i]));
    CHECK(pump_run_add(g->p, run, a) == 0);
    json_decref(a);
}

/* rig_submit, then rig_tell. Returns the run's id. */
static RIG_UNUSED int64_t rig_launch(struct rig *g, int n, int64_t *ids)
{
    int64_t run = rig_submit(g, n, ids);

    rig_tell(g, run, ids, n);
    return run;
}

/* Waits (RIG_WAIT_MS at most) for the hook's call number `calls`; CHECKs
 * it came and no more. */
static RIG_UNUSED void rig_wait_hook(struct rig *g, int calls)
{
    struct timespec deadline = sd_timespec_after(0, RIG_WAIT_MS);

    pthread_mutex_lock(&g->mu);
    while (g->calls < calls && pthread_cond_timedwait(&g->cv, &g->mu, &deadline) == 0)
        ;
    CHECK(g->calls == calls);
    pthread_mutex_unlock(&g->mu);
}

/* --- main ------------------------------------------------------------------------ */

/* The test's main: `NAME CASE RUNNER HELPER` runs case CASE (check_main). */
static RIG_UNUSED int rig_main(const struct check_case *cases, size_t n, int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s CASE RUNNER HELPER\n", argv[0]);
        return 2;
    }
    rig_runner = argv[2];
    rig_helper = argv[3];
    return check_main(cases, n, argc, argv);
}

#endif
