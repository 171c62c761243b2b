/*
 * query_coord.c: the coordinator's writes while deployments run (query.h has
 * the contracts).
 *
 * Each function wraps one statement in a job for the writer thread and
 * queues it with store_submit: a worker reports a fact and goes on, and the
 * statement rides the writer's next batch (a cached statement, store_stmt).
 * Losing one of these in a crash is harmless by design: the lease's pid is a
 * hint for recovery (the helper also dies through its lifeline), the
 * provider and the health are written again by the next change.
 */
#include "query.h"

#include <stdio.h>
#include <stdlib.h>

struct lease_pid_job {
    char sandbox_id[80];
    int pid;
    uint64_t pid_start;
};

static int lease_pid_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct lease_pid_job *j = arg;
    sqlite3_stmt *st =
        store_stmt(s, "UPDATE leases SET pid = ?2, pid_start = ?3 WHERE sandbox_id = ?1", err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, j->sandbox_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, j->pid);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)j->pid_start);
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_dberr(err, db, "lease pid");
    return 0;
}

int store_lease_set_pid(struct store *s, const char *sandbox_id, int pid, uint64_t pid_start)
{
    struct lease_pid_job *j = calloc(1, sizeof *j);

    if (j == NULL)
        return -1;
    snprintf(j->sandbox_id, sizeof j->sandbox_id, "%s", sandbox_id);
    j->pid = pid;
    j->pid_start = pid_start;
    return store_submit(s, lease_pid_fn, j, free);
}

struct traj_provider_job {
    int64_t id;
    char name[32];
};

static int traj_provider_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct traj_provider_job *j = arg;
    sqlite3_stmt *st = store_stmt(s, "UPDATE trajectories SET provider = ?2 WHERE id = ?1", err);

    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_text(st, 2, j->name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return store_dberr(err, db, "trajectory provider");
    return 0;
}

int store_traj_set_provider(struct store *s, int64_t traj_id, const char *provider)
{
    struct traj_provider_job *j = calloc(1, sizeof *j);

    if (j == NULL)
        return -1;
    j->id = traj_id;
    snprintf(j->name, sizeof j->name, "%s", provider);
    return store_submit(s, traj_provider_fn, j, free);
}

static int health_fn(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    (void)s;
    return store_provider_health_job(db, arg, err);
}

static void health_free(void *arg)
{
    json_decref(arg);
}

int store_provider_health_save(struct store *s, json_t *health)
{
    if (health == NULL)
        return -1;
    return store_submit(s, health_fn, health, health_free);
}
