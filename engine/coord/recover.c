/*
 * recover.c: reap orphaned sandboxes and mark their trajectories (recover.h).
 */
#define _GNU_SOURCE
#include "recover.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "provider.h"
#include "traj.h"

static int alive(int pid, uint64_t start)
{
    return pid > 0 && kill(pid, 0) == 0 && proc_start_time(pid) == start;
}

/* Kill an orphaned helper and wait (bounded) until it is gone. It is not our
 * child, so poll its /proc entry; SIGKILL makes this quick. */
static int kill_helper(int pid, uint64_t start)
{
    struct timespec ts = {0, 2 * 1000 * 1000};

    if (!alive(pid, start))
        return 0;
    kill(pid, SIGKILL);
    for (int i = 0; i < 1000 && alive(pid, start); i++)
        nanosleep(&ts, NULL);
    return 1;
}

static int sweep_cgroups(const char *helper)
{
    char *argv[] = {(char *)helper, "--sweep", "--json", NULL};
    char *out = NULL;
    int status = 0, n = 0;
    json_error_t je;
    json_t *j;

    if (sd_spawn_capture(argv, 0, 1 << 20, &out, NULL, &status, NULL) != 0)
        return 0;
    j = json_loads(out, 0, &je);
    /* {"removed": [paths...], "live": N, "failed": N} (docs/sandbox.md) */
    n = (int)json_array_size(json_object_get(j, "removed"));
    json_decref(j);
    free(out);
    return n;
}

int recover_orphans(struct store *s, const char *helper_path, int all, struct recover_report *r,
                    struct sd_err *err)
{
    struct store_lease *leases = NULL;
    size_t n = 0;
    const char *rt = sd_runtime_dir();
    int marked;

    memset(r, 0, sizeof *r);
    if (store_lease_list(s, &leases, &n, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct store_lease *l = &leases[i];
        if (!all && alive(l->owner_pid, l->owner_start))
            continue;
        r->helpers_killed += kill_helper(l->pid, l->pid_start);
        if (strncmp(l->workdir, "e2b:", 4) == 0)
            r->e2b_leases++;
        /* Only ever remove work dirs under our own runtime dir. */
        if (l->workdir[0] && strncmp(l->workdir, rt, strlen(rt)) == 0 &&
            access(l->workdir, F_OK) == 0 && sd_rm_rf(l->workdir) == 0)
            r->workdirs_removed++;
        store_lease_remove(s, l->sandbox_id);
        r->leases_reaped++;
    }
    free(leases);
    marked = traj_mark_orphans_interrupted(s, all, err);
    if (marked < 0)
        return -1;
    r->trajectories_interrupted = marked;
    if (helper_path != NULL)
        r->cgroups_removed = sweep_cgroups(helper_path);
    return store_flush(s, err);
}

struct keep_arg {
    struct store_lease *leases;
    size_t n;
};

/* Keep a sandbox a live deployment owns: its lease's owner is alive, or
 * (created but not yet leased) the process named in its metadata is. */
static int keep_live(void *arg, const char *sandbox_id, int pid, uint64_t pid_start)
{
    struct keep_arg *k = arg;

    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->leases[i].sandbox_id, sandbox_id) == 0 &&
            alive(k->leases[i].owner_pid, k->leases[i].owner_start))
            return 1;
    return alive(pid, pid_start);
}

int recover_e2b(struct store *s, const struct e2b_config *cfg, int all, struct recover_report *r,
                struct sd_err *err)
{
    struct keep_arg k = {NULL, 0};
    int rc;

    if (store_lease_list(s, &k.leases, &k.n, err) != 0)
        return -1;
    rc = e2b_sweep(cfg, store_id(s), all ? NULL : keep_live, &k, &r->e2b_found, &r->e2b_destroyed,
                   err);
    free(k.leases);
    return rc;
}
