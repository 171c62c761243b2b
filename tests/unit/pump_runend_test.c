/*
 * pump_runend_test.c: a run's end rides on its last deployment's commit
 * (engine/serve/pump.c, coord_on_final), and the order the daemon promises
 * still holds on every path:
 *
 *   - the run's row is in the store before its deployments' rows;
 *   - the run's end is committed before the run's "run" event is logged
 *     and its --on-finish hook is called (a client reading the store on
 *     that event finds the run ended, with the right status);
 *   - the "run" event comes after every deployment's terminal state event.
 *
 * The pump queues a run's end before the last deployment's worker flushes
 * and then skips its own commit when the store says that end is committed
 * (store_settled). A worker flushes only a success, so a failed last
 * deployment, or one cancelled while queued (ended on the canceller's
 * thread), must still get a commit from the pump: the cases below check
 * what a reader sees in the hook for each, so a pump that skipped a commit
 * it needed fails them.
 *
 * A fake provider runs each deployment at once (a @@result line) with the
 * exit code fake_exit, or waits in start until released (fake_hold).
 */
#define _GNU_SOURCE
#define TMPSTORE_PREFIX "swarmdeck-pump-runend"
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "coord.h"
#include "evlog.h"
#include "pump.h"
#include "tmpstore.h"
#include "traj.h"

static const char *runner, *helper;

/* --- the fake provider ---------------------------------------------------- */

static atomic_int fake_exit; /* the program's exit code */
static atomic_int fake_hold; /* 1: start waits until it is 0 again */
static atomic_int fake_held; /* starts waiting now */

struct sbx {
    int unused;
};

static int f_create(struct provider *p, const struct sbx_spec *spec, struct sbx **out,
                    struct sd_err *err)
{
    (void)p, (void)spec, (void)err;
    *out = xcalloc(1, sizeof **out);
    return 0;
}

static int f_upload(struct sbx *b, const char *local, const char *name, int x, struct sd_err *err)
{
    (void)b, (void)local, (void)name, (void)x, (void)err;
    return 0;
}

static int f_start(struct sbx *b, char *const argv[], const struct sbx_callbacks *cb,
                   struct sbx_exit *ex, struct sd_err *err)
{
    static const char out[] = "@@result {\"sharpe\":1}\n";

    (void)b, (void)argv, (void)err;
    cb->started(cb->arg, "{}", "fake");
    if (atomic_load(&fake_hold)) {
        atomic_fetch_add(&fake_held, 1);
        while (atomic_load(&fake_hold)) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
        atomic_fetch_sub(&fake_held, 1);
    }
    cb->output(cb->arg, 1, out, strlen(out));
    memset(ex, 0, sizeof *ex);
    ex->code = atomic_load(&fake_exit);
    return 0;
}

static int f_signal(struct sbx *b, int sig)
{
    (void)b, (void)sig;
    return 0;
}

static int f_destroy(struct sbx *b)
{
    free(b);
    return 0;
}

static int f_lease_info(struct sbx *b, int *pid, uint64_t *pid_start, char *workdir, size_t n)
{
    (void)b;
    *pid = 0;
    *pid_start = 0;
    if (n > 0)
        workdir[0] = '\0';
    return 0;
}

static void f_free(struct provider *p)
{
    free(p);
}

static const struct provider_ops f_ops = {
    .name = "fake",
    .create = f_create,
    .upload = f_upload,
    .start = f_start,
    .signal = f_signal,
    .destroy = f_destroy,
    .lease_info = f_lease_info,
    .free = f_free,
};

/* --- what the hook sees ------------------------------------------------------ */

struct seen {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct store *s;
    int64_t run;
    int calls;
    char status[32];   /* the run's status a reader of the store sees in the hook */
    char summary[200]; /* and its summary */
};

static struct seen seen = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* Run `run`'s status and summary as a reader of the store sees them
 * (committed rows only). */
static void run_row(struct store *s, int64_t run, char *status, size_t n, char *summary, size_t m)
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

