/*
 * store_claim_test.c: taking over the E2B deployments of a dead process
 * (traj_claim_e2b) and closing a run nobody tracks (run_end_if_done).
 *
 * claim   of three running trajectories (an E2B one of a dead owner, a
 *         local one of a dead owner, an E2B one of a live owner) only the
 *         first is taken: its lease, row and run get this process as owner,
 *         so recovery then marks only the local one interrupted; a second
 *         claim takes nothing; once the taken one ends, its run is closed
 *         with the daemon's summary.
 */
#define _GNU_SOURCE
#define TMPSTORE_PREFIX "swarmdeck-claim"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "query.h"
#include "tmpstore.h"
#include "traj.h"

/* The pid of a process that has exited (and been reaped). */
static int dead_pid(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    return (int)p;
}

static int64_t running(struct store *s, int64_t run, const char *sid, const char *workdir,
                       int owner, uint64_t owner_start)
{
    struct sd_err err = {0};
    struct traj_new t = {
        .run_id = run, .strategy = "momentum", .symbol = "SPY", .params = "{}", .provider = "e2b"};
    struct store_lease l;
    char uuid[37];
    int64_t id;

    traj_uuid(uuid);
    t.uuid = uuid;
    id = traj_insert(s, &t, &err);
    CHECK(id > 0);
    traj_running(s, id, sid, sd_now_ms());
    memset(&l, 0, sizeof l);
    snprintf(l.sandbox_id, sizeof l.sandbox_id, "%s", sid);
    l.traj_id = id;
    snprintf(l.provider, sizeof l.provider, "e2b");
    l.owner_pid = owner;
    l.owner_start = owner_start;
    snprintf(l.workdir, sizeof l.workdir, "%s", workdir);
    l.created_at = sd_now_ms();
    CHECK(store_lease_add(s, &l, &err) == 0);
    return id;
}

/* A text column of one row (first row of sql with ?1 = id), or "". */
static void col(struct store *s, const char *sql, int64_t id, char *out, size_t n)
{
    struct sd_err err = {0};
    sqlite3 *db = store_reader(s, &err);
    sqlite3_stmt *st = NULL;

    out[0] = '\0';
    if (db != NULL && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
            snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_claim(void)
{
    struct sd_err err = {0};
    struct store *s = store_new();
    int dead = dead_pid(), me = (int)getpid();
    uint64_t my_start = proc_start_time(me);
    int64_t run_a = run_begin(s, "deploy", "{}", &err), run_b = run_begin(s, "deploy", "{}", &err);
    int64_t e2b_dead = running(s, run_a, "sd1-a", "e2b:e2b:aaaa:60000", dead, 12345);
    int64_t local_dead = running(s, run_b, "sd2-b", "/tmp/nowhere", dead, 12345);
    int64_t e2b_live = running(s, 0, "sd3-c", "e2b:e2b:cccc:0", me, my_start);
    int64_t *ids = NULL;
    size_t n = 9;
    char v[256], pid[32];
    struct traj_final f = {.state = TS_SUCCEEDED, .exit_code = 0};

    CHECK(store_flush(s, &err) == 0);
    {
        /* As the dead process left them: its rows and runs are its own. */
        sqlite3 *db = NULL;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "UPDATE trajectories SET owner_pid = %d, owner_start = 12345 WHERE id IN "
                 "(%lld, %lld); UPDATE runs SET owner_pid = %d, owner_start = 12345",
                 dead, (long long)e2b_dead, (long long)local_dead, dead);
        CHECK(sqlite3_open(path, &db) == SQLITE_OK);
        sqlite3_busy_timeout(db, 10000);
        CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_close(db);
    }
    CHECK(traj_claim_e2b(s, &ids, &n, &err) == 0);
    CHECK(n == 1 && ids != NULL && ids[0] == e2b_dead);
    free(ids);
    snprintf(pid, sizeof pid, "%d", me);
    col(s, "SELECT owner_pid FROM leases WHERE traj_id = ?1", e2b_dead, v, sizeof v);
    CHECK(strcmp(v, pid) == 0);
    col(s, "SELECT owner_pid FROM trajectories WHERE id = ?1", e2b_dead, v, sizeof v);
    CHECK(strcmp(v, pid) == 0);
    col(s, "SELECT owner_pid FROM runs WHERE id = ?1", run_a, v, sizeof v);
    CHECK(strcmp(v, pid) == 0);
    /* Recovery now leaves it to us: only the local one is interrupted. */
    CHECK(traj_mark_orphans_interrupted(s, 0, &err) == 1);
    col(s, "SELECT status FROM trajectories WHERE id = ?1", e2b_dead, v, sizeof v);
    CHECK(strcmp(v, "running") == 0);
    col(s, "SELECT status FROM trajectories WHERE id = ?1", local_dead, v, sizeof v);
    CHECK(strcmp(v, "interrupted") == 0);
    col(s, "SELECT status FROM runs WHERE id = ?1", run_a, v, sizeof v);
    CHECK(strcmp(v, "running") == 0);
    col(s, "SELECT status FROM trajectories WHERE id = ?1", e2b_live, v, sizeof v);
    CHECK(strcmp(v, "running") == 0);
    /* A second process would find its owner alive: nothing to take. */
    CHECK(traj_claim_e2b(s, &ids, &n, &err) == 0);
    CHECK(n == 0);
    free(ids);
    /* Still running: the run stays open; ended: closed as the daemon does. */
    run_end_if_done(s, run_a);
    CHECK(store_flush(s, &err) == 0);
    col(s, "SELECT status FROM runs WHERE id = ?1", run_a, v, sizeof v);
    CHECK(strcmp(v, "running") == 0);
    f.ended_at = sd_now_ms();
    traj_finish(s, e2b_dead, &f);
    run_end_if_done(s, run_a);
    CHECK(store_flush(s, &err) == 0);
    col(s, "SELECT status FROM runs WHERE id = ?1", run_a, v, sizeof v);
    CHECK(strcmp(v, "succeeded") == 0);
    col(s, "SELECT summary FROM runs WHERE id = ?1", run_a, v, sizeof v);
    CHECK(strstr(v, "1 succeeded, 0 failed") != NULL);
    store_gone(s);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"claim", test_claim},
    };
    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
