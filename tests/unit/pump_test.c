/*
 * pump_test.c: the daemon's run table (engine/serve/pump.c) never shows a
 * run as neither open nor ended.
 *
 * `swarmdeck wait` asks the daemon for a run (/v1/runs/ID: the store's row
 * and pump_run_open) and takes one that is neither open in this daemon nor
 * ended in the store, with nothing live, for a run whose process died: it
 * reports it "interrupted". The pump used to drop a run from its table as
 * soon as its last deployment ended, before recording the run's end, so a
 * wait asking in between saw exactly that (the flake of daemon_e2e's
 * test_killed_clients_leave_work_running). Here the check runs inside the
 * --on-finish hook, which the pump calls after the end is committed and
 * before it forgets the run: the run must read as open there, and as ended
 * in the store; once the hook returned, as closed.
 *
 * A fake provider runs every deployment at once (a @@result line, exit 0).
 */
#define _GNU_SOURCE
#define TMPSTORE_PREFIX "swarmdeck-pump"
#include <jansson.h>
#include <pthread.h>
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
    cb->output(cb->arg, 1, out, strlen(out));
    memset(ex, 0, sizeof *ex);
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

/* --- the hook ----------------------------------------------------------------- */

struct seen {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pump *p;
    struct store *s;
    int64_t run;
    int calls, open_in_hook;
    char status_in_hook[32];
};

static struct seen seen = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* The run's status as a client of the store reads it (committed only). */
static void run_status(struct store *s, int64_t run, char *out, size_t n)
{
    struct sd_err err = {0};
    sqlite3 *db = store_reader(s, &err);
    sqlite3_stmt *st = NULL;

    snprintf(out, n, "?");
    if (db != NULL &&
        sqlite3_prepare_v2(db, "SELECT status FROM runs WHERE id = ?1", -1, &st, NULL) == 0) {
        sqlite3_bind_int64(st, 1, run);
        if (sqlite3_step(st) == SQLITE_ROW)
            snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void on_finish(const char *summary, void *arg)
{
    struct seen *w = arg;

    (void)summary;
    pthread_mutex_lock(&w->mu);
    w->open_in_hook = pump_run_open(w->p, w->run);
    run_status(w->s, w->run, w->status_in_hook, sizeof w->status_in_hook);
    w->calls++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* --- the case -------------------------------------------------------------- */

static void test_open_until_recorded(void)
{
    struct sd_err err = {0};
    struct coord_opts o;
    struct store *s = store_new();
    struct coord *c;
    struct evlog *log = evlog_new(1024);
    struct provider *fp = xcalloc(1, sizeof *fp);
    struct pump *p;
    json_t *ids = json_array();
    struct timespec deadline;
    char status[32];

    coord_opts_default(&o);
    o.learning = 0;
    o.max_agents = 3;
    o.provider = "fake";
    c = coord_new(s, &o, runner, helper, &err);
    CHECK(c != NULL);
    if (c == NULL)
        exit(1);
    fp->ops = &f_ops;
    snprintf(fp->name, sizeof fp->name, "fake");
    CHECK(coord_add_provider(c, fp, "fake", "", &err) == 0);
    seen.s = s;
    CHECK((p = pump_start(c, log, on_finish, &seen, NULL, NULL, &err)) != NULL);
    pthread_mutex_lock(&seen.mu);
    seen.p = p;
    pthread_mutex_unlock(&seen.mu);
    seen.run = run_begin(s, "deploy", "{}", &err);
    CHECK(seen.run > 0);
    for (int i = 0; i < 3; i++) {
        struct deploy_req r = {.strategy = "momentum", .symbol = "SPY", .run_id = seen.run};
        int64_t id = 0;
        CHECK(coord_submit(c, &r, &id, &err) == 0);
        json_array_append_new(ids, json_integer(id));
    }
    CHECK(pump_run_open(p, seen.run) == 0); /* not told yet */
    CHECK(pump_run_add(p, seen.run, ids) == 0);
    deadline = sd_timespec_after(0, 60000);
    pthread_mutex_lock(&seen.mu);
    while (seen.calls == 0 && pthread_cond_timedwait(&seen.cv, &seen.mu, &deadline) == 0)
        ;
    CHECK(seen.calls == 1);
    /* In the hook: its end is in the store, and the pump still holds it open. */
    CHECK(strcmp(seen.status_in_hook, "succeeded") == 0);
    CHECK(seen.open_in_hook == 1);
    pthread_mutex_unlock(&seen.mu);
    /* Then it is forgotten (the hook returns before this becomes true). */
    for (int i = 0; i < 60000 && pump_run_open(p, seen.run); i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    CHECK(pump_run_open(p, seen.run) == 0);
    run_status(s, seen.run, status, sizeof status);
    CHECK(strcmp(status, "succeeded") == 0);
    pump_stop(p);
    coord_free(c);
    evlog_free(log);
    json_decref(ids);
    store_gone(s);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"open_until_recorded", test_open_until_recorded},
    };

    if (argc < 4) {
        fprintf(stderr, "usage: pump_test CASE RUNNER HELPER\n");
        return 2;
    }
    runner = argv[2];
    helper = argv[3];
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