static void on_finish(const char *summary, void *arg)
{
    struct seen *w = arg;

    (void)summary;
    pthread_mutex_lock(&w->mu);
    run_row(w->s, w->run, w->status, sizeof w->status, w->summary, sizeof w->summary);
    w->calls++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* --- the engine ------------------------------------------------------------ */

struct rig {
    struct store *s;
    struct coord *c;
    struct evlog *log;
    struct pump *p;
};

static void rig_start(struct rig *g, int max_agents)
{
    struct sd_err err = {0};
    struct coord_opts o;
    struct provider *fp = xcalloc(1, sizeof *fp);

    g->s = store_new();
    g->log = evlog_new(4096);
    coord_opts_default(&o);
    o.learning = 0;
    o.max_agents = max_agents;
    o.provider = "fake";
    o.retries = 0;
    g->c = coord_new(g->s, &o, runner, helper, &err);
    if (g->c == NULL) {
        fprintf(stderr, "coord: %s\n", err.msg);
        exit(1);
    }
    fp->ops = &f_ops;
    snprintf(fp->name, sizeof fp->name, "fake");
    CHECK(coord_add_provider(g->c, fp, "fake", "", &err) == 0);
    pthread_mutex_lock(&seen.mu);
    seen.s = g->s;
    seen.calls = 0;
    pthread_mutex_unlock(&seen.mu);
    g->p = pump_start(g->c, g->log, on_finish, &seen, NULL, NULL, &err);
    if (g->p == NULL) {
        fprintf(stderr, "pump: %s\n", err.msg);
        exit(1);
    }
}

static void rig_stop(struct rig *g)
{
    pump_stop(g->p);
    coord_free(g->c);
    evlog_free(g->log);
    store_gone(g->s);
}

/* Begin a run of n deployments (their ids into ids[]) and tell the pump. */
static int64_t launch(struct rig *g, int n, int64_t *ids)
{
    struct sd_err err = {0};
    json_t *a = json_array();
    int64_t run = run_begin(g->s, "deploy", "{}", &err);

    CHECK(run > 0);
    pthread_mutex_lock(&seen.mu);
    seen.run = run;
    pthread_mutex_unlock(&seen.mu);
    for (int i = 0; i < n; i++) {
        struct deploy_req r = {.strategy = "momentum", .symbol = "SPY", .run_id = run};
        CHECK(coord_submit(g->c, &r, &ids[i], &err) == 0);
        json_array_append_new(a, json_integer(ids[i]));
    }
    CHECK(pump_run_add(g->p, run, a) == 0);
    json_decref(a);
    return run;
}

/* Wait (60 s at most) for the hook's call number `calls`. */
static void wait_hook(int calls)
{
    struct timespec deadline = sd_timespec_after(0, 60000);

    pthread_mutex_lock(&seen.mu);
    while (seen.calls < calls && pthread_cond_timedwait(&seen.cv, &seen.mu, &deadline) == 0)
        ;
    CHECK(seen.calls == calls);
    pthread_mutex_unlock(&seen.mu);
}

/* The "run" event of run comes after the terminal state event of each of
 * its n deployments ids[], and says status. (The hook is called just before
 * the event is logged: wait for it, 60 s at most.) */
static void check_events(struct rig *g, int64_t run, const int64_t *ids, int n, const char *status)
{
    static struct evlog_item it[4096];
    int got = 0, resync, run_at = -1, ended = 0;
    char want[64];

    snprintf(want, sizeof want, "\"run\":%lld,", (long long)run);
    for (int tries = 0; tries < 600; tries++) {
        int found = 0;
        evlog_items_free(it, got);
        got = evlog_read(g->log, 0, it, sizeof it / sizeof it[0], 0, &resync);
        for (int i = 0; i < got && !found; i++)
            found = strstr(it[i].json, "\"type\":\"run\"") && strstr(it[i].json, want);
        if (found)
            break;
        evlog_read(g->log, evlog_last(g->log), NULL, 0, 100, &resync); /* wait for more */
    }
    CHECK(got > 0 && !resync);
    for (int i = 0; i < got; i++) {
        json_t *o = json_loads(it[i].json, 0, NULL);
        const char *type = json_string_value(json_object_get(o, "type"));
        if (type && strcmp(type, "run") == 0 &&
            json_integer_value(json_object_get(o, "run")) == run) {
            CHECK(run_at < 0); /* once */
            run_at = i;
            CHECK(strcmp(json_string_value(json_object_get(o, "status")), status) == 0);
        }
        if (type && strcmp(type, "state") == 0 &&
            traj_state_terminal(
                traj_state_from_name(json_string_value(json_object_get(o, "state")))))
            for (int k = 0; k < n; k++)
                if (json_integer_value(json_object_get(o, "id")) == ids[k]) {
                    CHECK(run_at < 0); /* no deployment of the run ends after its event */
                    ended++;
                }
        json_decref(o);
    }
    CHECK(run_at >= 0);
    CHECK(ended == n);
    evlog_items_free(it, got > 0 ? got : 0);
}

/* Run rows are written before their deployments' rows: each deployment's
 * run_id names a row that exists (the foreign key holds), read back. */
static void check_run_rows(struct rig *g, int64_t run, const int64_t *ids, int n)
{
    struct sd_err err = {0};
    sqlite3 *db = store_reader(g->s, &err);
    sqlite3_stmt *st = NULL;

    CHECK(store_flush(g->s, &err) == 0);
    CHECK(db != NULL);
    for (int k = 0; db != NULL && k < n; k++) {
        CHECK(sqlite3_prepare_v2(db,
                                 "SELECT t.run_id FROM trajectories t JOIN runs r ON r.id ="
                                 " t.run_id WHERE t.id = ?1",
                                 -1, &st, NULL) == 0);
        sqlite3_bind_int64(st, 1, ids[k]);
        CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) == run);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
}

