/*
 * cmd-cleanup.c: reap sandboxes a crashed swarmdeck left behind: local
 * helpers, work dirs and cgroups, then (when an E2B key is configured) the
 * E2B sandboxes tagged with this installation that no live deployment owns.
 */
#define _GNU_SOURCE
#include <string.h>

#include "cli.h"
#include "recover.h"

static const struct cli_opt opts[] = {
    {"all", 0, NULL, "also stop sandboxes (local and E2B) of swarmdeck processes still running"},
    {"json", 0, NULL, "print the report as JSON"},
    {NULL, 0, NULL, NULL},
};

struct cleanup_job {
    struct cli_ctx *ctx;
    int all, status;
    struct recover_report r;
};

/* Local orphans first, then E2B: its sandboxes do not die with us, so list
 * and destroy ours. Returns k (1 when E2B was swept). */
static int sweep(const struct e2b_config *ec, int k, void *arg)
{
    struct cleanup_job *j = arg;

    if (k < 0 || (k == 1 && cli_recover_e2b(j->ctx->store, ec, j->all, &j->r) != 0))
        j->status = sd_err_exit_status(SD_EENV);
    return k;
}

static int exec_cleanup(struct cli_ctx *ctx, struct cli_args *a)
{
    extern const struct cli_cmd cmd_cleanup;
    struct cleanup_job j = {ctx, cli_flag(&cmd_cleanup, a, "all"), 0, {0}};
    struct recover_report *r = &j.r;
    struct sd_err err = {0};
    int k;

    if ((j.status = cli_open_store(ctx, 0)) != 0)
        return j.status;
    if (recover_orphans(ctx->store, cli_helper_path(), j.all, r, &err) != 0)
        return cli_fail_err(&err);
    k = cli_e2b_use(CLI_E2B_WARN, sweep, &j);
    if (cli_flag(&cmd_cleanup, a, "json")) {
        cli_print_json(json_pack(
            "{s:i, s:i, s:i, s:i, s:i, s:o, s:o}", "leasesReaped", r->leases_reaped,
            "helpersKilled", r->helpers_killed, "trajectoriesInterrupted",
            r->trajectories_interrupted, "workdirsRemoved", r->workdirs_removed, "cgroupsRemoved",
            r->cgroups_removed, "e2bFound", k == 1 ? json_integer(r->e2b_found) : json_null(),
            "e2bDestroyed", k == 1 ? json_integer(r->e2b_destroyed) : json_null()));
        return j.status;
    }
    printf("reaped %d sandbox lease(s), killed %d helper(s), removed %d work dir(s) and %d "
           "cgroup(s), marked %d trajectory(ies) interrupted\n",
           r->leases_reaped, r->helpers_killed, r->workdirs_removed, r->cgroups_removed,
           r->trajectories_interrupted);
    if (k == 1)
        printf("e2b: %d sandbox(es) of this installation found, %d destroyed (no live "
               "deployment owned them)\n",
               r->e2b_found, r->e2b_destroyed);
    return j.status;
}

const struct cli_cmd cmd_cleanup = {
    .name = "cleanup",
    .usage = "[--all] [--json]",
    .summary = "reap orphaned sandboxes and mark their deployments interrupted",
    .opts = opts,
    .min_args = 0,
    .max_args = 0,
    .flags = CLI_WRITES,
    .exec = exec_cleanup,
};
