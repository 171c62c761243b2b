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
 * The rig's fake provider (rig.h) runs each deployment at once (a @@result
 * line) with rig_set_exit's code, or holds it in start until released.
 */
#define _GNU_SOURCE
#define TMPSTORE_PREFIX "swarmdeck-pump-runend"
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tmpstore.h"
#include "rig.h"

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

    rig_set_exit(0);
    rig_start(&g, 1);
    for (int k = 1; k <= 10; k++) {
        int n = k % 3 + 1;
        run = rig_launch(&g, n, ids);
        rig_wait_hook(&g, k);
        pthread_mutex_lock(&g.mu);
        CHECK(strcmp(g.status, "succeeded") == 0);
        CHECK(strstr(g.summary, "\"succeeded\":") != NULL);
        pthread_mutex_unlock(&g.mu);
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

    rig_set_exit(1);
    rig_start(&g, 1);
    run = rig_launch(&g, 2, ids);
    rig_wait_hook(&g, 1);
    snprintf(want, sizeof want, "run %lld: 0 succeeded, 2 failed", (long long)run);
    pthread_mutex_lock(&g.mu);
    CHECK(strcmp(g.status, "failed") == 0);
    CHECK(strstr(g.summary, want) != NULL);
    pthread_mutex_unlock(&g.mu);
    check_events(&g, run, ids, 2, "failed");
    check_run_rows(&g, run, ids, 2);
    rig_set_exit(0);
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

    rig_set_exit(0);
    rig_start(&g, 1);
    /* A holds the only worker; B waits in the FIFO and is cancelled there;
     * then A succeeds last. */
    rig_hold(1);
    run = rig_launch(&g, 2, ids);
    rig_wait_held(1);
    CHECK(coord_cancel(g.c, ids[1]) == 0);
    rig_hold(0);
    rig_wait_hook(&g, 1);
    snprintf(want, sizeof want, "run %lld: 1 succeeded, 0 failed, 1 cancelled", (long long)run);
    pthread_mutex_lock(&g.mu);
    CHECK(strcmp(g.status, "failed") == 0);
    CHECK(strstr(g.summary, want) != NULL);
    pthread_mutex_unlock(&g.mu);
    check_events(&g, run, ids, 2, "failed");

    /* Now the cancel is the last end: A holds the worker, B is queued, A
     * ends first, then B is cancelled. */
    rig_hold(1);
    run = rig_launch(&g, 2, ids);
    rig_wait_held(1);
    CHECK(coord_cancel(g.c, ids[1]) == 0); /* B, queued, ends first here */
    rig_hold(0);
    rig_wait_hook(&g, 2);
    pthread_mutex_lock(&g.mu);
    CHECK(strcmp(g.status, "failed") == 0);
    pthread_mutex_unlock(&g.mu);
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

    return rig_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