/* --- the cases ------------------------------------------------------------- */

/* Successes, one run after another: the worker's flush commits the run's end
 * with its last deployment; each hook finds it committed. */
static void test_succeeded(void)
{
    struct rig g;
    int64_t ids[3], run = 0;

    atomic_store(&fake_exit, 0);
    rig_start(&g, 1);
    for (int k = 1; k <= 10; k++) {
        int n = k % 3 + 1;
        run = launch(&g, n, ids);
        wait_hook(k);
        pthread_mutex_lock(&seen.mu);
        CHECK(strcmp(seen.status, "succeeded") == 0);
        CHECK(strstr(seen.summary, "\"succeeded\":") != NULL);
        pthread_mutex_unlock(&seen.mu);
        check_run_rows(&g, run, ids, n);
    }
    check_events(&g, run, ids, 10 % 3 + 1, "succeeded");
    rig_stop(&g);
}

/* A failed last deployment: its worker does not flush, so the pump must. */
static void test_failed(void)
{
    struct rig g;
    int64_t ids[2], run;
    char want[64];

    atomic_store(&fake_exit, 1);
    rig_start(&g, 1);
    run = launch(&g, 2, ids);
    wait_hook(1);
    snprintf(want, sizeof want, "run %lld: 0 succeeded, 2 failed", (long long)run);
    pthread_mutex_lock(&seen.mu);
    CHECK(strcmp(seen.status, "failed") == 0);
    CHECK(strstr(seen.summary, want) != NULL);
    pthread_mutex_unlock(&seen.mu);
    check_events(&g, run, ids, 2, "failed");
    check_run_rows(&g, run, ids, 2);
    atomic_store(&fake_exit, 0);
    rig_stop(&g);
}

/* A run whose last end is a cancel of a queued deployment (ended on the
 * canceller's thread, no flush), and one whose last end is a success after
 * a cancel (the counts the pump queued before must match the final ones). */
static void test_cancelled_queued(void)
{
    struct rig g;
    int64_t ids[2], run;
    char want[80];

    atomic_store(&fake_exit, 0);
    rig_start(&g, 1);
    /* A holds the only worker; B waits in the FIFO and is cancelled there;
     * then A succeeds last. */
    atomic_store(&fake_hold, 1);
    run = launch(&g, 2, ids);
    for (int i = 0; i < 60000 && atomic_load(&fake_held) == 0; i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    CHECK(atomic_load(&fake_held) == 1);
    CHECK(coord_cancel(g.c, ids[1]) == 0);
    atomic_store(&fake_hold, 0);
    wait_hook(1);
    snprintf(want, sizeof want, "run %lld: 1 succeeded, 0 failed, 1 cancelled", (long long)run);
    pthread_mutex_lock(&seen.mu);
    CHECK(strcmp(seen.status, "failed") == 0);
    CHECK(strstr(seen.summary, want) != NULL);
    pthread_mutex_unlock(&seen.mu);
    check_events(&g, run, ids, 2, "failed");

    /* Now the cancel is the last end: A holds the worker, B is queued, A
     * ends first, then B is cancelled. */
    atomic_store(&fake_hold, 1);
    run = launch(&g, 2, ids);
    for (int i = 0; i < 60000 && atomic_load(&fake_held) == 0; i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    CHECK(coord_cancel(g.c, ids[1]) == 0); /* B, queued, ends first here */
    atomic_store(&fake_hold, 0);
    wait_hook(2);
    pthread_mutex_lock(&seen.mu);
    CHECK(strcmp(seen.status, "failed") == 0);
    pthread_mutex_unlock(&seen.mu);
    rig_stop(&g);
}

/* store_mark and store_settled: settled once a flush covered the mark, never
 * for a mark past what was submitted. */
static void test_store_settled(void)
{
    struct sd_err err = {0};
    struct store *s = store_new();
    uint64_t gen, mark;
    int64_t run = run_begin(s, "deploy", "{}", &err);

    CHECK(run > 0);
    run_end(s, run, "succeeded", NULL);
    mark = store_mark(s, &gen);
    CHECK(mark > 0);
    CHECK(store_settled(s, mark + 1, gen) == 0);
    CHECK(store_flush(s, &err) == 0);
    CHECK(store_settled(s, mark, gen) == 1);
    CHECK(store_settled(s, mark, gen + 1) == 0); /* a failure since: not settled */
    store_gone(s);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"succeeded", test_succeeded},
        {"failed", test_failed},
        {"cancelled_queued", test_cancelled_queued},
        {"store_settled", test_store_settled},
    };

    if (argc < 4) {
        fprintf(stderr, "usage: pump_runend_test CASE RUNNER HELPER\n");
        return 2;
    }
    runner = argv[2];
    helper = argv[3];
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
